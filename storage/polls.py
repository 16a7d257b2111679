"""Poll tables and their repository functions. No Slack types here.

Who voted and what was chosen are kept apart. `poll_voter` says who took part in a poll (one row
per person, to stop double voting). For named polls `poll_vote` holds each person's choices. For
anonymous polls nothing per person is stored about the choice at all: each option's
`anonymous_count` is incremented in place, so there is no ballot row whose id, time or position
could be matched to a voter.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    bindparam,
    delete,
    func,
    update,
)
from sqlalchemy import select as sa_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field, Session, SQLModel, col, select

from storage.db import Database
from storage.models import Delivery, ListeningSession, Participant, fk_column, utc_column

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


@dataclass(frozen=True)
class Tally:
    """A poll's counts per option and how many people have a vote in."""

    counts: tuple[int, ...]
    voters: int


@dataclass(frozen=True)
class VoteTarget:
    """What a vote needs to know about its poll, read in the vote's own transaction."""

    id: int
    session_id: int
    channel_id: str
    option_count: int
    multi: bool
    anonymous: bool
    closes_at: datetime
    closed_at: datetime | None
    # None: not a participant of the session yet; otherwise whether they have checked in.
    participant: bool | None


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
    """Drop earlier versions of the anonymous counters from the database's files.

    An anonymous vote adds its voter row and its counter increments in one transaction (so
    neither can be lost without the other), and the database's own history of commits (SQLite's
    write-ahead log, PostgreSQL's old row versions) could be replayed to pair them up. Called
    when an anonymous poll closes, and at start.

    Returns:
        False when the database was too busy; call again later.
    """
    return database.forget_history([PollOption.__tablename__])


def mark_announced(db: Session, *, poll_id: int, now: datetime) -> None:
    """Record that the final results were posted."""
    db.execute(update(Poll).where(col(Poll.id) == poll_id).values(announced_at=now))


class _VoteStatements:
    """The statements of the vote path, built once per dialect.

    A click must be acknowledged fast under a burst of voters, so the vote path executes
    prepared Core statements on the transaction's connection: building statements and going
    through the ORM would cost several times more than the SQL itself.
    """

    def __init__(self, dialect: str) -> None:
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        poll_id = bindparam("poll", type_=Integer)
        user_id = bindparam("voter", type_=String)
        checked_in = (
            sa_select(col(Participant.checked_in_at).is_not(None))
            .where(col(Participant.session_id) == Poll.session_id)
            .where(col(Participant.user_id) == user_id)
            .scalar_subquery()
        )
        self.target = (
            sa_select(
                Poll.id,  # type: ignore[call-overload]
                Poll.session_id,
                Poll.channel_id,
                Poll.option_count,
                Poll.multi,
                Poll.anonymous,
                Poll.closes_at,
                Poll.closed_at,
                checked_in,
            )
            .where(col(Poll.id) == poll_id)
            # FOR SHARE on PostgreSQL (SQLite has one writer anyway): a close waits for votes
            # being written, so the final tally it announces holds every vote that counted.
            .with_for_update(read=True)
        )
        self.claim_delivery = (
            insert(Delivery)
            .values(key=bindparam("delivery", type_=String), received_at=bindparam("now"))
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(col(Delivery.key))
        )
        self.add_participant = (
            insert(Participant)
            .values(
                session_id=bindparam("session", type_=Integer),
                user_id=user_id,
                consent_to_quote=False,
                updated_at=bindparam("now"),
            )
            .on_conflict_do_nothing(index_elements=["session_id", "user_id"])
        )
        voter = insert(PollVoter).values(poll_id=poll_id, user_id=user_id)
        # A no-op update takes the row lock, so two clicks by one person run one after the other
        # on PostgreSQL (SQLite runs write transactions one at a time anyway).
        self.lock_voter = voter.on_conflict_do_update(
            index_elements=["poll_id", "user_id"], set_={"user_id": voter.excluded.user_id}
        )
        # RETURNING says whether the row is new (an INSERT's rowcount is not kept everywhere).
        self.add_voter = voter.on_conflict_do_nothing(
            index_elements=["poll_id", "user_id"]
        ).returning(col(PollVoter.user_id))
        mine = (col(PollVote.poll_id) == poll_id, col(PollVote.user_id) == user_id)
        option = bindparam("option", type_=Integer)
        self.drop_other_choices = delete(PollVote).where(
            *mine, col(PollVote.option_index) != option
        )
        self.drop_choice = delete(PollVote).where(*mine, col(PollVote.option_index) == option)
        self.add_choice = (
            insert(PollVote)
            .values(poll_id=poll_id, user_id=user_id, option_index=option)
            .on_conflict_do_nothing()
        )
        self.choices = (
            sa_select(PollVote.option_index)  # type: ignore[call-overload]
            .where(*mine)
            .order_by(col(PollVote.option_index))
        )
        self.count_anonymously = (
            update(PollOption)
            .where(col(PollOption.poll_id) == poll_id)
            .where(col(PollOption.option_index).in_(bindparam("indexes", expanding=True)))
            .values(anonymous_count=PollOption.anonymous_count + 1)
        )


