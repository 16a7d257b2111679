"""Poll tables, and a poll's life from launch to close and announcement. No Slack types here.

Who voted and what was chosen are kept apart: `poll_voter` says who took part, `poll_vote` holds
a named voter's choices, and anonymous choices only increment `poll_option.anonymous_count`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    delete,
    update,
)
from sqlmodel import Field, Session, SQLModel, col, select

from storage.db import Database
from storage.models import ListeningSession, fk_column, utc_column
from storage.outbox import OutboxRow

QUESTION_MAX = 3000  # a section holds 3,000 characters
OPTION_MAX = 300
KEY_MAX = 64
MAX_OPTIONS = 20  # every option is a button, and a multi-select modal lists them all

CLOSED_BY_DEADLINE = "deadline"
CLOSED_BY_COMMAND = "command"
CLOSED_BY_SESSION_END = "session_end"


class Poll(SQLModel, table=True):
    """A timed question asked in a session; the deadline is data, the job only announces it."""

    __tablename__ = "poll"
    __table_args__ = (
        # Open polls of a channel, newest first: `/poll close` and the overdue sweep.
        Index("ix_poll_channel_open", "channel_id", "closed_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(sa_column=fk_column("listening_session.id"))
    channel_id: str = Field(sa_column=Column(String(32), nullable=False))
    # Names the question across sessions so the tour report can aggregate it.
    key: str = Field(sa_column=Column(String(KEY_MAX), nullable=False, index=True))
    question: str = Field(sa_column=Column(Text, nullable=False))
    option_count: int = Field(sa_column=Column(Integer, nullable=False))
    multi: bool = Field(sa_column=Column(Boolean, nullable=False))
    anonymous: bool = Field(sa_column=Column(Boolean, nullable=False))
    hide_results: bool = Field(sa_column=Column(Boolean, nullable=False))
    created_by: str = Field(sa_column=Column(String(32), nullable=False))
    created_at: datetime = Field(sa_column=utc_column(nullable=False))
    closes_at: datetime = Field(sa_column=utc_column(nullable=False, index=True))
    closed_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    closed_by: str | None = Field(default=None, sa_column=Column(String(32)))
    close_reason: str | None = Field(default=None, sa_column=Column(String(16)))
    announced_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    message_ts: str | None = Field(default=None, sa_column=Column(String(32)))


class PollOption(SQLModel, table=True):
    """One answer a poll offers, in the order given."""

    __tablename__ = "poll_option"

    poll_id: int = Field(
        sa_column=Column(Integer, ForeignKey("poll.id", ondelete="CASCADE"), primary_key=True)
    )
    option_index: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    text: str = Field(sa_column=Column(String(OPTION_MAX), nullable=False))
    # Anonymous polls only: how many chose this option, with no trace of who.
    anonymous_count: int = Field(default=0, sa_column=Column(Integer, nullable=False))


class PollVoter(SQLModel, table=True):
    """Someone who voted in a poll: who, never what (and no time, so nothing to match on)."""

    __tablename__ = "poll_voter"

    poll_id: int = Field(
        sa_column=Column(Integer, ForeignKey("poll.id", ondelete="CASCADE"), primary_key=True)
    )
    user_id: str = Field(sa_column=Column(String(32), primary_key=True))


class PollVote(SQLModel, table=True):
    """One option a named voter has chosen (never written for anonymous polls)."""

    __tablename__ = "poll_vote"
    __table_args__ = (
        ForeignKeyConstraint(
            ["poll_id", "user_id"],
            ["poll_voter.poll_id", "poll_voter.user_id"],
            ondelete="CASCADE",
            name="fk_poll_vote_voter",
        ),
    )

    poll_id: int = Field(sa_column=Column(Integer, primary_key=True))
    user_id: str = Field(sa_column=Column(String(32), primary_key=True))
    option_index: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))


def create_poll(
    db: Session,
    *,
    session_id: int,
    channel_id: str,
    key: str,
    question: str,
    options: Sequence[str],
    multi: bool,
    anonymous: bool,
    hide_results: bool,
    created_by: str,
    now: datetime,
    closes_at: datetime,
) -> Poll:
    """Insert an open poll with its options."""
    poll = Poll(
        session_id=session_id,
        channel_id=channel_id,
        key=key,
        question=question,
        option_count=len(options),
        multi=multi,
        anonymous=anonymous,
        hide_results=hide_results,
        created_by=created_by,
        created_at=now,
        closes_at=closes_at,
    )
    db.add(poll)
    db.flush()
    assert poll.id is not None
    db.add_all(
        PollOption(poll_id=poll.id, option_index=index, text=text)
        for index, text in enumerate(options)
    )
    db.flush()
    return poll


def get_poll(db: Session, *, poll_id: int) -> Poll | None:
    """A poll by id."""
    return db.get(Poll, poll_id)


def delete_poll(db: Session, *, poll_id: int) -> None:
    """Remove a poll and (by cascade) everything recorded for it."""
    db.execute(delete(Poll).where(col(Poll.id) == poll_id))


def poll_options(db: Session, *, poll_id: int) -> list[str]:
    """A poll's option texts in order."""
    rows = db.exec(
        select(PollOption.text)
        .where(PollOption.poll_id == poll_id)
        .order_by(col(PollOption.option_index))
    )
    return list(rows)


