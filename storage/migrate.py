"""Alembic migrations, run from code so `listening-bot db upgrade` needs no alembic.ini."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, inspect, text

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# The PostgreSQL advisory lock key held while migrating ("lbmigr" in ASCII): any fixed bigint
# every replica agrees on.
MIGRATION_LOCK_KEY = 0x6C626D696772


def alembic_config(engine: Engine) -> Config:
    """An Alembic config whose env.py uses `engine`."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Apply every migration up to `revision`.

    On PostgreSQL this runs under an advisory lock: replicas starting together upgrade once,
    the others wait for it and then find nothing to do.
    """
    with _migration_lock(engine):
        command.upgrade(alembic_config(engine), revision)


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    """Hold PostgreSQL's session-level advisory lock on a connection of its own (SQLite
    serialises writers itself and runs one bot per file: nothing to do)."""
    if engine.dialect.name != "postgresql":
        yield
        return
    # Autocommit: the lock belongs to the session, and the connection must not sit idle in a
    # transaction for as long as the migrations take.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        try:
            yield
        finally:
            try:
                connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY}
                )
            except Exception:
                # A session-level lock outlives a connection returned to the pool: closing the
                # connection instead ends the session, and the lock with it.
                logger.warning("could not release the migration lock; closing its connection")
                connection.invalidate()


def current_tables(engine: Engine) -> set[str]:
    """The table names in the database."""
    return set(inspect(engine).get_table_names())
