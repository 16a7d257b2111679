"""Imports every module that defines tables, so SQLModel.metadata holds them all."""

from storage import (  # noqa: F401
    leader,
    models,
    outbox,
    polls,
    privacy,
    rooms,
    runsheets,
    summaries,
    zoom,
)
from storage.zoom import meetings, people  # noqa: F401
from storage.zoom import polls as zoom_polls  # noqa: F401
from storage.zoom import rooms as zoom_rooms  # noqa: F401