def set_poll_message(db: Session, *, poll_id: int, message_ts: str) -> None:
    """Remember the ts of the poll's message (to update it and to thread the chart)."""
    db.execute(update(Poll).where(col(Poll.id) == poll_id).values(message_ts=message_ts))


def newest_open_poll(db: Session, *, channel_id: str) -> Poll | None:
    """The channel's most recently created poll that is still open."""
    return db.exec(
        select(Poll)
        .where(Poll.channel_id == channel_id, col(Poll.closed_at).is_(None))
        .order_by(col(Poll.created_at).desc(), col(Poll.id).desc())
    ).first()


def open_polls(db: Session, *, session_id: int | None = None) -> list[Poll]:
    """Open polls, oldest first; of one session when `session_id` is given."""
    query = select(Poll).where(col(Poll.closed_at).is_(None))
    if session_id is not None:
        query = query.where(Poll.session_id == session_id)
    return list(db.exec(query.order_by(col(Poll.closes_at), col(Poll.id))))


def overdue_polls(db: Session, *, now: datetime) -> list[tuple[Poll, str]]:
    """Open polls that should be closed: past their deadline, or in a session that has ended.

    Returns:
        Each poll with the reason to record for closing it.
    """
    rows = db.exec(
        select(Poll, ListeningSession.ended_at)
        .join(ListeningSession, col(ListeningSession.id) == Poll.session_id)
        .where(col(Poll.closed_at).is_(None))
        .where((col(Poll.closes_at) <= now) | col(ListeningSession.ended_at).is_not(None))
        .order_by(col(Poll.closes_at), col(Poll.id))
    ).all()
    return [
        (poll, CLOSED_BY_DEADLINE if poll.closes_at <= now else CLOSED_BY_SESSION_END)
        for poll, _ended in rows
    ]


def unannounced_polls(db: Session) -> list[Poll]:
    """Closed polls whose results were never posted (the bot stopped while announcing)."""
    return list(
        db.exec(
            select(Poll)
            .where(col(Poll.closed_at).is_not(None), col(Poll.announced_at).is_(None))
            .order_by(col(Poll.id))
        )
    )


def close_poll(
    db: Session, *, poll_id: int, now: datetime, reason: str, closed_by: str | None
) -> bool:
    """Close a poll; a compare-and-set, so only the first caller gets True."""
    result = db.execute(
        update(Poll)
        .where(col(Poll.id) == poll_id, col(Poll.closed_at).is_(None))
        .values(closed_at=now, close_reason=reason, closed_by=closed_by)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return False
    # Rewrite every counter in the closing transaction. On PostgreSQL each row version records
    # the transaction that wrote it (xmin); without this the last anonymous voter's transaction
    # would be visible on the counter they incremented.
    db.execute(
        update(PollOption)
        .where(col(PollOption.poll_id) == poll_id)
        .values(anonymous_count=PollOption.anonymous_count)
    )
    return True


def forget_anonymous_history(database: Database) -> bool:
    """Drop earlier versions of the anonymous counters and of deleted outbox rows.

    An anonymous vote adds its voter row, its counter increments and its confirmation (an
    outbox row naming the voter and the choices, deleted once sent) in one transaction, so
    none can be lost without the others; the database's own history of commits (SQLite's
    write-ahead log, PostgreSQL's old row versions) could be replayed to pair them up. Call it
    when an anonymous poll has closed and its confirmations are sent, and at start.

    Returns:
        False when the database was too busy; call again later.
    """
    return database.forget_history([PollOption.__tablename__, OutboxRow.__tablename__])


def mark_announced(db: Session, *, poll_id: int, now: datetime) -> None:
    """Record that the final results were posted."""
    db.execute(update(Poll).where(col(Poll.id) == poll_id).values(announced_at=now))