@functools.cache
def _vote_statements(dialect: str) -> _VoteStatements:
    return _VoteStatements(dialect)


def _vote_path(db: Session) -> tuple[Connection, _VoteStatements]:
    connection = db.connection()
    return connection, _vote_statements(connection.dialect.name)


def vote_target(db: Session, *, poll_id: int, user_id: str) -> VoteTarget | None:
    """The poll facts a vote checks, and whether the voter has checked in, in one round trip."""
    connection, statements = _vote_path(db)
    row = connection.execute(statements.target, {"poll": poll_id, "voter": user_id}).first()
    if row is None:
        return None
    checked_in = row[-1]
    return VoteTarget(
        id=row.id,
        session_id=row.session_id,
        channel_id=row.channel_id,
        option_count=row.option_count,
        multi=row.multi,
        anonymous=row.anonymous,
        closes_at=row.closes_at,
        closed_at=row.closed_at,
        participant=None if checked_in is None else bool(checked_in),
    )


def claim_delivery(db: Session, *, key: str | None, now: datetime) -> bool:
    """`repository.record_delivery` in one statement, for the vote path.

    Returns:
        False if the key was already recorded (a redelivery): the caller changes nothing.
    """
    if key is None:
        return True
    connection, statements = _vote_path(db)
    claimed = connection.execute(statements.claim_delivery, {"delivery": key, "now": now}).first()
    return claimed is not None


def add_participant(db: Session, *, session_id: int, user_id: str, now: datetime) -> None:
    """Add a voter to the session as a participant with no attributes (not checked in)."""
    connection, statements = _vote_path(db)
    # ON CONFLICT: a check-in or another vote by the same person may have raced this one.
    connection.execute(
        statements.add_participant, {"session": session_id, "voter": user_id, "now": now}
    )


def choose(db: Session, *, poll_id: int, user_id: str, option_index: int) -> tuple[int, ...]:
    """A single-choice vote: this option replaces whatever the person chose before.

    Returns:
        The person's choices afterwards.
    """
    connection, statements = _vote_path(db)
    params = {"poll": poll_id, "voter": user_id, "option": option_index}
    connection.execute(statements.lock_voter, params)
    connection.execute(statements.drop_other_choices, params)
    connection.execute(statements.add_choice, params)
    return (option_index,)


def toggle(db: Session, *, poll_id: int, user_id: str, option_index: int) -> tuple[int, ...]:
    """A multiple-choice click: adds the option, or removes it if it was already chosen.

    Returns:
        The person's choices afterwards, in option order.
    """
    connection, statements = _vote_path(db)
    params = {"poll": poll_id, "voter": user_id, "option": option_index}
    connection.execute(statements.lock_voter, params)
    if not connection.execute(statements.drop_choice, params).rowcount:
        connection.execute(statements.add_choice, params)
    return choices_of(db, poll_id=poll_id, user_id=user_id)


def choices_of(db: Session, *, poll_id: int, user_id: str) -> tuple[int, ...]:
    """The options a named voter has chosen, in option order."""
    connection, statements = _vote_path(db)
    rows = connection.execute(statements.choices, {"poll": poll_id, "voter": user_id})
    return tuple(index for (index,) in rows)


def cast_anonymous(
    db: Session, *, poll_id: int, user_id: str, option_indexes: Sequence[int]
) -> bool:
    """Record that someone voted, and add their choices to the counters, unlinked.

    Returns:
        False (and nothing changes) if the person has already voted in this poll.
    """
    connection, statements = _vote_path(db)
    params: dict[str, Any] = {"poll": poll_id, "voter": user_id}
    if connection.execute(statements.add_voter, params).first() is None:
        return False
    params["indexes"] = sorted(set(option_indexes))
    connection.execute(statements.count_anonymously, params)
    return True


def has_voted(db: Session, *, poll_id: int, user_id: str) -> bool:
    """Whether someone has a voter row in the poll."""
    return db.get(PollVoter, (poll_id, user_id)) is not None


def tally(db: Session, *, poll: Poll) -> Tally:
    """Counts per option and the number of voters, for named and anonymous polls alike."""
    assert poll.id is not None
    if poll.anonymous:
        counts = db.exec(
            select(PollOption.anonymous_count)
            .where(PollOption.poll_id == poll.id)
            .order_by(col(PollOption.option_index))
        ).all()
        voters = db.exec(
            select(func.count()).select_from(PollVoter).where(PollVoter.poll_id == poll.id)
        ).one()
        return Tally(tuple(counts), int(voters))
    per_option = dict(
        db.exec(
            select(PollVote.option_index, func.count())
            .where(PollVote.poll_id == poll.id)
            .group_by(col(PollVote.option_index))
        ).all()
    )
    # A multiple-choice voter who took every choice back no longer counts as having voted.
    voters = db.exec(
        select(func.count(func.distinct(PollVote.user_id))).where(PollVote.poll_id == poll.id)
    ).one()
    counts = tuple(int(per_option.get(index, 0)) for index in range(poll.option_count))
    return Tally(counts, int(voters))
