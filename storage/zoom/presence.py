"""Writing what Zoom says about a session's people: sightings (joins and leaves, in the main
meeting or a breakout room), registrants' answers, Slack emails, and the webhook events applied.

Every time kept is the latest of its kind, taken from the event itself, so applying the same
sighting twice, or an old one late, changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Executable, delete, or_, table, update
from sqlalchemy import column as sql_column
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, SQLModel, col, select

from storage.models import Participant
from storage.zoom.people import (
    NAME_MAX,
    ZoomEventSeen,
    ZoomPerson,
    ZoomRoomVisit,
    is_inside,
    is_zoom_only,
    normalize_email,
    slack_user_for_email,
    zoom_user_id,
)

# What else may name a Zoom-only participant (so linking them to Slack keeps their row): a
# named vote, a breakout room seat. Plain table names, so storage.zoom imports neither package.
_POLL = table("poll", sql_column("id"), sql_column("session_id"))
_POLL_VOTER = table("poll_voter", sql_column("poll_id"), sql_column("user_id"))
_ROUND = table("breakout_round", sql_column("id"), sql_column("session_id"))
_ROOM_MEMBER = table("breakout_room_member", sql_column("round_id"), sql_column("user_id"))


@dataclass(frozen=True)
class Sighting:
    """One thing Zoom said about a person: a join or a leave (or both, from a metrics row), in
    the main meeting (`room_uuid` None) or a breakout room; or only who they are."""

    identity: str
    name: str | None = None
    email: str | None = None
    registrant_id: str | None = None
    room_uuid: str | None = None
    joined_at: datetime | None = None
    left_at: datetime | None = None


@dataclass(frozen=True)
class Answers:
    """A registrant's answers to the Role / Place / Group questions (already cleaned)."""

    role: str | None = None
    place: str | None = None
    group_name: str | None = None

    def any(self) -> bool:
        """Whether any question was answered."""
        return bool(self.role or self.place or self.group_name)


def _insert_ignoring(db: Session, model: type[SQLModel], keys: list[str], **values: Any) -> Any:
    """INSERT … ON CONFLICT DO NOTHING on SQLite and PostgreSQL."""
    insert = pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    return insert(model).values(**values).on_conflict_do_nothing(index_elements=keys)


def _later(kept: datetime | None, given: datetime | None) -> datetime | None:
    if given is None:
        return kept
    return given if kept is None or given > kept else kept


def record_event(db: Session, *, digest: str, now: datetime) -> bool:
    """Note a webhook event as applied, in the transaction that applies it; False if it was
    applied before (a retry or a replay)."""
    statement: Executable = _insert_ignoring(
        db, ZoomEventSeen, ["digest"], digest=digest, received_at=now
    ).returning(col(ZoomEventSeen.digest))
    return db.execute(statement).first() is not None


def prune_events(db: Session, *, before: datetime) -> int:
    """Forget events applied before `before` (Zoom stops retrying about 85 minutes after)."""
    result = db.execute(delete(ZoomEventSeen).where(col(ZoomEventSeen.received_at) < before))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _locked_person(db: Session, *, session_id: int, identity: str) -> ZoomPerson | None:
    return db.exec(
        select(ZoomPerson)
        .where(col(ZoomPerson.session_id) == session_id, col(ZoomPerson.identity) == identity)
        .with_for_update()
    ).first()


def _new_user_id(db: Session, *, session_id: int, sighting: Sighting) -> str:
    """Who a person seen for the first time is: the registrant or email already known in the
    session, the Slack participant with that email, or a new Zoom-only participant."""
    email = normalize_email(sighting.email)
    if sighting.registrant_id:
        known = db.exec(
            select(ZoomPerson.user_id).where(
                col(ZoomPerson.session_id) == session_id,
                col(ZoomPerson.registrant_id) == sighting.registrant_id,
            )
        ).first()
        if known:
            return known
    if email:
        slack = slack_user_for_email(db, session_id=session_id, email=email)
        if slack:
            return slack
        known = db.exec(
            select(ZoomPerson.user_id).where(
                col(ZoomPerson.session_id) == session_id, col(ZoomPerson.email) == email
            )
        ).first()
        if known:
            return known
    return zoom_user_id(email=email, identity=sighting.identity)


