"""What the room service returns: rounds and rooms as shown, and the outcome of each operation."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from storage.models import ListeningSession
from storage.rooms import (
    BreakoutRoom,
    BreakoutRound,
    ReportBack,
    ReportQuote,
    RoomMember,
    SessionTheme,
)
from storage.zoom.rooms import ZoomRoundPlan


def room_name(number: int) -> str:
    """How the bot calls a room, in Slack and in Zoom alike: Room 3."""
    return f"Room {number}"


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
    def name(self) -> str:
        """The room's name (the same in Slack and in Zoom)."""
        return room_name(self.room.number)

    @property
    def user_ids(self) -> list[str]:
        """Member user ids."""
        return [member.user_id for member in self.members]


@dataclass(frozen=True)
class RoundView:
    """A round, its session and its rooms; `zoom` says how it went to Zoom (None: Slack only),
    and `names` what Zoom calls the Zoom-only people in it (they have no Slack name)."""

    session: ListeningSession
    round: BreakoutRound
    rooms: list[RoomView]
    zoom: ZoomRoundPlan | None = None
    names: Mapping[str, str] = field(default_factory=dict)

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
class ZoomNote:
    """What a new round did in Zoom, for the facilitator.

    Args:
        how: `storage.zoom.rooms.PREASSIGN` (the meeting had not started) or `LIVE`.
        rooms: how many rooms the round has.
        placed: pre-assigned people (those with an email Zoom can place).
        unplaced: by reason, how many could not be pre-assigned.
        written: whether the bot writes the pre-assignment into the meeting (it needs Zoom's
            API credentials; without them there is only the CSV).
    """

    how: str
    rooms: int
    placed: int = 0
    unplaced: Mapping[str, int] = field(default_factory=dict)
    written: bool = False


@dataclass(frozen=True)
class RoundStarted:
    """A committed new round, with a note for the facilitator when the mode had nothing to use,
    and what it did in Zoom (None in a Slack-only session)."""

    view: RoundView
    note: str | None = None
    zoom: ZoomNote | None = None


@dataclass(frozen=True)
class RoomChange:
    """Someone joined a room late or was moved."""

    view: RoundView
    user_id: str
    to_room: RoomView
    from_room: RoomView | None = None
    moved_by: str | None = None


@dataclass(frozen=True)
class PostedNote:
    """A "joined"/"left" note in `room`'s thread, posted at `ts`, as its change reads now."""

    change: RoomChange
    room: RoomView
    ts: str


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


@dataclass(frozen=True)
class RoomWhereabouts:
    """Where the people planned for one room are in Zoom, while the round runs.

    Args:
        room: the planned room.
        here: planned for it, and in the Zoom room matched to it.
        elsewhere: planned for it, in another Zoom room: (user id, the number of the room
            that Zoom room matches; None when it matches none).
        not_in_room: planned for it, in the meeting but in no breakout room.
        not_in_zoom: planned for it, and not in the Zoom meeting (Slack only, or gone).
        visitors: in the Zoom room matched to it, but in no room of the round.
    """

    room: RoomView
    here: list[str]
    elsewhere: list[tuple[str, int | None]]
    not_in_room: list[str]
    not_in_zoom: list[str]
    visitors: list[str]

    @property
    def as_planned(self) -> bool:
        """Everyone planned for the room who is in Zoom is in it, and nobody else."""
        return not (self.elsewhere or self.not_in_room or self.visitors)


@dataclass(frozen=True)
class ZoomRoomStatus:
    """Who is where in Zoom during a round, against the plan.

    Args:
        view: the round.
        rooms: each planned room, in order.
        unmatched: the people in each Zoom room that matches no planned room (nobody in it is
            in the plan), one list per such room.
    """

    view: RoundView
    rooms: list[RoomWhereabouts]
    unmatched: list[list[str]]


@dataclass(frozen=True)
class QuoteWithdrawn:
    """A quote withdrawn: where it was, and how many posts are being edited to drop it."""

    quote_id: int
    session_id: int
    session_title: str
    round_number: int
    room_number: int
    versions: int  # report-back versions that held it (each one's copy is withdrawn)
    edits: int  # posts queued to be edited: thread posts, the compact post, the summaries
