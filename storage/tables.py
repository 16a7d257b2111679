"""Imports every module that defines tables, so SQLModel.metadata holds them all."""

from storage import models, polls, rooms  # noqa: F401

# APScheduler's job store creates and owns this table in the same database; migrations skip it.
JOBS_TABLE = "apscheduler_jobs"
