"""Aggregate a tour's rows: poll results by key, group, role and session; themes; attendance."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from functools import partial

from bot.report.model import (
    BreakdownRow,
    PollAggregate,
    PollRow,
    Quote,
    QuoteRow,
    ReportInput,
    Result,
    SessionRow,
    Share,
    Theme,
    TourAttendance,
    TourReport,
)
from bot.report.percent import whole_percentages
from bot.report.slices import (
    NOT_GIVEN,
    SLACK,
    ZOOM,
    check_in_slices,
    choices,
    poll_slices,
    voter_combos,
)
from bot.report.small_groups import SOURCE, merge_small
from bot.report.themes import group_by_similarity
from storage.privacy.tables import ELSEWHERE, GROUP, ROLE, SMALL_GROUPS

Progress = Callable[[str], None]


def _quiet(_stage: str) -> None:
    return None


class _Tally:
    """Counts per option and the number of people who answered, for one slice."""

    def __init__(self, width: int) -> None:
        self.counts = [0] * width
        self.n = 0

    def add(self, chosen: Iterable[int], times: int = 1) -> None:
        self.n += times
        for index in set(chosen):
            self.counts[index] += times

    def add_totals(self, voters: int, counts: Sequence[int]) -> None:
        self.n += voters
        for index, count in enumerate(counts):
            self.counts[index] += count

    def result(self, name: str, labels: Sequence[str], *, multi: bool) -> Result:
        percents = whole_percentages(self.counts, self.n, exclusive=not multi)
        shares = tuple(
            Share(label, count, percent)
            for label, count, percent in zip(labels, self.counts, percents, strict=True)
        )
        return Result(name=name, n=self.n, shares=shares)


def _option_labels(polls: Sequence[PollRow]) -> tuple[list[str], dict[int, list[int]]]:
    """Options of every poll under one key, merged by text (case-insensitive), first wording kept.

    Returns:
        The merged labels, and for each poll id the merged index of each of its options.
    """
    labels: list[str] = []
    seen: dict[str, int] = {}
    mapping: dict[int, list[int]] = {}
    for poll in polls:
        indices = []
        for option in poll.options:
            folded = " ".join(option.split()).casefold()
            if folded not in seen:
                seen[folded] = len(labels)
                labels.append(option)
            indices.append(seen[folded])
        mapping[poll.id] = indices
    return labels, mapping


def _stored(data: ReportInput) -> dict[tuple[int, str], list[BreakdownRow]]:
    """Purged sessions' stored poll breakdowns, by (poll id, source)."""
    stored: dict[tuple[int, str], list[BreakdownRow]] = defaultdict(list)
    for row in data.breakdowns:
        if row.poll_id is not None:
            stored[(row.poll_id, row.source)].append(row)
    return stored


def _merged(counts: Sequence[int], index: Sequence[int], width: int) -> list[int]:
    """Counts in a poll's own option order, in the key's merged options."""
    merged = [0] * width
    for option, count in enumerate(counts[: len(index)]):
        merged[index[option]] += count
    return merged


