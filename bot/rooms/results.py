"""What the room service returns: rounds and rooms as shown, and the outcome of each operation."""

from __future__ import annotations

from dataclasses import dataclass

from storage.models import ListeningSession
from storage.rooms import (
    BreakoutRoom,
    BreakoutRound,
    ReportBack,
    ReportQuote,
    RoomMember,
    SessionTheme,
)


@dataclass(frozen=True)
class RoomView:
    """A room with its members (in the order they joined) and whether it has reported."""

    room: BreakoutRoom
    members: list[RoomMember]
    reported: bool

    @property
    def number(self) -> int:
        """The room's number in its round."""
        return self.room.number

    @property
    def user_ids(self) -> list[str]:
        """Member user ids."""
        return [member.user_id for member in self.members]


@dataclass(frozen=True)
class RoundView:
    """A round, its session and its rooms."""

    session: ListeningSession
    round: BreakoutRound
    rooms: list[RoomView]

    @property
    def people(self) -> int:
        """How many people are in the round's rooms."""
        return sum(len(room.members) for room in self.rooms)

    @property
    def reported(self) -> int:
        """How many rooms have reported back."""
        return sum(1 for room in self.rooms if room.reported)

    def room_by_id(self, room_id: int | None) -> RoomView | None:
        """One of the round's rooms."""
        return next((room for room in self.rooms if room.room.id == room_id), None)

    def room_of(self, user_id: str) -> RoomView | None:
        """The room a person is in."""
        return next((room for room in self.rooms if user_id in room.user_ids), None)


@dataclass(frozen=True)
class RoundStarted:
    """A committed new round, with a note for the facilitator when the mode had nothing to use."""

    view: RoundView
    note: str | None = None


@dataclass(frozen=True)
class RoomChange:
    """Someone joined a room late or was moved."""

    view: RoundView
    user_id: str
    to_room: RoomView
    from_room: RoomView | None = None
    moved_by: str | None = None


@dataclass(frozen=True)
class RoundEnded:
    """A round that just ended: by time, by a facilitator, or with the session."""

    view: RoundView
    reason: str


@dataclass(frozen=True)
class ReportContent:
    """One stored version of a report-back with its quotes and themes."""

    report: ReportBack
    quotes: list[ReportQuote]
    themes: list[SessionTheme]

    @property
    def key_points(self) -> list[str]:
        """The key points, one per line."""
        return [line for line in self.report.key_points.split("\n") if line]


@dataclass(frozen=True)
class ReportForm:
    """What the report-back form shows: the room, the choice of rooms, themes, the last version."""

    view: RoundView
    room: RoomView
    facilitator: bool
    themes: list[SessionTheme]
    latest: ReportContent | None


@dataclass(frozen=True)
class ReportSaved:
    """A committed report-back version."""

    view: RoundView
    room: RoomView
    content: ReportContent
