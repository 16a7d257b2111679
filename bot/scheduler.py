"""Wakes the bot at stored deadlines: APScheduler 3.x, in memory.

Deadlines are data (a poll's `closes_at`, a round's `ends_at`, `warn_at`, `remind_at`): the rows
are the truth. The scheduler only holds, in memory, when to look at them next. It is rebuilt from
the rows at every start (each feature's `recover`) and told of every new or changed deadline, so
nothing is lost when the process stops, and no job store duplicates the rows.

With several replicas only the leader's scheduler runs: another replica that schedules or
cancels a deadline hands it to the leader (`relay`, a notice carrying the job), which runs the
same method of its own services (`serve` names the objects whose methods are jobs).
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable
from datetime import datetime

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler

from bot.clock import Clock, wall_time

logger = logging.getLogger(__name__)

JOB_THREADS = 4


def create_scheduler() -> BackgroundScheduler:
    """A background scheduler with an in-memory job store."""
    return BackgroundScheduler(
        executors={"default": ThreadPoolExecutor(max_workers=JOB_THREADS)},
        job_defaults={
            # A deadline that passed while a job was busy still runs (once) when it can.
            "misfire_grace_time": None,
            "coalesce": True,
            "max_instances": 1,
        },
        timezone="UTC",
    )


class Deadlines:
    """Schedules and cancels the wake-ups for stored deadlines; owns the scheduler's lifecycle.

    Deadlines are in the bot's clock's time; with a clock that runs faster (a rehearsal) each
    is turned into the real moment it falls at, so APScheduler itself runs on real time.
    """

    def __init__(
        self, scheduler: BackgroundScheduler | None = None, *, clock: Clock | None = None
    ) -> None:
        self.scheduler = scheduler or create_scheduler()
        self.clock = clock
        # Set on a replica that does not lead: deadlines go to the leader instead.
        self.relay: Callable[[str], None] | None = None
        self._owners: dict[str, object] = {}

    def serve(self, owner: object) -> None:
        """Let relayed jobs call `owner`'s methods (one object per class)."""
        self._owners[type(owner).__name__] = owner

    def schedule(
        self, job_id: str, func: Callable[..., None], run_at: datetime, *args: int | str
    ) -> None:
        """Run `func(*args)` at `run_at`; scheduling the same job id again replaces it."""
        relay = self.relay
        owner = getattr(func, "__self__", None)
        if relay is not None and owner is not None:
            job = {"id": job_id, "owner": type(owner).__name__, "method": func.__name__}
            relay(json.dumps({**job, "at": run_at.isoformat(), "args": list(args)}))
            return
        self.scheduler.add_job(
            func,
            trigger="date",
            run_date=run_at if self.clock is None else wall_time(self.clock, run_at),
            args=list(args),
            id=job_id,
            replace_existing=True,
        )

    def every(self, job_id: str, func: Callable[[], object], *, minutes: int) -> None:
        """Run `func()` every `minutes` (housekeeping)."""
        self.scheduler.add_job(
            func, trigger="interval", minutes=minutes, id=job_id, replace_existing=True
        )

    def cancel(self, job_id: str) -> None:
        """Drop a job if it is still pending."""
        if self.relay is not None:
            self.relay(json.dumps({"id": job_id, "cancel": True}))
            return
        with contextlib.suppress(JobLookupError):
            self.scheduler.remove_job(job_id)

    def relayed(self, text: str) -> None:
        """Schedule or cancel a job another replica relayed (the leader)."""
        try:
            job = json.loads(text)
            if job.get("cancel"):
                self.cancel(str(job["id"]))
                return
            owner = self._owners[job["owner"]]
            func = getattr(owner, job["method"])
            run_at = datetime.fromisoformat(job["at"])
            args = [a for a in job["args"] if isinstance(a, int | str)]
        except (ValueError, KeyError, TypeError, AttributeError):
            logger.exception("deadlines: a relayed job could not be read: %.200s", text)
            return
        self.schedule(str(job["id"]), func, run_at, *args)

    def pause(self) -> None:
        """Hold every job (this replica stopped leading); `resume` runs what fell due meanwhile."""
        if self.scheduler.running:
            self.scheduler.pause()

    def resume(self) -> None:
        """Run jobs again (this replica leads)."""
        if self.scheduler.running:
            self.scheduler.resume()

    def pending(self) -> dict[str, datetime]:
        """Pending job ids and their run times."""
        return {job.id: job.next_run_time for job in self.scheduler.get_jobs()}

    def start(self, *, paused: bool = False) -> None:
        """Start waking jobs (jobs scheduled before this wait until then, or `resume`)."""
        if not self.scheduler.running:
            self.scheduler.start(paused=paused)

    def stop(self) -> None:
        """Stop without waiting for far-off jobs; a job already running finishes."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
