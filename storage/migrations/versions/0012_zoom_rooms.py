"""Breakout rounds on Zoom: how each round went to Zoom, and which Zoom room is which room.

Revision ID: 0012
Revises: 0010 (after Zoom presence; written against 0009)
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0012"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the round plan and room match tables."""
    op.create_table(
        "zoom_round_plan",
        sa.Column(
            "round_id",
            sa.Integer(),
            sa.ForeignKey("breakout_round.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "session_id",
            sa.Integer(),
            sa.ForeignKey("listening_session.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("meeting_id", sa.String(32), nullable=False),
        sa.Column("how", sa.String(16), nullable=False),
        sa.Column("placed", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("unplaced", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("written_at", UTCDateTime()),
        sa.Column("problem", sa.String(300)),
    )
    op.create_index("ix_zoom_round_plan_session_id", "zoom_round_plan", ["session_id"])
    op.create_table(
        "zoom_room_match",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "round_id",
            sa.Integer(),
            sa.ForeignKey("breakout_round.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("room_uuid", sa.String(64), nullable=False),
        sa.Column(
            "room_id",
            sa.Integer(),
            sa.ForeignKey("breakout_room.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("round_id", "room_uuid", name="uq_zoom_room_match"),
    )
    op.create_index("ix_zoom_room_match_round_id", "zoom_room_match", ["round_id"])


def downgrade() -> None:
    """Drop them again."""
    op.drop_table("zoom_room_match")
    op.drop_table("zoom_round_plan")
