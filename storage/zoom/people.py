"""The people Zoom reports in a session's meeting, the webhook events already applied, and the
Slack people's emails the bot matches them by.

A Zoom person is linked to the session's `participant` row by `user_id`: the Slack user id when
their email matched a Slack participant, else a Zoom-only id (`zoom_user_id`), so Zoom-only
people take part in check-in breakdowns, rooms and reports like anyone else.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Column, Index, String, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Field, Session, SQLModel, col, select

from storage.models import Participant, fk_column, utc_column
from storage.zoom.meetings import UUID_MAX, ZoomTask

USER_MAX = 32  # participant.user_id
EMAIL_MAX = 320
NAME_MAX = 200
ZOOM_USER_PREFIX = "zoom:"
DIGEST_SIZE = 64
IDENTITY_MAX = UUID_MAX + 16
# Where presence came from (`ZoomPerson.source`).
FROM_WEBHOOKS = "webhook"
FROM_METRICS = "metrics"
METRICS_TASK = "zoom.metrics"  # the Zoom task that polls live participants (Socket Mode)


def normalize_email(email: str | None) -> str | None:
    """An email as the bot stores and compares it: trimmed and lower-cased (None if blank)."""
    cleaned = (email or "").strip().lower()
    return cleaned[:EMAIL_MAX] or None


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
    # "user:<main meeting user_id>", "registrant:<id>" or "email:<sha256 of the address>"
    # (the address itself is in `email`).
    identity: str = Field(sa_column=Column(String(IDENTITY_MAX), nullable=False))
    user_id: str = Field(sa_column=Column(String(USER_MAX), nullable=False, index=True))
    name: str | None = Field(default=None, sa_column=Column(String(NAME_MAX)))
    email: str | None = Field(default=None, sa_column=Column(String(EMAIL_MAX)))
    registrant_id: str | None = Field(default=None, sa_column=Column(String(UUID_MAX)))
    joined_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    left_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    # A summary of `ZoomRoomVisit`: the room of the person's latest room join.
    room_uuid: str | None = Field(default=None, sa_column=Column(String(UUID_MAX)))
    room_joined_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    room_left_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    # Where presence came from: "webhook" or "metrics" (None: only registered).
    source: str | None = Field(default=None, sa_column=Column(String(16)))
    updated_at: datetime = Field(sa_column=utc_column(nullable=False))


class ZoomRoomVisit(SQLModel, table=True):
    """A Zoom person's latest join and latest leave of one breakout room.

    Kept per room, so a move whose join Zoom timed a moment before the leave of the room before
    still leaves the person in the new room.
    """

    __tablename__ = "zoom_room_visit"
    __table_args__ = (
        UniqueConstraint("session_id", "identity", "room_uuid", name="uq_zoom_room_visit_identity"),
    )

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(sa_column=fk_column("listening_session.id"))
    identity: str = Field(sa_column=Column(String(IDENTITY_MAX), nullable=False))
    room_uuid: str = Field(sa_column=Column(String(UUID_MAX), nullable=False))
    joined_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    left_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


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


def is_inside(joined_at: datetime | None, left_at: datetime | None) -> bool:
    """Whether the latest join is not older than the latest leave (a rejoin within the second
    of a leave counts as in)."""
    return joined_at is not None and (left_at is None or joined_at >= left_at)


@dataclass(frozen=True)
class Whereabouts:
    """Where each of a session's Zoom people is now, by identity."""

    user_ids: dict[str, str]  # identity -> participant user_id
    in_meeting: set[str]  # identities in the meeting (main room or a breakout room)
    rooms: dict[str, str]  # identity -> the breakout room they are in now


def whereabouts(db: Session, *, session_id: int) -> Whereabouts:
    """Everyone's presence from their latest joins and leaves (a session has a few hundred)."""
    people = db.exec(
        select(
            ZoomPerson.identity, ZoomPerson.user_id, ZoomPerson.joined_at, ZoomPerson.left_at
        ).where(col(ZoomPerson.session_id) == session_id)
    ).all()
    visits = db.exec(
        select(
            ZoomRoomVisit.identity,
            ZoomRoomVisit.room_uuid,
            ZoomRoomVisit.joined_at,
            ZoomRoomVisit.left_at,
        ).where(col(ZoomRoomVisit.session_id) == session_id)
    ).all()
    latest: dict[str, tuple[datetime, str]] = {}
    for identity, room_uuid, joined_at, left_at in visits:
        if is_inside(joined_at, left_at):
            assert joined_at is not None
            # In two rooms at once only while Zoom's leave of the first is still on its way.
            if identity not in latest or latest[identity][0] < joined_at:
                latest[identity] = (joined_at, room_uuid)
    user_ids = {identity: user_id for identity, user_id, _, _ in people}
    rooms = {identity: room for identity, (_, room) in latest.items() if identity in user_ids}
    in_meeting = {
        identity
        for identity, _user, joined_at, left_at in people
        if is_inside(joined_at, left_at) or identity in rooms
    }
    return Whereabouts(user_ids=user_ids, in_meeting=in_meeting, rooms=rooms)


