"""Percentages: largest remainder for single choice, independent rounding for multi choice."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.report.percent import whole_percentages


def test_thirds_add_up_to_a_hundred() -> None:
    assert whole_percentages([1, 1, 1], 3, exclusive=True) == [34, 33, 33]
    assert sum(whole_percentages([2, 2, 2, 1], 7, exclusive=True)) == 100


def test_multi_choice_shares_are_rounded_each_on_its_own() -> None:
    # 3 people, each picked two options: 67% + 67% + 67%, more than 100 and rightly so.
    assert whole_percentages([2, 2, 2], 3, exclusive=False) == [67, 67, 67]


def test_nobody_answered() -> None:
    assert whole_percentages([0, 0], 0, exclusive=True) == [0, 0]


@given(st.lists(st.integers(min_value=0, max_value=5000), min_size=1, max_size=20))
def test_single_choice_always_adds_up_and_stays_within_a_point(counts: list[int]) -> None:
    n = sum(counts)
    shares = whole_percentages(counts, n, exclusive=True)
    if n == 0:
        assert shares == [0] * len(counts)
        return
    assert sum(shares) == 100
    for share, count in zip(shares, counts, strict=True):
        assert abs(share - 100 * count / n) < 1
        if count == 0:
            assert share == 0
