"""Several replicas: the leader's epoch (fencing a leader that lost its lock).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the one-row leader epoch table."""
    op.create_table(
        "leader_epoch",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column("replica", sa.String(64), nullable=False),
        sa.Column("since", UTCDateTime(), nullable=True),
    )


def downgrade() -> None:
    """Drop it."""
    op.drop_table("leader_epoch")
