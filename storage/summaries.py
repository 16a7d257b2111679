"""Repository functions for posting each session's final summary exactly once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from storage.models import ListeningSession


def claim_summary(db: Session, *, session_id: int, now: datetime) -> bool:
    """Compare-and-set: mark an ended session's summary as posted; True only the first time."""
    result = db.execute(
        update(ListeningSession)
        .where(
            col(ListeningSession.id) == session_id,
            col(ListeningSession.ended_at).is_not(None),
            col(ListeningSession.summary_posted_at).is_(None),
        )
        .values(summary_posted_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def release_summary(db: Session, *, session_id: int) -> None:
    """Undo a claim whose post failed, so the summary is posted later."""
    db.execute(
        update(ListeningSession)
        .where(col(ListeningSession.id) == session_id)
        .values(summary_posted_at=None)
    )


def ended_without_summary(db: Session) -> list[int]:
    """Ids of ended sessions whose summary was never posted."""
    rows = db.exec(
        select(ListeningSession.id).where(
            col(ListeningSession.ended_at).is_not(None),
            col(ListeningSession.summary_posted_at).is_(None),
        )
    ).all()
    return [int(row) for row in rows if row is not None]


def summary_channels(db: Session, *, session_id: int) -> set[str]:
    """Channels the session's final summary has already been posted to."""
    value = db.exec(
        select(ListeningSession.summary_channels).where(ListeningSession.id == session_id)
    ).first()
    return {channel for channel in (value or "").split(",") if channel}


def add_summary_channel(db: Session, *, session_id: int, channel: str) -> None:
    """Record that the final summary reached `channel`."""
    done = summary_channels(db, session_id=session_id) | {channel}
    db.execute(
        update(ListeningSession)
        .where(col(ListeningSession.id) == session_id)
        .values(summary_channels=",".join(sorted(done)))
    )
