"""One outbox for everything the bot posts; deadlines stay on their rows, jobs in memory.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the outbox; what the old mechanisms still owed becomes rows; drop the job table."""
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(200), nullable=False, unique=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("target", sa.String(80), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("args", sa.Text(), nullable=False, server_default="{}"),
        sa.Column("response_url", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("failed", sa.String(200), nullable=True),
        sa.Column("last_error", sa.String(200), nullable=True),
        sa.Column("progress", sa.Text(), nullable=True),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_outbox_pending",
        "outbox",
        ["due_at"],
        sqlite_where=sa.text("sent_at IS NULL"),
        postgresql_where=sa.text("sent_at IS NULL"),
    )
    op.create_index("ix_outbox_target", "outbox", ["target"])
    # Polls closed whose results never got posted (the old retry job, or the next start, owed
    # them), and ended sessions whose summary is not complete: now outbox rows, posted once.
    op.execute(
        sa.text(
            "INSERT INTO outbox (key, kind, target, priority, args, created_at, due_at, attempts)"
            " SELECT 'poll:' || id || :suffix, 'poll.final', 'poll:' || id, 1,"
            " '{\"poll_id\":' || id || '}', closed_at, closed_at, 0"
            " FROM poll WHERE closed_at IS NOT NULL AND announced_at IS NULL"
        ).bindparams(suffix=":final")
    )
    op.execute(
        sa.text(
            "INSERT INTO outbox (key, kind, target, priority, args, created_at, due_at, attempts)"
            " SELECT 'session:' || id || :suffix, 'summary.final', 'session:' || id, 1,"
            " '{\"session_id\":' || id || '}', ended_at, ended_at, 0"
            " FROM listening_session WHERE ended_at IS NOT NULL AND summary_posted_at IS NULL"
        ).bindparams(suffix=":summary")
    )
    # APScheduler kept its jobs here; the deadline rows were always the truth.
    op.execute("DROP TABLE IF EXISTS apscheduler_jobs")


def downgrade() -> None:
    """Drop the outbox (the scheduler's job table is recreated by an older release itself)."""
    op.drop_index("ix_outbox_target", table_name="outbox")
    op.drop_index("ix_outbox_pending", table_name="outbox")
    op.drop_table("outbox")
