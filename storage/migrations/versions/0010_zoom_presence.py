"""Zoom presence: each person's latest join and leave of each breakout room.

Revision ID: 0010
Revises: 0011 (Zoom polls landed first; written as 0010 against 0009)
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0010"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the breakout room visits table."""
    op.create_table(
        "zoom_room_visit",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "session_id",
            sa.Integer(),
            sa.ForeignKey("listening_session.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("identity", sa.String(80), nullable=False),
        sa.Column("room_uuid", sa.String(64), nullable=False),
        sa.Column("joined_at", UTCDateTime()),
        sa.Column("left_at", UTCDateTime()),
        sa.UniqueConstraint(
            "session_id", "identity", "room_uuid", name="uq_zoom_room_visit_identity"
        ),
    )
    op.create_index("ix_zoom_room_visit_session_id", "zoom_room_visit", ["session_id"])


def downgrade() -> None:
    """Drop it again."""
    op.drop_table("zoom_room_visit")
