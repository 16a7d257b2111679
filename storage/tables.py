"""Imports every module that defines tables, so SQLModel.metadata holds them all."""

from storage import leader, models, outbox, polls, privacy, rooms, runsheets, zoom  # noqa: F401
from storage.zoom import meetings, people  # noqa: F401
from storage.zoom import polls as zoom_polls  # noqa: F401
from storage.zoom import rooms as zoom_rooms  # noqa: F401
