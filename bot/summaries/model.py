"""What a session summary shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.report.model import PollRow, Result, TourAttendance
from storage.models import ListeningSession


@dataclass(frozen=True)
class PollSummary:
    """A poll as the summary shows it: its own result (anonymous polls are totals anyway)."""

    poll: PollRow
    result: Result
    # Slack's and Zoom's answers apart, when some came from the Zoom meeting (`result` is both).
    sources: tuple[Result, ...] = ()


@dataclass(frozen=True)
class RoomSummary:
    """The latest report-back of one room."""

    round_number: int
    room_number: int
    summary: str
    key_points: tuple[str, ...]
    versions: int


@dataclass(frozen=True)
class SessionSummary:
    """Everything a session summary shows."""

    session: ListeningSession
    interim: bool
    at: datetime
    attendance: TourAttendance
    polls: tuple[PollSummary, ...]
    rooms: tuple[RoomSummary, ...]
    quotes: tuple[tuple[str, str], ...]  # (text, "Role, Place"), consented only
    themes: tuple[tuple[str, int], ...]  # theme name, report-backs tagged with it
    # Set when small groups are hidden: the smallest shown, and whether any row was hidden.
    min_group: int = 1
    small_groups_hidden: bool = False
