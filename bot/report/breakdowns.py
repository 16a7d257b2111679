"""The breakdowns a purge stores for a session before its people are erased: per poll and
source, and for check-ins, how many people of each role, place and group (counts only)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection

from bot.report.aggregate import NOT_GIVEN, SLACK, ZOOM, each_voter
from bot.report.model import BreakdownRow, PersonRow, ReportInput
from storage.privacy.tables import GROUP, PLACE, ROLE, is_erased


def _attributes(person: PersonRow | None, group: str) -> dict[str, str]:
    return {
        ROLE: (person.role if person else None) or NOT_GIVEN,
        PLACE: (person.place if person else None) or NOT_GIVEN,
        GROUP: group,
    }


def session_breakdowns(data: ReportInput, session_ids: Collection[int]) -> list[BreakdownRow]:
    """What the report's breakdowns take from these sessions' people, as rows to store."""
    sessions = {session.id: session for session in data.sessions}
    people = {(person.session_id, person.user_id): person for person in data.people}
    rows: list[BreakdownRow] = []
    for source, votes in ((SLACK, data.votes), (ZOOM, data.zoom_votes)):
        chosen: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
        for vote in votes:
            chosen[vote.poll_id][vote.user_id].append(vote.option_index)
        for poll in data.polls:
            if poll.session_id not in session_ids or poll.anonymous:
                continue
            width = len(poll.options)
            slices: dict[tuple[str, str], list[int]] = {}
            people_in: dict[tuple[str, str], int] = defaultdict(int)
            session = sessions[poll.session_id]
            for picked, person, group in each_voter(poll, session, chosen.get(poll.id, {}), people):
                options = {i for i in picked if 0 <= i < width}
                if not group or not options:
                    continue  # erased already, or no option the poll still has
                for dimension, value in _attributes(person, group).items():
                    counts = slices.setdefault((dimension, value), [0] * width)
                    people_in[(dimension, value)] += 1
                    for option in options:
                        counts[option] += 1
            rows.extend(
                BreakdownRow(
                    session_id=poll.session_id,
                    poll_id=poll.id,
                    source=source,
                    dimension=dimension,
                    value=value,
                    people=people_in[(dimension, value)],
                    counts=tuple(counts),
                )
                for (dimension, value), counts in slices.items()
            )
    checked_in: dict[tuple[int, str, str], int] = defaultdict(int)
    for person in data.people:
        if person.session_id not in session_ids or is_erased(person.user_id):
            continue
        session = sessions[person.session_id]
        group = person.group_name or session.group_type or NOT_GIVEN
        for dimension, value in _attributes(person, group).items():
            checked_in[(person.session_id, dimension, value)] += 1
    rows.extend(
        BreakdownRow(session_id, None, "", dimension, value, count)
        for (session_id, dimension, value), count in checked_in.items()
    )
    return rows
