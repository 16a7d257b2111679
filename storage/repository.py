"""Repository functions for sessions, facilitators, participants and deliveries.

Every function takes the unit of work (`db`) and keyword-only arguments; none knows about Slack.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import object_session
from sqlmodel import Session, col, select

from storage.models import Delivery, ListeningSession, Participant, SessionFacilitator


class DuplicateDelivery(Exception):
    """This delivery was already committed; the caller should change nothing."""


class ActiveSessionExists(Exception):
    """The channel already has an active session."""

    def __init__(self, existing: ListeningSession) -> None:
        # Detached, so the caller can still read it after the transaction rolls back.
        if (owner := object_session(existing)) is not None:
            owner.expunge(existing)
        super().__init__(f"session {existing.id} is active in {existing.channel_id}")
        self.existing = existing


def delivery_seen(db: Session, *, key: str) -> bool:
    """Whether a delivery with this key has been committed."""
    return db.get(Delivery, key) is not None


def record_delivery(db: Session, *, key: str | None, now: datetime) -> None:
    """Record a delivery in the caller's transaction, so it commits together with its effect.

    Raises:
        DuplicateDelivery: the key is already recorded (a redelivery raced the first one).
    """
    if key is None:
        return
    try:
        with db.begin_nested():
            db.add(Delivery(key=key, received_at=now))
            db.flush()
    except IntegrityError:
        raise DuplicateDelivery(key) from None


def prune_deliveries(db: Session, *, before: datetime) -> int:
    """Forget deliveries older than `before` (Slack stops retrying after minutes)."""
    result = db.execute(delete(Delivery).where(col(Delivery.received_at) < before))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def get_active_session(db: Session, *, channel_id: str) -> ListeningSession | None:
    """The channel's active session, if any."""
    return db.exec(
        select(ListeningSession).where(
            ListeningSession.channel_id == channel_id, col(ListeningSession.ended_at).is_(None)
        )
    ).first()


def get_session(db: Session, *, session_id: int) -> ListeningSession | None:
    """A session by id."""
    return db.get(ListeningSession, session_id)


def create_session(
    db: Session,
    *,
    channel_id: str,
    title: str,
    area: str | None,
    group_type: str | None,
    zoom_meeting_id: str | None,
    started_by: str,
    now: datetime,
    runsheet_id: int | None = None,
) -> ListeningSession:
    """Insert an active session and make its starter a facilitator.

    Raises:
        ActiveSessionExists: the channel has one already (also when a racing start won).
    """
    existing = get_active_session(db, channel_id=channel_id)
    if existing is not None:
        raise ActiveSessionExists(existing)
    session = ListeningSession(
        channel_id=channel_id,
        title=title,
        area=area,
        group_type=group_type,
        zoom_meeting_id=zoom_meeting_id,
        started_by=started_by,
        started_at=now,
        runsheet_id=runsheet_id,
    )
    try:
        with db.begin_nested():
            db.add(session)
            db.flush()
    except IntegrityError:
        winner = get_active_session(db, channel_id=channel_id)
        if winner is None:
            raise
        raise ActiveSessionExists(winner) from None
    assert session.id is not None
    db.add(SessionFacilitator(session_id=session.id, user_id=started_by))
    db.flush()
    return session


def delete_session(db: Session, *, session_id: int) -> ListeningSession | None:
    """Delete a session (its people and facilitators go with it).

    Returns:
        The session as it was, or None if there was none.
    """
    session = get_session(db, session_id=session_id)
    if session is None:
        return None
    db.delete(session)
    db.flush()
    return session


def set_session_message(db: Session, *, session_id: int, message_ts: str) -> None:
    """Remember the ts of the session's start message (to update it later)."""
    db.execute(
        update(ListeningSession)
        .where(col(ListeningSession.id) == session_id)
        .values(message_ts=message_ts)
    )


def set_session_ended_message(db: Session, *, session_id: int, ended_ts: str) -> None:
    """Remember the ts of the session's "has ended" post (to edit it later)."""
    db.execute(
        update(ListeningSession)
        .where(col(ListeningSession.id) == session_id)
        .values(ended_ts=ended_ts)
    )


