"""Who leads several replicas on one PostgreSQL database: the lock, the epoch, the notices.

The leader holds a session-level advisory lock on a connection of its own; the kernel of the
scheme is PostgreSQL's, not ours: the lock goes when that connection goes (a crash, a kill, a
`pg_terminate_backend`). Each new leader raises the epoch in `leader_epoch`; a sender checks,
in the transaction that claims its next rows, that the epoch is still its own, so a leader that
lost its lock without noticing yet is refused. Notices (LISTEN/NOTIFY) carry new outbox rows,
Zoom tasks and deadlines from any replica to the leader.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import psycopg
from sqlalchemy import Column, String, text
from sqlalchemy.engine import make_url
from sqlmodel import Field, Session, SQLModel

from storage.models import utc_column

# One key for the whole bot, per database (advisory locks are local to a database).
LEADER_LOCK_KEY = 0x6C62_6C65_6164  # "lblead"
CHANNEL = "listening_bot"
APPLICATION = "listening-bot replica"  # the lock connections' application_name prefix
NOTIFIER = "listening-bot notice"  # a short connection sending one notice (not counted)
NOTIFY_LIMIT = 7900  # PostgreSQL refuses payloads of 8000 bytes or more


class LeaderEpoch(SQLModel, table=True):
    """The one row: the current leader's epoch, name and since when."""

    __tablename__ = "leader_epoch"

    id: int = Field(default=1, primary_key=True)
    epoch: int = 0
    replica: str = Field(default="", sa_column=Column(String(64), nullable=False))
    since: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


def libpq_url(url: str) -> str:
    """The database URL as libpq takes it (no SQLAlchemy driver suffix)."""
    parsed = make_url(url).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)


def connect(
    url: str, replica: str, *, timeout: float, role: str = APPLICATION
) -> psycopg.Connection[Any]:
    """A connection of the replica's own, in autocommit, named for pg_stat_activity (the lock
    connection as APPLICATION: replicas are counted by it)."""
    return psycopg.connect(
        libpq_url(url),
        autocommit=True,
        connect_timeout=max(1, int(timeout)),
        application_name=f"{role} {replica}"[:63],
    )


def try_lock(connection: psycopg.Connection[Any]) -> bool:
    """Take the leader's lock if nobody holds it (never waits)."""
    row = connection.execute("SELECT pg_try_advisory_lock(%s)", (LEADER_LOCK_KEY,)).fetchone()
    return bool(row and row[0])


def raise_epoch(connection: psycopg.Connection[Any], replica: str, now: datetime) -> int:
    """Start a new epoch for `replica` (holding the lock); waits for claims of the last one."""
    row = connection.execute(
        "INSERT INTO leader_epoch (id, epoch, replica, since) VALUES (1, 1, %(r)s, %(t)s)"
        " ON CONFLICT (id) DO UPDATE"
        " SET epoch = leader_epoch.epoch + 1, replica = %(r)s, since = %(t)s"
        " RETURNING epoch",
        {"r": replica, "t": now.astimezone(UTC).replace(tzinfo=None)},  # stored naive UTC
    ).fetchone()
    assert row is not None
    return int(row[0])


def listen(connection: psycopg.Connection[Any]) -> None:
    """Receive the notices of every replica on this connection."""
    connection.execute(f"LISTEN {CHANNEL}")


def heartbeat(connection: psycopg.Connection[Any], timeout: float) -> None:
    """A round trip on the lock connection; raises if it is gone or slower than `timeout`."""
    connection.execute(f"SET statement_timeout = {int(timeout * 1000)}")
    connection.execute("SELECT 1")


def count_replicas(connection: psycopg.Connection[Any]) -> int:
    """How many replicas hold a lock connection, counted on the lock connection itself."""
    row = connection.execute(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND application_name LIKE %s",
        (APPLICATION + " %",),
    ).fetchone()
    return max(1, int(row[0])) if row else 1


def notices(connection: psycopg.Connection[Any], timeout: float) -> Iterator[str]:
    """The payloads of notices arriving within `timeout` seconds."""
    for notice in connection.notifies(timeout=timeout):
        yield notice.payload


def epoch_is(db: Session, epoch: int) -> bool:
    """Whether `epoch` is still current, holding the row against a new leader until commit."""
    row = db.execute(
        text("SELECT epoch FROM leader_epoch WHERE id = 1 FOR SHARE")
    ).scalar_one_or_none()
    return row == epoch


def notify(db: Session, payload: str) -> None:
    """Tell every listening replica `payload` when this transaction commits."""
    db.execute(
        text("SELECT pg_notify(:channel, :payload)"),
        {"channel": CHANNEL, "payload": payload[:NOTIFY_LIMIT]},
    )


def notify_now(url: str, replica: str, payload: str) -> None:
    """Tell every listening replica `payload` now, from a short connection of its own."""
    with connect(url, replica, timeout=3, role=NOTIFIER) as connection:
        connection.execute("SELECT pg_notify(%s, %s)", (CHANNEL, payload[:NOTIFY_LIMIT]))


def replicas_running(db: Session) -> int:
    """How many replicas hold a lock connection (leader or waiting to lead) right now."""
    count = db.execute(
        text(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND application_name LIKE :prefix"
        ),
        {"prefix": APPLICATION + " %"},
    ).scalar_one()
    return int(count)


def leader_running(db: Session) -> bool:
    """Whether some process holds the leader's lock on this database (CLI: who sends)."""
    held = db.execute(
        text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            " AND ((classid::bigint << 32) | objid::bigint) = :key"
        ),
        {"key": LEADER_LOCK_KEY},
    ).scalar_one()
    return bool(held)
