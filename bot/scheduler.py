"""Wakes the bot at stored deadlines: APScheduler 3.x, in memory.

Deadlines are data (a poll's `closes_at`, a round's `ends_at`, `warn_at`, `remind_at`): the rows
are the truth. The scheduler only holds, in memory, when to look at them next. It is rebuilt from
the rows at every start (each feature's `recover`) and told of every new or changed deadline, so
nothing is lost when the process stops, and no job store duplicates the rows.
"""

from __future__ import annotations

import contextlib
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

    def schedule(
        self, job_id: str, func: Callable[..., None], run_at: datetime, *args: int | str
    ) -> None:
        """Run `func(*args)` at `run_at`; scheduling the same job id again replaces it."""
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
        with contextlib.suppress(JobLookupError):
            self.scheduler.remove_job(job_id)

    def pending(self) -> dict[str, datetime]:
        """Pending job ids and their run times."""
        return {job.id: job.next_run_time for job in self.scheduler.get_jobs()}

    def start(self) -> None:
        """Start waking jobs (jobs scheduled before this wait until then)."""
        if not self.scheduler.running:
            self.scheduler.start()

    def stop(self) -> None:
        """Stop without waiting for far-off jobs; a job already running finishes."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
