"""Read the rows a report needs from the database (read-only, a few bulk queries)."""

from __future__ import annotations

from datetime import datetime

from bot.report.model import (
    AnonymousTally,
    BreakdownRow,
    PersonRow,
    PollRow,
    QuoteRow,
    ReportInput,
    SessionRow,
    VoteRow,
)
from storage import report as queries
from storage.db import Database
from storage.polls import Poll
from storage.privacy import stored_breakdowns
from storage.report import RoomReport, SessionFilter
from storage.zoom import polls as zoom_queries


def latest_reports(rooms: list[RoomReport]) -> list[RoomReport]:
    """Rooms that reported back; of each, the latest version is the one that counts."""
    return [room for room in rooms if room.versions]


def _open_at(poll: Poll, as_of: datetime | None) -> bool:
    """Whether the poll was open at `as_of` (None: now)."""
    if as_of is None:
        return poll.closed_at is None
    return poll.created_at <= as_of and (poll.closed_at is None or poll.closed_at > as_of)


def collect(db: Database, where: SessionFilter) -> ReportInput:
    """Everything the tour report is built from, for the sessions `where` selects.

    With `where.as_of` (a summary posted then, shown again): check-ins, polls, rounds,
    report-back versions and merged Zoom answers as their times put them then; a poll open
    then is marked `open_then`, and its votes (stored without a time) are not read at all.
    """
    as_of = where.as_of
    with db.read() as s:
        sessions = queries.find_sessions(s, where=where)
        ids = [session.id for session in sessions if session.id is not None]
        people = queries.checked_in_people(s, session_ids=ids, as_of=as_of)
        polls = queries.polls_of(s, session_ids=ids, as_of=as_of)
        poll_ids = [poll.id for poll in polls if poll.id is not None]
        options = queries.options_of(s, poll_ids=poll_ids)
        # Only a rebuild as of an earlier time leaves any poll's votes out.
        open_then = {p.id for p in polls if as_of is not None and _open_at(p, as_of)}
        counted = [poll for poll in polls if poll.id not in open_then]
        named = [poll.id for poll in counted if not poll.anonymous and poll.id is not None]
        votes = queries.named_votes(s, poll_ids=named)
        voters = queries.voter_counts(s, poll_ids=[p.id for p in counted if p.id is not None])
        stored = stored_breakdowns(s, session_ids=ids)  # purged sessions' breakdowns
        if as_of is not None:
            # Stored whole, for the session's end: only a poll closed by then is as it was then
            # (check-ins by role and group are not known as of an earlier time once purged).
            kept = {poll.id for poll in counted}
            stored = [row for row in stored if row.poll_id is not None and row.poll_id in kept]
        zoom_votes = zoom_queries.named_zoom_answers(s, poll_ids=named, as_of=as_of)
        zoom_totals = zoom_queries.zoom_tallies(
            s,
            poll_ids=[poll.id for poll in counted if poll.anonymous and poll.id is not None],
            option_counts={poll.id: poll.option_count for poll in polls if poll.id is not None},
            as_of=as_of,
        )
        reported = latest_reports(
            queries.rooms_with_reports(s, session_ids=ids, with_members=False, as_of=as_of)
        )
        report_ids = [room.versions[-1].id for room in reported if room.versions[-1].id]
        quotes = queries.quotes_of(s, report_ids=report_ids)
        themes = queries.themes_of(s, report_ids=report_ids)

    data = ReportInput(
        sessions=[
            SessionRow(s.id, s.title, s.started_at, s.area, s.group_type)
            for s in sessions
            if s.id is not None
        ],
        people=[PersonRow(*person) for person in people],
    )
    for poll in polls:
        assert poll.id is not None
        poll_options = options.get(poll.id, [])
        data.polls.append(
            PollRow(
                id=poll.id,
                session_id=poll.session_id,
                key=poll.key,
                question=poll.question,
                options=tuple(option.text for option in poll_options),
                multi=poll.multi,
                anonymous=poll.anonymous,
                hidden=poll.hide_results and _open_at(poll, as_of),
                open_then=poll.id in open_then,
            )
        )
        if poll.anonymous and poll.id not in open_then:
            data.anonymous.append(
                AnonymousTally(
                    poll_id=poll.id,
                    voters=voters.get(poll.id, 0),
                    counts=tuple(option.anonymous_count for option in poll_options),
                )
            )
        zoom = zoom_totals.get(poll.id)
        if poll.anonymous and zoom is not None:
            data.zoom_anonymous.append(
                AnonymousTally(poll_id=poll.id, voters=zoom.voters, counts=zoom.counts)
            )
    data.votes = [VoteRow._make(vote) for vote in votes]
    data.zoom_votes = [VoteRow._make(vote) for vote in zoom_votes]
    data.breakdowns = [BreakdownRow(**vars(row)) for row in stored]
    for room in reported:
        latest = room.versions[-1]
        tags = tuple(themes.get(latest.id or 0, ()))
        for quote in quotes.get(latest.id or 0, []):
            # Never a quote its speaker did not agree to, nor one withdrawn since.
            if quote.shown:
                data.quotes.append(
                    QuoteRow(
                        session_id=room.round.session_id,
                        text=quote.text,
                        role=quote.speaker_role,
                        place=quote.speaker_place,
                        themes=tags,
                        quote_id=quote.id,
                    )
                )
    return data