def _person(db: Session, *, session_id: int, sighting: Sighting, now: datetime) -> ZoomPerson:
    """The person's row, created if new, locked for the rest of the transaction."""
    person = _locked_person(db, session_id=session_id, identity=sighting.identity)
    if person is not None:
        return person
    user_id = _new_user_id(db, session_id=session_id, sighting=sighting)
    db.execute(
        _insert_ignoring(
            db,
            ZoomPerson,
            ["session_id", "identity"],
            session_id=session_id,
            identity=sighting.identity,
            user_id=user_id,
            updated_at=now,
        )
    )
    person = _locked_person(db, session_id=session_id, identity=sighting.identity)
    assert person is not None
    return person


def _note_who(person: ZoomPerson, sighting: Sighting) -> None:
    if sighting.name and sighting.name.strip():
        person.name = sighting.name.strip()[:NAME_MAX]
    email = normalize_email(sighting.email)
    if email:
        person.email = email
    if sighting.registrant_id:
        person.registrant_id = sighting.registrant_id


def _visit(db: Session, *, session_id: int, sighting: Sighting) -> None:
    """Keep the latest join and leave of the sighting's room; sum the rooms up on the person."""
    assert sighting.room_uuid is not None
    db.execute(
        _insert_ignoring(
            db,
            ZoomRoomVisit,
            ["session_id", "identity", "room_uuid"],
            session_id=session_id,
            identity=sighting.identity,
            room_uuid=sighting.room_uuid,
        )
    )
    visit = db.exec(
        select(ZoomRoomVisit)
        .where(
            col(ZoomRoomVisit.session_id) == session_id,
            col(ZoomRoomVisit.identity) == sighting.identity,
            col(ZoomRoomVisit.room_uuid) == sighting.room_uuid,
        )
        .with_for_update()
    ).one()
    visit.joined_at = _later(visit.joined_at, sighting.joined_at)
    visit.left_at = _later(visit.left_at, sighting.left_at)
    db.add(visit)
    db.flush()


def _sum_up_rooms(db: Session, person: ZoomPerson) -> None:
    latest = db.exec(
        select(ZoomRoomVisit)
        .where(
            col(ZoomRoomVisit.session_id) == person.session_id,
            col(ZoomRoomVisit.identity) == person.identity,
            col(ZoomRoomVisit.joined_at).is_not(None),
        )
        .order_by(col(ZoomRoomVisit.joined_at).desc())
        .limit(1)
    ).first()
    if latest is not None:
        person.room_uuid = latest.room_uuid
        person.room_joined_at = latest.joined_at
        person.room_left_at = latest.left_at


def apply_sighting(
    db: Session, *, session_id: int, sighting: Sighting, source: str | None, now: datetime
) -> str:
    """Apply a join or leave (keeping the latest of each); returns the person's user_id.

    A Zoom-only person seen in the meeting becomes a checked-in participant; one whose email
    is a Slack participant's is linked to them.
    """
    person = _person(db, session_id=session_id, sighting=sighting, now=now)
    _note_who(person, sighting)
    if sighting.room_uuid is None:
        person.joined_at = _later(person.joined_at, sighting.joined_at)
        person.left_at = _later(person.left_at, sighting.left_at)
    else:
        _visit(db, session_id=session_id, sighting=sighting)
        _sum_up_rooms(db, person)
    seen_at = sighting.joined_at or sighting.left_at
    if seen_at is not None and source is not None:
        person.source = source
    person.updated_at = now
    db.add(person)
    db.flush()
    user_id = _link_if_matched(db, person=person, now=now)
    if is_zoom_only(user_id) and seen_at is not None:
        _zoom_participant(db, session_id=session_id, user_id=user_id, now=now, seen_at=seen_at)
    return user_id