def present_user_ids(db: Session, *, session_id: int) -> set[str]:
    """The participant user_ids in the Zoom meeting now (main room or a breakout room)."""
    where = whereabouts(db, session_id=session_id)
    return {where.user_ids[identity] for identity in where.in_meeting}


def rooms_now(db: Session, *, session_id: int) -> dict[str, set[str]]:
    """Zoom breakout room uuid -> the participant user_ids in that room now."""
    where = whereabouts(db, session_id=session_id)
    rooms: dict[str, set[str]] = defaultdict(set)
    for identity, room_uuid in where.rooms.items():
        rooms[room_uuid].add(where.user_ids[identity])
    return dict(rooms)


def slack_user_for_email(db: Session, *, session_id: int, email: str) -> str | None:
    """The session's Slack participant whose Slack email this is (case-insensitive)."""
    query = (
        select(Participant.user_id)
        .join(SlackEmail, col(SlackEmail.user_id) == col(Participant.user_id))
        .where(col(Participant.session_id) == session_id)
        .where(col(SlackEmail.email) == normalize_email(email))
        .where(col(Participant.user_id).not_like(ZOOM_USER_PREFIX + "%"))
        .order_by(col(Participant.id))
        .limit(1)
    )
    return db.exec(query).first()


def user_for_email(db: Session, *, session_id: int, email: str) -> str | None:
    """The participant user_id for a Zoom email: the Slack id when it matched a Slack
    participant, the Zoom-only id otherwise, None when nobody in the session has it."""
    normalized = normalize_email(email)
    if normalized is None:
        return None
    known = db.exec(
        select(ZoomPerson.user_id)
        .where(col(ZoomPerson.session_id) == session_id, col(ZoomPerson.email) == normalized)
        .order_by(col(ZoomPerson.id))
        .limit(1)
    ).first()
    return known or slack_user_for_email(db, session_id=session_id, email=normalized)


def users_for_emails(db: Session, *, session_id: int, emails: Collection[str]) -> dict[str, str]:
    """`user_for_email` for many emails in two queries: normalized email → participant user_id
    (emails nobody in the session has are left out)."""
    wanted = sorted({n for n in map(normalize_email, emails) if n is not None})
    if not wanted:
        return {}
    found: dict[str, str] = {}
    zoom_rows = db.exec(
        select(ZoomPerson.email, ZoomPerson.user_id)
        .where(col(ZoomPerson.session_id) == session_id, col(ZoomPerson.email).in_(wanted))
        .order_by(col(ZoomPerson.id))
    ).all()
    for email, user_id in zoom_rows:
        found.setdefault(str(email), user_id)
    slack_rows = db.exec(
        select(SlackEmail.email, Participant.user_id)
        .join(SlackEmail, col(SlackEmail.user_id) == col(Participant.user_id))
        .where(col(Participant.session_id) == session_id)
        .where(col(SlackEmail.email).in_(wanted))
        .where(col(Participant.user_id).not_like(ZOOM_USER_PREFIX + "%"))
        .order_by(col(Participant.id))
    ).all()
    for email, user_id in slack_rows:
        found.setdefault(str(email), user_id)
    return found


def email_of(db: Session, *, session_id: int, user_id: str) -> str | None:
    """A participant's email: Slack's for a Slack person, else what Zoom gave."""
    return emails_of(db, session_id=session_id, user_ids=[user_id]).get(user_id)


