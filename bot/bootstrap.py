"""The composition root: builds settings, database, services, the Slack app and its listeners.

The only module (with `bot.cli`) that imports `handlers`, to register them.
"""

from __future__ import annotations

import logging

from slack_bolt import App, BoltResponse

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.leadership import Leadership
from bot.polls import PollService
from bot.privacy.notice import PrivacyNotice
from bot.privacy.retention import Retention
from bot.rooms import PREASSIGN_TASK, RoomService
from bot.rooms.zoom_task import preassign_handler
from bot.runsheets.library import RunSheetLibrary
from bot.runsheets.running import Agenda
from bot.scheduler import Deadlines
from bot.services import Services
from bot.sessions import CheckingIn, SessionEnding, SessionService
from bot.slack.budgets import Budgets
from bot.slack.client import create_web_client
from bot.slack.polls import register_poll_effects
from bot.slack.rooms import register_rooms_effects
from bot.slack.runsheets import register_runsheet_effects
from bot.slack.sender import OutboxSender
from bot.slack.sessions import register_session_effects
from bot.slack.summaries import register_summary_effects
from bot.slack.zoom_meeting import register_zoom_meeting_effects
from bot.slack.zoom_people import register_zoom_people_effects
from bot.slack.zoom_polls import register_zoom_poll_effects
from bot.slack.zoom_rooms import register_zoom_room_effects
from bot.summaries import SummaryService
from bot.views.polls import poll_status_lines
from bot.views.runsheets import agenda_status_lines
from bot.views.zoom import presence_status_lines
from bot.views.zoom_meeting import zoom_status_lines
from bot.views.zoom_rooms import zoom_room_status_lines
from bot.zoom.api import zoom_api_from_settings
from bot.zoom.health import ZoomHealth
from bot.zoom.presence import ZoomPresence
from bot.zoom.presence_tasks import PresenceTasks
from bot.zoom.service import LOOKUP, ZoomMeetings
from bot.zoom.tasks import ZoomWorker
from bot.zoom.webhook import ZoomWebhook
from bot.zoom_polls.service import ZoomPolls
from bot.zoom_polls.tasks import ZoomPollTasks
from handlers import register_all
from storage.db import Database

logger = logging.getLogger(__name__)


