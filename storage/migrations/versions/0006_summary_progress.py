"""Channels an older release already posted a summary to become its outbox row's progress.

Migration 0005 queued the summary of every ended session whose summary was not complete. An
older release recorded, per session, the channels the summary had already reached
(`listening_session.summary_channels`); written into the row's progress here, the sender skips
them, so no channel gets the summary twice. The column stays (unused): dropping a column makes
SQLite rebuild the table, and dropping the old table would cascade to its participants.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Mark the channels each unsent summary already reached as done in its progress."""
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT id, args FROM outbox"
            " WHERE kind = 'summary.final' AND sent_at IS NULL AND progress IS NULL"
        )
    ).all()
    for row_id, args in rows:
        session_id = json.loads(args or "{}").get("session_id")
        channels = bind.execute(
            sa.text("SELECT summary_channels FROM listening_session WHERE id = :id"),
            {"id": session_id},
        ).scalar()
        done = [channel for channel in (channels or "").split(",") if channel]
        if not done:
            continue
        # The step names of bot.slack.summaries: "<channel>:done" once a channel has it all.
        progress = json.dumps({f"{channel}:done": True for channel in done}, sort_keys=True)
        bind.execute(
            sa.text("UPDATE outbox SET progress = :progress WHERE id = :id"),
            {"progress": progress, "id": row_id},
        )


def downgrade() -> None:
    """Nothing to undo: an older release reads `summary_channels`, which is unchanged."""
