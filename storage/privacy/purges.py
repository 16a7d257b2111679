"""Purges: which sessions are due, who is in them, and the breakdowns kept for them."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from storage.models import BY_THE_BOT, ListeningSession, Participant, SessionFacilitator
from storage.polls import Poll, PollVoter
from storage.privacy.people import Person
from storage.privacy.tables import ERASED_PREFIX, PollBreakdown, SessionPurge
from storage.rooms import BreakoutRoom, BreakoutRound, ReportBack, RoomMember
from storage.runsheets import SessionControl, SessionStep
from storage.zoom.people import ZoomPerson, normalize_email
from storage.zoom.polls import ZoomAnswer


@dataclass(frozen=True)
class StoredBreakdown:
    """One stored slice (see `PollBreakdown`): `poll_id` None for check-ins."""

    session_id: int
    poll_id: int | None
    source: str
    dimension: str
    value: str
    people: int
    counts: tuple[int, ...] = ()


def sessions_to_purge(db: Session, *, before: datetime) -> list[int]:
    """Sessions started before `before` that were not purged yet, oldest first."""
    purged = select(SessionPurge.session_id)
    return [
        int(session_id)
        for session_id in db.exec(
            select(ListeningSession.id)
            .where(
                col(ListeningSession.started_at) < before,
                col(ListeningSession.id).not_in(purged),
            )
            .order_by(col(ListeningSession.started_at))
        ).all()
        if session_id is not None
    ]


def people_of_sessions(db: Session, *, session_ids: Collection[int]) -> Person:
    """Every id and email stored in these sessions (erased tokens and the bot aside)."""
    scope = list(session_ids)
    polls = select(Poll.id).where(col(Poll.session_id).in_(scope))
    rounds = select(BreakoutRound.id).where(col(BreakoutRound.session_id).in_(scope))
    rooms = select(BreakoutRoom.id).where(col(BreakoutRoom.round_id).in_(rounds))
    queries = [
        select(Participant.user_id).where(col(Participant.session_id).in_(scope)),
        select(PollVoter.user_id).where(col(PollVoter.poll_id).in_(polls)),
        select(ZoomAnswer.user_id).where(col(ZoomAnswer.poll_id).in_(polls)),
        select(RoomMember.user_id).where(col(RoomMember.round_id).in_(rounds)),
        select(ReportBack.submitted_by).where(col(ReportBack.room_id).in_(rooms)),
        select(ZoomPerson.user_id).where(col(ZoomPerson.session_id).in_(scope)),
        select(SessionFacilitator.user_id).where(col(SessionFacilitator.session_id).in_(scope)),
        select(SessionControl.user_id).where(col(SessionControl.session_id).in_(scope)),
        select(SessionStep.by).where(col(SessionStep.session_id).in_(scope)),
        select(ListeningSession.started_by).where(col(ListeningSession.id).in_(scope)),
        select(ListeningSession.ended_by).where(col(ListeningSession.id).in_(scope)),
        select(Poll.created_by).where(col(Poll.session_id).in_(scope)),
        select(Poll.closed_by).where(col(Poll.session_id).in_(scope)),
        select(BreakoutRound.started_by).where(col(BreakoutRound.session_id).in_(scope)),
        select(BreakoutRound.ended_by).where(col(BreakoutRound.session_id).in_(scope)),
    ]
    ids: set[str] = set()
    for query in queries:
        ids.update(str(user_id) for user_id in db.exec(query).all() if user_id)
    emails = {
        email
        for email in (
            normalize_email(raw)
            for raw in db.exec(
                select(ZoomPerson.email).where(col(ZoomPerson.session_id).in_(scope))
            ).all()
        )
        if email
    }
    return Person(
        user_ids=frozenset(i for i in ids if not i.startswith(ERASED_PREFIX) and i != BY_THE_BOT),
        emails=frozenset(emails),
    )


def counted_elsewhere(
    db: Session, *, session_ids: Collection[int]
) -> dict[tuple[int, tuple[int, ...]], int]:
    """For the people checked in to these sessions: how many of each session's people are
    counted in which other sessions, as {(session id, the other sessions' ids): people}.

    A purge gives each check-in a token of its own, so a report of several sessions would count
    such a person once per session. Each of their check-ins here names the sessions that count
    them instead: every session not purged with this one (their id stays, or a later purge
    gives it its own entry) and the later ones purged with it. A report takes a check-in off
    when one of those is in it, so each person counts once in any choice of sessions.
    """
    scope = set(session_ids)
    attended: dict[str, list[tuple[datetime, int]]] = {}
    here = select(Participant.user_id).where(col(Participant.session_id).in_(list(scope)))
    for user_id, session_id, started_at in db.exec(
        select(Participant.user_id, Participant.session_id, ListeningSession.started_at)
        .join(ListeningSession, col(ListeningSession.id) == col(Participant.session_id))
        .where(
            col(Participant.checked_in_at).is_not(None),
            col(Participant.user_id).in_(here),
        )
    ).all():
        if not user_id.startswith(ERASED_PREFIX) and session_id is not None:
            attended.setdefault(user_id, []).append((started_at, session_id))
    counts: dict[tuple[int, tuple[int, ...]], int] = {}
    for sessions in attended.values():
        order = sorted(sessions)
        outside = {session_id for _, session_id in order if session_id not in scope}
        for n, (_, session_id) in enumerate(order):
            if session_id not in scope:
                continue
            later = {other for _, other in order[n + 1 :] if other in scope}
            others = tuple(sorted(outside | later))
            if others:
                counts[(session_id, others)] = counts.get((session_id, others), 0) + 1
    return counts


def ids_elsewhere(
    db: Session, *, user_ids: Collection[str], session_ids: Collection[int]
) -> set[str]:
    """Which of `user_ids` still appear in a session outside `session_ids` (in any role)."""
    others = db.exec(
        select(ListeningSession.id).where(col(ListeningSession.id).not_in(list(session_ids)))
    ).all()
    if not others:
        return set()
    present = people_of_sessions(db, session_ids=[i for i in others if i is not None])
    return set(user_ids) & present.user_ids


def save_breakdowns(db: Session, *, rows: Iterable[StoredBreakdown]) -> int:
    """Store a purged session's breakdowns; returns how many slices."""
    stored = [
        PollBreakdown(
            session_id=row.session_id,
            poll_id=row.poll_id,
            source=row.source,
            dimension=row.dimension,
            value=row.value,
            people=row.people,
            counts=json.dumps(list(row.counts)),
        )
        for row in rows
    ]
    db.add_all(stored)
    db.flush()
    return len(stored)


def mark_purged(db: Session, *, session_ids: Collection[int], now: datetime) -> None:
    """Record that these sessions' people were erased (so their breakdowns are stored once)."""
    db.add_all(SessionPurge(session_id=session_id, purged_at=now) for session_id in session_ids)
    db.flush()


def stored_breakdowns(db: Session, *, session_ids: Collection[int]) -> list[StoredBreakdown]:
    """The breakdowns stored for these sessions when they were purged."""
    return [
        StoredBreakdown(
            session_id=row.session_id,
            poll_id=row.poll_id,
            source=row.source,
            dimension=row.dimension,
            value=row.value,
            people=row.people,
            counts=tuple(int(count) for count in json.loads(row.counts)),
        )
        for row in db.exec(
            select(PollBreakdown)
            .where(col(PollBreakdown.session_id).in_(list(session_ids)))
            .order_by(col(PollBreakdown.id))
        ).all()
    ]


def is_purged(db: Session, *, session_id: int) -> bool:
    """Whether a purge erased this session's people (nothing naming anyone may join it now)."""
    return db.get(SessionPurge, session_id) is not None


def purged_count(db: Session) -> int:
    """How many sessions have been purged."""
    return int(db.exec(select(func.count()).select_from(SessionPurge)).one())


@dataclass(frozen=True)
class OpenPoll:
    """A poll not closed yet, in the way of an erasure (erased voters could vote again)."""

    poll_id: int
    session_id: int
    closes_at: datetime


def open_polls(
    db: Session,
    *,
    user_ids: Collection[str] | None = None,
    session_ids: Collection[int] | None = None,
) -> list[OpenPoll]:
    """The polls still open that these people answered (in Slack or Zoom), or that these
    sessions hold; soonest to close first."""
    query = select(Poll.id, Poll.session_id, Poll.closes_at).where(col(Poll.closed_at).is_(None))
    if user_ids is not None:
        ids = list(user_ids)
        query = query.where(
            col(Poll.id).in_(select(PollVoter.poll_id).where(col(PollVoter.user_id).in_(ids)))
            | col(Poll.id).in_(select(ZoomAnswer.poll_id).where(col(ZoomAnswer.user_id).in_(ids)))
        )
    if session_ids is not None:
        query = query.where(col(Poll.session_id).in_(list(session_ids)))
    return [
        OpenPoll(int(poll_id), int(session_id), closes_at)
        for poll_id, session_id, closes_at in db.exec(query.order_by(col(Poll.closes_at))).all()
        if poll_id is not None
    ]


def not_ended(
    db: Session, *, session_ids: Collection[int], ended_after: datetime | None = None
) -> list[int]:
    """Which of these sessions have not ended (people may still check in and vote), or, with
    `ended_after`, not ended or ended after it."""
    ended = col(ListeningSession.ended_at)
    open_then = (
        ended.is_(None) if ended_after is None else or_(ended.is_(None), ended > ended_after)
    )
    return [
        int(session_id)
        for session_id in db.exec(
            select(ListeningSession.id).where(
                col(ListeningSession.id).in_(list(session_ids)), open_then
            )
        ).all()
        if session_id is not None
    ]
