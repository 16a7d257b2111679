"""The Zoom worker: runs the Zoom calls the bot owes, one at a time, from durable task rows.

A Slack request or a webhook never calls Zoom: it commits a `zoom_task` row with its change
(`storage.zoom.meetings.add_task`), and this one thread runs due rows in order. A handler says
what happened: done (None), run again later (`Again`, for repeating work such as fetching poll
results every two minutes), or stop for good (`GiveUp`). Zoom being unavailable is retried with
backoff (no sooner than Zoom's rate-limit reset, when it gave one) until the task's session has
been over for SESSION_GRACE. Zoom's health is not judged here but by the client's own calls
(`ZoomApi.on_answer` / `on_unavailable`, wired to `ZoomHealth` in bot.bootstrap): a handler
that returns without calling Zoom says nothing about Zoom.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from bot.clock import Clock, real_seconds_until
from bot.zoom.api import ZoomApi, ZoomError, ZoomStopped, ZoomUnavailable
from bot.zoom.health import ZoomHealth
from storage import repository as repo
from storage.db import Database
from storage.zoom import meetings as store
from storage.zoom.meetings import DueTask

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.5  # real seconds between looks at the table when nothing wakes the worker
# Zoom's outages are usually short: try soon, then less often (and every 10 minutes after that).
BACKOFF = tuple(timedelta(seconds=s) for s in (15, 30, 60, 120, 300, 600))
MAX_TRIES_ON_BUGS = 5  # an error that is not Zoom's (a bug) is given up after this many tries
# A failed task of a session over for longer than this is given up: nobody waits for it now.
SESSION_GRACE = timedelta(hours=3)
SESSION_ENDED = "session ended"
KEEP_DONE = timedelta(days=2)  # finished tasks are kept this long (to see what ran), then pruned
# A task taken to run is not due again for this long, unless its run says when: with several
# replicas, a new leader does not run a task the last one may still be running (its calls
# have timeouts and a few retries); if that one died, the task runs once this has passed.
LEASE = timedelta(seconds=90)


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
    """Owns the one thread that calls Zoom.

    `health` is the ZoomHealth the api's calls report to (bot.bootstrap wires the api's
    observers to it); the worker itself never judges Zoom's health.
    """

    def __init__(
        self,
        db: Database,
        clock: Clock,
        api: ZoomApi,
        health: ZoomHealth,
        *,
        fence: Callable[[Session], int | None] | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.api = api
        self.health = health
        # Several replicas: in the transaction that takes a task, this replica's leader epoch
        # if it still leads, else None (and the task is left to the leader).
        self.fence = fence
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
        self.api.resume()
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
        self.api.interrupt()  # a backoff or budget wait in hand ends now
        thread.join(timeout)
        self._thread = None

    def prune(self) -> int:
        """Forget tasks finished more than KEEP_DONE ago; returns how many."""
        with self.db.transaction() as db:
            return store.prune_tasks(db, before=self.clock.now() - KEEP_DONE)

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
        tried: set[int] = set()  # a task still due after its turn (not taken here) waits
        while not self._stopping:
            with self.db.read() as db:
                due = store.due_tasks(db, now=self.clock.now(), limit=10)
            due = [task for task in due if task.id not in tried]
            if not due:
                break
            for task in due:
                if self._stopping:
                    break
                tried.add(task.id)
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

    def _take(self, task: DueTask, now: datetime) -> bool:
        """Lease the task (see LEASE), checking first that this replica still leads."""
        with self.db.transaction() as db:
            if self.fence is not None and self.fence(db) is None:
                return False
            return store.lease_task(db, task_id=task.id, now=now, until=now + LEASE)

    def _run_one(self, task: DueTask) -> None:
        handler = self.handlers.get(task.kind)
        now = self.clock.now()
        if not self._take(task, now):
            return  # another replica leads, or took this task
        if handler is None:
            logger.error("zoom task %s: no handler for kind %s", task.key, task.kind)
            with self.db.transaction() as db:
                store.finish_task(db, task_id=task.id, now=now, failed=f"unknown kind {task.kind}")
            return
        try:
            outcome = handler(self.api, task)
        except ZoomStopped:
            # The bot is stopping: the task is due again and runs after the restart.
            with self.db.transaction() as db:
                store.release_task(db, task_id=task.id, now=self.clock.now())
            return
        except ZoomUnavailable as error:
            logger.warning("zoom task %s: Zoom unavailable (%s)", task.key, error)
            self._retry(task, str(error), retry_after=error.retry_after)
            return
        except ZoomError as error:
            logger.warning("zoom task %s refused by Zoom: %s", task.key, error)
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

    def _retry(self, task: DueTask, error: str, *, retry_after: float | None = None) -> None:
        """Run the task again after its backoff, or Zoom's reset if later; or give it up if
        its session has been over too long."""
        now = self.clock.now()
        wait = BACKOFF[min(task.attempts, len(BACKOFF) - 1)]
        if retry_after is not None:
            wait = max(wait, timedelta(seconds=retry_after))
        with self.db.transaction() as db:
            session = repo.get_session(db, session_id=task.session_id)
            ended_at = session.ended_at if session is not None else None
            if session is None or (ended_at is not None and now - ended_at > SESSION_GRACE):
                logger.warning("zoom task %s given up: its session has ended", task.key)
                store.finish_task(db, task_id=task.id, now=now, failed=SESSION_ENDED)
                return
            store.retry_task(db, task_id=task.id, due_at=now + wait, error=error)