def aggregate_polls(data: ReportInput, *, min_group: int = 1) -> list[PollAggregate]:
    """One aggregate per poll key, in the order keys were first asked; Slack's and Zoom's
    answers together, and apart in `by_source` when some came from Zoom.

    The rows by group, role and source add up each session's rows with its small groups (of
    fewer than `min_group` people, and the rows hidden with them) merged into one
    `SMALL_GROUPS` row per poll (bot.report.small_groups.merge_small): a purged session's
    stored rows, merged the same way, add up to the same."""
    sessions = {session.id: session for session in data.sessions}
    people = {(person.session_id, person.user_id): person for person in data.people}
    votes = {SLACK: choices(data.votes), ZOOM: choices(data.zoom_votes)}
    stored = _stored(data)
    totals = {
        SLACK: {tally.poll_id: tally for tally in data.anonymous},
        ZOOM: {tally.poll_id: tally for tally in data.zoom_anonymous},
    }
    by_key: dict[str, list[PollRow]] = defaultdict(list)
    shown = (poll for poll in data.polls if not poll.hidden)
    for poll in sorted(shown, key=lambda p: (sessions[p.session_id].started_at, p.id)):
        by_key[poll.key].append(poll)

    aggregates = []
    for key, polls in by_key.items():
        labels, mapping = _option_labels(polls)
        multi = any(poll.multi for poll in polls)
        width = len(labels)
        overall = _Tally(width)
        slices: dict[str, dict[str, _Tally]] = {
            dimension: defaultdict(partial(_Tally, width)) for dimension in (GROUP, ROLE, SOURCE)
        }
        per_session: dict[int, _Tally] = defaultdict(partial(_Tally, width))
        per_source = slices[SOURCE]
        per_source[SLACK], per_source[ZOOM] = _Tally(width), _Tally(width)
        from_zoom = False
        anonymous_answers = 0
        for poll in polls:
            index = mapping[poll.id]
            session = sessions[poll.session_id]
            sources: list[BreakdownRow] = []  # this poll's answers by source
            zoom_here = False
            rows: list[BreakdownRow] = []
            for source in (SLACK, ZOOM):
                source_tally = _Tally(width)
                if poll.anonymous:
                    answers = totals[source].get(poll.id)
                    if answers is None:
                        continue
                    zoom_here = zoom_here or source == ZOOM
                    merged = _merged(answers.counts, index, width)
                    for tally in (overall, per_session[session.id], source_tally):
                        tally.add_totals(answers.voters, merged)
                    anonymous_answers += answers.voters
                else:
                    chosen_by = votes[source].get(poll.id, {})
                    zoom_here = zoom_here or (source == ZOOM and bool(chosen_by))
                    combos = voter_combos(poll, session, chosen_by, people)
                    for (picked, *_), times in combos.items():
                        options = [index[i] for i in picked if 0 <= i < len(index)]
                        if options:
                            for tally in (overall, per_session[session.id], source_tally):
                                tally.add(options, times)
                    rows += poll_slices(
                        poll, source, combos, min_group=min_group, attributes=(GROUP, ROLE)
                    )
                    # A purged session's people are erased: its breakdowns were stored first.
                    rows += merge_small(stored.get((poll.id, source), ()), min_group=min_group)
                sources.append(
                    BreakdownRow(
                        session.id,
                        poll.id,
                        "",
                        SOURCE,
                        source,
                        source_tally.n,
                        tuple(source_tally.counts),
                    )
                )
            from_zoom = from_zoom or zoom_here
            # A poll's Slack and Zoom rows are shown apart when some answers came from Zoom.
            rows += merge_small(sources, min_group=min_group if zoom_here else 1)
            for row in rows:
                counts = (
                    row.counts if row.dimension == SOURCE else _merged(row.counts, index, width)
                )
                if row.dimension in slices:
                    slices[row.dimension][row.value].add_totals(row.people, counts)
        aggregates.append(
            PollAggregate(
                key=key,
                question=polls[-1].question,
                multi=multi,
                overall=overall.result("All", labels, multi=multi),
                by_group=_slices(slices[GROUP], labels, multi),
                by_role=_slices(slices[ROLE], labels, multi),
                by_session=tuple(
                    (sessions[sid], tally.result(sessions[sid].title, labels, multi=multi))
                    for sid, tally in per_session.items()
                ),
                anonymous_answers=anonymous_answers,
                # A source of nobody is left out when small groups were merged: its people may be
                # among them ("Zoom 0" would not be so).
                by_source=tuple(
                    tally.result(source, labels, multi=multi)
                    for source, tally in per_source.items()
                    if tally.n or SMALL_GROUPS not in per_source
                )
                if from_zoom
                else (),
            )
        )
    return aggregates


def poll_aggregates(data: ReportInput) -> dict[int, PollAggregate]:
    """Each poll's own aggregate, by poll id (not merged across sessions by key)."""
    separate = replace(data, polls=[replace(poll, key=str(poll.id)) for poll in data.polls])
    return {int(aggregate.key): aggregate for aggregate in aggregate_polls(separate)}


def poll_results(data: ReportInput) -> dict[int, Result]:
    """Each poll's own overall result, by poll id (not merged across sessions by key)."""
    return {poll_id: aggregate.overall for poll_id, aggregate in poll_aggregates(data).items()}


