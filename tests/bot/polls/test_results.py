"""Poll results without Slack: tally maths."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.polls.results import bar_cells


@given(count=st.integers(0, 500), voters=st.integers(0, 500), width=st.integers(1, 40))
def test_bar_cells_are_proportional_and_never_hide_a_vote(
    count: int, voters: int, width: int
) -> None:
    count = min(count, voters)
    cells = bar_cells(count, voters, width)
    assert 0 <= cells <= width
    assert (cells == 0) == (count == 0)
    if voters:
        exact = width * count / voters
        # Rounded to the nearest cell, except that one vote always shows as one cell.
        assert abs(cells - exact) <= 0.5 or (cells == 1 and 0 < exact < 1)
    if count == voters and voters:
        assert cells == width
