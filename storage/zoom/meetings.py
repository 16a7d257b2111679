"""A session's Zoom meeting (what the lookup and the webhooks said) and the durable Zoom tasks.

A Zoom call never happens inside a Slack request: the request commits a `ZoomTask` row with its
change, and the Zoom worker (`bot.zoom.tasks`) runs due rows one by one, retrying until done.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Column, ForeignKey, Integer, String, Text, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Field, Session, SQLModel, col

from storage.models import ListeningSession, fk_column, utc_column

MEETING_ID_MAX = 32
UUID_MAX = 64  # Zoom's uuids are 24 characters of base64; room for their URL-safe variants
TOPIC_MAX = 300  # Zoom allows 200 characters; kept whole with room to spare
TASK_KEY_MAX = 200
TASK_KIND_MAX = 40
ERROR_MAX = 300
TASK_QUEUED = "zoom_task_queued"  # set on a unit of work that queued a task (Database.on_flag)


class ZoomMeeting(SQLModel, table=True):
    """The Zoom meeting a session is bound to: what was typed, what the lookup found, and the
    instance (uuid) that started, from the webhooks or the lookup."""

    __tablename__ = "zoom_meeting"

    session_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("listening_session.id", ondelete="CASCADE"),
            primary_key=True,
        )
    )
    meeting_id: str = Field(sa_column=Column(String(MEETING_ID_MAX), nullable=False, index=True))
    # The lookup: None until done; `problem` says why the session runs without Zoom.
    looked_up_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    problem: str | None = Field(default=None, sa_column=Column(String(ERROR_MAX)))
    topic: str | None = Field(default=None, sa_column=Column(String(TOPIC_MAX)))
    start_time: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    meeting_type: int | None = Field(default=None, sa_column=Column(Integer))
    host_id: str | None = Field(default=None, sa_column=Column(String(UUID_MAX)))
    # The instance: its uuid is what past-meeting calls take.
    uuid: str | None = Field(default=None, sa_column=Column(String(UUID_MAX), index=True))
    started_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    ended_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    # Zoom's health as this session's facilitators were told it: a warning once per outage,
    # and a notice when it is back (`outages` numbers them, so each is queued once).
    outages: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    down_since: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class ZoomTask(SQLModel, table=True):
    """A Zoom call the bot owes (look a meeting up, create a poll, fetch results, ...)."""

    __tablename__ = "zoom_task"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(sa_column=Column(String(TASK_KEY_MAX), nullable=False, unique=True))
    kind: str = Field(sa_column=Column(String(TASK_KIND_MAX), nullable=False))
    session_id: int = Field(sa_column=fk_column("listening_session.id"))
    args: str = Field(sa_column=Column(Text, nullable=False, server_default="{}"))
    created_at: datetime = Field(sa_column=utc_column(nullable=False))
    due_at: datetime = Field(sa_column=utc_column(nullable=False, index=True))
    attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    done_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True, index=True))
    # Why it was given up (Zoom refused it for good); None while it may still run.
    failed: str | None = Field(default=None, sa_column=Column(String(ERROR_MAX)))
    last_error: str | None = Field(default=None, sa_column=Column(String(ERROR_MAX)))


@dataclass(frozen=True)
class DueTask:
    """A task to run now, as the worker sees it."""

    id: int
    key: str
    kind: str
    session_id: int
    args: Mapping[str, Any]
    attempts: int
    created_at: datetime


def bind_meeting(db: Session, *, session_id: int, meeting_id: str) -> None:
    """Remember which Zoom meeting a session runs with (once; a second bind changes nothing)."""
    if db.get(ZoomMeeting, session_id) is None:
        db.add(ZoomMeeting(session_id=session_id, meeting_id=meeting_id))
        db.flush()


def meeting_of(db: Session, *, session_id: int) -> ZoomMeeting | None:
    """The session's Zoom meeting, or None for a Slack-only session."""
    return db.get(ZoomMeeting, session_id)


def sessions_for_meeting(db: Session, *, meeting_id: str | None, uuid: str | None) -> list[int]:
    """Sessions, not ended, bound to this meeting id or instance uuid (newest first)."""
    query = (
        select(col(ZoomMeeting.session_id))
        .join(ListeningSession, col(ListeningSession.id) == col(ZoomMeeting.session_id))
        .where(col(ListeningSession.ended_at).is_(None))
        .where(col(ZoomMeeting.problem).is_(None))
    )
    conditions = []
    if uuid:
        conditions.append(col(ZoomMeeting.uuid) == uuid)
    if meeting_id:
        conditions.append(col(ZoomMeeting.meeting_id) == meeting_id)
    if not conditions:
        return []
    query = query.where(or_(*conditions)).order_by(col(ZoomMeeting.session_id).desc())
    return [int(row) for row in db.execute(query).scalars()]


def save_meeting(db: Session, *, session_id: int, **values: Any) -> None:
    """Update the session's meeting row with what Zoom said."""
    db.execute(
        update(ZoomMeeting).where(col(ZoomMeeting.session_id) == session_id).values(**values)
    )


