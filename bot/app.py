"""The one place that builds the Bolt app and everything its listeners use."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from apscheduler.schedulers.background import BackgroundScheduler
from slack_bolt import App, BoltResponse
from slack_sdk import WebClient

from bot import scheduler as scheduling
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.polls import PollService
from bot.rooms import RoomService
from bot.sessions import CheckedIn, SessionService
from bot.slack_client import create_web_client
from bot.summary import SummaryService
from bot.views.polls import poll_status_lines
from storage.db import Database
from storage.models import ListeningSession

logger = logging.getLogger(__name__)

SessionHook = Callable[[ListeningSession], object]
StatusLine = Callable[[ListeningSession], list[str]]
CheckInHook = Callable[[CheckedIn], None]


@dataclass
class Services:
    """What listeners and jobs need: settings, database, clock, Slack client, domain services."""

    settings: Settings
    db: Database
    clock: Clock
    client: WebClient
    scheduler: BackgroundScheduler
    deadlines: scheduling.Deadlines
    sessions: SessionService
    polls: PollService
    rooms: RoomService
    summaries: SummaryService
    # Features hook into a session's end (close polls, end rounds, post the summary) in order.
    on_session_end: list[SessionHook] = field(default_factory=list)
    # Then, once the end is announced: reports of the session (the summary).
    after_session_end: list[SessionHook] = field(default_factory=list)
    # Lines for `/session status` "Running now" (open polls, the current round, ...).
    status_lines: list[StatusLine] = field(default_factory=list)
    # Run at start-up: close what became overdue while the bot was down, reschedule the rest.
    recover: list[Callable[[], None]] = field(default_factory=list)
    # Run after a check-in is committed (a late arrival joins a breakout room).
    on_check_in: list[CheckInHook] = field(default_factory=list)

    def start_background(self) -> None:
        """Start the scheduler and recover deadlines (call once the app is built)."""
        scheduling.bind(self)
        if not self.scheduler.running:
            self.scheduler.start()
        self.scheduler.add_job(
            prune_deliveries_job,
            trigger="interval",
            minutes=10,
            id="prune-deliveries",
            replace_existing=True,
        )
        for step in self.recover:
            step()

    def stop_background(self) -> None:
        """Stop the scheduler without waiting for far-off jobs, and close the database."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        self.db.dispose()


def prune_deliveries_job() -> None:
    """Scheduled: keep the delivery table small."""
    services: Services = scheduling.bound_services()
    services.sessions.prune_deliveries()


def create_services(
    settings: Settings, *, db: Database | None = None, clock: Clock | None = None
) -> Services:
    """Build the services once for the whole process."""
    database = db or Database(settings.DATABASE_URL)
    real_clock = clock or SystemClock()
    scheduler = scheduling.create_scheduler(database.engine)
    deadlines = scheduling.Deadlines(scheduler)
    sessions = SessionService(database, settings, real_clock)
    polls = PollService(database, real_clock, sessions, deadlines)
    rooms = RoomService(database, settings, real_clock, sessions, deadlines)
    summaries = SummaryService(database, real_clock)
    services = Services(
        settings=settings,
        db=database,
        clock=real_clock,
        client=create_web_client(settings),
        scheduler=scheduler,
        deadlines=deadlines,
        sessions=sessions,
        polls=polls,
        rooms=rooms,
        summaries=summaries,
    )
    services.on_session_end.append(polls.close_for_session)
    services.status_lines.append(lambda session: poll_status_lines(polls.open_states(session)))
    services.recover.append(polls.recover)
    services.on_session_end.append(rooms.end_for_session)
    services.status_lines.append(rooms.status_lines)
    services.recover.append(rooms.recover)
    services.on_check_in.append(rooms.join_late)
    # After the end is announced: the summary shows the polls just closed and the round just ended.
    services.after_session_end.append(lambda session: summaries.post_final(session.id or 0))
    services.recover.append(summaries.recover)
    return services


def create_app(services: Services, *, socket_mode: bool = False) -> App:
    """The Bolt app with every listener registered.

    Args:
        services: shared services (see `create_services`).
        socket_mode: no signing secret is needed in Socket Mode (Slack's WebSocket is trusted).
    """
    # Import here: handlers import bot modules, and bot.app must stay importable on its own.
    from handlers import register_all

    settings = services.settings
    app = App(
        client=services.client,
        signing_secret=None if socket_mode else settings.SLACK_SIGNING_SECRET,
        # auth.test at start-up turns a wrong token into one clear error before we listen.
        token_verification_enabled=True,
        process_before_response=False,
        request_verification_enabled=not socket_mode,
    )

    @app.error
    def handle_errors(error: Exception, body: dict[str, object]) -> BoltResponse | None:
        """Log every unhandled listener error once, with the request kind."""
        logger.exception("unhandled error for %s: %s", body.get("type") or "command", error)
        return None

    register_all(app, services)
    return app
