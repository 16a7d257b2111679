"""The people Zoom reports in a session's meeting, the webhook events already applied, and the
Slack people's emails the bot matches them by.

A Zoom person is linked to the session's `participant` row by `user_id`: the Slack user id when
their email matched a Slack participant, else a Zoom-only id (`zoom_user_id`), so Zoom-only
people take part in check-in breakdowns, rooms and reports like anyone else.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import Column, Index, String, UniqueConstraint, func
from sqlmodel import Field, Session, SQLModel, col, select

from storage.models import fk_column, utc_column
from storage.zoom.meetings import UUID_MAX

USER_MAX = 32  # participant.user_id
EMAIL_MAX = 320
NAME_MAX = 200
ZOOM_USER_PREFIX = "zoom:"
DIGEST_SIZE = 64


def zoom_user_id(*, email: str | None, identity: str) -> str:
    """The participant id of a Zoom-only person: from their email when Zoom gives one (the same
    person across rejoins and sessions), else from their meeting identity (participant uuid)."""
    basis = f"email:{email.strip().lower()}" if email else f"zoom:{identity}"
    return ZOOM_USER_PREFIX + hashlib.sha256(basis.encode()).hexdigest()[:20]


def is_zoom_only(user_id: str) -> bool:
    """Whether a participant id names a Zoom-only person (nobody to message in Slack)."""
    return user_id.startswith(ZOOM_USER_PREFIX)


class ZoomPerson(SQLModel, table=True):
    """Someone Zoom reported in a session's meeting (a registrant, a joiner, a metrics row).

    Presence is kept from each event's own times, so a late retry changes nothing: a person is
    in the meeting when their latest join is after their latest leave, and in a breakout room
    likewise.
    """

    __tablename__ = "zoom_person"
    __table_args__ = (
        UniqueConstraint("session_id", "identity", name="uq_zoom_person_identity"),
        Index("ix_zoom_person_session_email", "session_id", "email"),
    )

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(sa_column=fk_column("listening_session.id"))
    # participant_uuid when Zoom gives one (it stays the same across breakout rooms), else
    # "registrant:<id>" or "email:<address>".
    identity: str = Field(sa_column=Column(String(UUID_MAX + 16), nullable=False))
    user_id: str = Field(sa_column=Column(String(USER_MAX), nullable=False, index=True))
    name: str | None = Field(default=None, sa_column=Column(String(NAME_MAX)))
    email: str | None = Field(default=None, sa_column=Column(String(EMAIL_MAX)))
    registrant_id: str | None = Field(default=None, sa_column=Column(String(UUID_MAX)))
    joined_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    left_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    room_uuid: str | None = Field(default=None, sa_column=Column(String(UUID_MAX)))
    room_joined_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    room_left_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    # Where presence came from: "webhook" or "metrics".
    source: str | None = Field(default=None, sa_column=Column(String(16)))
    updated_at: datetime = Field(sa_column=utc_column(nullable=False))


class ZoomEventSeen(SQLModel, table=True):
    """A webhook event already applied; Zoom's events carry no id, so this is a digest of their
    content (event, event_ts, meeting uuid, participant, times)."""

    __tablename__ = "zoom_event_seen"

    digest: str = Field(sa_column=Column(String(DIGEST_SIZE), primary_key=True))
    received_at: datetime = Field(sa_column=utc_column(nullable=False, index=True))


class SlackEmail(SQLModel, table=True):
    """A Slack user's email, as users.info / users.list gave it (needs `users:read.email`)."""

    __tablename__ = "slack_email"

    user_id: str = Field(sa_column=Column(String(USER_MAX), primary_key=True))
    email: str | None = Field(default=None, sa_column=Column(String(EMAIL_MAX), index=True))
    looked_up_at: datetime = Field(sa_column=utc_column(nullable=False))


def people_in_session(db: Session, *, session_id: int) -> list[ZoomPerson]:
    """Every Zoom person of a session."""
    return list(db.exec(select(ZoomPerson).where(col(ZoomPerson.session_id) == session_id)).all())


def count_zoom_people(db: Session, *, session_id: int) -> int:
    """How many Zoom people a session has seen."""
    query = select(func.count()).select_from(ZoomPerson)
    return int(db.exec(query.where(col(ZoomPerson.session_id) == session_id)).one())
