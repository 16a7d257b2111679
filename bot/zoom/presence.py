"""Who is in a session's Zoom meeting, and in which breakout room: the webhook events applied,
Slack people matched to Zoom people by email, and what `/session status` says of it.

Presence is computed from each event's own times (`join_time`, `leave_time`): the latest join
and the latest leave of each person (and of each breakout room) are kept, so a retry arriving up
to 85 minutes late, or events out of order, change nothing. Zoom's events carry no id: each
applied event's content digest is kept (`ZoomEventSeen`) for a few hours, so a retry or a
replay is recognised. Events for a meeting no running session uses are ignored.

Webhook handlers run inside Zoom's request (Zoom wants an answer within 3 s): database writes
only; the Zoom calls they lead to (registrants) are queued as Zoom tasks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from bot.clock import Clock
from bot.config import Settings
from bot.outbox import queue
from bot.zoom import presence_effects as effects
from bot.zoom.service import parse_zoom_time
from bot.zoom.sightings import (
    JOINED,
    JOINED_ROOM,
    LEFT,
    LEFT_ROOM,
    MEETING_ENDED,
    MEETING_STARTED,
    MeetingRef,
    event_digest,
    event_object,
    event_time,
    meeting_ref,
    participant_sighting,
)
from bot.zoom.webhook import ZoomWebhook
from storage import repository as repo
from storage.db import Database
from storage.models import ListeningSession
from storage.zoom import meetings as meeting_store
from storage.zoom import people as people_store
from storage.zoom import presence as presence_store
from storage.zoom.meetings import ZoomMeeting
from storage.zoom.people import METRICS_TASK, PresenceCounts

REGISTRANTS_TASK = "zoom.registrants"
# Zoom retries a webhook 5, 25 and 85 minutes after the event: digests are kept well past that.
EVENT_MEMORY = timedelta(hours=3)
# A Slack person whose profile had no email is looked up again after this.
EMAIL_RETRY = timedelta(days=1)

# Takes the meeting.ended event's unit of work and the session id; runs in it, so a failing
# hook rolls the end back and Zoom delivers it again.
MeetingEndedHook = Callable[[Session, int], object]


def queue_registrants(
    db: Session, session_id: int, now: datetime, *, started: bool = False
) -> None:
    """Queue what a session learns once its meeting is bound: the registrants (and their
    answers) from Zoom, and the emails of its checked-in Slack people. Call it in the
    transaction that binds the meeting, only when Zoom is configured; the bot calls it again
    (`started`) when an instance starts, for the people who registered since."""
    meeting = meeting_store.meeting_of(db, session_id=session_id)
    instance = (meeting.uuid if meeting else None) or "bound"
    if started:
        instance += ":started"
    meeting_store.add_task(
        db,
        key=f"zoom:{session_id}:registrants:{instance}",
        kind=REGISTRANTS_TASK,
        session_id=session_id,
        now=now,
    )
    queue_slack_emails(db, session_id, now)


def queue_metrics(db: Session, session_id: int, now: datetime) -> None:
    """Start polling the meeting's live participants, every ZOOM_METRICS_SECONDS until the
    session ends (Socket Mode, where no webhook can reach the bot). Call it in the transaction
    that binds the meeting, only when Zoom is configured."""
    meeting_store.add_task(
        db, key=f"zoom:{session_id}:metrics", kind=METRICS_TASK, session_id=session_id, now=now
    )


def queue_slack_emails(db: Session, session_id: int, now: datetime) -> None:
    """Queue the users.info look-ups of the session's checked-in Slack people whose email the
    bot does not know yet (one per person and session)."""
    fresh = now - EMAIL_RETRY
    for user_id in people_store.checked_in_slack_people(db, session_id=session_id):
        if not people_store.slack_email_known(db, user_id=user_id, looked_up_after=fresh):
            queue(db, effects.slack_email_lookup(session_id=session_id, user_id=user_id), now=now)


class ZoomPresence:
    """Applies Zoom's presence webhooks and matches Zoom people to Slack people.

    Args:
        db: the database.
        clock: the bot's clock.
        settings: whether Zoom's API is configured (else no Zoom call is queued).
        live_metrics: poll Zoom's live participants (Socket Mode: no webhook reaches the bot).
    """

    def __init__(
        self, db: Database, clock: Clock, settings: Settings, *, live_metrics: bool = False
    ) -> None:
        self.db = db
        self.clock = clock
        self.zoom_enabled = settings.zoom_enabled
        # Run in the meeting.ended event's transaction (queueing the poll results' fetch, ...).
        self.on_meeting_ended: list[MeetingEndedHook] = []
        self.live_metrics = live_metrics

    def register(self, webhook: ZoomWebhook) -> None:
        """Handle the six presence events of `webhook`."""
        webhook.on(MEETING_STARTED, self.meeting_started)
        webhook.on(MEETING_ENDED, self.meeting_ended)
        for event in (JOINED, LEFT, JOINED_ROOM, LEFT_ROOM):
            webhook.on(event, self.participant_event)

    def meeting_bound(self, db: Session, meeting: ZoomMeeting) -> None:
        """The lookup found the session's meeting (in its transaction): fetch the registrants
        and the Slack people's emails, and in Socket Mode start polling live participants."""
        if not self.zoom_enabled:
            return
        now = self.clock.now()
        queue_registrants(db, meeting.session_id, now)
        if self.live_metrics:
            queue_metrics(db, meeting.session_id, now)

    # -- webhook events --------------------------------------------------------------------

    def meeting_started(self, envelope: dict[str, Any], received_at: datetime) -> None:
        """Bind the new instance (uuid, start) to the sessions using the meeting."""
        obj = event_object(envelope)
        ref = meeting_ref(obj)
        if ref.meeting_id is None:
            return
        started = parse_zoom_time(obj.get("start_time")) or event_time(envelope) or received_at
        with self.db.transaction() as db:
            sessions = self._sessions(db, ref, started)
            if not sessions or not self._first_time(db, envelope, received_at):
                return
            for session_id, meeting in sessions:
                self._bind(db, session_id, meeting, ref.uuid, started, received_at, start=True)
                if self.zoom_enabled:
                    queue_registrants(db, session_id, received_at, started=True)

    def meeting_ended(self, envelope: dict[str, Any], received_at: datetime) -> None:
        """Note the end; everyone still in leaves at it; `on_meeting_ended` runs with it."""
        obj = event_object(envelope)
        ref = meeting_ref(obj)
        ended = parse_zoom_time(obj.get("end_time")) or event_time(envelope) or received_at
        started = parse_zoom_time(obj.get("start_time")) or ended
        # One transaction with the hooks: should one fail, nothing is recorded (the event not
        # marked seen either), the webhook answers 500, and Zoom delivers the end again.
        with self.db.transaction() as db:
            sessions = self._sessions(db, ref, started)
            if not sessions or not self._first_time(db, envelope, received_at):
                return
            for session_id, meeting in sessions:
                if self._bind(db, session_id, meeting, ref.uuid, started, received_at):
                    meeting = meeting_store.meeting_of(db, session_id=session_id) or meeting
                if meeting.ended_at is not None:
                    continue
                meeting_store.save_meeting(db, session_id=session_id, ended_at=ended)
                presence_store.leave_all(db, session_id=session_id, at=ended)
                for hook in self.on_meeting_ended:
                    hook(db, session_id)

    def participant_event(self, envelope: dict[str, Any], received_at: datetime) -> None:
        """Apply a join or leave (main meeting or breakout room) to the sessions using it."""
        sighting = participant_sighting(envelope)
        if sighting is None:
            return
        ref = meeting_ref(event_object(envelope))
        at = sighting.joined_at or sighting.left_at
        assert at is not None  # a sighting of an event has its time
        with self.db.transaction() as db:
            sessions = self._sessions(db, ref, at)
            if not sessions or not self._first_time(db, envelope, received_at):
                return
            for session_id, meeting in sessions:
                if self._bind(db, session_id, meeting, ref.uuid, at, received_at):
                    meeting = meeting_store.meeting_of(db, session_id=session_id) or meeting
                presence_store.apply_sighting(
                    db,
                    session_id=session_id,
                    sighting=sighting,
                    source=people_store.FROM_WEBHOOKS,
                    now=received_at,
                )
                if meeting.ended_at is not None:
                    # Delivered after the end (a retry): whoever it brings in left at the end.
                    presence_store.leave_all(db, session_id=session_id, at=meeting.ended_at)

    def _sessions(
        self, db: Session, ref: MeetingRef, at: datetime
    ) -> list[tuple[int, ZoomMeeting]]:
        """The running sessions an event (its own time `at`) is theirs: bound to its meeting id
        or uuid, and not to a later instance than the event's (Zoom's late retry of an earlier
        instance's event, a recurring meeting's last one)."""
        found = []
        for session_id in meeting_store.sessions_for_meeting(
            db, meeting_id=ref.meeting_id, uuid=ref.uuid
        ):
            meeting = meeting_store.meeting_of(db, session_id=session_id)
            if meeting is None:
                continue
            other = ref.uuid is not None and meeting.uuid is not None and meeting.uuid != ref.uuid
            if other and meeting.started_at is not None and at <= meeting.started_at:
                continue
            found.append((session_id, meeting))
        return found

    def _bind(
        self,
        db: Session,
        session_id: int,
        meeting: ZoomMeeting,
        uuid: str | None,
        at: datetime,
        received_at: datetime,
        *,
        start: bool = False,
    ) -> bool:
        """Bind the instance an event (its own time `at`) is of, when it is not the bound one:
        a meeting.started, or an event of an instance whose start the bot has not had (it comes
        later, or came before the bot ran). `_sessions` has left out older instances' events.

        Returns:
            Whether the meeting row changed.
        """
        if uuid is None:
            return False  # nothing tells the instances apart
        if uuid == meeting.uuid:
            # The lookup's uuid, or an instance first seen by a later event than its start.
            if meeting.started_at is not None and not (start and at < meeting.started_at):
                return False
            meeting_store.save_meeting(db, session_id=session_id, started_at=at)
        else:
            if meeting.uuid is not None:
                # A new instance (the host ended and started again): whoever the last one still
                # had in, should its end have been missed, left by now.
                presence_store.leave_all(db, session_id=session_id, at=at)
            meeting_store.save_meeting(
                db, session_id=session_id, uuid=uuid, started_at=at, ended_at=None
            )
        if self.zoom_enabled:
            queue_registrants(db, session_id, received_at, started=True)
        return True

    def _first_time(self, db: Session, envelope: Mapping[str, Any], now: datetime) -> bool:
        return presence_store.record_event(db, digest=event_digest(envelope), now=now)

    def prune_seen(self) -> int:
        """Forget the digests of events older than Zoom's last retry (a periodic job)."""
        with self.db.transaction() as db:
            return presence_store.prune_events(db, before=self.clock.now() - EVENT_MEMORY)

    # -- Slack people ----------------------------------------------------------------------

    def checked_in(self, session_id: int, user_id: str) -> None:
        """After a Slack check-in: match them to Zoom now if their email is known, else queue
        its look-up (only in sessions with a Zoom meeting)."""
        if people_store.is_zoom_only(user_id):
            return
        # Most sessions have no Zoom meeting: a read, not the writer's lock, tells them apart.
        with self.db.read() as db:
            meeting = meeting_store.meeting_of(db, session_id=session_id)
            if meeting is None or meeting.problem:
                return
        now = self.clock.now()
        with self.db.transaction() as db:
            if self._link_known(db, session_id=session_id, user_id=user_id, now=now):
                return
            if not people_store.slack_email_known(
                db, user_id=user_id, looked_up_after=now - EMAIL_RETRY
            ):
                queue(
                    db, effects.slack_email_lookup(session_id=session_id, user_id=user_id), now=now
                )

    def email_wanted(self, user_id: str) -> bool:
        """Whether a Slack person's email is still to be looked up."""
        with self.db.read() as db:
            return not people_store.slack_email_known(
                db, user_id=user_id, looked_up_after=self.clock.now() - EMAIL_RETRY
            )

    def slack_email_found(self, *, session_id: int, user_id: str, email: str | None) -> None:
        """Keep the email Slack gave (None: none shared) and link the person's Zoom self."""
        now = self.clock.now()
        with self.db.transaction() as db:
            people_store.record_slack_email(db, user_id=user_id, email=email, now=now)
            self._link_known(db, session_id=session_id, user_id=user_id, now=now)

    def link_known_email(self, *, session_id: int, user_id: str) -> None:
        """Link a Slack person whose email is already known (looked up in another session)."""
        with self.db.transaction() as db:
            self._link_known(db, session_id=session_id, user_id=user_id, now=self.clock.now())

    def _link_known(self, db: Session, *, session_id: int, user_id: str, now: datetime) -> bool:
        """Link the session's Zoom people with a Slack person's known email; False if unknown."""
        email = people_store.slack_email(db, user_id=user_id)
        if email:
            presence_store.link_email(
                db, session_id=session_id, user_id=user_id, email=email, now=now
            )
        return email is not None

    def facilitators(self, session_id: int) -> tuple[ListeningSession | None, list[str]]:
        """A session and its own facilitators (its starter first), to tell them something."""
        with self.db.read() as db:
            session = repo.get_session(db, session_id=session_id)
            if session is None:
                return None, []
            own = repo.session_facilitators(db, session_id=session_id)
        return session, [session.started_by, *sorted(own - {session.started_by})]

    # -- status ----------------------------------------------------------------------------

    def counts(self, session: ListeningSession) -> PresenceCounts | None:
        """What `/session status` says of Zoom and Slack people (None: no Zoom meeting)."""
        assert session.id is not None
        with self.db.read() as db:
            meeting = meeting_store.meeting_of(db, session_id=session.id)
            if meeting is None or meeting.problem:
                return None
            return people_store.presence_counts(db, session_id=session.id)
