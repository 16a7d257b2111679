"""Which posted messages named the people an erasure rewrote: the rows whose "by whom" column
changed, narrowed to those whose message Slack has (a ts stored) and whose text shows that
column. A message not posted yet shows the erased rows as they are when it is."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, select
from sqlmodel import SQLModel

from storage.models import ListeningSession
from storage.polls import Poll, PollOption
from storage.privacy.erased import Erased
from storage.privacy.tables import table_of
from storage.rooms import BreakoutRoom, BreakoutRound, ReportBack, ReportQuote, RoomNote
from storage.summaries import SummaryPost


def posted_reports(conn: Connection, report_ids: Collection[int], erased: Erased) -> None:
    """Report-back versions whose submitter was erased, posted in their room's thread."""
    if not report_ids:
        return
    report, room = table_of(ReportBack), table_of(BreakoutRoom)
    rows = conn.execute(
        select(room.c.round_id, report.c.room_id, report.c.id)
        .join_from(report, room, report.c.room_id == room.c.id)
        .where(report.c.id.in_(list(report_ids)), report.c.thread_ts.is_not(None))
    ).all()
    erased.reports.update((int(r[0]), int(r[1]), int(r[2])) for r in rows)


def posted_notes(conn: Connection, note_ids: Collection[int], erased: Erased) -> None:
    """Room thread notes naming an erased person who joined or left (every row is posted)."""
    if not note_ids:
        return
    note = table_of(RoomNote)
    rows = conn.execute(select(note.c.round_id, note.c.id).where(note.c.id.in_(list(note_ids))))
    erased.notes.update((int(r[0]), int(r[1])) for r in rows.all())


def posted_by_facilitators(
    conn: Connection,
    *,
    started: Collection[int],
    ended: Collection[int],
    closed: Collection[int],
    erased: Erased,
) -> None:
    """Sessions and polls whose posted messages say who started, ended or closed them.

    Args:
        conn: the erasure's connection.
        started: sessions whose starter was erased.
        ended: sessions whose ender was erased.
        closed: polls whose closer was erased.
        erased: where the messages found are recorded.
    """
    session, poll = table_of(ListeningSession), table_of(Poll)
    if started:
        # "Started by" is on the message while the session runs.
        erased.session_messages.update(
            conn.execute(
                select(session.c.id).where(
                    session.c.id.in_(list(started)),
                    session.c.ended_at.is_(None),
                    session.c.message_ts.is_not(None),
                )
            ).scalars()
        )
        # "Ended by" names the starter when nobody is recorded as ending it.
        erased.session_ends.update(
            conn.execute(
                select(session.c.id).where(
                    session.c.id.in_(list(started)),
                    session.c.ended_by.is_(None),
                    session.c.ended_ts.is_not(None),
                )
            ).scalars()
        )
    if ended:
        erased.session_ends.update(
            conn.execute(
                select(session.c.id).where(
                    session.c.id.in_(list(ended)), session.c.ended_ts.is_not(None)
                )
            ).scalars()
        )
    if closed:
        erased.closed_polls.update(
            conn.execute(
                select(poll.c.id).where(
                    poll.c.id.in_(list(closed)),
                    poll.c.closed_at.is_not(None),
                    poll.c.message_ts.is_not(None),
                )
            ).scalars()
        )


