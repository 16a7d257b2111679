"""The notes posted in rooms' threads when someone joins or leaves a running round.

A row is written once Slack has taken the note, so a person's erasure can find the note and
edit their mention out of it. Every function takes the unit of work (`db`) and keyword-only
arguments; none knows about Slack.
"""

from __future__ import annotations

from sqlalchemy import Column, Integer, String
from sqlmodel import Field, Session, SQLModel

from storage.models import fk_column
from storage.rooms.rounds import USER_MAX

TS_MAX = 32


class RoomNote(SQLModel, table=True):
    """One "joined" or "left" note in a room's thread: who, from where to where, and its ts."""

    __tablename__ = "room_note"

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(sa_column=fk_column("breakout_round.id"))
    room_id: int = Field(sa_column=fk_column("breakout_room.id"))  # the thread it is in
    user_id: str = Field(sa_column=Column(String(USER_MAX), nullable=False))
    moved_by: str | None = Field(default=None, sa_column=Column(String(USER_MAX)))
    from_room_id: int | None = Field(default=None, sa_column=Column(Integer))
    to_room_id: int = Field(sa_column=Column(Integer, nullable=False))
    ts: str = Field(sa_column=Column(String(TS_MAX), nullable=False))


def add_note(
    db: Session,
    *,
    round_id: int,
    room_id: int,
    user_id: str,
    moved_by: str | None,
    from_room_id: int | None,
    to_room_id: int,
    ts: str,
) -> int:
    """Remember a note Slack has posted; returns its id."""
    note = RoomNote(
        round_id=round_id,
        room_id=room_id,
        user_id=user_id,
        moved_by=moved_by,
        from_room_id=from_room_id,
        to_room_id=to_room_id,
        ts=ts,
    )
    db.add(note)
    db.flush()
    assert note.id is not None
    return note.id


def get_note(db: Session, *, note_id: int) -> RoomNote | None:
    """A posted note by id."""
    return db.get(RoomNote, note_id)