def _slices(tallies: dict[str, _Tally], labels: Sequence[str], multi: bool) -> tuple[Result, ...]:
    ordered = sorted(
        tallies.items(),
        key=lambda item: (item[0] == SMALL_GROUPS, item[0] == NOT_GIVEN, -item[1].n, item[0]),
    )
    return tuple(tally.result(name, labels, multi=multi) for name, tally in ordered)


def attribution(role: str | None, place: str | None) -> str:
    """ "Member, Durham" — role and place, never a name."""
    return ", ".join(part for part in (role or "Participant", place) if part)


def group_themes(quotes: Sequence[QuoteRow], sessions: dict[int, SessionRow]) -> list[Theme]:
    """Tagged quotes under their tags; untagged ones grouped by similarity. Biggest first."""
    tagged: dict[str, list[Quote]] = defaultdict(list)
    labels: dict[str, str] = {}
    untagged: list[QuoteRow] = []

    def printed(row: QuoteRow) -> Quote:
        return Quote(row.text, attribution(row.role, row.place), sessions[row.session_id].title)

    for row in quotes:
        if not row.themes:
            untagged.append(row)
        for theme in dict.fromkeys(" ".join(t.split()) for t in row.themes if t.strip()):
            folded = theme.casefold()
            labels.setdefault(folded, theme)
            tagged[folded].append(printed(row))
    themes = [
        Theme(labels[folded], True, tuple(items))
        for folded, items in sorted(tagged.items(), key=lambda item: (-len(item[1]), item[0]))
    ]
    for group in group_by_similarity([row.text for row in untagged]):
        themes.append(Theme(group.label, False, tuple(printed(untagged[i]) for i in group.members)))
    return themes


def tour_attendance(data: ReportInput, *, min_group: int = 1) -> TourAttendance:
    """Sessions, distinct people, check-ins, and check-ins by role and group: each session's
    with its small groups (of fewer than `min_group` people, and the rows hidden with them)
    merged into one `SMALL_GROUPS` row, then added up (erased people count in the totals only;
    purged sessions' breakdowns as stored, merged the same way)."""
    sessions = {session.id: session for session in data.sessions}
    roles: Counter[str] = Counter()
    groups: Counter[str] = Counter()
    purged = [row for row in data.breakdowns if row.poll_id is None]
    for row in (
        *check_in_slices(data, min_group=min_group, attributes=(ROLE, GROUP)),
        *merge_small(purged, min_group=min_group),
    ):
        if row.dimension in (ROLE, GROUP):
            (roles if row.dimension == ROLE else groups)[row.value] += row.people
    # A purged check-in is a token of its own: a person counted by another session of this
    # report (their id there, or that session's own token) is taken off here.
    twice = sum(
        row.people
        for row in purged
        if row.dimension == ELSEWHERE
        and (not row.counts or not sessions.keys().isdisjoint(row.counts))
    )
    return TourAttendance(
        sessions=len(data.sessions),
        people=len({person.user_id for person in data.people}) - twice,
        check_ins=len(data.people),
        by_role=_biggest_first(roles),
        by_group=_biggest_first(groups),
    )


def _biggest_first(counts: Counter[str]) -> tuple[tuple[str, int], ...]:
    # Ties by name, not by which row came first: a purge stores rows in another order. The
    # small groups together come last.
    return tuple(
        sorted(counts.items(), key=lambda item: (item[0] == SMALL_GROUPS, -item[1], item[0]))
    )


def build_report(
    data: ReportInput,
    *,
    generated_at: datetime,
    since: datetime | None = None,
    until: datetime | None = None,
    progress: Progress = _quiet,
    min_group: int = 1,
) -> TourReport:
    """The tour report from its rows, each session's small groups (of fewer than `min_group`
    people) merged before they are added up (bot.report.small_groups: suppress_report hides
    the rest with the same `min_group`)."""
    progress("polls")
    polls = aggregate_polls(data, min_group=min_group)
    progress("themes")
    themes = group_themes(data.quotes, {session.id: session for session in data.sessions})
    progress("attendance")
    attendance = tour_attendance(data, min_group=min_group)
    return TourReport(
        generated_at=generated_at,
        since=since,
        until=until,
        sessions=tuple(sorted(data.sessions, key=lambda s: s.started_at)),
        attendance=attendance,
        polls=tuple(polls),
        themes=tuple(themes),
    )
