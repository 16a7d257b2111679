"""Zoom polls at launch and at the end: whether a poll also goes to the meeting (or is refused
before anything is posted), and queuing the fetch of Zoom's answers once the meeting is over.

The Zoom calls themselves are the worker's tasks (`bot.zoom_polls.tasks`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import uuid4

from sqlmodel import Session

from bot.clock import Clock
from bot.outbox import queue
from bot.parsing import escape_mrkdwn
from bot.polls import PollRequest
from bot.results import Refusal, Within
from bot.zoom_polls.effects import NOT_ADDED, zoom_poll_note
from bot.zoom_polls.rules import INSTANT, ZOOM_ANSWERS_MAX, ZOOM_TITLE_MAX, zoom_limit_problem
from storage.db import Database
from storage.models import ListeningSession
from storage.zoom import meetings as meeting_store
from storage.zoom import polls as store
from storage.zoom.meetings import ZoomMeeting

# The worker's tasks.
CREATE = "zoom.poll_create"  # POST /meetings/{meetingId}/polls
RESULTS = "zoom.poll_results"  # GET /past_meetings/{uuid}/polls, every 2 minutes
DELETE = "zoom.poll_delete"  # DELETE /meetings/{meetingId}/polls/{pollId} (recurring meetings)

# Zoom publishes a meeting's poll answers some time after it ends (no source says how long).
FETCH_EVERY = timedelta(minutes=2)
FETCH_FOR = timedelta(hours=2)
# Before merging, the Slack voters' emails are looked up (users.info): how often to look
# whether Slack has answered, and how long to wait for it after a poll's close at most.
EMAIL_EVERY = timedelta(seconds=30)
EMAIL_WAIT = timedelta(minutes=10)

NOTHING_POSTED = "Nothing was posted."
NO_CREDENTIALS = (
    "Zoom is not connected to this bot (an organiser sets ZOOM_ACCOUNT_ID, ZOOM_CLIENT_ID and "
    "ZOOM_CLIENT_SECRET), so `--zoom` cannot add the poll to a meeting. Launch it without "
    f"`--zoom`. {NOTHING_POSTED}"
)
NO_MEETING = (
    "This session has no Zoom meeting, so `--zoom` cannot add the poll to one. Start the "
    'session with `/session start "&lt;title&gt;" --zoom &lt;meeting id or join URL&gt;`, '
    f"or launch the poll without `--zoom`. {NOTHING_POSTED}"
)


def results_key(session_id: int, trigger: str, instance: str | None = None) -> str:
    """The key of a session's fetch of Zoom answers: one per trigger (meeting end, session end)
    and meeting instance (a host who ends and starts again makes a new one, with new answers)."""
    key = f"zoom:{session_id}:poll-results:{trigger}"
    return f"{key}:{instance}" if instance else key


def queue_results(
    db: Session, session_id: int, now: datetime, *, trigger: str = "meeting-ended"
) -> bool:
    """Queue the fetch of a session's Zoom answers, in the caller's transaction.

    Every 2 minutes for up to 2 hours (from now, or from a poll's close if it is still open in
    Slack), since Zoom publishes them late. The answers are those of the meeting's instance now
    (its uuid). Nothing is queued when no poll of the session went to Zoom; once per trigger and
    instance.

    Returns:
        Whether a fetch was queued now.
    """
    waiting = store.zoom_polls_of(
        db, session_id=session_id, statuses=(store.CREATING, store.CREATED)
    )
    if not waiting:
        return False
    meeting = meeting_store.meeting_of(db, session_id=session_id)
    instance = meeting.uuid if meeting is not None else None
    return meeting_store.add_task(
        db,
        key=results_key(session_id, trigger, instance),
        kind=RESULTS,
        session_id=session_id,
        now=now,
        args={"since": now.isoformat(), "uuid": instance},
    )


class ZoomPolls:
    """Zoom's side of polls: the launch check, and the fetch of answers after the meeting.

    Args:
        db: the database.
        clock: the bot's clock.
        connected: whether Zoom credentials are set (there is a worker to run the tasks).
        by_default: ZOOM_POLLS_DEFAULT: every poll of a session bound to a meeting goes too.
    """

    def __init__(self, db: Database, clock: Clock, *, connected: bool, by_default: bool) -> None:
        self.db = db
        self.clock = clock
        self.connected = connected
        self.by_default = by_default

    def check_launch(
        self, db: Session, session: ListeningSession, request: PollRequest
    ) -> Refusal | Within | None:
        """`PollService`'s launch check: refuse a `--zoom` poll the meeting cannot carry, or
        say what to add with the poll (its Zoom row and the create task); None: Slack only."""
        if request.zoom is False or session.id is None:
            return None
        meeting = meeting_store.meeting_of(db, session_id=session.id)
        if request.zoom is None:
            # The default follows the meeting quietly: no Zoom, no meeting, no word about it.
            if not (self.by_default and self.connected and meeting and not meeting.problem):
                return None
            cannot = _cannot_carry(request, meeting)
            if cannot is not None:
                return _not_added(session.id, meeting.meeting_id, cannot[0], now=self.clock.now())
            return self._add(session.id, meeting.meeting_id)
        if not self.connected:
            return Refusal(NO_CREDENTIALS)
        if meeting is None:
            return Refusal(NO_MEETING)
        if meeting.problem:
            return Refusal(
                f"This session runs without Zoom ({escape_mrkdwn(meeting.problem)}), so `--zoom` "
                f"cannot add the poll to the meeting. Launch it without `--zoom`. {NOTHING_POSTED}"
            )
        cannot = _cannot_carry(request, meeting)
        if cannot is not None:
            problem, advice = cannot
            return Refusal(
                f"Zoom cannot carry this poll: {problem}. {advice}, or launch the poll without "
                f"`--zoom`. {NOTHING_POSTED}"
            )
        return self._add(session.id, meeting.meeting_id)

    def _add(self, session_id: int, meeting_id: str) -> Within:
        """What a poll going to Zoom adds in its launch's transaction."""

        def add(db: Session, poll_id: int) -> None:
            now = self.clock.now()
            store.add_zoom_poll(
                db, poll_id=poll_id, session_id=session_id, meeting_id=meeting_id, now=now
            )
            # A poll id can come back after its poll was undone: the key must not.
            meeting_store.add_task(
                db,
                key=f"zoom:poll:{poll_id}:create:{uuid4().hex[:12]}",
                kind=CREATE,
                session_id=session_id,
                now=now,
                args={"poll_id": poll_id},
            )

        return add

    def zoom_side(self, poll_id: int) -> store.ZoomPoll | None:
        """A poll's Zoom row, detached (None for a Slack-only poll)."""
        with self.db.read() as db:
            row = store.zoom_poll_of(db, poll_id=poll_id)
            if row is not None:
                db.expunge(row)
            return row

    def on_session_end(self, session: ListeningSession) -> None:
        """Session-end hook: fetch the Zoom answers of the session's polls (committed here)."""
        if not self.connected or session.id is None:
            return
        with self.db.transaction() as db:
            queue_results(db, session.id, self.clock.now(), trigger="session-end")

    def on_meeting_ended(self, db: Session, session_id: int) -> None:
        """Meeting-ended hook (the presence webhooks, in their transaction `db`): fetch the
        Zoom answers of its polls."""
        if not self.connected:
            return
        queue_results(db, session_id, self.clock.now(), trigger="meeting-ended")