def create_services(
    settings: Settings,
    *,
    db: Database | None = None,
    clock: Clock | None = None,
    socket_mode: bool = False,
) -> Services:
    """Build the services once for the whole process.

    Args:
        socket_mode: the app runs over Socket Mode (no public URL, so no Zoom webhooks: the
            live meeting's participants are polled instead).
    """
    database = db or Database(settings.DATABASE_URL)
    real_clock = clock or SystemClock()
    deadlines = Deadlines(clock=real_clock)
    sessions = SessionService(database, settings, real_clock)
    polls = PollService(
        database, real_clock, sessions, deadlines, min_group=settings.REPORT_MIN_GROUP
    )
    rooms = RoomService(database, settings, real_clock, sessions, deadlines)
    summaries = SummaryService(database, real_clock, min_group=settings.REPORT_MIN_GROUP)
    agenda = Agenda(
        database,
        real_clock,
        sessions=sessions,
        polls=polls,
        rooms=rooms,
        library=RunSheetLibrary(database, real_clock),
    )
    # One budget of Slack's rate limits for every call the process makes.
    budgets = Budgets(scale=settings.SLACK_RATE_SCALE)
    # Zoom is optional: without credentials there is no API, no worker, and sessions started
    # with --zoom are told they run in Slack only.
    zoom_api = zoom_api_from_settings(settings)
    zoom_health = ZoomHealth(database, real_clock) if zoom_api is not None else None
    zoom_meetings = ZoomMeetings(database, real_clock, api=zoom_api, health=zoom_health)
    # Several replicas may share PostgreSQL: one leads (SQLite: this process, alone).
    leadership = None
    if not database.is_sqlite:
        leadership = Leadership(database, real_clock, settings.REPLICA_NAME)
        database.notices_from = settings.REPLICA_NAME
    zoom_worker = (
        ZoomWorker(
            database,
            real_clock,
            zoom_api,
            zoom_health,
            fence=leadership.fence if leadership is not None else None,
        )
        if zoom_api is not None and zoom_health is not None
        else None
    )
    deadlines.serve(polls)
    deadlines.serve(rooms)
    services = Services(
        settings=settings,
        replica=settings.REPLICA_NAME,
        db=database,
        clock=real_clock,
        client=create_web_client(settings, budgets),
        deadlines=deadlines,
        outbox=OutboxSender(
            database,
            real_clock,
            budgets=budgets,
            fence=leadership.fence if leadership is not None else None,
        ),
        sessions=sessions,
        polls=polls,
        rooms=rooms,
        summaries=summaries,
        ending=SessionEnding(sessions),
        checking_in=CheckingIn(sessions),
        agenda=agenda,
        zoom_meetings=zoom_meetings,
        zoom_worker=zoom_worker,
        zoom_health=zoom_health,
        socket_mode=socket_mode,
        leadership=leadership,
        privacy=PrivacyNotice.from_settings(settings),
    )
    if leadership is not None:
        services.is_leader = lambda: leadership.is_leader
    if leadership is not None:
        leadership.on_replicas.append(budgets.share)
    register_session_effects(
        services.outbox, client=services.client, sessions=sessions, privacy=services.privacy
    )
    register_summary_effects(
        services.outbox,
        client=services.client,
        summaries=summaries,
        summary_channel=settings.SUMMARY_CHANNEL,
    )
    register_poll_effects(
        services.outbox, client=services.client, polls=polls, privacy=services.privacy
    )
    services.on_session_end.append(polls.close_for_session)
    services.status_lines.append(lambda session: poll_status_lines(polls.open_states(session)))
    services.recover.append(polls.recover)
    register_rooms_effects(services.outbox, client=services.client, rooms=rooms)
    services.on_session_end.append(rooms.end_for_session)
    services.status_lines.append(rooms.status_lines)
    services.recover.append(rooms.recover)
    services.on_check_in.append(rooms.join_late)
    # Queued with "has ended", after the hooks: it shows the polls just closed and the round ended.
    services.after_session_end.append(summaries.queue_final)
    services.recover.append(summaries.recover)
    register_runsheet_effects(services.outbox, client=services.client, agenda=agenda)
    sessions.on_start.append(agenda.queue_start)
    services.on_session_end.append(agenda.refresh_controls)
    services.agenda_lines = lambda session: agenda_status_lines(agenda.view(session))
    _wire_zoom(services)
    _wire_zoom_presence(services)
    _wire_zoom_rooms(services)
    if settings.DATA_RETENTION_DAYS is not None:
        services.retention = Retention(
            database,
            real_clock,
            settings.DATA_RETENTION_DAYS,
            min_group=settings.REPORT_MIN_GROUP,
            end_abandoned=services.ending.end_abandoned,
        )
    return services


def _wire_zoom(services: Services) -> None:
    """The Zoom parts: the meeting binding and lookup, their posts, status and the worker."""
    meetings = services.zoom_meetings
    services.sessions.on_start.append(meetings.bind)
    register_zoom_meeting_effects(
        services.outbox,
        client=services.client,
        sessions=services.sessions,
        meetings=meetings,
        health=services.zoom_health,
    )
    services.status_lines.append(
        lambda session: zoom_status_lines(meetings.meeting(session.id or 0), down=meetings.down())
    )
    worker = services.zoom_worker
    health = services.zoom_health
    if worker is not None:
        worker.register(LOOKUP, meetings.look_up)
    if worker is not None and health is not None:
        # Zoom's health is judged by the calls themselves, not by the tasks that make them.
        worker.api.on_answer = health.succeeded
        worker.api.on_unavailable = health.failed
        services.recover.append(health.recover)
    _wire_zoom_polls(services)


