"""Polls: options, who voted, and named votes (anonymous choices are only counted).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the poll tables."""
    op.create_table(
        "poll",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "session_id",
            sa.Integer(),
            sa.ForeignKey("listening_session.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("channel_id", sa.String(32), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("option_count", sa.Integer(), nullable=False),
        sa.Column("multi", sa.Boolean(), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("hide_results", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(32), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("closes_at", UTCDateTime(), nullable=False),
        sa.Column("closed_at", UTCDateTime()),
        sa.Column("closed_by", sa.String(32)),
        sa.Column("close_reason", sa.String(16)),
        sa.Column("announced_at", UTCDateTime()),
        sa.Column("message_ts", sa.String(32)),
    )
    op.create_index("ix_poll_session_id", "poll", ["session_id"])
    op.create_index("ix_poll_key", "poll", ["key"])
    op.create_index("ix_poll_closes_at", "poll", ["closes_at"])
    op.create_index("ix_poll_channel_open", "poll", ["channel_id", "closed_at"])
    op.create_table(
        "poll_option",
        sa.Column(
            "poll_id",
            sa.Integer(),
            sa.ForeignKey("poll.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("option_index", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("text", sa.String(300), nullable=False),
        sa.Column("anonymous_count", sa.Integer(), nullable=False),
    )
    op.create_table(
        "poll_voter",
        sa.Column(
            "poll_id",
            sa.Integer(),
            sa.ForeignKey("poll.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("user_id", sa.String(32), primary_key=True),
    )
    op.create_table(
        "poll_vote",
        sa.Column("poll_id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.String(32), primary_key=True),
        sa.Column("option_index", sa.Integer(), primary_key=True, autoincrement=False),
        sa.ForeignKeyConstraint(
            ["poll_id", "user_id"],
            ["poll_voter.poll_id", "poll_voter.user_id"],
            ondelete="CASCADE",
            name="fk_poll_vote_voter",
        ),
    )


def downgrade() -> None:
    """Drop the poll tables."""
    op.drop_table("poll_vote")
    op.drop_table("poll_voter")
    op.drop_table("poll_option")
    op.drop_table("poll")
