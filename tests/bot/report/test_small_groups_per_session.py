"""Small groups across sessions: each session's are merged before they are added up, so a tour
report's row is the sum of the rows each session shows, and purged rows add up the same."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.report.aggregate import build_report, tour_attendance
from bot.report.model import BreakdownRow, PersonRow, PollRow, ReportInput, SessionRow, VoteRow
from bot.report.render import render_markdown
from bot.report.small_groups import (
    IN_SMALL_GROUPS,
    NOT_SHOWN,
    merge_small,
    rows_to_hide,
    suppress_attendance,
    suppress_report,
)
from storage.privacy import ELSEWHERE, ROLE, SMALL_GROUPS

T0 = datetime(2031, 1, 10, 18, tzinfo=UTC)
ROLES = ["Member", "Councillor", "Mayor", "Officer"]


def test_a_merged_row_is_always_hidden_and_covers_on_its_own_when_big_enough() -> None:
    assert rows_to_hide([10, 6, 7], min_group=5, merged=2) == {2}
    # too small to cover: the next smallest row goes with it
    assert rows_to_hide([10, 6, 3], min_group=5, merged=2) == {1, 2}
    # a merged row of nobody hides nothing
    assert rows_to_hide([10, 6, 0], min_group=5, merged=2) == frozenset()
    # rows small in their own right are hidden as ever
    assert rows_to_hide([10, 2, 7], min_group=5, merged=2) == {1, 2}


def _rows(session: int, counts: dict[str, int], poll: int | None = 1) -> list[BreakdownRow]:
    return [
        BreakdownRow(session, poll, "Slack" if poll else "", ROLE, name, n, (n, 0) if poll else ())
        for name, n in counts.items()
    ]


def test_a_sessions_small_groups_go_together_and_keep_the_total() -> None:
    rows = _rows(1, {"Member": 9, "Mayor": 1, "Officer": 6, "Councillor": 5})
    merged = merge_small(rows, min_group=5)
    # Mayor (1) and the next smallest, Councillor (5): together, in one row
    assert [(row.value, row.people, row.counts) for row in merged] == [
        ("Member", 9, (9, 0)),
        ("Officer", 6, (6, 0)),
        (SMALL_GROUPS, 6, (6, 0)),
    ]
    assert merge_small(merged, min_group=5) == merged
    # sessions, polls, sources and attributes apart; other rows as they are
    elsewhere = BreakdownRow(1, None, "", ELSEWHERE, "", 3, (2,))
    mixed = [*_rows(2, {"Mayor": 1}), *_rows(1, {"Mayor": 7}), elsewhere]
    assert merge_small(mixed, min_group=5) == [
        BreakdownRow(2, 1, "Slack", ROLE, SMALL_GROUPS, 1, (1, 0)),
        BreakdownRow(1, 1, "Slack", ROLE, "Mayor", 7, (7, 0)),
        elsewhere,
    ]


breakdown = st.dictionaries(st.sampled_from(ROLES), st.integers(min_value=1, max_value=12))


@given(breakdown, st.integers(min_value=1, max_value=9), st.randoms())
def test_merged_rows_hold_no_small_group_and_merge_again_unchanged(
    counts: dict[str, int], k: int, rng: object
) -> None:
    rows = _rows(1, counts)
    merged = merge_small(rows, min_group=k)
    assert sum(row.people for row in merged) == sum(counts.values())
    assert sum(row.counts[0] for row in merged) == sum(counts.values())
    small = [row for row in merged if 0 < row.people < k]
    assert all(row.value == SMALL_GROUPS for row in small)
    if small:  # a small merged row is the session's whole breakdown, shown as its total anyway
        assert merged == small
    assert merge_small(merged, min_group=k) == merged
    shuffled = list(rows)
    rng.shuffle(shuffled)  # type: ignore[attr-defined]
    assert merge_small(shuffled, min_group=k) == merged  # the order rows were read in is no matter


def _tour(sessions: list[dict[str, int]]) -> ReportInput:
    """Sessions of people of these roles, every one of them voting Agree or Disagree."""
    data = ReportInput()
    for sid, roles in enumerate(sessions, start=1):
        data.sessions.append(
            SessionRow(sid, f"Session {sid}", T0 + timedelta(days=sid), None, "CLP")
        )
        data.polls.append(
            PollRow(sid, sid, "nhs", "Fund the NHS?", ("Agree", "Disagree"), False, False)
        )
        people = [f"U{sid}-{role}-{i}" for role, n in roles.items() for i in range(n)]
        for i, user in enumerate(people):
            data.people.append(PersonRow(sid, user, user.split("-")[1], None, None))
            data.votes.append(VoteRow(sid, user, i % 2))
    return data


def _alone(data: ReportInput, sid: int) -> ReportInput:
    return ReportInput(
        sessions=[s for s in data.sessions if s.id == sid],
        people=[p for p in data.people if p.session_id == sid],
        polls=[p for p in data.polls if p.session_id == sid],
        votes=[v for v in data.votes if v.poll_id == sid],
    )


@settings(max_examples=60, deadline=None)
@given(st.lists(breakdown, min_size=2, max_size=3), st.integers(min_value=2, max_value=6))
def test_a_tour_row_is_the_sum_of_what_each_session_shows(
    sessions: list[dict[str, int]], k: int
) -> None:
    data = _tour(sessions)
    tour = suppress_report(build_report(data, generated_at=T0, min_group=k), min_group=k)
    # What each session's summary shows of its check-ins, and its own report of its polls.
    summaries = [
        dict(suppress_attendance(tour_attendance(_alone(data, sid)), min_group=k).by_role)
        for sid in range(1, len(sessions) + 1)
    ]
    alone = [
        suppress_report(build_report(_alone(data, sid), generated_at=T0, min_group=k), min_group=k)
        for sid in range(1, len(sessions) + 1)
    ]
    for name, count in tour.attendance.by_role:
        if isinstance(count, int):
            assert count == sum(
                shown for summary in summaries if isinstance(shown := summary.get(name), int)
            )
        else:
            assert name in (*ROLES, IN_SMALL_GROUPS)
    [poll] = tour.polls
    for row in poll.by_role:
        if row.hidden:
            continue
        parts = [r for report in alone for r in report.polls[0].by_role if r.name == row.name]
        assert all(not part.hidden for part in parts)
        assert row.n == sum(part.n for part in parts)
        assert [s.count for s in row.shares] == [
            sum(part.shares[i].count for part in parts) for i in range(2)
        ]
    assert sum(count for _, count in tour.attendance.by_role if isinstance(count, int)) <= sum(
        sum(roles.values()) for roles in sessions
    )


def test_a_role_small_in_one_session_is_left_out_of_its_tour_row() -> None:
    # Session 1 has one Mayor, whom its summary hides; session 2 has five, shown.
    data = _tour([{"Member": 9, "Officer": 6, "Mayor": 1}, {"Member": 8, "Mayor": 5}])
    [first, second] = (
        dict(suppress_attendance(tour_attendance(_alone(data, sid)), min_group=5).by_role)
        for sid in (1, 2)
    )
    assert (first["Mayor"], first["Officer"]) == ("fewer than 5", "not shown")
    assert second["Mayor"] == 5
    report = suppress_report(build_report(data, generated_at=T0, min_group=5), min_group=5)
    attendance = dict(report.attendance.by_role)
    # 5, not 6: the first session's Mayor cannot be worked out from the two
    assert attendance["Mayor"] == 5
    assert attendance[IN_SMALL_GROUPS] == NOT_SHOWN
    assert "Officer" not in attendance  # hidden with the Mayor, in the only session it was in
    assert report.attendance.check_ins == 29
    [poll] = report.polls
    assert {r.name: r.n for r in poll.by_role if not r.hidden} == {"Member": 17, "Mayor": 5}
    # the first session's Mayor, with the smallest row that covers them (its Officers)
    assert [(r.name, r.hidden_label) for r in poll.by_role if r.hidden] == [
        (IN_SMALL_GROUPS, NOT_SHOWN)
    ]
    md = render_markdown(report)
    assert "| In small groups | not shown |" in md
    assert "added up in the row “In small groups”" in md