def end_session(db: Session, *, session_id: int, ended_by: str, now: datetime) -> bool:
    """Mark a session ended; a compare-and-set, so only the first caller gets True."""
    result = db.execute(
        update(ListeningSession)
        .where(col(ListeningSession.id) == session_id, col(ListeningSession.ended_at).is_(None))
        .values(ended_at=now, ended_by=ended_by)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def session_facilitators(db: Session, *, session_id: int) -> set[str]:
    """User ids who are facilitators of this session (not counting the global list)."""
    rows = db.exec(
        select(SessionFacilitator.user_id).where(SessionFacilitator.session_id == session_id)
    )
    return set(rows)


def get_participant(db: Session, *, session_id: int, user_id: str) -> Participant | None:
    """A person's record in a session."""
    return db.exec(
        select(Participant).where(
            Participant.session_id == session_id, Participant.user_id == user_id
        )
    ).first()


def lock_participant(db: Session, *, session_id: int, user_id: str, now: datetime) -> Participant:
    """A person's row in a session, created if missing, held for the rest of the transaction
    (PostgreSQL locks it; SQLite's writer lock already does), so two clicks of the same person
    are decided one after the other."""
    query = (
        select(Participant)
        .where(Participant.session_id == session_id, Participant.user_id == user_id)
        .with_for_update()
    )
    participant = db.exec(query).first()
    if participant is not None:
        return participant
    participant = Participant(session_id=session_id, user_id=user_id, updated_at=now)
    try:
        with db.begin_nested():
            db.add(participant)
            db.flush()
    except IntegrityError:
        # A racing click of the same person created it; decide on the winner's row.
        winner = db.exec(query).first()
        assert winner is not None
        return winner
    return participant


def note_answers(
    db: Session,
    *,
    participant: Participant,
    place: str | None,
    consent_to_quote: bool,
    now: datetime,
) -> None:
    """Keep what a person chose before checking in (a place, quote consent), for when they do."""
    participant.place = place
    participant.consent_to_quote = consent_to_quote
    participant.updated_at = now
    db.add(participant)
    db.flush()


def check_in(
    db: Session,
    *,
    session_id: int,
    user_id: str,
    role: str | None,
    place: str | None,
    group_name: str | None,
    consent_to_quote: bool,
    now: datetime,
) -> tuple[Participant, bool]:
    """Create or update a person's check-in.

    Returns:
        The participant and whether this was their first check-in.
    """
    participant = get_participant(db, session_id=session_id, user_id=user_id)
    first = participant is None or participant.checked_in_at is None
    if participant is None:
        participant = Participant(session_id=session_id, user_id=user_id, updated_at=now)
        try:
            with db.begin_nested():
                db.add(participant)
                db.flush()
        except IntegrityError:
            # Two check-ins from the same person raced; update the winner's row instead.
            participant = get_participant(db, session_id=session_id, user_id=user_id)
            assert participant is not None
    participant.role = role
    participant.place = place
    participant.group_name = group_name
    participant.consent_to_quote = consent_to_quote
    participant.checked_in_at = participant.checked_in_at or now
    participant.updated_at = now
    db.add(participant)
    db.flush()
    return participant, first


@dataclass(frozen=True)
class Attendance:
    """Who is checked in to a session, counted by role and by group."""

    checked_in: int
    by_role: list[tuple[str, int]]
    by_group: list[tuple[str, int]]
    not_checked_in: int


def attendance(db: Session, *, session_id: int) -> Attendance:
    """Counts of checked-in people by role and group; unknown values count as "Not given"."""
    rows = db.exec(
        select(Participant.role, Participant.group_name, Participant.checked_in_at).where(
            Participant.session_id == session_id
        )
    ).all()
    checked = [(role, group) for role, group, checked_at in rows if checked_at is not None]
    by_role = Counter(role or "Not given" for role, _ in checked)
    by_group = Counter(group or "Not given" for _, group in checked)
    return Attendance(
        checked_in=len(checked),
        by_role=by_role.most_common(),
        by_group=by_group.most_common(),
        not_checked_in=len(rows) - len(checked),
    )


def known_roles(db: Session, *, limit: int = 50, min_people: int = 3) -> list[str]:
    """Roles at least `min_people` people gave, most used first (check-in suggestions).

    A role typed by one or two people is never offered to others: it may identify them.
    """
    rows = db.exec(
        select(Participant.role, func.count())
        .where(col(Participant.role).is_not(None))
        .group_by(Participant.role)
        .having(func.count() >= min_people)
        .order_by(func.count().desc())
        .limit(limit)
    ).all()
    return [role for role, _ in rows if role]


def known_places(db: Session, *, limit: int = 50, min_people: int = 3) -> list[str]:
    """Places to offer at check-in: the areas sessions were run for, then places at least
    `min_people` people gave (most used first); like `known_roles`, never one that may identify
    someone."""
    areas = db.exec(
        select(ListeningSession.area)
        .where(col(ListeningSession.area).is_not(None))
        .group_by(ListeningSession.area)
        .order_by(func.max(ListeningSession.started_at).desc())
        .limit(limit)
    ).all()
    given = db.exec(
        select(Participant.place, func.count())
        .where(col(Participant.place).is_not(None), col(Participant.checked_in_at).is_not(None))
        .group_by(Participant.place)
        .having(func.count() >= min_people)
        .order_by(func.count().desc())
        .limit(limit)
    ).all()
    places = [area for area in areas if area] + [place for place, _ in given if place]
    return list(dict.fromkeys(places))[:limit]
