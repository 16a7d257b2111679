"""The Zoom calls presence needs, run by the Zoom worker: a meeting's registrants (and their
answers to the Role / Place / Group questions), and in Socket Mode, where no webhook reaches
the bot, the live participant list polled while the session runs."""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.clock import Clock
from bot.config import Settings
from bot.outbox import queue
from bot.zoom import presence_effects as effects
from bot.zoom.api import (
    Category,
    ZoomApi,
    ZoomForbidden,
    ZoomNotFound,
    ZoomRejected,
    encode_meeting,
    meeting_path,
)
from bot.zoom.presence import REGISTRANTS_TASK
from bot.zoom.sightings import Questions, metrics_sighting, registrant_sighting
from bot.zoom.tasks import Again, GiveUp, ZoomWorker
from storage import repository as repo
from storage.db import Database
from storage.zoom import meetings as meeting_store
from storage.zoom import presence as presence_store
from storage.zoom.meetings import DueTask, ZoomMeeting
from storage.zoom.people import FROM_METRICS, METRICS_TASK, is_inside

logger = logging.getLogger(__name__)

METRICS_PAGE = 300  # Zoom's largest page: a 300-person meeting in one Heavy call
REFUSED = "live participants need a Zoom Business plan"


class PresenceTasks:
    """The worker's registrants and live metrics handlers."""

    def __init__(self, db: Database, clock: Clock, settings: Settings) -> None:
        self.db = db
        self.clock = clock
        self.interval = timedelta(seconds=settings.ZOOM_METRICS_SECONDS)
        self.questions = Questions(
            role=settings.ZOOM_ROLE_QUESTION,
            place=settings.ZOOM_PLACE_QUESTION,
            group=settings.ZOOM_GROUP_QUESTION,
        )

    def register(self, worker: ZoomWorker) -> None:
        """Give the worker the handlers of both task kinds."""
        worker.register(REGISTRANTS_TASK, self.fetch_registrants)
        worker.register(METRICS_TASK, self.poll_live)

    def _running_meeting(self, session_id: int) -> ZoomMeeting | None:
        """The session's meeting while the session runs with it (None: nothing to do)."""
        with self.db.read() as db:
            session = repo.get_session(db, session_id=session_id)
            meeting = meeting_store.meeting_of(db, session_id=session_id)
            if session is None or session.ended_at is not None or meeting is None:
                return None
            if meeting.problem:
                return None
            db.expunge(meeting)
            return meeting

    def fetch_registrants(self, api: ZoomApi, task: DueTask) -> GiveUp | None:
        """GET /meetings/{id}/registrants (every page): each registrant recorded, their
        answers made their check-in. Idempotent: a second run finds the same people."""
        meeting = self._running_meeting(task.session_id)
        if meeting is None:
            return None
        path = meeting_path(meeting.meeting_id) + "/registrants"
        try:
            rows = list(api.pages(path, category=Category.MEDIUM, key="registrants"))
        except (ZoomNotFound, ZoomRejected, ZoomForbidden) as error:
            # Registration off for the meeting (Zoom answers 400, code 3000), or not allowed.
            return GiveUp(f"no registrants: {error}")
        now = self.clock.now()
        with self.db.transaction() as db:
            for row in rows:
                parsed = registrant_sighting(row, self.questions)
                if parsed is not None:
                    sighting, answers = parsed
                    presence_store.apply_registrant(
                        db, session_id=task.session_id, sighting=sighting, answers=answers, now=now
                    )
        logger.info("session %s: %d Zoom registrants", task.session_id, len(rows))
        return None

    def poll_live(self, api: ZoomApi, task: DueTask) -> Again | GiveUp | None:
        """GET /metrics/meetings/{id}/participants?type=live (every page) and apply it as a
        snapshot: each row's own join and leave times, and whoever it no longer lists has left.
        Runs again every ZOOM_METRICS_SECONDS until the session ends; a plan below Business
        stops it, and the facilitators are told once."""
        meeting = self._running_meeting(task.session_id)
        if meeting is None:
            return None  # the session ended: stop polling
        path = f"/metrics/meetings/{encode_meeting(meeting.meeting_id)}/participants"
        try:
            rows = list(
                api.pages(
                    path,
                    category=Category.HEAVY,
                    key="participants",
                    params={"type": "live"},
                    page_size=METRICS_PAGE,
                )
            )
        except ZoomForbidden:
            with self.db.transaction() as db:
                queue(db, effects.presence_unavailable(task.session_id), now=self.clock.now())
            return GiveUp(REFUSED)
        except ZoomNotFound:
            rows = []  # not live (not started yet, or over): nobody is in it
        except ZoomRejected as error:
            logger.warning("session %s: live participants refused: %s", task.session_id, error)
            return Again(at=self.clock.now() + self.interval)
        now = self.clock.now()
        with self.db.transaction() as db:
            still_in: set[str] = set()
            still_in_rooms: set[tuple[str, str]] = set()
            for row in rows:
                sighting = metrics_sighting(row)
                if sighting is None:
                    continue
                presence_store.apply_sighting(
                    db, session_id=task.session_id, sighting=sighting, source=FROM_METRICS, now=now
                )
                if is_inside(sighting.joined_at, sighting.left_at):
                    if sighting.room_uuid is None:
                        still_in.add(sighting.identity)
                    else:
                        still_in_rooms.add((sighting.identity, sighting.room_uuid))
            presence_store.leave_all(
                db,
                session_id=task.session_id,
                at=now,
                source=FROM_METRICS,
                still_in=still_in,
                still_in_rooms=still_in_rooms,
            )
        return Again(at=now + self.interval)