def _cannot_carry(request: PollRequest, meeting: ZoomMeeting) -> tuple[str, str] | None:
    """Why Zoom cannot take this poll (its limits, or the meeting's kind), and what would do."""
    if meeting.meeting_type == INSTANT:
        return (
            "Zoom adds polls only to scheduled meetings, and this session's meeting is an "
            "instant one",
            "Schedule the meeting in Zoom",
        )
    problem = zoom_limit_problem(request)
    if problem is None:
        return None
    if len(request.question) > ZOOM_TITLE_MAX:
        return problem, f"Shorten the question to {ZOOM_TITLE_MAX} characters or fewer"
    return problem, f"Give at most {ZOOM_ANSWERS_MAX} options"


def _not_added(session_id: int, meeting_id: str, problem: str, *, now: datetime) -> Within:
    """ZOOM_POLLS_DEFAULT, but Zoom cannot carry the poll: it runs in Slack, and its thread
    says why it is not in the meeting."""

    def add(db: Session, poll_id: int) -> None:
        store.add_zoom_poll(
            db,
            poll_id=poll_id,
            session_id=session_id,
            meeting_id=meeting_id,
            now=now,
            status=store.REFUSED,
            problem=problem,
        )
        queue(db, zoom_poll_note(poll_id, NOT_ADDED), now=now)

    return add