def apply_registrant(
    db: Session, *, session_id: int, sighting: Sighting, answers: Answers, now: datetime
) -> str:
    """Record a registrant and make their answers their check-in (unless they checked in on
    Slack themselves: that check-in stands); returns their user_id."""
    person = _person(db, session_id=session_id, sighting=sighting, now=now)
    _note_who(person, sighting)
    person.updated_at = now
    db.add(person)
    db.flush()
    user_id = _link_if_matched(db, person=person, now=now)
    if answers.any():
        # A Slack person's row exists (they matched as a participant); a Zoom-only one's may not.
        _zoom_participant(
            db,
            session_id=session_id,
            user_id=user_id,
            now=now,
            answers=answers,
            create=is_zoom_only(user_id),
        )
    return user_id


def _participant(db: Session, *, session_id: int, user_id: str) -> Participant | None:
    return db.exec(
        select(Participant)
        .where(col(Participant.session_id) == session_id, col(Participant.user_id) == user_id)
        .with_for_update()
    ).first()


def _zoom_participant(
    db: Session,
    *,
    session_id: int,
    user_id: str,
    now: datetime,
    seen_at: datetime | None = None,
    answers: Answers | None = None,
    create: bool = True,
) -> None:
    """Give a Zoom person's participant row what Zoom says: checked in once seen in the meeting
    or registered with answers, and those answers (a Slack person's own check-in stands)."""
    if create:
        db.execute(
            _insert_ignoring(
                db,
                Participant,
                ["session_id", "user_id"],
                session_id=session_id,
                user_id=user_id,
                consent_to_quote=False,
                updated_at=now,
            )
        )
    participant = _participant(db, session_id=session_id, user_id=user_id)
    if participant is None:
        return
    if answers is not None and answers.any():
        if not is_zoom_only(user_id) and participant.checked_in_at is not None:
            return  # they checked in on Slack: their own answers stand
        participant.role = answers.role
        participant.place = answers.place
        participant.group_name = answers.group_name
        participant.checked_in_at = participant.checked_in_at or now
    if seen_at is not None and participant.checked_in_at is None:
        participant.checked_in_at = seen_at
    participant.updated_at = now
    db.add(participant)
    db.flush()


def _link_if_matched(db: Session, *, person: ZoomPerson, now: datetime) -> str:
    """Link a Zoom-only person to the Slack participant with their email, if there is one."""
    if person.email and is_zoom_only(person.user_id):
        slack = slack_user_for_email(db, session_id=person.session_id, email=person.email)
        if slack:
            link_email(db, session_id=person.session_id, user_id=slack, email=person.email, now=now)
            return slack
    return person.user_id


