"""Indexes for the sender's queue: unsent rows by priority, and each target's unsent rows in order.

The sender asks many times a second for the first unsent row of each target, most urgent first.
With only an index on `due_at` that meant sorting every unsent row; under a burst of votes the
backlog of confirmations made each look slower than the last.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

UNSENT = sa.text("sent_at IS NULL")


def upgrade() -> None:
    """Add the queue index; the target index covers only unsent rows, in id order."""
    op.create_index(
        "ix_outbox_queue",
        "outbox",
        ["priority", "id"],
        sqlite_where=UNSENT,
        postgresql_where=UNSENT,
    )
    op.drop_index("ix_outbox_target", table_name="outbox")
    op.create_index(
        "ix_outbox_target",
        "outbox",
        ["target", "id"],
        sqlite_where=UNSENT,
        postgresql_where=UNSENT,
    )


def downgrade() -> None:
    """Back to 0006's indexes."""
    op.drop_index("ix_outbox_target", table_name="outbox")
    op.create_index("ix_outbox_target", "outbox", ["target"])
    op.drop_index("ix_outbox_queue", table_name="outbox")