def _wire_zoom_polls(services: Services) -> None:
    """Polls on Zoom: the launch check, their posts, the fetch of answers at the end, the tasks."""
    worker = services.zoom_worker
    zoom_polls = ZoomPolls(
        services.db,
        services.clock,
        connected=worker is not None,
        by_default=services.settings.ZOOM_POLLS_DEFAULT,
    )
    services.zoom_polls = zoom_polls
    services.polls.launch_checks.append(zoom_polls.check_launch)
    register_zoom_poll_effects(
        services.outbox, client=services.client, polls=services.polls, zoom_polls=zoom_polls
    )
    # After the polls' own hook: the polls are closed by then.
    services.on_session_end.append(zoom_polls.on_session_end)
    if worker is not None:
        for kind, handler in ZoomPollTasks(services.db, services.clock).handlers().items():
            worker.register(kind, handler)


def _wire_zoom_presence(services: Services) -> None:
    """Zoom presence: the webhook events it handles, Slack emails looked up through the outbox,
    Slack check-ins matched to Zoom people, its `/session status` lines, its housekeeping."""
    # No webhook reaches a Socket Mode bot: it polls Zoom's live participants instead.
    presence = ZoomPresence(
        services.db, services.clock, services.settings, live_metrics=services.socket_mode
    )
    webhook = ZoomWebhook(services.settings.ZOOM_WEBHOOK_SECRET_TOKEN, services.clock)
    presence.register(webhook)
    services.zoom_webhook = webhook
    services.presence = presence
    register_zoom_people_effects(services.outbox, client=services.client, presence=presence)
    services.on_check_in.append(
        lambda checked: presence.checked_in(
            checked.participant.session_id, checked.participant.user_id
        )
    )
    services.status_lines.append(lambda session: presence_status_lines(presence.counts(session)))
    services.deadlines.every("prune-zoom-events", presence.prune_seen, minutes=30)
    services.zoom_meetings.on_bound.append(presence.meeting_bound)
    if services.zoom_polls is not None:
        # Zoom's answers to the session's polls are fetched once the meeting has ended (queued
        # in the meeting.ended event's transaction).
        presence.on_meeting_ended.append(services.zoom_polls.on_meeting_ended)
    if services.zoom_worker is not None:
        PresenceTasks(services.db, services.clock, services.settings).register(services.zoom_worker)


def _wire_zoom_rooms(services: Services) -> None:
    """Breakout rounds on Zoom: the facilitator's CSV and list to paste, who is where in
    `/session status`, and the pre-assignment task."""
    rooms = services.rooms
    register_zoom_room_effects(services.outbox, client=services.client, rooms=rooms)
    services.status_lines.append(
        lambda session: zoom_room_status_lines(rooms.zoom_room_status(session))
    )
    worker = services.zoom_worker
    if worker is not None:
        # A round started before its meeting becomes the meeting's pre-assignment.
        worker.register(PREASSIGN_TASK, preassign_handler(rooms))
        rooms.zoom_wake = worker.wake


def create_app(services: Services, *, socket_mode: bool = False) -> App:
    """The Bolt app with every listener registered.

    Args:
        services: shared services (see `create_services`).
        socket_mode: no signing secret is needed in Socket Mode (Slack's WebSocket is trusted).
    """
    settings = services.settings
    app = App(
        client=services.client,
        signing_secret=None if socket_mode else settings.SLACK_SIGNING_SECRET,
        # auth.test at start-up turns a wrong token into one clear error before we listen.
        token_verification_enabled=True,
        process_before_response=False,
        request_verification_enabled=not socket_mode,
    )
    app.error(handle_errors)
    register_all(app, services)
    return app


def handle_errors(error: Exception, body: dict[str, object]) -> BoltResponse | None:
    """Log every unhandled listener error once, with the request kind."""
    logger.exception("unhandled error for %s: %s", body.get("type") or "command", error)
    return None
