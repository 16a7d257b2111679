"""Breakout rounds on Zoom: how each round went to Zoom, which Zoom room is which planned room,
and the reads that need (who is in the meeting and in which room, people's emails and names).

A round in a session bound to a Zoom meeting has a `ZoomRoundPlan`: written into the meeting as
its pre-assignment (before the meeting starts) or announced by name for people to choose (while
it runs). Zoom's breakout rooms carry no name, only a uuid; `ZoomRoomMatch` remembers, per round,
which planned room each uuid was found to be.

Every function takes the unit of work (`db`) and keyword-only arguments; none knows about Slack.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import Column, ForeignKey, Integer, String, UniqueConstraint, and_, or_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Field, Session, SQLModel, col, select

from storage.models import Participant, fk_column, utc_column
from storage.zoom.meetings import ERROR_MAX, MEETING_ID_MAX, UUID_MAX
from storage.zoom.people import SlackEmail, ZoomPerson

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

# Presence from each event's own times: in the meeting when the latest join is after the latest
# leave (a retry arriving late changes neither), and in a breakout room likewise.
_IN_MEETING = and_(
    col(ZoomPerson.joined_at).is_not(None),
    or_(col(ZoomPerson.left_at).is_(None), col(ZoomPerson.left_at) < col(ZoomPerson.joined_at)),
)
_IN_ROOM = and_(
    col(ZoomPerson.room_uuid).is_not(None),
    col(ZoomPerson.room_joined_at).is_not(None),
    or_(
        col(ZoomPerson.room_left_at).is_(None),
        col(ZoomPerson.room_left_at) < col(ZoomPerson.room_joined_at),
    ),
)


def anyone_present(db: Session, *, session_id: int) -> bool:
    """Whether Zoom says anyone is in the session's meeting now."""
    query = select(ZoomPerson.id).where(ZoomPerson.session_id == session_id, _IN_MEETING)
    return db.exec(query.limit(1)).first() is not None


def candidates(db: Session, *, session_id: int) -> list[Participant]:
    """Who a round places: everyone checked in, and everyone with a participant row who is in
    the session's Zoom meeting now (in user id order)."""
    present = select(ZoomPerson.user_id).where(ZoomPerson.session_id == session_id, _IN_MEETING)
    return list(
        db.exec(
            select(Participant)
            .where(
                Participant.session_id == session_id,
                or_(
                    col(Participant.checked_in_at).is_not(None),
                    col(Participant.user_id).in_(present),
                ),
            )
            .order_by(col(Participant.user_id))
        ).all()
    )


def whereabouts(db: Session, *, session_id: int) -> dict[str, str | None]:
    """Everyone in the session's meeting now: user id -> the Zoom breakout room uuid they are
    in (None: in the main meeting). Someone Zoom knows under two identities (a rejoin) counts
    where they went last."""
    people = db.exec(
        select(ZoomPerson).where(ZoomPerson.session_id == session_id, _IN_MEETING)
    ).all()
    latest: dict[str, tuple[datetime, str | None]] = {}
    for found in people:
        room_joined, room_left = found.room_joined_at, found.room_left_at
        in_room = (
            found.room_uuid is not None
            and room_joined is not None
            and (room_left is None or room_left < room_joined)
        )
        moment = room_joined if in_room and room_joined is not None else found.joined_at
        assert moment is not None  # _IN_MEETING: joined_at is set
        if found.user_id not in latest or moment > latest[found.user_id][0]:
            latest[found.user_id] = (moment, found.room_uuid if in_room else None)
    return {user_id: where for user_id, (_, where) in latest.items()}


# -- emails and names ----------------------------------------------------------------------------


def emails(db: Session, *, session_id: int) -> dict[str, str]:
    """The email each of the session's participants is known by (lowercased): Zoom's (what they
    sign in to Zoom with) first, else what Slack shares."""
    found: dict[str, str] = {}
    slack = db.exec(
        select(SlackEmail.user_id, SlackEmail.email)
        .join(Participant, col(Participant.user_id) == col(SlackEmail.user_id))
        .where(Participant.session_id == session_id, col(SlackEmail.email).is_not(None))
    ).all()
    for user_id, email in slack:
        if email and email.strip():
            found[user_id] = email.strip().lower()
    zoom = db.exec(
        select(ZoomPerson.user_id, ZoomPerson.email)
        .where(ZoomPerson.session_id == session_id, col(ZoomPerson.email).is_not(None))
        .order_by(col(ZoomPerson.updated_at))
    ).all()
    for user_id, email in zoom:
        if email and email.strip():
            found[user_id] = email.strip().lower()
    return found


def zoom_names(db: Session, *, session_id: int) -> dict[str, str]:
    """The name Zoom shows for each person of the session it knows (the newest one)."""
    rows = db.exec(
        select(ZoomPerson.user_id, ZoomPerson.name)
        .where(ZoomPerson.session_id == session_id, col(ZoomPerson.name).is_not(None))
        .order_by(col(ZoomPerson.updated_at))
    ).all()
    return {user_id: name for user_id, name in rows if name and name.strip()}
