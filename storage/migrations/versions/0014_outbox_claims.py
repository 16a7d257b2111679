"""Several replicas: which leader's epoch claimed an outbox row to send it, and when.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the claim columns (empty: no row is in flight during an upgrade)."""
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("claimed_epoch", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("claimed_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    """Drop them."""
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("claimed_at")
        batch.drop_column("claimed_epoch")
