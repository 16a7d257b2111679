"""The breakdowns a purge stores for a session before its people are erased: per poll and
source, and for check-ins, how many people of each role, place and group (counts only), each
session's small groups merged into one row (bot.report.small_groups.merge_small), so that no
stored row holds a small group."""

from __future__ import annotations

from collections.abc import Collection

from bot.report.model import BreakdownRow, ReportInput
from bot.report.slices import SLACK, ZOOM, check_in_slices, choices, poll_slices, voter_combos


def session_breakdowns(
    data: ReportInput, session_ids: Collection[int], *, min_group: int
) -> list[BreakdownRow]:
    """What the report's breakdowns take from these sessions' people, as rows to store: the
    rows the report adds up for them (bot.report.aggregate), small groups merged."""
    sessions = {session.id: session for session in data.sessions}
    people = {(person.session_id, person.user_id): person for person in data.people}
    rows: list[BreakdownRow] = []
    for source, votes in ((SLACK, data.votes), (ZOOM, data.zoom_votes)):
        chosen = choices(votes)
        for poll in data.polls:
            if poll.session_id not in session_ids or poll.anonymous:
                continue
            session = sessions[poll.session_id]
            combos = voter_combos(poll, session, chosen.get(poll.id, {}), people)
            rows.extend(poll_slices(poll, source, combos, min_group=min_group))
    rows.extend(check_in_slices(data, min_group=min_group, session_ids=session_ids))
    return rows