def posted_texts(conn: Connection, changed: Mapping[str, Collection[Any]], erased: Erased) -> None:
    """Posted messages showing text an erasure rewrote in place (a name typed into a
    report-back or a quote, a poll's question or options, a session's title, another person's
    role or place): each such message is shown again, and so is every posted summary of the
    sessions holding them (summaries show all of these).

    Args:
        conn: the erasure's connection.
        changed: the rows rewritten, by table name: each row's first primary-key value.
        erased: where the messages found are recorded.
    """
    session, poll, room = table_of(ListeningSession), table_of(Poll), table_of(BreakoutRoom)
    report, quote = table_of(ReportBack), table_of(ReportQuote)
    report_ids = set(changed.get(report.name, ()))
    if changed.get(quote.name):
        report_ids.update(
            conn.execute(
                select(quote.c.report_id).where(quote.c.id.in_(list(changed[quote.name])))
            ).scalars()
        )
    if report_ids:
        posted_reports(conn, report_ids, erased)
        rows = conn.execute(
            select(room.c.round_id, room.c.id)
            .join_from(report, room, report.c.room_id == room.c.id)
            .where(report.c.id.in_(list(report_ids)), room.c.report_ts.is_not(None))
        ).all()
        erased.channel_reports.update((int(r[0]), int(r[1])) for r in rows)
    poll_ids = {*changed.get(poll.name, ()), *changed.get(table_of(PollOption).name, ())}
    if poll_ids:  # open or closed: each shows its question and options
        for poll_id, closed_at in conn.execute(
            select(poll.c.id, poll.c.closed_at).where(
                poll.c.id.in_(list(poll_ids)), poll.c.message_ts.is_not(None)
            )
        ).all():
            (erased.closed_polls if closed_at else erased.open_polls).add(int(poll_id))
    rounds = list(changed.get(table_of(BreakoutRound).name, ()))
    if rounds:  # a round's prompt: on each of its rooms' messages
        erased.rooms.update(
            (int(r[0]), int(r[1]))
            for r in conn.execute(
                select(room.c.round_id, room.c.id).where(
                    room.c.round_id.in_(rounds), room.c.message_ts.is_not(None)
                )
            ).all()
        )
    titled = list(changed.get(session.name, ()))
    if titled:
        erased.session_messages.update(
            conn.execute(
                select(session.c.id).where(
                    session.c.id.in_(titled), session.c.message_ts.is_not(None)
                )
            ).scalars()
        )
        erased.session_ends.update(
            conn.execute(
                select(session.c.id).where(
                    session.c.id.in_(titled), session.c.ended_ts.is_not(None)
                )
            ).scalars()
        )
    sessions = {s for name, keys in changed.items() for s in _sessions_of(conn, name, keys)}
    if sessions:
        posts = table_of(SummaryPost)
        erased.summaries.update(
            conn.execute(
                select(posts.c.session_id)
                .where(posts.c.session_id.in_(sorted(sessions)))
                .distinct()
            ).scalars()
        )


def session_of(table: Table) -> ColumnElement[Any] | None:
    """The session a row of `table` belongs to, as SQL: its own column, or a lookup through the
    round, room, report-back or poll it belongs to; None for a table of no session."""
    session, poll = table_of(ListeningSession), table_of(Poll)
    rounds, room, report = table_of(BreakoutRound), table_of(BreakoutRoom), table_of(ReportBack)
    if table is session:
        return session.c.id
    if "session_id" in table.c:
        return table.c.session_id
    in_room = select(rounds.c.session_id).join_from(room, rounds, room.c.round_id == rounds.c.id)
    if "round_id" in table.c:
        return select(rounds.c.session_id).where(rounds.c.id == table.c.round_id).scalar_subquery()
    if "room_id" in table.c:
        return in_room.where(room.c.id == table.c.room_id).scalar_subquery()
    if "report_id" in table.c:
        return (
            in_room.join(report, report.c.room_id == room.c.id)
            .where(report.c.id == table.c.report_id)
            .scalar_subquery()
        )
    if "poll_id" in table.c:
        return select(poll.c.session_id).where(poll.c.id == table.c.poll_id).scalar_subquery()
    return None


def _sessions_of(conn: Connection, name: str, keys: Collection[Any]) -> set[int]:
    """The sessions rows of table `name` belong to (by their first primary-key value)."""
    table = SQLModel.metadata.tables[name]
    session = session_of(table)
    if not keys or session is None:
        return set()
    key = next(iter(table.primary_key.columns))
    query = select(session).where(key.in_(list(keys)))
    return {int(s) for s in conn.execute(query).scalars() if s is not None}
