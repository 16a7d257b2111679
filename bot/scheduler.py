"""APScheduler 3.x with its job store in the bot's own database.

Deadlines themselves are data (stored on the poll or round row); jobs only announce them on time.
Jobs are module-level functions taking plain ids, with stable job ids, so they survive restarts
in the job store. They reach the running bot's services through `bind`.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine

from storage.tables import JOBS_TABLE

logger = logging.getLogger(__name__)

_bound: dict[str, Any] = {}


def bind(services: Any) -> None:
    """Make the running bot's services available to scheduled jobs."""
    _bound["services"] = services


def bound_services() -> Any:
    """The services of the running bot (for job functions)."""
    try:
        return _bound["services"]
    except KeyError:
        raise RuntimeError("no services bound: call bot.scheduler.bind() at start-up") from None


def create_scheduler(engine: Engine) -> BackgroundScheduler:
    """A background scheduler keeping its jobs in `engine`'s database."""
    return BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename=JOBS_TABLE)},
        executors={"default": ThreadPoolExecutor(max_workers=8)},
        job_defaults={
            # A deadline missed while the bot was down is still announced (once) when it is back.
            "misfire_grace_time": None,
            "coalesce": True,
            "max_instances": 1,
        },
        timezone="UTC",
    )


class Deadlines:
    """Schedules and cancels the jobs that announce stored deadlines."""

    def __init__(self, scheduler: BackgroundScheduler) -> None:
        self.scheduler = scheduler

    def schedule(
        self, job_id: str, func: Callable[..., None], run_at: datetime, *args: int | str
    ) -> None:
        """Run `func(*args)` at `run_at`; scheduling the same job id again replaces it."""
        self.scheduler.add_job(
            func,
            trigger="date",
            run_date=run_at,
            args=list(args),
            id=job_id,
            replace_existing=True,
        )

    def cancel(self, job_id: str) -> None:
        """Drop a job if it is still pending."""
        with contextlib.suppress(JobLookupError):
            self.scheduler.remove_job(job_id)

    def pending(self) -> dict[str, datetime]:
        """Pending job ids and their run times."""
        return {job.id: job.next_run_time for job in self.scheduler.get_jobs()}
