"""SQLModel tables. Times are stored as naive UTC and read back as aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator[datetime]):
    """Store aware datetimes as naive UTC (SQLite has no time zones); read them back aware."""

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def utc_column(*, nullable: bool, index: bool = False) -> Any:
    """A UTCDateTime column for a SQLModel field."""
    return Column(UTCDateTime(), nullable=nullable, index=index)


def fk_column(target: str, *, index: bool = True) -> Any:
    """An integer foreign key that cascades deletes."""
    return Column(Integer, ForeignKey(target, ondelete="CASCADE"), nullable=False, index=index)


TITLE_MAX = 150  # a Block Kit header holds 150 characters
ATTRIBUTE_MAX = 80  # role, place and group are shown in buttons and table cells
# Who ended a session (and so closed its polls and rounds) when no person did: the daily purge
# ends a session nobody ended days after it started. Not a Slack id, so it names nobody.
BY_THE_BOT = "listening-bot"


class ListeningSession(SQLModel, table=True):
    """One meeting of the tour, run in one Slack channel."""

    __tablename__ = "listening_session"
    __table_args__ = (
        # One active session per channel, enforced by the database so two racing starts
        # cannot both win.
        Index(
            "uq_listening_session_active_channel",
            "channel_id",
            unique=True,
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel_id: str = Field(sa_column=Column(String(32), nullable=False, index=True))
    title: str = Field(sa_column=Column(String(TITLE_MAX), nullable=False))
    area: str | None = Field(default=None, sa_column=Column(String(ATTRIBUTE_MAX)))
    group_type: str | None = Field(default=None, sa_column=Column(String(ATTRIBUTE_MAX)))
    zoom_meeting_id: str | None = Field(default=None, sa_column=Column(String(32)))
    started_by: str = Field(sa_column=Column(String(32), nullable=False))
    started_at: datetime = Field(sa_column=utc_column(nullable=False))
    ended_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    ended_by: str | None = Field(default=None, sa_column=Column(String(32)))
    message_ts: str | None = Field(default=None, sa_column=Column(String(32)))
    # The "🏁 … has ended" post, so erasing who ended the session edits their mention out.
    ended_ts: str | None = Field(default=None, sa_column=Column(String(32)))
    # Set when the final summary's outbox row is done (posted, or given up for good); outbox
    # rows are forgotten days later, and this keeps recovery from queuing it again.
    summary_posted_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    # Unused since migration 0006, which moved it into the summary row's progress (kept: SQLite
    # cannot drop a column without rebuilding the table).
    summary_channels: str = Field(
        default="", sa_column=Column(String(200), nullable=False, server_default="")
    )
    # The run sheet version this session follows (None: commands only), and how many of its
    # steps are behind it (run or skipped); `/next` moves it on with a compare-and-set.
    runsheet_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("runsheet.id"), nullable=True)
    )
    runsheet_position: int = Field(
        default=0, sa_column=Column(Integer, nullable=False, server_default="0")
    )


class SessionFacilitator(SQLModel, table=True):
    """A user allowed to control one session (its starter, and anyone added later)."""

    __tablename__ = "session_facilitator"

    session_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("listening_session.id", ondelete="CASCADE"), primary_key=True
        )
    )
    user_id: str = Field(sa_column=Column(String(32), primary_key=True))


class Participant(SQLModel, table=True):
    """A person in a session; `checked_in_at` is empty for people who only voted."""

    __tablename__ = "participant"
    __table_args__ = (UniqueConstraint("session_id", "user_id", name="uq_participant_user"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(sa_column=fk_column("listening_session.id"))
    user_id: str = Field(sa_column=Column(String(32), nullable=False))
    role: str | None = Field(default=None, sa_column=Column(String(ATTRIBUTE_MAX)))
    place: str | None = Field(default=None, sa_column=Column(String(ATTRIBUTE_MAX)))
    group_name: str | None = Field(default=None, sa_column=Column(String(ATTRIBUTE_MAX)))
    consent_to_quote: bool = False
    checked_in_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    updated_at: datetime = Field(sa_column=utc_column(nullable=False))


class Delivery(SQLModel, table=True):
    """A Slack delivery whose effect is committed; a redelivery with this key changes nothing."""

    __tablename__ = "delivery"

    key: str = Field(sa_column=Column(String(200), primary_key=True))
    received_at: datetime = Field(sa_column=utc_column(nullable=False, index=True))
