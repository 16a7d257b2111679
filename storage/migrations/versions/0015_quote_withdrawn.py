"""Withdrawing quotes: when a quote was withdrawn and by whom; where each report-back's thread
post and each summary message went, so they can be edited after a withdrawal.

Summaries posted before this release have their messages only in their outbox row's progress
(`<channel>:messages`, the ts of each message in order): they are copied into `summary_post`
here, so a withdrawal edits them too (rows already forgotten cannot be; see README).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_SUFFIX = ":messages"


def upgrade() -> None:
    """Add the columns and the table; copy the summary messages the outbox remembers."""
    with op.batch_alter_table("report_quote") as batch:
        batch.add_column(sa.Column("withdrawn_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("withdrawn_by", sa.String(20), nullable=True))
    with op.batch_alter_table("report_back") as batch:
        batch.add_column(sa.Column("thread_ts", sa.String(32), nullable=True))
    op.create_table(
        "summary_post",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "session_id",
            sa.Integer(),
            sa.ForeignKey("listening_session.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("summary_key", sa.String(200), nullable=False),
        sa.Column("interim", sa.Boolean(), nullable=False),
        sa.Column("built_at", UTCDateTime(), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("part", sa.Integer(), nullable=False),
        sa.Column("ts", sa.String(32), nullable=False),
        sa.UniqueConstraint("summary_key", "channel", "part", name="uq_summary_post_part"),
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT key, kind, args, progress, created_at FROM outbox"
            " WHERE kind IN ('summary.final', 'summary.interim') AND progress IS NOT NULL"
        )
    ).all()
    # created_at is copied as stored (naive UTC): when the summary was queued, near enough to
    # when it was built for the "as of" of an interim summary.
    insert = sa.text(
        "INSERT INTO summary_post (session_id, summary_key, interim, built_at, channel, part, ts)"
        " VALUES (:session_id, :key, :interim, :built_at, :channel, :part, :ts)"
    )
    for key, kind, args, progress, created_at in rows:
        session_id = json.loads(args or "{}").get("session_id")
        steps = json.loads(progress or "{}")
        if not isinstance(session_id, int) or not isinstance(steps, dict):
            continue
        exists = bind.execute(
            sa.text("SELECT 1 FROM listening_session WHERE id = :id"), {"id": session_id}
        ).first()
        if exists is None:
            continue
        for step, value in steps.items():
            if not step.endswith(_SUFFIX) or not isinstance(value, list):
                continue
            channel = step[: -len(_SUFFIX)]
            for part, ts in enumerate(value, start=1):
                bind.execute(
                    insert,
                    {
                        "session_id": session_id,
                        "key": key,
                        "interim": kind == "summary.interim",
                        "built_at": created_at,
                        "channel": channel,
                        "part": part,
                        "ts": str(ts),
                    },
                )


def downgrade() -> None:
    """Drop them (a withdrawn quote's text was blanked: downgrading does not bring it back)."""
    op.drop_table("summary_post")
    with op.batch_alter_table("report_back") as batch:
        batch.drop_column("thread_ts")
    with op.batch_alter_table("report_quote") as batch:
        batch.drop_column("withdrawn_by")
        batch.drop_column("withdrawn_at")
