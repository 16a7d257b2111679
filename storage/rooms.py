"""Breakout rounds, rooms, members and report-backs: tables and repository functions.

Every function takes the unit of work (`db`) and keyword-only arguments; none knows about Slack.
Report-backs are versioned: a new submission adds a version and never changes an older one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    delete,
    func,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import object_session
from sqlmodel import Field, Session, SQLModel, col, select

from storage.models import ATTRIBUTE_MAX, ListeningSession, Participant, fk_column, utc_column

MODE_MAX = 20  # "group:place" and the like
PROMPT_MAX = 500
THEME_MAX = 75  # a theme is offered back as a select option, whose text holds 75 characters
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


class SessionTheme(SQLModel, table=True):
    """A theme report-backs in a session can be tagged with."""

    __tablename__ = "session_theme"
    __table_args__ = (UniqueConstraint("session_id", "name_key", name="uq_session_theme_name"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(sa_column=fk_column("listening_session.id"))
    name: str = Field(sa_column=Column(String(THEME_MAX), nullable=False))
    # The name folded for comparison, so "Housing" and "housing " are one theme.
    name_key: str = Field(sa_column=Column(String(2 * THEME_MAX), nullable=False))
    created_at: datetime = Field(sa_column=utc_column(nullable=False))


class ReportBack(SQLModel, table=True):
    """One version of a room's report-back; the highest version counts."""

    __tablename__ = "report_back"
    __table_args__ = (UniqueConstraint("room_id", "version", name="uq_report_back_version"),)

    id: int | None = Field(default=None, primary_key=True)
    room_id: int = Field(sa_column=fk_column("breakout_room.id"))
    version: int = Field(sa_column=Column(Integer, nullable=False))
    submitted_by: str = Field(sa_column=Column(String(USER_MAX), nullable=False))
    submitted_at: datetime = Field(sa_column=utc_column(nullable=False))
    summary: str = Field(sa_column=Column(Text, nullable=False))
    # One key point per line; empty when none were given.
    key_points: str = Field(default="", sa_column=Column(Text, nullable=False))


class ReportQuote(SQLModel, table=True):
    """A quote in a report-back version, attributed by role and place only."""

    __tablename__ = "report_quote"

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(sa_column=fk_column("report_back.id"))
    position: int = Field(sa_column=Column(Integer, nullable=False))
    text: str = Field(sa_column=Column(Text, nullable=False))
    speaker_role: str | None = Field(default=None, sa_column=Column(String(ATTRIBUTE_MAX)))
    speaker_place: str | None = Field(default=None, sa_column=Column(String(ATTRIBUTE_MAX)))
    consent: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))


class ReportTheme(SQLModel, table=True):
    """A theme a report-back version is tagged with."""

    __tablename__ = "report_theme"

    report_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("report_back.id", ondelete="CASCADE"), primary_key=True
        )
    )
    theme_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("session_theme.id", ondelete="CASCADE"), primary_key=True
        )
    )


class RoundRunning(Exception):
    """The session already has a running round."""

    def __init__(self, existing: BreakoutRound) -> None:
        if (owner := object_session(existing)) is not None:
            owner.expunge(existing)
        super().__init__(f"round {existing.id} is running in session {existing.session_id}")
        self.existing = existing


@dataclass(frozen=True)
class NewQuote:
    """A quote to store with a report-back."""

    text: str
    speaker_role: str | None
    speaker_place: str | None
    consent: bool


def theme_key(name: str) -> str:
    """The comparison form of a theme name."""
    return " ".join(name.split()).casefold()


# -- who is present ----------------------------------------------------------------------------


def checked_in(db: Session, *, session_id: int) -> list[Participant]:
    """Everyone checked in to a session, in user id order."""
    return list(
        db.exec(
            select(Participant)
            .where(
                Participant.session_id == session_id, col(Participant.checked_in_at).is_not(None)
            )
            .order_by(col(Participant.user_id))
        ).all()
    )


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


# -- rooms and members -------------------------------------------------------------------------


def get_room(db: Session, *, room_id: int) -> BreakoutRoom | None:
    """A room by id."""
    return db.get(BreakoutRoom, room_id)


def rooms_of(db: Session, *, round_id: int) -> list[BreakoutRoom]:
    """A round's rooms by number."""
    return list(
        db.exec(
            select(BreakoutRoom)
            .where(BreakoutRoom.round_id == round_id)
            .order_by(col(BreakoutRoom.number))
        ).all()
    )


def members_of(db: Session, *, round_id: int) -> list[RoomMember]:
    """Everyone in a round's rooms, in the order they joined."""
    return list(
        db.exec(
            select(RoomMember)
            .where(RoomMember.round_id == round_id)
            .order_by(col(RoomMember.joined_at), col(RoomMember.id))
        ).all()
    )


def membership(db: Session, *, round_id: int, user_id: str) -> RoomMember | None:
    """A person's place in a round."""
    return db.exec(
        select(RoomMember).where(RoomMember.round_id == round_id, RoomMember.user_id == user_id)
    ).first()


def set_room_message(db: Session, *, room_id: int, message_ts: str) -> None:
    """Remember the room's channel message (its thread is the room's chat)."""
    db.execute(
        update(BreakoutRoom).where(col(BreakoutRoom.id) == room_id).values(message_ts=message_ts)
    )


