"""Engine factory and units of work for SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from storage import leader
from storage.outbox import CHANGED, QUEUED, Pending

SQLITE_BUSY_TIMEOUT_MS = 30_000
# Dropping old row versions must not hold up voters for long: give up and try again later.
FORGET_HISTORY_WAIT_MS = 200
READ_ONLY = "listening_bot_read_only"

logger = logging.getLogger(__name__)

# Other sessions that began a snapshot in this database, or a writing transaction in any
# database of the server, before `mark` (PostgreSQL). VACUUM FULL keeps every row version its
# own snapshot may still see, and a snapshot counts the writers running in every database: one
# writer older than the mark, in another database, keeps the old versions as surely as a reader
# here. Sessions of other users show neither unless the bot's role may read all statistics.
OLDER_POLL_S = 0.05  # how often forget_history looks again for older transactions
_OLDER_TRANSACTIONS = text(
    "SELECT count(*) FROM pg_stat_activity"
    " WHERE pid <> pg_backend_pid()"
    " AND ((datname = current_database() AND age(backend_xmin) > age(xid(CAST(:mark AS xid8))))"
    " OR age(backend_xid) > age(xid(CAST(:mark AS xid8))))"
)


def create_db_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL, a busy timeout, foreign keys and write-ahead locking."""
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        # psycopg 3 is the driver we install, whatever SQLAlchemy's default is.
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, pool_pre_ping=True, **kwargs)

    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        **kwargs,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from pysqlite so that "begin" below decides the lock mode.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Deleted rows are overwritten, not left in free space: an anonymous vote's
        # confirmation, deleted once sent, must not be readable from the file afterwards.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.get_execution_options().get(READ_ONLY):
            connection.exec_driver_sql("BEGIN")
            return
        # IMMEDIATE takes the write lock up front: a deferred transaction that reads and then
        # writes can fail with SQLITE_BUSY at once when another writer got in between, which
        # busy_timeout does not cover. Under WAL, readers in other connections are not blocked.
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


