"""Engine factory and units of work for SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlmodel import Session

SQLITE_BUSY_TIMEOUT_MS = 30_000
READ_ONLY = "listening_bot_read_only"


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

    @property
    def is_sqlite(self) -> bool:
        """Whether this database is SQLite."""
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session that commits when the block ends and rolls back on an exception."""
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading only; it never takes SQLite's write lock."""
        # Closing (not rolling back) ends the transaction but leaves loaded objects readable.
        with Session(self._read_engine, expire_on_commit=False) as session:
            yield session

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
