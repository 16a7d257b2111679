"""Imports every module that defines tables, so SQLModel.metadata holds them all."""

from storage import models, outbox, polls, rooms, runsheets  # noqa: F401
