"""Breakout rounds and their rooms and members: the tables, and a round's lifecycle.

Every function takes the unit of work (`db`) and keyword-only arguments; none knows about Slack.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import (
    Boolean,
    Column,
    Index,
    Integer,
    String,
    UniqueConstraint,
    delete,
    func,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import object_session
from sqlmodel import Field, Session, SQLModel, col, select

from storage.models import ListeningSession, fk_column, utc_column

MODE_MAX = 20  # "group:place" and the like
# Column size; the rule for prompts (`bot.rooms.PROMPT_MAX`) must fit in it.
PROMPT_MAX = 500
USER_MAX = 32


class BreakoutRound(SQLModel, table=True):
    """One round of breakout rooms in a session; its deadlines are data on the row."""

    __tablename__ = "breakout_round"
    __table_args__ = (
        UniqueConstraint("session_id", "number", name="uq_breakout_round_number"),
        # One running round per session, enforced by the database so racing starts cannot both win.
        Index(
            "uq_breakout_round_running",
            "session_id",
            unique=True,
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(sa_column=fk_column("listening_session.id"))
    number: int = Field(sa_column=Column(Integer, nullable=False))
    mode: str = Field(sa_column=Column(String(MODE_MAX), nullable=False))
    seed: int = Field(sa_column=Column(Integer, nullable=False))
    prompt: str | None = Field(default=None, sa_column=Column(String(PROMPT_MAX)))
    started_by: str = Field(sa_column=Column(String(USER_MAX), nullable=False))
    started_at: datetime = Field(sa_column=utc_column(nullable=False))
    ends_at: datetime = Field(sa_column=utc_column(nullable=False))
    warn_at: datetime = Field(sa_column=utc_column(nullable=False))
    warned_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    ended_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    ended_by: str | None = Field(default=None, sa_column=Column(String(USER_MAX)))
    # "time", "facilitator" or "session"
    end_reason: str | None = Field(default=None, sa_column=Column(String(16)))
    remind_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    reminded_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class BreakoutRoom(SQLModel, table=True):
    """One room of a round; its channel message's thread is the room's chat."""

    __tablename__ = "breakout_room"
    __table_args__ = (UniqueConstraint("round_id", "number", name="uq_breakout_room_number"),)

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(sa_column=fk_column("breakout_round.id"))
    number: int = Field(sa_column=Column(Integer, nullable=False))
    message_ts: str | None = Field(default=None, sa_column=Column(String(32)))
    # The compact report-back post in the channel, updated when the room edits its report.
    report_ts: str | None = Field(default=None, sa_column=Column(String(32)))
    reminded_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class RoomMember(SQLModel, table=True):
    """A person in a room; one room per person per round."""

    __tablename__ = "breakout_room_member"
    __table_args__ = (UniqueConstraint("round_id", "user_id", name="uq_breakout_member_user"),)

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(sa_column=fk_column("breakout_round.id"))
    room_id: int = Field(sa_column=fk_column("breakout_room.id"))
    user_id: str = Field(sa_column=Column(String(USER_MAX), nullable=False))
    facilitator: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    joined_at: datetime = Field(sa_column=utc_column(nullable=False))
    # "assigned", "late" (checked in during the round) or "moved"
    joined_how: str = Field(sa_column=Column(String(16), nullable=False))


class RoundRunning(Exception):
    """The session already has a running round."""

    def __init__(self, existing: BreakoutRound) -> None:
        if (owner := object_session(existing)) is not None:
            owner.expunge(existing)
        super().__init__(f"round {existing.id} is running in session {existing.session_id}")
        self.existing = existing


# -- rounds ------------------------------------------------------------------------------------


def get_round(db: Session, *, round_id: int) -> BreakoutRound | None:
    """A round by id."""
    return db.get(BreakoutRound, round_id)


def running_round(db: Session, *, session_id: int) -> BreakoutRound | None:
    """The session's running round, if any."""
    return db.exec(
        select(BreakoutRound).where(
            BreakoutRound.session_id == session_id, col(BreakoutRound.ended_at).is_(None)
        )
    ).first()


def latest_round(db: Session, *, session_id: int) -> BreakoutRound | None:
    """The session's newest round, running or not."""
    return db.exec(
        select(BreakoutRound)
        .where(BreakoutRound.session_id == session_id)
        .order_by(col(BreakoutRound.number).desc())
    ).first()