def set_report_message(db: Session, *, room_id: int, report_ts: str) -> None:
    """Remember the room's compact report-back post in the channel."""
    db.execute(
        update(BreakoutRoom).where(col(BreakoutRoom.id) == room_id).values(report_ts=report_ts)
    )


def add_member(
    db: Session,
    *,
    round_id: int,
    room_id: int,
    user_id: str,
    facilitator: bool,
    now: datetime,
    how: str,
) -> RoomMember | None:
    """Put someone in a room; None if they are already in one this round."""
    member = RoomMember(
        round_id=round_id,
        room_id=room_id,
        user_id=user_id,
        facilitator=facilitator,
        joined_at=now,
        joined_how=how,
    )
    try:
        with db.begin_nested():
            db.add(member)
            db.flush()
    except IntegrityError:
        return None
    return member


def move_member(db: Session, *, member_id: int, room_id: int, now: datetime) -> None:
    """Move someone to another room of the same round."""
    db.execute(
        update(RoomMember)
        .where(col(RoomMember.id) == member_id)
        .values(room_id=room_id, joined_at=now, joined_how="moved")
    )


# -- themes and report-backs -------------------------------------------------------------------


def session_themes(db: Session, *, session_id: int) -> list[SessionTheme]:
    """A session's themes, oldest first."""
    return list(
        db.exec(
            select(SessionTheme)
            .where(SessionTheme.session_id == session_id)
            .order_by(col(SessionTheme.id))
        ).all()
    )


def ensure_themes(
    db: Session, *, session_id: int, names: Sequence[str], now: datetime
) -> list[SessionTheme]:
    """The session's themes with these names, creating the missing ones (same order as names)."""
    found: list[SessionTheme] = []
    for name in names:
        key = theme_key(name)
        existing = db.exec(
            select(SessionTheme).where(
                SessionTheme.session_id == session_id, SessionTheme.name_key == key
            )
        ).first()
        if existing is None:
            theme = SessionTheme(session_id=session_id, name=name, name_key=key, created_at=now)
            try:
                with db.begin_nested():
                    db.add(theme)
                    db.flush()
                existing = theme
            except IntegrityError:
                # Another room added the same theme at the same moment; use theirs.
                existing = db.exec(
                    select(SessionTheme).where(
                        SessionTheme.session_id == session_id, SessionTheme.name_key == key
                    )
                ).one()
        if all(theme.id != existing.id for theme in found):
            found.append(existing)
    return found


def add_report(
    db: Session,
    *,
    room_id: int,
    submitted_by: str,
    now: datetime,
    summary: str,
    key_points: Sequence[str],
    quotes: Sequence[NewQuote],
    theme_ids: Sequence[int],
) -> ReportBack:
    """Add a new version of a room's report-back (older versions stay as they are)."""
    latest = db.exec(
        select(func.max(ReportBack.version)).where(ReportBack.room_id == room_id)
    ).one()
    report = ReportBack(
        room_id=room_id,
        version=(latest or 0) + 1,
        submitted_by=submitted_by,
        submitted_at=now,
        summary=summary,
        key_points="\n".join(key_points),
    )
    db.add(report)
    db.flush()
    assert report.id is not None
    for position, quote in enumerate(quotes, start=1):
        db.add(
            ReportQuote(
                report_id=report.id,
                position=position,
                text=quote.text,
                speaker_role=quote.speaker_role,
                speaker_place=quote.speaker_place,
                consent=quote.consent,
            )
        )
    for theme_id in dict.fromkeys(theme_ids):
        db.add(ReportTheme(report_id=report.id, theme_id=theme_id))
    db.flush()
    return report


def latest_report(db: Session, *, room_id: int) -> ReportBack | None:
    """The version of a room's report-back that counts."""
    return db.exec(
        select(ReportBack)
        .where(ReportBack.room_id == room_id)
        .order_by(col(ReportBack.version).desc())
    ).first()


def report_versions(db: Session, *, room_id: int) -> list[ReportBack]:
    """Every version of a room's report-back, oldest first."""
    return list(
        db.exec(
            select(ReportBack)
            .where(ReportBack.room_id == room_id)
            .order_by(col(ReportBack.version))
        ).all()
    )


def report_quotes(db: Session, *, report_id: int) -> list[ReportQuote]:
    """A version's quotes in the order given."""
    return list(
        db.exec(
            select(ReportQuote)
            .where(ReportQuote.report_id == report_id)
            .order_by(col(ReportQuote.position))
        ).all()
    )


def report_themes(db: Session, *, report_id: int) -> list[SessionTheme]:
    """The themes a version is tagged with, oldest theme first."""
    return list(
        db.exec(
            select(SessionTheme)
            .join(ReportTheme, col(ReportTheme.theme_id) == col(SessionTheme.id))
            .where(ReportTheme.report_id == report_id)
            .order_by(col(SessionTheme.id))
        ).all()
    )


def reported_rooms(db: Session, *, round_id: int) -> set[int]:
    """Ids of a round's rooms that have sent at least one report-back."""
    rows = db.exec(
        select(BreakoutRoom.id)
        .join(ReportBack, col(ReportBack.room_id) == col(BreakoutRoom.id))
        .where(BreakoutRoom.round_id == round_id)
        .distinct()
    ).all()
    return {room_id for room_id in rows if room_id is not None}


def session_of_round(db: Session, *, round_id: int) -> ListeningSession | None:
    """The session a round belongs to."""
    breakout = db.get(BreakoutRound, round_id)
    return None if breakout is None else db.get(ListeningSession, breakout.session_id)
