"""Session summaries: gathered from the database, posted to the channel and the organisers."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.clock import Clock
from bot.report.aggregate import attribution, poll_results, tour_attendance
from bot.report.collect import collect, latest_reports
from bot.report.model import PollRow, Result, TourAttendance
from storage import report as queries
from storage import summaries as summary_repo
from storage.db import Database
from storage.models import ListeningSession
from storage.report import SessionFilter

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PollSummary:
    """A poll as the summary shows it: its own result (anonymous polls are totals anyway)."""

    poll: PollRow
    result: Result


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


class SummaryPublisher(Protocol):
    """Where summaries go (Slack, in the running bot)."""

    def channels(self, summary: SessionSummary) -> list[str]:
        """The channels a summary is posted to."""
        ...

    def publish_to(self, summary: SessionSummary, channel: str) -> None:
        """Post a summary to one channel."""


class SummaryService:
    """Builds session summaries and makes sure the final one is posted exactly once."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self.publisher: SummaryPublisher | None = None

    def attach(self, publisher: SummaryPublisher) -> None:
        """Set where summaries are posted."""
        self.publisher = publisher

    def post_interim(self, session_id: int) -> None:
        """Post an interim summary of a running session."""
        summary = self.build(session_id, interim=True)
        if summary is None or self.publisher is None:
            return
        for channel in self.publisher.channels(summary):
            self.publisher.publish_to(summary, channel)

    def post_final(self, session_id: int) -> bool:
        """Post an ended session's summary to each channel it has not reached yet.

        Returns:
            True when every channel has it; False when it was not due or a channel failed
            (the claim is then given back, so recovery tries the missing channels again).
        """
        if self.publisher is None or not self.claim_final(session_id):
            return False
        summary = self.build(session_id, interim=False)
        if summary is None:
            return False
        with self.db.read() as s:
            done = summary_repo.summary_channels(s, session_id=session_id)
        complete = True
        for channel in self.publisher.channels(summary):
            if channel in done:
                continue
            try:
                self.publisher.publish_to(summary, channel)
            except Exception:
                logger.exception("summary of session %s not posted to %s", session_id, channel)
                complete = False
                continue
            with self.db.transaction() as s:
                summary_repo.add_summary_channel(s, session_id=session_id, channel=channel)
        if not complete:
            self.release_final(session_id)
        return complete

    def recover(self) -> None:
        """Post the summaries of sessions that ended while the bot could not post them."""
        for session_id in self.unposted():
            self.post_final(session_id)

    def build(self, session_id: int, *, interim: bool) -> SessionSummary | None:
        """Gather a session's summary; None if there is no such session."""
        with self.db.read() as s:
            sessions = queries.find_sessions(s, where=SessionFilter(session_ids=(session_id,)))
            if not sessions:
                return None
            # Members are not shown in a summary; a session has thousands of member rows.
            rooms = latest_reports(
                queries.rooms_with_reports(s, session_ids=[session_id], with_members=False)
            )
            latest_ids = [room.versions[-1].id or 0 for room in rooms]
            themes = queries.themes_of(s, report_ids=latest_ids)
        data = collect(self.db, SessionFilter(session_ids=(session_id,)))
        results = poll_results(data)
        voted = Counter(poll_id for poll_id, _ in {(v.poll_id, v.user_id) for v in data.votes})
        voted.update({tally.poll_id: tally.voters for tally in data.anonymous})
        theme_counts = Counter(name for names in themes.values() for name in names)
        return SessionSummary(
            session=sessions[0],
            interim=interim,
            at=self.clock.now(),
            attendance=tour_attendance(data),
            polls=tuple(
                PollSummary(poll, results.get(poll.id) or Result(poll.question, voted[poll.id], ()))
                for poll in data.polls
            ),
            rooms=tuple(
                RoomSummary(
                    round_number=room.round.number,
                    room_number=room.room.number,
                    summary=room.versions[-1].summary,
                    key_points=tuple(
                        p.strip() for p in room.versions[-1].key_points.splitlines() if p.strip()
                    ),
                    versions=len(room.versions),
                )
                for room in rooms
            ),
            quotes=tuple((q.text, attribution(q.role, q.place)) for q in data.quotes),
            themes=tuple(sorted(theme_counts.items(), key=lambda item: (-item[1], item[0]))),
        )

    def claim_final(self, session_id: int) -> bool:
        """Claim the right to post a session's final summary; True for exactly one caller."""
        with self.db.transaction() as s:
            return summary_repo.claim_summary(s, session_id=session_id, now=self.clock.now())

    def release_final(self, session_id: int) -> None:
        """Give the claim back after a failed post, so recovery posts it later."""
        with self.db.transaction() as s:
            summary_repo.release_summary(s, session_id=session_id)

    def unposted(self) -> list[int]:
        """Ended sessions whose final summary has not been posted (e.g. after a crash)."""
        with self.db.read() as s:
            return summary_repo.ended_without_summary(s)
