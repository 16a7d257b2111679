"""Mentions in posted messages: where each room thread's "joined"/"left" note went, and where a
session's "has ended" post went, so erasing a person edits their mention out of them.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the room_note table and listening_session.ended_ts."""
    with op.batch_alter_table("listening_session") as batch:
        batch.add_column(sa.Column("ended_ts", sa.String(32), nullable=True))
    op.create_table(
        "room_note",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "round_id",
            sa.Integer(),
            sa.ForeignKey("breakout_round.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "room_id",
            sa.Integer(),
            sa.ForeignKey("breakout_room.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("moved_by", sa.String(32), nullable=True),
        sa.Column("from_room_id", sa.Integer(), nullable=True),
        sa.Column("to_room_id", sa.Integer(), nullable=False),
        sa.Column("ts", sa.String(32), nullable=False),
    )
    op.create_index("ix_room_note_round_id", "room_note", ["round_id"])
    op.create_index("ix_room_note_room_id", "room_note", ["room_id"])


def downgrade() -> None:
    """Drop them."""
    op.drop_index("ix_room_note_room_id", "room_note")
    op.drop_index("ix_room_note_round_id", "room_note")
    op.drop_table("room_note")
    with op.batch_alter_table("listening_session") as batch:
        batch.drop_column("ended_ts")