class Database:
    """The engine plus units of work: `with db.transaction() as s:` commits or rolls back."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = create_db_engine(url, **engine_kwargs)
        # Reads need no write lock; on SQLite they must not queue behind writers.
        self._read_engine = self.engine.execution_options(**{READ_ONLY: True})
        self._on_queued: list[Callable[[Sequence[Pending], bool], None]] = []
        self._on_flag: list[tuple[str, Callable[[], None]]] = []
        # Several replicas (PostgreSQL): this replica's name, sent with a notice of every commit
        # that queued outbox rows or Zoom tasks, so that the leader learns of them at once.
        self.notices_from: str | None = None
        # SQLite has one writer. Its busy handler lets a waiting writer sleep and poll, so under
        # a burst of votes the group-commit writer, which takes the lock again at once, could
        # starve the others for seconds; waiting on one lock in this process takes turns instead.
        self._writer: contextlib.AbstractContextManager[Any] = (
            threading.RLock() if self.is_sqlite else contextlib.nullcontext()
        )

    def on_queued(self, callback: Callable[[Sequence[Pending], bool], None]) -> None:
        """Call `callback(rows, changed)` after every commit that queued outbox rows (`rows`) or
        changed others (`changed`): the sender learns of them at once."""
        self._on_queued.append(callback)

    def on_flag(self, flag: str, callback: Callable[[], None]) -> None:
        """Call `callback()` after every commit whose session set `session.info[flag]` (a Zoom
        task was queued: the Zoom worker looks at once)."""
        self._on_flag.append((flag, callback))

    @property
    def is_sqlite(self) -> bool:
        """Whether this database is SQLite."""
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session that commits when the block ends and rolls back on an exception."""
        with self._writer, Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
                if self.notices_from is not None:
                    self._notify_leader(session)
                session.commit()
            except BaseException:
                session.rollback()
                raise
            for flag, flagged in self._on_flag:
                if session.info.pop(flag, False):
                    flagged()
            queued: list[Pending] = session.info.pop(QUEUED, [])
            changed = bool(session.info.pop(CHANGED, False))
            if queued or changed:
                # Still holding SQLite's writer turn: the sender learns of commits in the order
                # they happened, so one target's rows never reach it out of order.
                for callback in self._on_queued:
                    callback(queued, changed)

    def _notify_leader(self, session: Session) -> None:
        """Notices, delivered at commit, of the outbox rows and Zoom tasks this one wrote."""
        if session.info.get(QUEUED) or session.info.get(CHANGED):
            leader.notify(session, f"outbox {self.notices_from}")
        if any(session.info.get(flag) for flag, _ in self._on_flag):
            leader.notify(session, f"zoom {self.notices_from}")

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading only; it never takes SQLite's write lock."""
        # Closing (not rolling back) ends the transaction but leaves loaded objects readable.
        with Session(self._read_engine, expire_on_commit=False) as session:
            yield session

    def forget_history(
        self, tables: Sequence[str], *, wait_ms: int = FORGET_HISTORY_WAIT_MS
    ) -> bool:
        """Leave no earlier versions of `tables`' rows in the database's files.

        SQLite keeps each commit's pages in its write-ahead log until a checkpoint, so the log
        can be replayed commit by commit: it is checkpointed and truncated to nothing.
        PostgreSQL keeps old row versions, stamped with the transaction that wrote them, until
        vacuumed: the tables are rewritten (VACUUM FULL). Neither touches the server's own
        crash-recovery log, which only a database administrator can read.

        Args:
            tables: the tables whose old row versions must go.
            wait_ms: how long to wait for other connections before giving up; writers wait
                behind this, so keep it short and call again later instead.

        Returns:
            False when other connections kept it from finishing; call again later.
        """
        try:
            if self.is_sqlite:
                return self._checkpoint_and_truncate(wait_ms)
            return self._vacuum_full(tables, wait_ms)
        except (OperationalError, sqlite3.OperationalError):
            logger.info("old row versions of %s kept for now: database busy", tables)
            return False

    def _checkpoint_and_truncate(self, wait_ms: int) -> bool:
        raw = self.engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute(f"PRAGMA busy_timeout={int(wait_ms)}")
            try:
                busy, _log, _done = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            finally:
                cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
                cursor.close()
        finally:
            raw.close()
        return not busy

    def _vacuum_full(self, tables: Sequence[str], wait_ms: int) -> bool:
        with self.engine.connect() as connection:
            autocommit = connection.execution_options(isolation_level="AUTOCOMMIT")
            # VACUUM keeps the row versions any open transaction may still read: if one began
            # before this point (an export, a backup, a vote in flight), come back later.
            mark = autocommit.exec_driver_sql("SELECT pg_current_xact_id()::text").scalar_one()
            # Writers elsewhere on the server are usually short: wait for them a little.
            deadline = time.monotonic() + wait_ms / 1000
            while older := autocommit.execute(_OLDER_TRANSACTIONS, {"mark": mark}).scalar_one():
                if time.monotonic() >= deadline:
                    logger.info(
                        "old row versions of %s kept for now: %s older transactions", tables, older
                    )
                    return False
                time.sleep(OLDER_POLL_S)
            autocommit.exec_driver_sql(f"SET lock_timeout = {int(wait_ms)}")
            try:
                for table in tables:
                    # Table names come from our own models, never from users.
                    autocommit.exec_driver_sql(f'VACUUM FULL "{table}"')
            finally:
                autocommit.exec_driver_sql("RESET lock_timeout")
        return True

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def session_channels_in(path: Path) -> set[str] | None:
    """The channels of every session in the SQLite file at `path`, read-only (None: it is not a
    listening-bot database)."""
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
            rows = connection.execute("SELECT DISTINCT channel_id FROM listening_session")
            return {str(row[0]) for row in rows.fetchall()}
    except sqlite3.DatabaseError:
        return None
