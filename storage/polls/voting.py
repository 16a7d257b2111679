"""Votes on a poll and its tally. No Slack types here.

A named vote stores the person's choices in `poll_vote`; an anonymous vote stores only that the
person voted (`poll_voter`) and increments each chosen option's counter, unlinked.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Integer, String, bindparam, delete, func, update
from sqlalchemy import select as sa_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from storage.models import Delivery, Participant
from storage.polls.lifecycle import Poll, PollOption, PollVote, PollVoter


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
        voters = bindparam("voters", type_=String, expanding=True)
        self.choices_of_many = sa_select(
            PollVote.user_id,  # type: ignore[call-overload]
            PollVote.option_index,
        ).where(col(PollVote.poll_id) == poll_id, col(PollVote.user_id).in_(voters))
        self.checked_in_of_many = sa_select(Participant.user_id).where(  # type: ignore[call-overload]
            col(Participant.session_id) == bindparam("session", type_=Integer),
            col(Participant.user_id).in_(voters),
            col(Participant.checked_in_at).is_not(None),
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


def choices_of_many(
    db: Session, *, poll_id: int, user_ids: Sequence[str]
) -> dict[str, tuple[int, ...]]:
    """`choices_of` for several voters in one query (each in option order; none: empty)."""
    connection, statements = _vote_path(db)
    chosen: dict[str, list[int]] = {user_id: [] for user_id in user_ids}
    rows = connection.execute(
        statements.choices_of_many, {"poll": poll_id, "voters": list(set(user_ids))}
    )
    for user_id, index in rows:
        chosen[user_id].append(index)
    return {user_id: tuple(sorted(indexes)) for user_id, indexes in chosen.items()}


def checked_in_of_many(db: Session, *, session_id: int, user_ids: Sequence[str]) -> set[str]:
    """Which of these people have checked in to the session, in one query."""
    connection, statements = _vote_path(db)
    rows = connection.execute(
        statements.checked_in_of_many, {"session": session_id, "voters": list(set(user_ids))}
    )
    return set(rows.scalars())


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
