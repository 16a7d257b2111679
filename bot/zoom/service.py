"""A session's Zoom meeting: bound at `/session start --zoom`, looked up by the Zoom worker, and
told to the channel (its topic and start time, or why the session runs without Zoom)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from sqlmodel import Session

from bot.clock import Clock
from bot.outbox import PUBLIC, Effect, queue
from bot.zoom.api import (
    Category,
    ZoomApi,
    ZoomError,
    ZoomForbidden,
    ZoomNotFound,
    ZoomUnavailable,
    meeting_path,
)
from bot.zoom.health import ZoomHealth
from bot.zoom.meetings import format_meeting_id
from storage.db import Database
from storage.models import ListeningSession
from storage.zoom import meetings as store
from storage.zoom.meetings import ERROR_MAX, TOPIC_MAX, DueTask, ZoomMeeting

logger = logging.getLogger(__name__)

LOOKUP = "zoom.lookup"  # the worker's task: GET /meetings/{id}
ZOOM_MEETING = "zoom.meeting"  # the channel post: the meeting found, or why not
NO_CREDENTIALS = (
    "Zoom is not connected to this bot (ZOOM_ACCOUNT_ID, ZOOM_CLIENT_ID and ZOOM_CLIENT_SECRET "
    "are not set)"
)
# Run in the lookup's transaction once a meeting is found (queue registrants, live metrics, ...).
BoundHook = Callable[[Session, ZoomMeeting], object]


def meeting_post(session_id: int) -> Effect:
    """Tell the session's channel what the Zoom lookup found."""
    return Effect(
        key=f"zoom:{session_id}:meeting",
        kind=ZOOM_MEETING,
        target=f"session:{session_id}",
        priority=PUBLIC,
        args={"session_id": session_id},
    )


def parse_zoom_time(value: object) -> datetime | None:
    """A Zoom time ("2026-12-02T14:00:00Z"); None when absent or unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class ZoomMeetings:
    """Binds sessions to Zoom meetings and looks them up."""

    def __init__(
        self, db: Database, clock: Clock, *, api: ZoomApi | None, health: ZoomHealth | None
    ) -> None:
        self.db = db
        self.clock = clock
        self.api = api
        self.health = health
        self.on_bound: list[BoundHook] = []

    @property
    def connected(self) -> bool:
        """Whether Zoom credentials are set."""
        return self.api is not None

    def bind(self, db: Session, session: ListeningSession) -> None:
        """A session started with `--zoom`: bind it and queue the lookup (or, with no Zoom
        credentials, say at once that it runs without Zoom). Runs in the start's transaction."""
        if not session.zoom_meeting_id or session.id is None:
            return
        now = self.clock.now()
        store.bind_meeting(db, session_id=session.id, meeting_id=session.zoom_meeting_id)
        if self.api is None:
            store.save_meeting(db, session_id=session.id, looked_up_at=now, problem=NO_CREDENTIALS)
            queue(db, meeting_post(session.id), now=now)
            return
        store.add_task(
            db, key=f"zoom:{session.id}:lookup", kind=LOOKUP, session_id=session.id, now=now
        )

    def look_up(self, api: ZoomApi, task: DueTask) -> None:
        """The worker's LOOKUP task: GET the meeting, store what Zoom says, tell the channel."""
        with self.db.read() as db:
            meeting = store.meeting_of(db, session_id=task.session_id)
        if meeting is None:
            return
        values: dict[str, object] = {"looked_up_at": self.clock.now(), "problem": None}
        name = format_meeting_id(meeting.meeting_id)
        problem: str | None = None
        found: dict[str, object] | None = None
        try:
            found = api.get(meeting_path(meeting.meeting_id), category=Category.LIGHT)
        except ZoomUnavailable:
            raise  # Zoom cannot answer now: the worker retries the lookup
        except ZoomNotFound:
            problem = f"Zoom has no meeting {name}"
        except ZoomForbidden as error:
            problem = f"this Zoom account cannot see meeting {name} ({error.message})"
        except ZoomError as error:  # refused as asked (e.g. 400: not a valid meeting id)
            problem = f"Zoom refused to look up meeting {name} ({error.message})"
        if problem is not None:
            # The column's limit: PostgreSQL refuses a longer string (Zoom's words can be long).
            values["problem"] = problem[:ERROR_MAX]
        if found is not None:
            values.update(
                topic=str(found.get("topic") or "")[:TOPIC_MAX] or None,
                start_time=parse_zoom_time(found.get("start_time")),
                meeting_type=found.get("type") if isinstance(found.get("type"), int) else None,
                host_id=str(found.get("host_id") or "") or None,
            )
            if found.get("uuid") and meeting.uuid is None:
                values["uuid"] = str(found["uuid"])
        now = self.clock.now()
        with self.db.transaction() as db:
            store.save_meeting(db, session_id=task.session_id, **values)
            queue(db, meeting_post(task.session_id), now=now)
            if found is not None:
                bound = store.meeting_of(db, session_id=task.session_id)
                assert bound is not None
                for hook in self.on_bound:
                    hook(db, bound)

    def meeting(self, session_id: int) -> ZoomMeeting | None:
        """The session's meeting row, detached (None for a Slack-only session)."""
        with self.db.read() as db:
            meeting = store.meeting_of(db, session_id=session_id)
            if meeting is not None:
                db.expunge(meeting)
            return meeting

    def down(self) -> bool:
        """Whether Zoom has kept failing lately."""
        return self.health is not None and self.health.down