def link_email(db: Session, *, session_id: int, user_id: str, email: str, now: datetime) -> int:
    """Make the session's Zoom people with this email the Slack participant `user_id`.

    Their Zoom-only participant row goes, its registration answers moving to the Slack person
    if they have not checked in themselves; a row something else names (a vote, a room seat)
    stays, no longer checked in, so nobody is counted twice.

    Returns:
        How many Zoom people were linked.
    """
    normalized = normalize_email(email)
    if normalized is None:
        return 0
    others = db.exec(
        select(ZoomPerson.user_id).where(
            col(ZoomPerson.session_id) == session_id,
            col(ZoomPerson.email) == normalized,
            col(ZoomPerson.user_id) != user_id,
        )
    ).all()
    if not others:
        return 0
    zoom_ids = sorted({other for other in others if is_zoom_only(other)})
    db.execute(
        update(ZoomPerson)
        .where(
            col(ZoomPerson.session_id) == session_id,
            or_(col(ZoomPerson.email) == normalized, col(ZoomPerson.user_id).in_(zoom_ids)),
        )
        .values(user_id=user_id, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    for zoom_id in zoom_ids:
        _merge_participant(db, session_id=session_id, zoom_id=zoom_id, user_id=user_id, now=now)
    db.expire_all()
    return len(others)


def _merge_participant(
    db: Session, *, session_id: int, zoom_id: str, user_id: str, now: datetime
) -> None:
    zoom_row = _participant(db, session_id=session_id, user_id=zoom_id)
    if zoom_row is None:
        return
    slack_row = _participant(db, session_id=session_id, user_id=user_id)
    answered = zoom_row.role or zoom_row.place or zoom_row.group_name
    if slack_row is not None and slack_row.checked_in_at is None and answered:
        slack_row.role = zoom_row.role
        slack_row.place = zoom_row.place
        slack_row.group_name = zoom_row.group_name
        slack_row.checked_in_at = zoom_row.checked_in_at or now
        slack_row.updated_at = now
        db.add(slack_row)
    if _named_elsewhere(db, session_id=session_id, user_id=zoom_id):
        zoom_row.checked_in_at = None
        zoom_row.updated_at = now
        db.add(zoom_row)
    else:
        db.delete(zoom_row)
    db.flush()


def _named_elsewhere(db: Session, *, session_id: int, user_id: str) -> bool:
    """Whether a vote or a breakout room seat of the session names this participant."""
    voted = (
        select(_POLL_VOTER.c.user_id)
        .join(_POLL, _POLL.c.id == _POLL_VOTER.c.poll_id)
        .where(_POLL.c.session_id == session_id, _POLL_VOTER.c.user_id == user_id)
        .limit(1)
    )
    seated = (
        select(_ROOM_MEMBER.c.user_id)
        .join(_ROUND, _ROUND.c.id == _ROOM_MEMBER.c.round_id)
        .where(_ROUND.c.session_id == session_id, _ROOM_MEMBER.c.user_id == user_id)
        .limit(1)
    )
    return db.execute(voted).first() is not None or db.execute(seated).first() is not None


def leave_all(
    db: Session,
    *,
    session_id: int,
    at: datetime,
    source: str | None = None,
    still_in: Iterable[str] = (),
    still_in_rooms: Iterable[tuple[str, str]] = (),
) -> int:
    """Everyone in the meeting (or, with `source`, everyone whose presence came from it) leaves
    at `at`, except the identities `still_in` the main room and the (identity, room uuid)
    pairs `still_in_rooms`: the meeting ended, or a live snapshot no longer lists them.

    Returns:
        How many people had something closed.
    """
    keep_main, keep_rooms = set(still_in), set(still_in_rooms)
    query = select(ZoomPerson).where(col(ZoomPerson.session_id) == session_id)
    if source is not None:
        query = query.where(col(ZoomPerson.source) == source)
    # Locked in id order, so two of these (an end, a live snapshot) never wait in a circle.
    locked = db.exec(query.order_by(col(ZoomPerson.id)).with_for_update()).all()
    people = {person.identity: person for person in locked}
    visits = db.exec(
        select(ZoomRoomVisit)
        .where(col(ZoomRoomVisit.session_id) == session_id)
        .where(col(ZoomRoomVisit.identity).in_(list(people)))
        .with_for_update()
    ).all()
    changed: set[str] = set()
    for person in people.values():
        if person.identity not in keep_main and is_inside(person.joined_at, person.left_at):
            person.left_at = _later(person.left_at, at)
            changed.add(person.identity)
    for visit in visits:
        pair = (visit.identity, visit.room_uuid)
        if pair not in keep_rooms and is_inside(visit.joined_at, visit.left_at):
            visit.left_at = _later(visit.left_at, at)
            db.add(visit)
            changed.add(visit.identity)
    db.flush()
    for identity in changed:
        person = people[identity]
        _sum_up_rooms(db, person)
        person.updated_at = at
        db.add(person)
    db.flush()
    return len(changed)
