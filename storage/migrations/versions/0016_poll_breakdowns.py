"""Purges: the breakdowns kept for a purged session (counts, never people), and which sessions
were purged.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the poll_breakdown and session_purge tables."""
    op.create_table(
        "poll_breakdown",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "session_id",
            sa.Integer(),
            sa.ForeignKey("listening_session.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("poll_id", sa.Integer(), sa.ForeignKey("poll.id", ondelete="CASCADE")),
        sa.Column("source", sa.String(8), nullable=False),
        sa.Column("dimension", sa.String(16), nullable=False),
        sa.Column("value", sa.String(80), nullable=False),
        sa.Column("people", sa.Integer(), nullable=False),
        sa.Column("counts", sa.Text(), nullable=False),
    )
    op.create_index("ix_poll_breakdown_session_id", "poll_breakdown", ["session_id"])
    op.create_index("ix_poll_breakdown_poll_id", "poll_breakdown", ["poll_id"])
    op.create_table(
        "session_purge",
        sa.Column(
            "session_id",
            sa.Integer(),
            sa.ForeignKey("listening_session.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("purged_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    """Drop them."""
    op.drop_table("session_purge")
    op.drop_index("ix_poll_breakdown_poll_id", "poll_breakdown")
    op.drop_index("ix_poll_breakdown_session_id", "poll_breakdown")
    op.drop_table("poll_breakdown")
