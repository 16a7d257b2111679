"""Who is where: the people checked in, a round's rooms and their members.

Every function takes the unit of work (`db`) and keyword-only arguments; none knows about Slack.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage.models import Participant
from storage.rooms.rounds import BreakoutRoom, RoomMember

# -- who is present ----------------------------------------------------------------------------


def checked_in(db: Session, *, session_id: int) -> list[Participant]:
    """Everyone checked in to a session, in user id order."""
    return list(
        db.exec(
            select(Participant)
            .where(
                Participant.session_id == session_id, col(Participant.checked_in_at).is_not(None)
            )
            .order_by(col(Participant.user_id))
        ).all()
    )


# -- rooms and members -------------------------------------------------------------------------


def get_room(db: Session, *, room_id: int) -> BreakoutRoom | None:
    """A room by id."""
    return db.get(BreakoutRoom, room_id)


def lock_room(db: Session, *, room_id: int) -> BreakoutRoom | None:
    """A room, locked until the transaction ends (PostgreSQL: `SELECT … FOR UPDATE`).

    SQLite needs no row lock: its write transactions already run one at a time.
    """
    return db.exec(select(BreakoutRoom).where(BreakoutRoom.id == room_id).with_for_update()).first()


def rooms_of(db: Session, *, round_id: int) -> list[BreakoutRoom]:
    """A round's rooms by number."""
    return list(
        db.exec(
            select(BreakoutRoom)
            .where(BreakoutRoom.round_id == round_id)
            .order_by(col(BreakoutRoom.number))
        ).all()
    )


def members_of(db: Session, *, round_id: int) -> list[RoomMember]:
    """Everyone in a round's rooms, in the order they joined."""
    return list(
        db.exec(
            select(RoomMember)
            .where(RoomMember.round_id == round_id)
            .order_by(col(RoomMember.joined_at), col(RoomMember.id))
        ).all()
    )


def membership(db: Session, *, round_id: int, user_id: str) -> RoomMember | None:
    """A person's place in a round."""
    return db.exec(
        select(RoomMember).where(RoomMember.round_id == round_id, RoomMember.user_id == user_id)
    ).first()


def set_room_message(db: Session, *, room_id: int, message_ts: str) -> None:
    """Remember the room's channel message (its thread is the room's chat)."""
    db.execute(
        update(BreakoutRoom).where(col(BreakoutRoom.id) == room_id).values(message_ts=message_ts)
    )


def set_report_message(db: Session, *, room_id: int, report_ts: str) -> None:
    """Remember the room's compact report-back post in the channel."""
    db.execute(
        update(BreakoutRoom).where(col(BreakoutRoom.id) == room_id).values(report_ts=report_ts)
    )


def add_member(
    db: Session,
    *,
    round_id: int,
    room_id: int,
    user_id: str,
    facilitator: bool,
    now: datetime,
    how: str,
) -> RoomMember | None:
    """Put someone in a room; None if they are already in one this round."""
    member = RoomMember(
        round_id=round_id,
        room_id=room_id,
        user_id=user_id,
        facilitator=facilitator,
        joined_at=now,
        joined_how=how,
    )
    try:
        with db.begin_nested():
            db.add(member)
            db.flush()
    except IntegrityError:
        return None
    return member


def move_member(db: Session, *, member_id: int, room_id: int, now: datetime) -> None:
    """Move someone to another room of the same round."""
    db.execute(
        update(RoomMember)
        .where(col(RoomMember.id) == member_id)
        .values(room_id=room_id, joined_at=now, joined_how="moved")
    )
