"""Erased voters and purged sessions in the tour report's aggregates."""

from __future__ import annotations

import random
from dataclasses import replace

from bot.report.aggregate import aggregate_polls, tour_attendance
from bot.report.breakdowns import session_breakdowns
from bot.report.model import PersonRow, ReportInput, VoteRow
from storage.privacy import SMALL_GROUPS, erased_token
from tests.bot.report.test_aggregate import _generated


def _erase_everyone(data: ReportInput, session_ids: set[int], min_group: int = 1) -> ReportInput:
    """What a purge leaves of these sessions: tokens, no attributes, breakdowns stored."""
    stored = session_breakdowns(data, session_ids, min_group=min_group)
    check_in = {
        (p.session_id, p.user_id): erased_token()
        for p in data.people
        if p.session_id in session_ids
    }
    people = [
        PersonRow(p.session_id, check_in[(p.session_id, p.user_id)], None, None, None)
        if p.session_id in session_ids
        else p
        for p in data.people
    ]
    poll_session = {poll.id: poll.session_id for poll in data.polls}
    votes = [
        VoteRow(v.poll_id, f"erased-{v.poll_id}-{v.user_id}", v.option_index)
        if poll_session[v.poll_id] in session_ids
        else v
        for v in data.votes
    ]
    return replace(data, people=people, votes=votes, breakdowns=stored)


def test_a_purge_keeps_every_aggregate_and_the_attendance() -> None:
    for seed in range(15):
        for k in (1, 3, 5, 9):
            data, _ = _generated(seed)
            purged = set(random.Random(seed).sample([1, 2, 3, 4, 5], 3))
            after = _erase_everyone(data, purged, k)
            # No stored row holds a small group: the small ones went together first.
            assert all(
                not 0 < row.people < k or row.value == SMALL_GROUPS for row in after.breakdowns
            )
            assert aggregate_polls(after, min_group=k) == aggregate_polls(data, min_group=k)
            was, now = tour_attendance(data, min_group=k), tour_attendance(after, min_group=k)
            assert (now.check_ins, now.by_role, now.by_group) == (
                was.check_ins,
                was.by_role,
                was.by_group,
            )


def test_rows_stored_whole_by_an_earlier_purge_are_merged_when_read() -> None:
    for seed in range(10):
        data, _ = _generated(seed)
        purged = set(random.Random(seed).sample([1, 2, 3, 4, 5], 2))
        after = _erase_everyone(data, purged, 1)  # every row as it was, as purges once stored
        assert any(0 < row.people < 5 for row in after.breakdowns)
        assert aggregate_polls(after, min_group=5) == aggregate_polls(data, min_group=5)
        assert tour_attendance(after, min_group=5) == replace(
            tour_attendance(data, min_group=5), people=tour_attendance(after).people
        )


def test_erased_voters_count_in_totals_but_in_no_breakdown() -> None:
    data, who = _generated(4)
    [before] = aggregate_polls(data)
    gone = data.votes[0]
    data.votes[0] = VoteRow(gone.poll_id, erased_token(), gone.option_index)
    [after] = aggregate_polls(data)
    assert after.overall == before.overall
    assert after.by_session == before.by_session
    role, group = who[(gone.poll_id, gone.user_id)]
    assert {r.name: r.n for r in after.by_role}.get(role, 0) == (
        {r.name: r.n for r in before.by_role}[role] - 1
    )
    assert {r.name: r.n for r in after.by_group}.get(group, 0) == (
        {r.name: r.n for r in before.by_group}[group] - 1
    )
    assert sum(r.n for r in after.by_role) == sum(r.n for r in before.by_role) - 1
