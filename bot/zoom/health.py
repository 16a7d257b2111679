"""Whether Zoom answers: one warning to each Zoom session's facilitators when it keeps failing,
and one notice when it is back.

The client already retries each call (429, 5xx, timeouts); a task that still fails counts as one
failure here. After FAILURES_BEFORE_WARNING in a row, every running session bound to a Zoom
meeting is marked down and its facilitators are warned (an outbox row keyed by the outage's
number, so it is queued once); the first success after that queues "Zoom is back". A session
started during an outage is warned at the next failure. The outage outlives a restart: it is
read back from the meetings marked down (`recover`).
"""

from __future__ import annotations

import logging
import threading

from bot.clock import Clock
from bot.outbox import PUBLIC, Effect, queue
from storage.db import Database
from storage.zoom import meetings as store

logger = logging.getLogger(__name__)

FAILURES_BEFORE_WARNING = 2
ZOOM_DOWN = "zoom.down"  # "Zoom is not answering: this session carries on in Slack only"
ZOOM_BACK = "zoom.back"  # "Zoom is answering again"


def zoom_notice(session_id: int, kind: str, outage: int) -> Effect:
    """The facilitators' notice of an outage starting (ZOOM_DOWN) or ending (ZOOM_BACK)."""
    word = "down" if kind == ZOOM_DOWN else "back"
    return Effect(
        key=f"zoom:{session_id}:{word}:{outage}",
        kind=kind,
        target=f"session:{session_id}",
        priority=PUBLIC,
        args={"session_id": session_id, "outage": outage},
    )


class ZoomHealth:
    """Counts consecutive Zoom failures and queues the facilitators' notices on each change."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self.down = False
        self.last_error: str | None = None

    def recover(self) -> None:
        """At start-up: Zoom is down if a meeting was left marked down before the restart."""
        with self.db.read() as db:
            marked = bool(store.meetings_marked_down(db))
        with self._lock:
            if marked:
                self.down = True
                self._failures = max(self._failures, FAILURES_BEFORE_WARNING)

    def failed(self, error: str) -> None:
        """A Zoom call failed after the client's retries."""
        with self._lock:
            self._failures += 1
            self.last_error = error
            was_down = self.down
            if not was_down and self._failures < FAILURES_BEFORE_WARNING:
                return
            self.down = True
        if not was_down:
            logger.warning("Zoom keeps failing (%s): sessions carry on in Slack only", error)
        # Already down: this warns only sessions started since (the others are marked).
        self._mark(down=True)

    def succeeded(self) -> None:
        """Zoom answered a call."""
        with self._lock:
            self._failures = 0
            if not self.down:
                return
            self.down = False
        logger.info("Zoom is answering again")
        self._mark(down=False)

    def _mark(self, *, down: bool) -> None:
        now = self.clock.now()
        with self.db.transaction() as db:
            if not down:
                # Ended sessions keep no outage either ("back" is only told to running ones).
                store.clear_down_of_ended(db)
            for meeting in store.running_zoom_meetings(db):
                if down and meeting.down_since is None:
                    outage = meeting.outages + 1
                    store.save_meeting(
                        db, session_id=meeting.session_id, outages=outage, down_since=now
                    )
                    queue(db, zoom_notice(meeting.session_id, ZOOM_DOWN, outage), now=now)
                elif not down and meeting.down_since is not None:
                    store.save_meeting(db, session_id=meeting.session_id, down_since=None)
                    notice = zoom_notice(meeting.session_id, ZOOM_BACK, meeting.outages)
                    queue(db, notice, now=now)
