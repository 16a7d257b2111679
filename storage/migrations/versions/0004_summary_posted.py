"""Remember when, and to which channels, each session's final summary was posted.

Revision ID: 0004
Revises: 0002, 0003
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0004"
down_revision = ("0002", "0003")
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add listening_session.summary_posted_at; sessions that already ended count as posted."""
    with op.batch_alter_table("listening_session") as batch:
        batch.add_column(sa.Column("summary_posted_at", UTCDateTime(), nullable=True))
        batch.add_column(
            sa.Column("summary_channels", sa.String(200), nullable=False, server_default="")
        )
    # Without this, the first start after upgrading would post a summary for every old session.
    op.execute(
        "UPDATE listening_session SET summary_posted_at = ended_at WHERE ended_at IS NOT NULL"
    )


def downgrade() -> None:
    """Drop the column."""
    with op.batch_alter_table("listening_session") as batch:
        batch.drop_column("summary_channels")
        batch.drop_column("summary_posted_at")
