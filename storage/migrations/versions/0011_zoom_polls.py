"""Zoom polls: the polls the bot also created in a session's Zoom meeting, and Zoom's answers.

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0011"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the zoom_poll and zoom_answer tables."""
    op.create_table(
        "zoom_poll",
        sa.Column(
            "poll_id",
            sa.Integer(),
            sa.ForeignKey("poll.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "session_id",
            sa.Integer(),
            sa.ForeignKey("listening_session.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("meeting_id", sa.String(32), nullable=False),
        sa.Column("zoom_poll_id", sa.String(64)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("problem", sa.String(300)),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("fetched_at", UTCDateTime()),
        sa.Column("answers_added", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("duplicates", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("deleted_at", UTCDateTime()),
    )
    op.create_index("ix_zoom_poll_session_id", "zoom_poll", ["session_id"])
    op.create_table(
        "zoom_answer",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "poll_id",
            sa.Integer(),
            sa.ForeignKey("poll.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("user_id", sa.String(32)),
        sa.Column("option_index", sa.Integer()),
        sa.Column("answer", sa.String(300)),
        sa.Column("count", sa.Integer(), nullable=False),
    )
    op.create_index("ix_zoom_answer_poll_id", "zoom_answer", ["poll_id"])
    op.create_index("ix_zoom_answer_user_id", "zoom_answer", ["user_id"])


def downgrade() -> None:
    """Drop them again."""
    op.drop_table("zoom_answer")
    op.drop_table("zoom_poll")
