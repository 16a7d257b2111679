"""The Zoom worker: runs the Zoom calls the bot owes, one at a time, from durable task rows.

A Slack request or a webhook never calls Zoom: it commits a `zoom_task` row with its change
(`storage.zoom.meetings.add_task`), and this one thread runs due rows in order. A handler says
what happened: done (None), run again later (`Again`, for repeating work such as fetching poll
results every two minutes), or stop for good (`GiveUp`). Zoom being unavailable is retried with
backoff and reported to `ZoomHealth`, which tells the facilitators once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bot.clock import Clock, real_seconds_until
from bot.zoom.api import ZoomApi, ZoomError, ZoomUnavailable
from bot.zoom.health import ZoomHealth
from storage.db import Database
from storage.zoom import meetings as store
from storage.zoom.meetings import DueTask

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.5  # real seconds between looks at the table when nothing wakes the worker
# Zoom's outages are usually short: try soon, then less often (and every 10 minutes after that).
BACKOFF = tuple(timedelta(seconds=s) for s in (15, 30, 60, 120, 300, 600))
MAX_TRIES_ON_BUGS = 5  # an error that is not Zoom's (a bug) is given up after this many tries


@dataclass(frozen=True)
class Again:
    """Run the task again at `at` (with new `args`, if given); not counted as a failure."""

    at: Any  # datetime, in the bot's clock
    args: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class GiveUp:
    """Stop the task for good, saying why."""

    reason: str


TaskHandler = Callable[[ZoomApi, DueTask], Again | GiveUp | None]


class ZoomWorker:
    """Owns the one thread that calls Zoom."""

    def __init__(self, db: Database, clock: Clock, api: ZoomApi, health: ZoomHealth) -> None:
        self.db = db
        self.clock = clock
        self.api = api
        self.health = health
        self.handlers: dict[str, TaskHandler] = {}
        self._cond = threading.Condition()
        self._woken = False
        self._busy = False
        self._stopping = False
        self._thread: threading.Thread | None = None
        db.on_flag(store.TASK_QUEUED, self.wake)

    def register(self, kind: str, handler: TaskHandler) -> None:
        """Say how to run tasks of `kind`."""
        self.handlers[kind] = handler

    def start(self) -> None:
        """Start running due tasks."""
        if self._thread is not None:
            return
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="zoom-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 20.0) -> None:
        """Finish the task in hand (its HTTP calls have timeouts), then stop."""
        thread = self._thread
        if thread is None:
            return
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        thread.join(timeout)
        self._thread = None

    def wake(self) -> None:
        """Look for due tasks now (call after committing one)."""
        with self._cond:
            self._woken = True
            self._cond.notify_all()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until no task is due and none is running (tests); False on timeout."""
        deadline = threading.Event()
        waited = 0.0
        while waited < timeout:
            with self._cond:
                busy = self._busy or self._woken
            if not busy:
                with self.db.read() as db:
                    due = store.due_tasks(db, now=self.clock.now(), limit=1)
                if not due:
                    return True
            deadline.wait(0.02)
            waited += 0.02
        return False

    def run_due(self) -> int:
        """Run every task due now, in order; returns how many ran (the thread's one round)."""
        ran = 0
        while not self._stopping:
            with self.db.read() as db:
                due = store.due_tasks(db, now=self.clock.now(), limit=10)
            if not due:
                break
            for task in due:
                if self._stopping:
                    break
                self._run_one(task)
                ran += 1
        return ran

    def _run(self) -> None:
        while True:
            with self._cond:
                if self._stopping:
                    return
                self._busy = True
                self._woken = False
            try:
                self.run_due()
            except Exception:
                logger.exception("zoom worker: round failed")
            with self._cond:
                self._busy = False
                if self._stopping:
                    return
                if not self._woken:
                    self._cond.wait(self._idle_wait())

    def _idle_wait(self) -> float:
        try:
            with self.db.read() as db:
                next_at = store.next_due(db)
        except Exception:
            logger.exception("zoom worker: cannot read the next task")
            return POLL_SECONDS
        if next_at is None:
            return POLL_SECONDS
        return max(0.0, min(POLL_SECONDS, real_seconds_until(self.clock, next_at)))

    def _run_one(self, task: DueTask) -> None:
        handler = self.handlers.get(task.kind)
        now = self.clock.now()
        if handler is None:
            logger.error("zoom task %s: no handler for kind %s", task.key, task.kind)
            with self.db.transaction() as db:
                store.finish_task(db, task_id=task.id, now=now, failed=f"unknown kind {task.kind}")
            return
        try:
            outcome = handler(self.api, task)
        except ZoomUnavailable as error:
            logger.warning("zoom task %s: Zoom unavailable (%s)", task.key, error)
            self.health.failed(str(error))
            self._retry(task, str(error))
            return
        except ZoomError as error:
            logger.warning("zoom task %s refused by Zoom: %s", task.key, error)
            self.health.succeeded()  # Zoom answered: it is up, it just said no
            with self.db.transaction() as db:
                store.finish_task(db, task_id=task.id, now=self.clock.now(), failed=str(error))
            return
        except Exception as error:
            logger.exception("zoom task %s failed", task.key)
            if task.attempts + 1 >= MAX_TRIES_ON_BUGS:
                with self.db.transaction() as db:
                    store.finish_task(
                        db, task_id=task.id, now=self.clock.now(), failed=f"bug: {error!r}"
                    )
            else:
                self._retry(task, repr(error))
            return
        self.health.succeeded()
        with self.db.transaction() as db:
            if isinstance(outcome, Again):
                store.retry_task(
                    db,
                    task_id=task.id,
                    due_at=outcome.at,
                    error=None,
                    args=outcome.args,
                    count_attempt=False,
                )
            elif isinstance(outcome, GiveUp):
                store.finish_task(db, task_id=task.id, now=self.clock.now(), failed=outcome.reason)
            else:
                store.finish_task(db, task_id=task.id, now=self.clock.now())

    def _retry(self, task: DueTask, error: str) -> None:
        wait = BACKOFF[min(task.attempts, len(BACKOFF) - 1)]
        with self.db.transaction() as db:
            store.retry_task(db, task_id=task.id, due_at=self.clock.now() + wait, error=error)
