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
    """Create the meeting, task, people, seen-event and Slack email tables."""
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
    op.create_table(
        "zoom_person",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "session_id",
            sa.Integer(),
            sa.ForeignKey("listening_session.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("identity", sa.String(80), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200)),
        sa.Column("email", sa.String(320)),
        sa.Column("registrant_id", sa.String(64)),
        sa.Column("joined_at", UTCDateTime()),
        sa.Column("left_at", UTCDateTime()),
        sa.Column("room_uuid", sa.String(64)),
        sa.Column("room_joined_at", UTCDateTime()),
        sa.Column("room_left_at", UTCDateTime()),
        sa.Column("source", sa.String(16)),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("session_id", "identity", name="uq_zoom_person_identity"),
    )
    op.create_index("ix_zoom_person_session_id", "zoom_person", ["session_id"])
    op.create_index("ix_zoom_person_user_id", "zoom_person", ["user_id"])
    op.create_index("ix_zoom_person_session_email", "zoom_person", ["session_id", "email"])
    op.create_table(
        "zoom_event_seen",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("received_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_zoom_event_seen_received_at", "zoom_event_seen", ["received_at"])
    op.create_table(
        "slack_email",
        sa.Column("user_id", sa.String(32), primary_key=True),
        sa.Column("email", sa.String(320)),
        sa.Column("looked_up_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_slack_email_email", "slack_email", ["email"])


def downgrade() -> None:
    """Drop them again."""
    op.drop_table("slack_email")
    op.drop_table("zoom_event_seen")
    op.drop_table("zoom_person")
    op.drop_table("zoom_task")
    op.drop_table("zoom_meeting")
