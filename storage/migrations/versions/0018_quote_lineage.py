"""Quote lineage: the earlier version's quote each quote was copied from, so withdrawing one
withdraws every version's copy even when the reporter edited it between versions.

Quotes stored before this release have no link (their copies are still found by their text).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add report_quote.copied_from, a link to another quote that is cleared if it goes."""
    with op.batch_alter_table("report_quote") as batch:
        batch.add_column(sa.Column("copied_from", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_report_quote_copied_from",
            "report_quote",
            ["copied_from"],
            ["id"],
            ondelete="SET NULL",
        )
    op.create_index("ix_report_quote_copied_from", "report_quote", ["copied_from"])


def downgrade() -> None:
    """Drop it (the links are lost: withdrawals match copies by their text again)."""
    op.drop_index("ix_report_quote_copied_from", "report_quote")
    with op.batch_alter_table("report_quote") as batch:
        batch.drop_constraint("fk_report_quote_copied_from", type_="foreignkey")
        batch.drop_column("copied_from")
