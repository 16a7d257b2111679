"""Sessions, facilitators, participants and processed deliveries.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the foundation tables."""
    op.create_table(
        "listening_session",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("channel_id", sa.String(32), nullable=False),
        sa.Column("title", sa.String(150), nullable=False),
        sa.Column("area", sa.String(80)),
        sa.Column("group_type", sa.String(80)),
        sa.Column("zoom_meeting_id", sa.String(32)),
        sa.Column("started_by", sa.String(32), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime()),
        sa.Column("ended_by", sa.String(32)),
        sa.Column("message_ts", sa.String(32)),
    )
    op.create_index("ix_listening_session_channel_id", "listening_session", ["channel_id"])
    op.create_index(
        "uq_listening_session_active_channel",
        "listening_session",
        ["channel_id"],
        unique=True,
        sqlite_where=sa.text("ended_at IS NULL"),
        postgresql_where=sa.text("ended_at IS NULL"),
    )
    op.create_table(
        "session_facilitator",
        sa.Column(
            "session_id",
            sa.Integer(),
            sa.ForeignKey("listening_session.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("user_id", sa.String(32), primary_key=True),
    )
    op.create_table(
        "participant",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "session_id",
            sa.Integer(),
            sa.ForeignKey("listening_session.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("role", sa.String(80)),
        sa.Column("place", sa.String(80)),
        sa.Column("group_name", sa.String(80)),
        sa.Column("consent_to_quote", sa.Boolean(), nullable=False),
        sa.Column("checked_in_at", UTCDateTime()),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("session_id", "user_id", name="uq_participant_user"),
    )
    op.create_index("ix_participant_session_id", "participant", ["session_id"])
    op.create_table(
        "delivery",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("received_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_delivery_received_at", "delivery", ["received_at"])


def downgrade() -> None:
    """Drop the foundation tables."""
    op.drop_table("delivery")
    op.drop_table("participant")
    op.drop_table("session_facilitator")
    op.drop_table("listening_session")