def emails_of(db: Session, *, session_id: int, user_ids: Collection[str]) -> dict[str, str]:
    """Participants' emails by user id, by `email_of`'s rule (Slack's for a Slack person, else
    the first Zoom gave in the session), in two queries; those with none are left out."""
    wanted = sorted(set(user_ids))
    if not wanted:
        return {}
    found: dict[str, str] = {}
    zoom = db.exec(
        select(ZoomPerson.user_id, ZoomPerson.email)
        .where(
            col(ZoomPerson.session_id) == session_id,
            col(ZoomPerson.user_id).in_(wanted),
            col(ZoomPerson.email).is_not(None),
        )
        .order_by(col(ZoomPerson.id).desc())  # the first row Zoom gave is written last, and wins
    ).all()
    for user_id, email in zoom:
        if cleaned := normalize_email(email):
            found[user_id] = cleaned
    slack_ids = [user_id for user_id in wanted if not is_zoom_only(user_id)]
    if slack_ids:
        slack = db.exec(
            select(SlackEmail.user_id, SlackEmail.email).where(
                col(SlackEmail.user_id).in_(slack_ids), col(SlackEmail.email).is_not(None)
            )
        ).all()
        for user_id, email in slack:
            if cleaned := normalize_email(email):
                found[user_id] = cleaned
    return found


@dataclass(frozen=True)
class PresenceCounts:
    """What `/session status` says about Zoom and Slack people."""

    in_zoom: int  # people in the meeting now
    in_rooms: int  # of them, in a breakout room
    slack_checked_in: int  # Slack people checked in
    matched: int  # of them, matched to a Zoom person by email
    zoom_only: int  # Zoom-only participants (registered with answers, or seen in the meeting)
    source: str | None  # FROM_WEBHOOKS, FROM_METRICS, or None: no presence yet
    metrics_refused: bool  # live metrics were refused (the plan is below Business)


def presence_counts(db: Session, *, session_id: int) -> PresenceCounts:
    """Counts of a session's people in Zoom, in Slack and in both."""
    where = whereabouts(db, session_id=session_id)
    checked = db.exec(
        select(Participant.user_id).where(
            col(Participant.session_id) == session_id, col(Participant.checked_in_at).is_not(None)
        )
    ).all()
    slack_people = {user_id for user_id in checked if not is_zoom_only(user_id)}
    zoom_only = {user_id for user_id in checked if is_zoom_only(user_id)}
    source = db.exec(
        select(ZoomPerson.source)
        .where(col(ZoomPerson.session_id) == session_id, col(ZoomPerson.source).is_not(None))
        .order_by(col(ZoomPerson.updated_at).desc())
        .limit(1)
    ).first()
    refused = db.exec(
        select(func.count())
        .select_from(ZoomTask)
        .where(
            col(ZoomTask.session_id) == session_id,
            col(ZoomTask.kind) == METRICS_TASK,
            col(ZoomTask.failed).is_not(None),
        )
    ).one()
    return PresenceCounts(
        in_zoom=len({where.user_ids[identity] for identity in where.in_meeting}),
        in_rooms=len({where.user_ids[identity] for identity in where.rooms}),
        slack_checked_in=len(slack_people),
        matched=len(slack_people & set(where.user_ids.values())),
        zoom_only=len(zoom_only),
        source=source,
        metrics_refused=bool(refused),
    )


def record_slack_email(db: Session, *, user_id: str, email: str | None, now: datetime) -> None:
    """Remember a Slack user's email as Slack gave it (None: Slack shares none)."""
    insert = pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    values = {"user_id": user_id, "email": normalize_email(email), "looked_up_at": now}
    statement = insert(SlackEmail).values(**values)
    db.execute(
        statement.on_conflict_do_update(
            index_elements=["user_id"],
            set_={
                "email": statement.excluded.email,
                "looked_up_at": statement.excluded.looked_up_at,
            },
        )
    )


def slack_email_known(db: Session, *, user_id: str, looked_up_after: datetime) -> bool:
    """Whether the bot knows a Slack user's email, or looked it up lately and Slack had none."""
    row = db.get(SlackEmail, user_id)
    if row is None:
        return False
    return row.email is not None or row.looked_up_at >= looked_up_after


def slack_email(db: Session, *, user_id: str) -> str | None:
    """A Slack user's email, if the bot knows it."""
    row = db.get(SlackEmail, user_id)
    return row.email if row is not None else None


def checked_in_slack_people(db: Session, *, session_id: int) -> list[str]:
    """The session's Slack people who checked in (Zoom-only participants left out)."""
    rows = db.exec(
        select(Participant.user_id)
        .where(col(Participant.session_id) == session_id)
        .where(col(Participant.checked_in_at).is_not(None))
        .order_by(col(Participant.id))
    ).all()
    return [user_id for user_id in rows if not is_zoom_only(user_id)]
