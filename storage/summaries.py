"""Repository functions for the "done" bookkeeping of each session's final summary.

The summary itself is an outbox row (key `session:{id}:summary`), posted at most once. Outbox rows
are forgotten some days after they are done, so the session remembers that its summary is done:
recovery then never queues it again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from storage.models import ListeningSession


def mark_summary_done(db: Session, *, session_id: int, now: datetime) -> None:
    """Record that the session's final summary is done (posted, or given up for good)."""
    db.execute(
        update(ListeningSession)
        .where(
            col(ListeningSession.id) == session_id,
            col(ListeningSession.summary_posted_at).is_(None),
        )
        .values(summary_posted_at=now)
    )


def ended_without_summary(db: Session) -> list[int]:
    """Ids of ended sessions whose final summary is not done."""
    rows = db.exec(
        select(ListeningSession.id)
        .where(
            col(ListeningSession.ended_at).is_not(None),
            col(ListeningSession.summary_posted_at).is_(None),
        )
        .order_by(col(ListeningSession.id))
    ).all()
    return [int(row) for row in rows if row is not None]
