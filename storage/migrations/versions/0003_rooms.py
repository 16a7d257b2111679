"""Breakout rounds, rooms, members, themes and versioned report-backs.

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None


def _fk(name: str, target: str) -> sa.Column[int]:
    """A cascading, required integer foreign key."""
    return sa.Column(name, sa.Integer(), sa.ForeignKey(target, ondelete="CASCADE"), nullable=False)


def upgrade() -> None:
    """Create the breakout and report-back tables."""
    op.create_table(
        "breakout_round",
        sa.Column("id", sa.Integer(), primary_key=True),
        _fk("session_id", "listening_session.id"),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(20), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("prompt", sa.String(500)),
        sa.Column("started_by", sa.String(32), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("ends_at", UTCDateTime(), nullable=False),
        sa.Column("warn_at", UTCDateTime(), nullable=False),
        sa.Column("warned_at", UTCDateTime()),
        sa.Column("ended_at", UTCDateTime()),
        sa.Column("ended_by", sa.String(32)),
        sa.Column("end_reason", sa.String(16)),
        sa.Column("remind_at", UTCDateTime()),
        sa.Column("reminded_at", UTCDateTime()),
        sa.UniqueConstraint("session_id", "number", name="uq_breakout_round_number"),
    )
    op.create_index("ix_breakout_round_session_id", "breakout_round", ["session_id"])
    op.create_index(
        "uq_breakout_round_running",
        "breakout_round",
        ["session_id"],
        unique=True,
        sqlite_where=sa.text("ended_at IS NULL"),
        postgresql_where=sa.text("ended_at IS NULL"),
    )
    op.create_table(
        "breakout_room",
        sa.Column("id", sa.Integer(), primary_key=True),
        _fk("round_id", "breakout_round.id"),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("message_ts", sa.String(32)),
        sa.Column("report_ts", sa.String(32)),
        sa.Column("reminded_at", UTCDateTime()),
        sa.UniqueConstraint("round_id", "number", name="uq_breakout_room_number"),
    )
    op.create_index("ix_breakout_room_round_id", "breakout_room", ["round_id"])
    op.create_table(
        "breakout_room_member",
        sa.Column("id", sa.Integer(), primary_key=True),
        _fk("round_id", "breakout_round.id"),
        _fk("room_id", "breakout_room.id"),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("facilitator", sa.Boolean(), nullable=False),
        sa.Column("joined_at", UTCDateTime(), nullable=False),
        sa.Column("joined_how", sa.String(16), nullable=False),
        sa.UniqueConstraint("round_id", "user_id", name="uq_breakout_member_user"),
    )
    op.create_index("ix_breakout_room_member_round_id", "breakout_room_member", ["round_id"])
    op.create_index("ix_breakout_room_member_room_id", "breakout_room_member", ["room_id"])
    op.create_table(
        "session_theme",
        sa.Column("id", sa.Integer(), primary_key=True),
        _fk("session_id", "listening_session.id"),
        sa.Column("name", sa.String(75), nullable=False),
        sa.Column("name_key", sa.String(150), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("session_id", "name_key", name="uq_session_theme_name"),
    )
    op.create_index("ix_session_theme_session_id", "session_theme", ["session_id"])
    op.create_table(
        "report_back",
        sa.Column("id", sa.Integer(), primary_key=True),
        _fk("room_id", "breakout_room.id"),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("submitted_by", sa.String(32), nullable=False),
        sa.Column("submitted_at", UTCDateTime(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("key_points", sa.Text(), nullable=False),
        sa.UniqueConstraint("room_id", "version", name="uq_report_back_version"),
    )
    op.create_index("ix_report_back_room_id", "report_back", ["room_id"])
    op.create_table(
        "report_quote",
        sa.Column("id", sa.Integer(), primary_key=True),
        _fk("report_id", "report_back.id"),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("speaker_role", sa.String(80)),
        sa.Column("speaker_place", sa.String(80)),
        sa.Column("consent", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_report_quote_report_id", "report_quote", ["report_id"])
    op.create_table(
        "report_theme",
        sa.Column(
            "report_id",
            sa.Integer(),
            sa.ForeignKey("report_back.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "theme_id",
            sa.Integer(),
            sa.ForeignKey("session_theme.id", ondelete="CASCADE"),
            primary_key=True,
        ),
    )


def downgrade() -> None:
    """Drop the breakout and report-back tables."""
    op.drop_table("report_theme")
    op.drop_table("report_quote")
    op.drop_table("report_back")
    op.drop_table("session_theme")
    op.drop_table("breakout_room_member")
    op.drop_table("breakout_room")
    op.drop_table("breakout_round")
