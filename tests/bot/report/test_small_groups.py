"""Small groups: which rows a breakdown hides, checked by examples and by properties."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from bot.report.aggregate import build_report
from bot.report.model import PersonRow, PollRow, ReportInput, Result, SessionRow, Share, VoteRow
from bot.report.render import render_markdown
from bot.report.small_groups import rows_to_hide, suppress_counts, suppress_report, suppress_results

T0 = datetime(2031, 1, 10, 18, tzinfo=UTC)


def _hidden(counts: list[int], k: int = 5) -> list[int]:
    return sorted(counts[i] for i in rows_to_hide(counts, min_group=k))


def test_a_small_row_and_the_next_smallest_are_hidden() -> None:
    # All = 38: B alone hidden would be 38 - 35 = 3.
    assert _hidden([35, 3]) == [3, 35]
    assert _hidden([20, 12, 3]) == [3, 12]


def test_two_small_rows_that_together_are_a_group_are_enough() -> None:
    assert _hidden([20, 3, 3]) == [3, 3]


def test_small_rows_that_together_are_still_small_take_another_row_with_them() -> None:
    # 2 + 2 = 4 people, all knowable by subtraction: one more row is hidden.
    assert _hidden([20, 12, 2, 2]) == [2, 2, 12]
    assert _hidden([20, 12, 1, 1, 1, 1, 1]) == [1, 1, 1, 1, 1]


def test_nothing_small_hides_nothing_and_min_group_1_shows_everything() -> None:
    assert _hidden([10, 5, 5]) == []
    assert _hidden([3, 1, 1, 0], k=1) == []


def test_a_slack_and_zoom_split_with_few_in_zoom_hides_both() -> None:
    assert _hidden([38, 2]) == [2, 38]


def test_empty_rows_stay_shown_and_do_not_count_as_cover() -> None:
    counts = [0, 3, 10]
    assert rows_to_hide(counts, min_group=5) == {1, 2}


def test_of_equal_rows_the_later_one_is_hidden_first() -> None:
    assert rows_to_hide([10, 6, 6, 2], min_group=5) == {2, 3}


def test_a_small_not_given_bucket_is_a_row_like_any_other() -> None:
    rows = [Result("CLP", 10, ()), Result("Union", 8, ()), Result("Not given", 2, ())]
    shown = suppress_results(rows, min_group=5)
    assert [(r.name, r.hidden) for r in shown] == [
        ("CLP", False),
        ("Union", True),
        ("Not given", True),
    ]
    assert all(r.n == 0 and r.shares == () for r in shown if r.hidden)
    assert shown[0] == rows[0]


def test_counts_of_hidden_rows_read_what_they_are() -> None:
    # The small row reads "fewer than 2"; the larger one hidden with it reads "not shown".
    assert suppress_counts([("Member", 9), ("Councillor", 1)], min_group=2) == (
        ("Member", "not shown"),
        ("Councillor", "fewer than 2"),
    )


@given(
    st.lists(st.integers(min_value=0, max_value=40), max_size=12),
    st.integers(min_value=1, max_value=12),
)
def test_no_hidden_row_can_be_worked_out_by_subtraction(counts: list[int], k: int) -> None:
    hidden = rows_to_hide(counts, min_group=k)
    shown = [c for i, c in enumerate(counts) if i not in hidden]
    remainder = sum(counts) - sum(shown)  # what a reader gets: the total minus the shown rows
    # every shown row with people is a group of at least k
    assert all(c == 0 or c >= k for c in shown)
    assert all(counts[i] > 0 for i in hidden)
    if not hidden:
        return
    every_row_with_people_hidden = all(c == 0 for c in shown)
    if every_row_with_people_hidden:
        return  # what they hold together is the total, shown anyway
    # the remainder is no single hidden row's count, and no group smaller than k
    assert len(hidden) >= 2
    assert all(remainder != counts[i] for i in hidden)
    assert remainder >= k


@given(
    st.lists(st.integers(min_value=0, max_value=40), max_size=12),
    st.integers(min_value=1, max_value=12),
)
def test_only_the_smallest_rows_are_hidden_and_no_more_than_needed(
    counts: list[int], k: int
) -> None:
    hidden = rows_to_hide(counts, min_group=k)
    small = {i for i, c in enumerate(counts) if 0 < c < k}
    assert small <= hidden
    extra = hidden - small
    shown_with_people = [c for i, c in enumerate(counts) if i not in hidden and c > 0]
    # complements are the smallest rows: none is bigger than a row left shown
    assert all(counts[i] <= min(shown_with_people, default=counts[i]) for i in extra)
    if extra:
        # without the last (largest) complement, a hidden row or a small group is knowable
        last = max(extra, key=lambda i: (counts[i], -i))
        fewer = hidden - {last}
        assert len(fewer) < 2 or sum(counts[i] for i in fewer) < k


def _poll_input() -> ReportInput:
    roles = ["Member"] * 7 + ["Officer"] * 5 + ["Councillor"] * 2
    people = [PersonRow(1, f"U{i}", role, None, None) for i, role in enumerate(roles)]
    return ReportInput(
        sessions=[SessionRow(1, "Durham", T0, "Durham", "CLP")],
        people=people,
        polls=[PollRow(1, 1, "nhs", "Fund the NHS?", ("Agree", "Disagree"), False, False)],
        votes=[VoteRow(1, p.user_id, i % 2) for i, p in enumerate(people)],
    )


def test_the_report_hides_small_roles_and_their_complement_and_keeps_totals() -> None:
    built = build_report(_poll_input(), generated_at=T0)
    report = suppress_report(built, min_group=5)
    [poll] = report.polls
    assert poll.overall == built.polls[0].overall
    assert [(r.name, r.hidden) for r in poll.by_role] == [
        ("Member", False),
        ("Officer", True),
        ("Councillor", True),
    ]
    assert dict(report.attendance.by_role) == {
        "Member": 7,
        "Officer": "not shown",
        "Councillor": "fewer than 5",
    }
    assert report.attendance.check_ins == built.attendance.check_ins == 14
    assert report.hidden_note
    md = render_markdown(report)
    assert "| Councillor | fewer than 5 | – | – |" in md
    assert "| Officer | not shown |" in md
    assert "Groups of fewer than 5 people are not shown." in md
    everything = suppress_report(built, min_group=1)
    assert everything.polls == built.polls
    assert not everything.hidden_note
    assert "fewer than" not in render_markdown(everything)


def test_a_hidden_result_keeps_no_figures() -> None:
    row = Result("Zoom", 2, (Share("Agree", 2, 100),))
    [shown] = suppress_results([row], min_group=5)
    assert (shown.name, shown.n, shown.shares, shown.hidden) == ("Zoom", 0, (), True)
