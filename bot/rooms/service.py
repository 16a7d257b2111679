"""The room service: breakout rules on top of the repository, in one object.

Its parts live next to it by role: `reading`, `zoom` (rounds in a Zoom meeting), `rounds` (start,
room messages, timers, recovery), `people` (late arrivals, moves), `reports` (report-backs) and
`quotes` (withdrawing a quote).
None of them posts: each decision queues what Slack must be shown in the transaction that commits
it (see `bot.rooms.effects` and `bot.rooms.zoom_effects`).
"""

from __future__ import annotations

from bot.clock import Clock
from bot.config import Settings
from bot.rooms.people import RoomPeople
from bot.rooms.quotes import RoomQuotes
from bot.rooms.reports import RoomReports
from bot.rooms.rounds import RoomRounds
from bot.scheduler import Deadlines
from bot.sessions import SessionService
from storage.db import Database


class RoomService(RoomRounds, RoomPeople, RoomReports, RoomQuotes):
    """Breakout rules on top of the repository: who may do what, and what it changes."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        clock: Clock,
        sessions: SessionService,
        deadlines: Deadlines,
    ) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock
        self.sessions = sessions
        self.deadlines = deadlines
