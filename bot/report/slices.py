"""Each session's slices: per poll and source, and of check-ins, how many people of each role,
place and group (and what they chose), small groups merged (bot.report.small_groups).

The tour report adds these up across sessions, and a purge stores them (bot.report.breakdowns)
for the report to read instead once the session's people are erased: one function for both,
so the report's figures are the same before and after a purge.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Sequence

from bot.report.model import BreakdownRow, PersonRow, PollRow, ReportInput, SessionRow, VoteRow
from bot.report.small_groups import merge_small
from storage.privacy.tables import GROUP, PLACE, ROLE, is_erased

NOT_GIVEN = "Not given"
SLACK, ZOOM = "Slack", "Zoom"
ATTRIBUTES = (ROLE, PLACE, GROUP)

# (the poll's own option indices chosen, group, role, place): how many voters chose so.
Combos = Counter[tuple[tuple[int, ...], str, str, str]]


def choices(rows: Iterable[VoteRow]) -> dict[int, dict[str, list[int]]]:
    """Each poll's choices per person."""
    chosen: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for vote in rows:
        chosen[vote.poll_id][vote.user_id].append(vote.option_index)
    return chosen


def each_voter(
    poll: PollRow,
    session: SessionRow,
    chosen_by: dict[str, list[int]],
    people: dict[tuple[int, str], PersonRow],
) -> Iterable[tuple[tuple[int, ...], PersonRow | None, str]]:
    """Each voter's choices (their poll's own option indices), check-in and group. An erased
    voter (an unlinked count) has no check-in and no group: they count in totals only."""
    for user_id, chosen in chosen_by.items():
        picked = tuple(chosen) if len(chosen) == 1 else tuple(sorted(set(chosen)))
        if is_erased(user_id):
            yield picked, None, ""
            continue
        person = people.get((poll.session_id, user_id))
        group = (person.group_name if person else None) or session.group_type or NOT_GIVEN
        yield picked, person, group


def voter_combos(
    poll: PollRow,
    session: SessionRow,
    chosen_by: dict[str, list[int]],
    people: dict[tuple[int, str], PersonRow],
) -> Combos:
    """Identical (choice, group, role, place) combinations of a poll's voters, counted: a tour
    has hundreds of thousands of votes but few distinct combinations, so the tallies see each
    once. An erased voter's combination has no group, role or place ("")."""
    combos: Combos = Counter()
    for picked, person, group in each_voter(poll, session, chosen_by, people):
        if not group:
            combos[(picked, "", "", "")] += 1
            continue
        role = (person.role if person else None) or NOT_GIVEN
        place = (person.place if person else None) or NOT_GIVEN
        combos[(picked, group, role, place)] += 1
    return combos


def poll_slices(
    poll: PollRow,
    source: str,
    combos: Combos,
    *,
    min_group: int,
    attributes: Sequence[str] = ATTRIBUTES,
) -> list[BreakdownRow]:
    """A poll's answers from one source by role, place and group (of `attributes`), in the
    poll's own option order, small groups merged. Erased voters, and voters whose choices the
    poll no longer has, are in none."""
    width = len(poll.options)
    slices: dict[tuple[str, str], list[int]] = {}
    people: Counter[tuple[str, str]] = Counter()
    for (picked, group, role, place), times in combos.items():
        options = {i for i in picked if 0 <= i < width}
        if not group or not options:
            continue
        values = {ROLE: role, PLACE: place, GROUP: group}
        for attribute in attributes:
            key = (attribute, values[attribute])
            counts = slices.setdefault(key, [0] * width)
            people[key] += times
            for option in options:
                counts[option] += times
    rows = [
        BreakdownRow(poll.session_id, poll.id, source, *key, people[key], tuple(counts))
        for key, counts in slices.items()
    ]
    return merge_small(rows, min_group=min_group)


def check_in_slices(
    data: ReportInput,
    *,
    min_group: int,
    session_ids: Collection[int] | None = None,
    attributes: Sequence[str] = ATTRIBUTES,
) -> list[BreakdownRow]:
    """Each session's check-ins (of `session_ids`, or all) by role, place and group (of
    `attributes`), small groups merged; erased people are in none."""
    sessions = {session.id: session for session in data.sessions}
    checked_in: Counter[tuple[int, str, str]] = Counter()
    for person in data.people:
        if (session_ids is not None and person.session_id not in session_ids) or is_erased(
            person.user_id
        ):
            continue
        session = sessions[person.session_id]
        values = {
            ROLE: person.role or NOT_GIVEN,
            PLACE: person.place or NOT_GIVEN,
            GROUP: person.group_name or session.group_type or NOT_GIVEN,
        }
        for attribute in attributes:
            checked_in[(person.session_id, attribute, values[attribute])] += 1
    rows = [
        BreakdownRow(session_id, None, "", attribute, value, count)
        for (session_id, attribute, value), count in checked_in.items()
    ]
    return merge_small(rows, min_group=min_group)
