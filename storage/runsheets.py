"""Run sheets (versioned agendas) and the steps each session has run or skipped.

A run sheet is stored under its name; a changed sheet is a new version and never replaces an
older one, so a session keeps the agenda it ran. `/next` moves a session's position on with a
compare-and-set, so two facilitators pressing Next at once run one step, not two.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Integer, String, Text, UniqueConstraint, func, update
from sqlmodel import Field, Session, SQLModel, col, select

from storage.models import ListeningSession, utc_column

NAME_MAX = 60
DIGEST_SIZE = 64  # sha256, hex
OUTCOME_DONE = "done"
OUTCOME_SKIPPED = "skipped"


class RunSheetVersion(SQLModel, table=True):
    """One version of a named run sheet: its source as written and its validated steps."""

    __tablename__ = "runsheet"
    __table_args__ = (UniqueConstraint("name", "version", name="uq_runsheet_version"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=Column(String(NAME_MAX), nullable=False, index=True))
    version: int = Field(sa_column=Column(Integer, nullable=False))
    # Of the validated steps, so a change to comments or layout is not a new version.
    digest: str = Field(sa_column=Column(String(DIGEST_SIZE), nullable=False))
    title: str | None = Field(default=None, sa_column=Column(String(150)))
    source: str = Field(sa_column=Column(Text, nullable=False))
    steps: str = Field(sa_column=Column(Text, nullable=False))  # the validated sheet, as JSON
    step_count: int = Field(sa_column=Column(Integer, nullable=False))
    created_at: datetime = Field(sa_column=utc_column(nullable=False))


class SessionStep(SQLModel, table=True):
    """A run sheet step a session has run or skipped, and what it started."""

    __tablename__ = "session_step"

    session_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("listening_session.id", ondelete="CASCADE"), primary_key=True
        )
    )
    position: int = Field(sa_column=Column(Integer, primary_key=True))
    outcome: str = Field(sa_column=Column(String(16), nullable=False))
    poll_id: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    round_id: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    by: str = Field(sa_column=Column(String(32), nullable=False))
    at: datetime = Field(sa_column=utc_column(nullable=False))


class SessionControl(SQLModel, table=True):
    """Where a facilitator's control message for a session is (a direct message from the bot),
    so later changes edit it instead of posting another."""

    __tablename__ = "session_control"

    session_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("listening_session.id", ondelete="CASCADE"), primary_key=True
        )
    )
    user_id: str = Field(sa_column=Column(String(32), primary_key=True))
    channel_id: str = Field(sa_column=Column(String(32), nullable=False))
    message_ts: str = Field(sa_column=Column(String(32), nullable=False))


class StepMoved(Exception):
    """The session's position was no longer the one expected (another `/next` won)."""


def latest_runsheet(db: Session, *, name: str) -> RunSheetVersion | None:
    """The newest version of the run sheet called `name`."""
    return db.exec(
        select(RunSheetVersion)
        .where(col(RunSheetVersion.name) == name)
        .order_by(col(RunSheetVersion.version).desc())
        .limit(1)
    ).first()


def get_runsheet(db: Session, *, runsheet_id: int) -> RunSheetVersion | None:
    """One stored version by id."""
    return db.get(RunSheetVersion, runsheet_id)


def add_runsheet(
    db: Session,
    *,
    name: str,
    title: str | None,
    source: str,
    steps: str,
    step_count: int,
    digest: str,
    now: datetime,
) -> tuple[RunSheetVersion, bool]:
    """Store a run sheet as the next version of its name, unless the newest has this digest.

    Returns:
        The version now current, and whether it was added (False: unchanged).
    """
    latest = latest_runsheet(db, name=name)
    if latest is not None and latest.digest == digest:
        return latest, False
    version = RunSheetVersion(
        name=name,
        version=(latest.version + 1) if latest else 1,
        digest=digest,
        title=title,
        source=source,
        steps=steps,
        step_count=step_count,
        created_at=now,
    )
    db.add(version)
    db.flush()
    return version, True


def list_runsheets(db: Session) -> list[tuple[RunSheetVersion, int]]:
    """The newest version of every run sheet, by name, with how many sessions used any version."""
    newest = (
        select(RunSheetVersion.name, func.max(RunSheetVersion.version).label("version"))
        .group_by(RunSheetVersion.name)
        .subquery()
    )
    rows = db.exec(
        select(RunSheetVersion)
        .join(
            newest,
            (col(RunSheetVersion.name) == newest.c.name)
            & (col(RunSheetVersion.version) == newest.c.version),
        )
        .order_by(col(RunSheetVersion.name))
    ).all()
    used = dict(
        db.exec(
            select(RunSheetVersion.name, func.count(col(ListeningSession.id)))
            .join(ListeningSession, col(ListeningSession.runsheet_id) == col(RunSheetVersion.id))
            .group_by(RunSheetVersion.name)
        ).all()
    )
    return [(row, int(used.get(row.name, 0))) for row in rows]


def session_steps(db: Session, *, session_id: int) -> list[SessionStep]:
    """The steps a session has run or skipped, in agenda order."""
    return list(
        db.exec(
            select(SessionStep)
            .where(col(SessionStep.session_id) == session_id)
            .order_by(col(SessionStep.position))
        ).all()
    )


def advance_step(
    db: Session,
    *,
    session_id: int,
    position: int,
    outcome: str,
    by: str,
    now: datetime,
    poll_id: int | None = None,
    round_id: int | None = None,
) -> None:
    """Record step `position` as run or skipped and move the session past it.

    Raises:
        StepMoved: the session is not at `position` any more (the caller's transaction must
            roll back: another `/next` ran this step).
    """
    moved = db.execute(
        update(ListeningSession)
        .where(
            col(ListeningSession.id) == session_id,
            col(ListeningSession.runsheet_position) == position,
        )
        .values(runsheet_position=position + 1)
    )
    if not moved.rowcount:  # type: ignore[attr-defined]
        raise StepMoved
    db.add(
        SessionStep(
            session_id=session_id,
            position=position,
            outcome=outcome,
            poll_id=poll_id,
            round_id=round_id,
            by=by,
            at=now,
        )
    )
    db.flush()


def control_message(db: Session, *, session_id: int, user_id: str) -> SessionControl | None:
    """Where `user_id`'s control message for the session is, if it was posted."""
    return db.get(SessionControl, (session_id, user_id))


def set_control_message(
    db: Session, *, session_id: int, user_id: str, channel_id: str, message_ts: str
) -> None:
    """Remember (or replace) where a facilitator's control message is."""
    existing = db.get(SessionControl, (session_id, user_id))
    if existing is None:
        db.add(
            SessionControl(
                session_id=session_id, user_id=user_id, channel_id=channel_id, message_ts=message_ts
            )
        )
    else:
        existing.channel_id = channel_id
        existing.message_ts = message_ts
        db.add(existing)
    db.flush()
