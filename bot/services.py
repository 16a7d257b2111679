"""What listeners and jobs are given: settings, database, clock, Slack client, domain services.

Built once, by the composition root (`bot.bootstrap`); nothing here imports a listener.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from slack_sdk import WebClient

from bot.clock import Clock
from bot.config import Settings
from bot.leadership import Leadership
from bot.polls import PollService
from bot.privacy.notice import PrivacyNotice
from bot.privacy.retention import SCRUB_RETRY_MINUTES, Retention
from bot.rooms import RoomService
from bot.runsheets.running import Agenda
from bot.scheduler import Deadlines
from bot.sessions import CheckingIn, CheckInHook, EndHook, EndReport, SessionEnding, SessionService
from bot.slack.sender import OutboxSender
from bot.summaries import SummaryService
from bot.zoom.health import ZoomHealth
from bot.zoom.presence import ZoomPresence
from bot.zoom.service import ZoomMeetings
from bot.zoom.tasks import ZoomWorker
from bot.zoom.webhook import ZoomWebhook
from bot.zoom_polls.service import ZoomPolls
from storage.db import Database
from storage.models import ListeningSession

StatusLine = Callable[[ListeningSession], list[str]]
# The first purge waits until start-up's own catching up is done.
PURGE_AFTER_START = timedelta(minutes=1)


@dataclass
class Services:
    """Everything a listener or job needs, wired by `bot.bootstrap`."""

    settings: Settings
    db: Database
    clock: Clock
    client: WebClient
    deadlines: Deadlines
    outbox: OutboxSender
    sessions: SessionService
    polls: PollService
    rooms: RoomService
    summaries: SummaryService
    # `/session end` and the check-in form: built once, with the features' hooks below.
    ending: SessionEnding
    checking_in: CheckingIn
    agenda: Agenda  # run sheets: `/next`, the controls
    zoom_meetings: ZoomMeetings  # sessions' Zoom meetings (works Slack-only without credentials)
    # The one thread calling Zoom, and Zoom's health; None without Zoom credentials.
    zoom_worker: ZoomWorker | None = None
    zoom_health: ZoomHealth | None = None
    # Polls on Zoom: the launch check and the end hooks (`on_meeting_ended` for the webhooks).
    zoom_polls: ZoomPolls | None = None
    socket_mode: bool = False  # no webhooks reach the bot: Zoom presence comes from polling
    # Lines for `/session status` "Running now" (open polls, the current round, ...).
    status_lines: list[StatusLine] = field(default_factory=list)
    agenda_lines: StatusLine | None = None  # the run sheet's steps in `/session status`
    # Run at start-up: close what became overdue while the bot was down, reschedule the rest.
    recover: list[Callable[[], None]] = field(default_factory=list)
    # Zoom: the webhook endpoint's checks and event handlers, and who is in the meeting.
    zoom_webhook: ZoomWebhook | None = None
    presence: ZoomPresence | None = None
    # This process's name (REPLICA_NAME), and whether it leads the replicas sharing the
    # database: a lone bot always does; leader election sets its own check.
    replica: str = ""
    is_leader: Callable[[], bool] = field(default=lambda: True)
    # Which replica leads (PostgreSQL); None: this process alone runs everything.
    leadership: Leadership | None = None
    # The privacy notice shown at check-in (PRIVACY_NOTICE_URL / _TEXT, DATA_RETENTION_DAYS).
    privacy: PrivacyNotice = field(default_factory=PrivacyNotice)
    # DATA_RETENTION_DAYS set: the daily purge of older sessions' people.
    retention: Retention | None = None

    @property
    def on_session_end(self) -> list[EndHook]:
        """Run right after a session's end is committed, in order: close polls, end rounds.

        Each takes the ended session and commits on its own (queuing its own posts); "has
        ended" and the summary are queued after the last one.
        """
        return self.ending.on_session_end

    @property
    def after_session_end(self) -> list[EndReport]:
        """Reports on an ended session (the summary), queued with "has ended" in its
        transaction: each takes that transaction and the session."""
        return self.ending.after_session_end

    @property
    def on_check_in(self) -> list[CheckInHook]:
        """Run after a check-in is committed (a late arrival joins a breakout room)."""
        return self.checking_in.on_check_in

    def start_background(self) -> None:
        """Start the background work: on the leader (SQLite: always) the deadlines, the sender
        and the Zoom worker; on every replica, listening for what concerns the leader."""
        self.deadlines.every("prune-deliveries", self.sessions.prune_deliveries, minutes=10)
        self.deadlines.every("prune-outbox", self.outbox.prune, minutes=60)
        if self.zoom_worker is not None:
            self.deadlines.every("prune-zoom-tasks", self.zoom_worker.prune, minutes=60)
        if self.retention is not None:
            purge = self.retention.run
            self.deadlines.every("purge", purge, minutes=24 * 60)
            # A purge's scrub the database was too busy for is tried again.
            scrub = self.retention.scrub_pending
            self.deadlines.every("purge-scrub", scrub, minutes=SCRUB_RETRY_MINUTES)
            soon = self.clock.now() + PURGE_AFTER_START
            self.deadlines.schedule("purge-at-start", purge, soon)  # and once, soon after start
        self.deadlines.start(paused=True)
        leadership = self.leadership
        if leadership is None:
            self._lead(0)
            return
        leadership.on_lead.append(self._lead)
        leadership.on_lose.append(self._follow)
        leadership.on_notice.setdefault("deadline", []).append(self.deadlines.relayed)
        leadership.on_notice.setdefault("outbox", []).append(lambda _text: self.outbox.wake())
        if self.zoom_worker is not None:
            worker = self.zoom_worker
            leadership.on_notice.setdefault("zoom", []).append(lambda _text: worker.wake())
        self.deadlines.relay = lambda job: leadership.notify("deadline", job)
        leadership.start()

    def _lead(self, epoch: int) -> None:
        """This replica leads: recover deadlines, then run them, send, call Zoom."""
        self.deadlines.relay = None
        if self.leadership is not None:
            self.outbox.take_over(epoch)  # what the last leader may still be sending waits
        for step in self.recover:
            step()
        self.deadlines.resume()
        self.outbox.start()
        if self.zoom_worker is not None:
            self.zoom_worker.start()

    def _follow(self) -> None:
        """This replica no longer leads: stop sending and calling Zoom now, hold the deadlines."""
        leadership = self.leadership
        if leadership is not None:
            self.deadlines.relay = lambda job: leadership.notify("deadline", job)
        self.deadlines.pause()
        self.outbox.stop(grace=0)
        if self.zoom_worker is not None:
            self.zoom_worker.stop()

    def stop_background(self) -> None:
        """Stop waking deadlines, send what can be sent in a few seconds, close the database."""
        self.deadlines.stop()
        if self.zoom_worker is not None:
            self.zoom_worker.stop()
        self.outbox.close()
        if self.leadership is not None:
            self.leadership.stop()
        self.db.dispose()
