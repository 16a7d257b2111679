"""Zoom: the meeting each session runs with, and the Zoom calls the bot still owes.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create zoom_meeting and zoom_task."""
    op.create_table(
        "zoom_meeting",
        sa.Column(
            "session_id",
            sa.Integer(),
            sa.ForeignKey("listening_session.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("meeting_id", sa.String(32), nullable=False),
        sa.Column("looked_up_at", UTCDateTime()),
        sa.Column("problem", sa.String(300)),
        sa.Column("topic", sa.String(300)),
        sa.Column("start_time", UTCDateTime()),
        sa.Column("meeting_type", sa.Integer()),
        sa.Column("host_id", sa.String(64)),
        sa.Column("uuid", sa.String(64)),
        sa.Column("started_at", UTCDateTime()),
        sa.Column("ended_at", UTCDateTime()),
        sa.Column("outages", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("down_since", UTCDateTime()),
    )
    op.create_index("ix_zoom_meeting_meeting_id", "zoom_meeting", ["meeting_id"])
    op.create_index("ix_zoom_meeting_uuid", "zoom_meeting", ["uuid"])
    op.create_table(
        "zoom_task",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(200), nullable=False, unique=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column(
            "session_id",
            sa.Integer(),
            sa.ForeignKey("listening_session.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("args", sa.Text(), nullable=False, server_default="{}"),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("done_at", UTCDateTime()),
        sa.Column("failed", sa.String(300)),
        sa.Column("last_error", sa.String(300)),
    )
    op.create_index("ix_zoom_task_session_id", "zoom_task", ["session_id"])
    op.create_index("ix_zoom_task_due_at", "zoom_task", ["due_at"])
    op.create_index("ix_zoom_task_done_at", "zoom_task", ["done_at"])


def downgrade() -> None:
    """Drop them again."""
    op.drop_table("zoom_task")
    op.drop_table("zoom_meeting")
