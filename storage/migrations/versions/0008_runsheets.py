"""Run sheets: versioned agendas, the version each session follows, the steps it has run, and
where each facilitator's control message is.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the run sheet tables; give sessions their run sheet and position."""
    op.create_table(
        "runsheet",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(60), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("title", sa.String(150)),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("steps", sa.Text(), nullable=False),
        sa.Column("step_count", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("name", "version", name="uq_runsheet_version"),
    )
    op.create_index("ix_runsheet_name", "runsheet", ["name"])
    with op.batch_alter_table("listening_session") as batch:
        batch.add_column(sa.Column("runsheet_id", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("runsheet_position", sa.Integer(), nullable=False, server_default="0")
        )
        batch.create_foreign_key(
            "fk_listening_session_runsheet", "runsheet", ["runsheet_id"], ["id"]
        )
    op.create_table(
        "session_step",
        sa.Column(
            "session_id",
            sa.Integer(),
            sa.ForeignKey("listening_session.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("position", sa.Integer(), primary_key=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("poll_id", sa.Integer()),
        sa.Column("round_id", sa.Integer()),
        sa.Column("by", sa.String(32), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "session_control",
        sa.Column(
            "session_id",
            sa.Integer(),
            sa.ForeignKey("listening_session.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("user_id", sa.String(32), primary_key=True),
        sa.Column("channel_id", sa.String(32), nullable=False),
        sa.Column("message_ts", sa.String(32), nullable=False),
    )


def downgrade() -> None:
    """Drop them again."""
    op.drop_table("session_control")
    op.drop_table("session_step")
    with op.batch_alter_table("listening_session") as batch:
        batch.drop_constraint("fk_listening_session_runsheet", type_="foreignkey")
        batch.drop_column("runsheet_position")
        batch.drop_column("runsheet_id")
    op.drop_index("ix_runsheet_name", table_name="runsheet")
    op.drop_table("runsheet")
