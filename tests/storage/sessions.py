"""A session row for storage tests that need one to hang polls, rooms or people on."""

from __future__ import annotations

from datetime import UTC, datetime

from storage import repository as repo
from storage.db import Database

T0 = datetime(2026, 11, 21, 18, 0, tzinfo=UTC)


def start_session(
    db: Database,
    *,
    channel: str = "C1",
    user: str = "U1",
    title: str = "Durham",
    area: str | None = None,
    group_type: str | None = None,
) -> int:
    """Insert an active session through the repository; returns its id."""
    with db.transaction() as s:
        session = repo.create_session(
            s,
            channel_id=channel,
            title=title,
            area=area,
            group_type=group_type,
            zoom_meeting_id=None,
            started_by=user,
            now=T0,
        )
        assert session.id is not None
        return session.id