def create_round(
    db: Session,
    *,
    session_id: int,
    mode: str,
    seed: int,
    prompt: str | None,
    started_by: str,
    now: datetime,
    ends_at: datetime,
    warn_at: datetime,
    rooms: Sequence[Sequence[tuple[str, bool]]],
) -> BreakoutRound:
    """Insert a running round with its rooms (numbered from 1) and members (user id, facilitator).

    Raises:
        RoundRunning: the session has one already (also when a racing start won).
    """
    existing = running_round(db, session_id=session_id)
    if existing is not None:
        raise RoundRunning(existing)
    previous = db.exec(
        select(func.max(BreakoutRound.number)).where(BreakoutRound.session_id == session_id)
    ).one()
    breakout = BreakoutRound(
        session_id=session_id,
        number=(previous or 0) + 1,
        mode=mode,
        seed=seed,
        prompt=prompt,
        started_by=started_by,
        started_at=now,
        ends_at=ends_at,
        warn_at=warn_at,
    )
    try:
        with db.begin_nested():
            db.add(breakout)
            db.flush()
    except IntegrityError:
        winner = running_round(db, session_id=session_id)
        if winner is None:
            raise
        raise RoundRunning(winner) from None
    assert breakout.id is not None
    for number, members in enumerate(rooms, start=1):
        room = BreakoutRoom(round_id=breakout.id, number=number)
        db.add(room)
        db.flush()
        assert room.id is not None
        for user_id, facilitator in members:
            db.add(
                RoomMember(
                    round_id=breakout.id,
                    room_id=room.id,
                    user_id=user_id,
                    facilitator=facilitator,
                    joined_at=now,
                    joined_how="assigned",
                )
            )
    db.flush()
    return breakout


def delete_round(db: Session, *, round_id: int) -> None:
    """Remove a round whose rooms could not be posted (rooms and members go with it)."""
    db.execute(delete(BreakoutRound).where(col(BreakoutRound.id) == round_id))


def mark_warned(db: Session, *, round_id: int, now: datetime) -> bool:
    """Record the warning; a compare-and-set, so only one caller gets True (never after the end)."""
    result = db.execute(
        update(BreakoutRound)
        .where(
            col(BreakoutRound.id) == round_id,
            col(BreakoutRound.warned_at).is_(None),
            col(BreakoutRound.ended_at).is_(None),
        )
        .values(warned_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def end_round(
    db: Session,
    *,
    round_id: int,
    now: datetime,
    ended_by: str | None,
    reason: str,
    remind_at: datetime | None,
) -> bool:
    """End a round; a compare-and-set, so only the first caller gets True."""
    result = db.execute(
        update(BreakoutRound)
        .where(col(BreakoutRound.id) == round_id, col(BreakoutRound.ended_at).is_(None))
        .values(ended_at=now, ended_by=ended_by, end_reason=reason, remind_at=remind_at)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def mark_reminded(db: Session, *, round_id: int, now: datetime) -> bool:
    """Record that the round's reminders went out; a compare-and-set."""
    result = db.execute(
        update(BreakoutRound)
        .where(
            col(BreakoutRound.id) == round_id,
            col(BreakoutRound.reminded_at).is_(None),
            col(BreakoutRound.ended_at).is_not(None),
        )
        .values(reminded_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def mark_room_reminded(db: Session, *, room_id: int, now: datetime) -> bool:
    """Record a room's one reminder; a compare-and-set."""
    result = db.execute(
        update(BreakoutRoom)
        .where(col(BreakoutRoom.id) == room_id, col(BreakoutRoom.reminded_at).is_(None))
        .values(reminded_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def open_rounds(db: Session) -> list[BreakoutRound]:
    """Every round not yet ended, in any session (for recovery on start)."""
    return list(
        db.exec(
            select(BreakoutRound)
            .where(col(BreakoutRound.ended_at).is_(None))
            .order_by(col(BreakoutRound.id))
        ).all()
    )


def rounds_awaiting_reminders(db: Session) -> list[BreakoutRound]:
    """Ended rounds whose reminder has not gone out yet (for recovery on start)."""
    return list(
        db.exec(
            select(BreakoutRound)
            .where(
                col(BreakoutRound.ended_at).is_not(None),
                col(BreakoutRound.remind_at).is_not(None),
                col(BreakoutRound.reminded_at).is_(None),
            )
            .order_by(col(BreakoutRound.id))
        ).all()
    )


def earlier_rooms(db: Session, *, session_id: int, before_number: int) -> list[list[list[str]]]:
    """Who shared each room in the session's rounds numbered below `before_number`."""
    rows = db.exec(
        select(BreakoutRound.number, RoomMember.room_id, RoomMember.user_id)
        .join(BreakoutRound, col(BreakoutRound.id) == col(RoomMember.round_id))
        .where(BreakoutRound.session_id == session_id, BreakoutRound.number < before_number)
        .order_by(col(BreakoutRound.number), col(RoomMember.room_id), col(RoomMember.user_id))
    ).all()
    rounds: dict[int, dict[int, list[str]]] = {}
    for number, room_id, user_id in rows:
        rounds.setdefault(number, {}).setdefault(room_id, []).append(user_id)
    return [list(rooms.values()) for rooms in rounds.values()]


def session_of_round(db: Session, *, round_id: int) -> ListeningSession | None:
    """The session a round belongs to."""
    breakout = db.get(BreakoutRound, round_id)
    return None if breakout is None else db.get(ListeningSession, breakout.session_id)
