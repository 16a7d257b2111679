"""Breakout rounds on Zoom: how each round went to Zoom, which Zoom room is which planned room,
and the reads rounds need on top of presence's (`storage.zoom.people`): who a round places,
who is in which Zoom room by participant, and everyone's emails and Zoom names at once.

A round in a session bound to a Zoom meeting has a `ZoomRoundPlan`: written into the meeting as
its pre-assignment (before the meeting starts) or announced by name for people to choose (while
it runs). Zoom's breakout rooms carry no name, only a uuid; `ZoomRoomMatch` remembers, per round,
which planned room each uuid was found to be.

Every function takes the unit of work (`db`) and keyword-only arguments; none knows about Slack.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime

from sqlalchemy import Column, ForeignKey, Integer, String, UniqueConstraint, and_, or_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Field, Session, SQLModel, col, select

from storage.models import Participant, fk_column, utc_column
from storage.zoom import people as people_store
from storage.zoom.meetings import ERROR_MAX, MEETING_ID_MAX, UUID_MAX
from storage.zoom.people import ZOOM_USER_PREFIX, ZoomPerson

PREASSIGN = "preassign"  # written into the meeting before it started
LIVE = "live"  # the meeting was running: people choose their room by its name


class ZoomRoundPlan(SQLModel, table=True):
    """How a round went to Zoom: pre-assigned (and whether Zoom took it) or announced by name."""

    __tablename__ = "zoom_round_plan"

    round_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("breakout_round.id", ondelete="CASCADE"), primary_key=True
        )
    )
    session_id: int = Field(sa_column=fk_column("listening_session.id"))
    meeting_id: str = Field(sa_column=Column(String(MEETING_ID_MAX), nullable=False))
    how: str = Field(sa_column=Column(String(16), nullable=False))  # PREASSIGN or LIVE
    # Pre-assignment only: how many could be placed by email, and how many could not.
    placed: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    unplaced: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    created_at: datetime = Field(sa_column=utc_column(nullable=False))
    # When Zoom accepted the pre-assignment, or why it did not (None while the task is due).
    written_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    problem: str | None = Field(default=None, sa_column=Column(String(ERROR_MAX)))


class ZoomRoomMatch(SQLModel, table=True):
    """A Zoom breakout room (uuid, no name) taken to be one planned room of a round."""

    __tablename__ = "zoom_room_match"
    __table_args__ = (UniqueConstraint("round_id", "room_uuid", name="uq_zoom_room_match"),)

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(sa_column=fk_column("breakout_round.id"))
    room_uuid: str = Field(sa_column=Column(String(UUID_MAX), nullable=False))
    room_id: int = Field(sa_column=fk_column("breakout_room.id", index=False))
    updated_at: datetime = Field(sa_column=utc_column(nullable=False))


# -- plans ---------------------------------------------------------------------------------------


def add_plan(
    db: Session,
    *,
    round_id: int,
    session_id: int,
    meeting_id: str,
    how: str,
    placed: int,
    unplaced: int,
    now: datetime,
) -> ZoomRoundPlan:
    """Record how a new round goes to Zoom (in the transaction that starts it)."""
    plan = ZoomRoundPlan(
        round_id=round_id,
        session_id=session_id,
        meeting_id=meeting_id,
        how=how,
        placed=placed,
        unplaced=unplaced,
        created_at=now,
    )
    db.add(plan)
    db.flush()
    return plan


def plan_of(db: Session, *, round_id: int) -> ZoomRoundPlan | None:
    """How a round went to Zoom; None for a round in a Slack-only session."""
    return db.get(ZoomRoundPlan, round_id)


def mark_written(db: Session, *, round_id: int, now: datetime, problem: str | None = None) -> bool:
    """Record Zoom's answer to the pre-assignment, once; a compare-and-set (False: already)."""
    result = db.execute(
        update(ZoomRoundPlan)
        .where(col(ZoomRoundPlan.round_id) == round_id, col(ZoomRoundPlan.written_at).is_(None))
        .values(written_at=now, problem=problem[:ERROR_MAX] if problem else None)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


# -- which Zoom room is which --------------------------------------------------------------------


def room_matches(db: Session, *, round_id: int) -> dict[str, int]:
    """The Zoom rooms matched so far in a round: room uuid -> breakout room id."""
    rows = db.exec(
        select(ZoomRoomMatch.room_uuid, ZoomRoomMatch.room_id).where(
            ZoomRoomMatch.round_id == round_id
        )
    ).all()
    return {str(room_uuid): int(room_id) for room_uuid, room_id in rows}


def save_room_matches(
    db: Session, *, round_id: int, matches: Mapping[str, int], now: datetime
) -> None:
    """Remember (or change) which planned room each Zoom room uuid is."""
    if not matches:
        return
    insert = pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    for room_uuid, room_id in matches.items():
        statement = insert(ZoomRoomMatch).values(
            round_id=round_id, room_uuid=room_uuid, room_id=room_id, updated_at=now
        )
        db.execute(
            statement.on_conflict_do_update(
                index_elements=["round_id", "room_uuid"],
                set_={"room_id": room_id, "updated_at": now},
            )
        )


# -- who is in the meeting, and where ------------------------------------------------------------


def candidates(
    db: Session, *, session_id: int, present: Collection[str], registrants: bool = True
) -> list[Participant]:
    """Who a round places, in user id order: everyone checked in, and everyone with a
    participant row whose user id is in `present` (in the Zoom meeting now). Without
    `registrants` (a round while the meeting runs) a checked-in Zoom-only person counts only
    when present: they were checked in by registering or by an earlier stay, and whoever is
    not in the meeting now cannot join a room in it."""
    placed: ColumnElement[bool] = col(Participant.checked_in_at).is_not(None)
    if not registrants:
        placed = and_(placed, col(Participant.user_id).not_like(ZOOM_USER_PREFIX + "%"))
    if present:
        placed = or_(placed, col(Participant.user_id).in_(sorted(present)))
    return list(
        db.exec(
            select(Participant)
            .where(Participant.session_id == session_id, placed)
            .order_by(col(Participant.user_id))
        ).all()
    )


def placements(db: Session, *, session_id: int) -> dict[str, str | None]:
    """Everyone in the session's Zoom meeting now (presence's `whereabouts`), by participant:
    user id -> the breakout room uuid they are in (None: the main room). Someone Zoom knows
    under two identities counts in a breakout room if either is in one."""
    where = people_store.whereabouts(db, session_id=session_id)
    found: dict[str, str | None] = {}
    for identity in sorted(where.in_meeting):
        user_id = where.user_ids[identity]
        room = where.rooms.get(identity)
        if found.get(user_id) is None:
            found[user_id] = room
    return found


# -- emails and names ----------------------------------------------------------------------------


def emails(db: Session, *, session_id: int) -> dict[str, str]:
    """The email of each of the session's participants that has one (by the rule of
    `storage.zoom.people.email_of`), for the whole session at once."""
    user_ids = db.exec(select(Participant.user_id).where(Participant.session_id == session_id))
    return people_store.emails_of(db, session_id=session_id, user_ids=list(user_ids.all()))


def zoom_names(db: Session, *, session_id: int) -> dict[str, str]:
    """The name Zoom shows for each person of the session it knows (the newest one)."""
    rows = db.exec(
        select(ZoomPerson.user_id, ZoomPerson.name)
        .where(ZoomPerson.session_id == session_id, col(ZoomPerson.name).is_not(None))
        .order_by(col(ZoomPerson.updated_at))
    ).all()
    return {user_id: name for user_id, name in rows if name and name.strip()}
