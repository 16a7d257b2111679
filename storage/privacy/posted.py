"""Which posted messages named the people an erasure rewrote: the rows whose "by whom" column
changed, narrowed to those whose message Slack has (a ts stored) and whose text shows that
column. A message not posted yet shows the erased rows as they are when it is."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import Connection, select

from storage.models import ListeningSession
from storage.polls import Poll
from storage.privacy.erased import Erased
from storage.privacy.tables import table_of
from storage.rooms import BreakoutRoom, ReportBack, RoomNote


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