def add_task(
    db: Session,
    *,
    key: str,
    kind: str,
    session_id: int,
    now: datetime,
    due_at: datetime | None = None,
    args: Mapping[str, Any] | None = None,
) -> bool:
    """Queue a Zoom task in the caller's transaction; False if its key was queued before."""
    values = {
        "key": key,
        "kind": kind,
        "session_id": session_id,
        "args": json.dumps(dict(args or {}), sort_keys=True),
        "created_at": now,
        "due_at": due_at or now,
        "attempts": 0,
    }
    bind = db.get_bind()
    insert = pg_insert if bind.dialect.name == "postgresql" else sqlite_insert
    statement = insert(ZoomTask).values(**values).on_conflict_do_nothing(index_elements=["key"])
    result = db.execute(statement)
    db.info[TASK_QUEUED] = True
    return bool(result.rowcount)  # type: ignore[attr-defined]


def due_tasks(db: Session, *, now: datetime, limit: int = 20) -> list[DueTask]:
    """Tasks that may run now, oldest due first."""
    rows = db.execute(
        select(ZoomTask)
        .where(col(ZoomTask.done_at).is_(None), col(ZoomTask.due_at) <= now)
        .order_by(col(ZoomTask.due_at), col(ZoomTask.id))
        .limit(limit)
    ).scalars()
    return [
        DueTask(
            id=int(row.id or 0),
            key=row.key,
            kind=row.kind,
            session_id=row.session_id,
            args=json.loads(row.args or "{}"),
            attempts=row.attempts,
            created_at=row.created_at,
        )
        for row in rows
    ]


def next_due(db: Session) -> datetime | None:
    """When the next unfinished task falls due."""
    return db.execute(
        select(col(ZoomTask.due_at))
        .where(col(ZoomTask.done_at).is_(None))
        .order_by(col(ZoomTask.due_at))
        .limit(1)
    ).scalar()


def lease_task(db: Session, *, task_id: int, now: datetime, until: datetime) -> bool:
    """Take a due task to run it: it is not due again before `until` (unless its run says
    when), so no other worker runs it meanwhile. False when it is no longer due (another
    worker took it, or it is done)."""
    result = db.execute(
        update(ZoomTask)
        .where(
            col(ZoomTask.id) == task_id,
            col(ZoomTask.done_at).is_(None),
            col(ZoomTask.due_at) <= now,
        )
        .values(due_at=until)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def release_task(db: Session, *, task_id: int, now: datetime) -> None:
    """Give a leased task back, due now (its run was interrupted before it called Zoom)."""
    db.execute(
        update(ZoomTask)
        .where(col(ZoomTask.id) == task_id, col(ZoomTask.done_at).is_(None))
        .values(due_at=now)
    )


def finish_task(db: Session, *, task_id: int, now: datetime, failed: str | None = None) -> None:
    """Mark a task done (or given up, saying why)."""
    db.execute(
        update(ZoomTask)
        .where(col(ZoomTask.id) == task_id)
        .values(done_at=now, failed=failed[:ERROR_MAX] if failed else None)
    )


def retry_task(
    db: Session,
    *,
    task_id: int,
    due_at: datetime,
    error: str | None,
    args: Mapping[str, Any] | None = None,
    count_attempt: bool = True,
) -> None:
    """Run a task again at `due_at` (after a failure, or a repeating task's next turn)."""
    values: dict[str, Any] = {"due_at": due_at, "last_error": error[:ERROR_MAX] if error else None}
    if count_attempt:
        values["attempts"] = ZoomTask.attempts + 1
    if args is not None:
        values["args"] = json.dumps(dict(args), sort_keys=True)
    db.execute(update(ZoomTask).where(col(ZoomTask.id) == task_id).values(**values))


def unfinished_tasks(db: Session, *, session_id: int, kind: str | None = None) -> int:
    """How many of a session's tasks (of one kind) are still to run."""
    query = (
        select(func.count())
        .select_from(ZoomTask)
        .where(
            col(ZoomTask.session_id) == session_id,
            col(ZoomTask.done_at).is_(None),
        )
    )
    if kind is not None:
        query = query.where(col(ZoomTask.kind) == kind)
    return int(db.execute(query).scalar() or 0)


def prune_tasks(db: Session, *, before: datetime) -> int:
    """Forget tasks finished before `before`."""
    result = db.execute(delete(ZoomTask).where(col(ZoomTask.done_at) < before))
    return int(result.rowcount)  # type: ignore[attr-defined]


def running_zoom_meetings(db: Session) -> list[ZoomMeeting]:
    """The meetings of sessions still running that are bound to Zoom without a problem."""
    query = (
        select(ZoomMeeting)
        .join(ListeningSession, col(ListeningSession.id) == col(ZoomMeeting.session_id))
        .where(col(ListeningSession.ended_at).is_(None))
        .where(col(ZoomMeeting.problem).is_(None))
    )
    return list(db.execute(query).scalars())


def meetings_marked_down(db: Session) -> list[ZoomMeeting]:
    """Every meeting whose facilitators were told Zoom is down and not yet that it is back."""
    return list(
        db.execute(select(ZoomMeeting).where(col(ZoomMeeting.down_since).is_not(None))).scalars()
    )


def clear_down_of_ended(db: Session) -> None:
    """Zoom is back: forget the outage of meetings whose sessions have ended (or have a
    problem), which are told nothing."""
    running = {meeting.session_id for meeting in running_zoom_meetings(db)}
    for meeting in meetings_marked_down(db):
        if meeting.session_id not in running:
            save_meeting(db, session_id=meeting.session_id, down_since=None)
