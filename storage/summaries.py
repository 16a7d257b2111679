"""Repository functions for the "done" bookkeeping of each session's final summary, and the
messages every summary posted.

The summary itself is an outbox row (key `session:{id}:summary`), posted at most once. Outbox rows
are forgotten some days after they are done, so the session remembers that its summary is done:
recovery then never queues it again; and each message a summary posted is kept in `summary_post`,
so a quote withdrawn weeks later can still be edited out of it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Column, Integer, String, UniqueConstraint, update
from sqlmodel import Field, Session, SQLModel, col, select

from storage.models import ListeningSession, fk_column, utc_column

TS_MAX = 32
CHANNEL_MAX = 32
SUMMARY_KEY_MAX = 200


class SummaryPost(SQLModel, table=True):
    """One message of one summary (final or interim) in one channel."""

    __tablename__ = "summary_post"
    __table_args__ = (
        UniqueConstraint("summary_key", "channel", "part", name="uq_summary_post_part"),
    )

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(sa_column=fk_column("listening_session.id"))
    # The outbox key of the summary: one per final summary, one per `/summary`.
    summary_key: str = Field(sa_column=Column(String(SUMMARY_KEY_MAX), nullable=False))
    interim: bool = Field(sa_column=Column(Boolean, nullable=False))
    # When the summary was built (an interim one says "as of" this time).
    built_at: datetime = Field(sa_column=utc_column(nullable=False))
    channel: str = Field(sa_column=Column(String(CHANNEL_MAX), nullable=False))
    part: int = Field(sa_column=Column(Integer, nullable=False))  # 1, 2, … in posting order
    ts: str = Field(sa_column=Column(String(TS_MAX), nullable=False))


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


def record_summary_post(
    db: Session,
    *,
    session_id: int,
    summary_key: str,
    interim: bool,
    built_at: datetime,
    channel: str,
    part: int,
    ts: str,
) -> None:
    """Remember a summary message just posted (again for the same part: the newer ts counts)."""
    existing = db.exec(
        select(SummaryPost).where(
            SummaryPost.summary_key == summary_key,
            SummaryPost.channel == channel,
            SummaryPost.part == part,
        )
    ).first()
    if existing is not None:
        existing.ts = ts
        db.add(existing)
        return
    db.add(
        SummaryPost(
            session_id=session_id,
            summary_key=summary_key,
            interim=interim,
            built_at=built_at,
            channel=channel,
            part=part,
            ts=ts,
        )
    )


def summary_posts(db: Session, *, session_id: int) -> list[SummaryPost]:
    """Every summary message of a session, by summary, channel and part."""
    return list(
        db.exec(
            select(SummaryPost)
            .where(SummaryPost.session_id == session_id)
            .order_by(col(SummaryPost.summary_key), col(SummaryPost.channel), col(SummaryPost.part))
        ).all()
    )
