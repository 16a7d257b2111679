"""Fixtures shared by every test: databases (SQLite file and PostgreSQL) and settings."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from bot.clock import FixedClock
from bot.config import WHERE_TO_GET
from storage.db import Database
from storage.migrate import upgrade

POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test sees the developer's own settings or .env."""
    for name in WHERE_TO_GET:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def clock() -> FixedClock:
    """A clock the test moves by hand.

    It is set years ahead so that the real scheduler never fires a job during a test by itself:
    tests advance this clock and run the overdue sweep instead of sleeping.
    """
    return FixedClock(datetime(2031, 11, 21, 18, 30, tzinfo=UTC))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A real SQLite file for this test."""
    return f"sqlite:///{tmp_path / 'listening-bot.db'}"


def _postgres_available() -> bool:
    try:
        with create_engine(POSTGRES_URL).connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except OperationalError:
        return False


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The PostgreSQL server URL; tests skip without one, except on CI where they fail."""
    if not _postgres_available():
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is not reachable at {POSTGRES_URL} (CI must start it)")
        pytest.skip(f"PostgreSQL is not reachable at {POSTGRES_URL}")
    return POSTGRES_URL


@contextmanager
def _throwaway_postgres(server: str, template: str | None = None) -> Iterator[str]:
    """A new PostgreSQL database on `server`, empty or a copy of `template`: its URL. Dropped
    afterwards."""
    name = f"lb_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    copied = f' TEMPLATE "{template}"' if template else ""
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"{copied}'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this test, dropped afterwards."""
    with _throwaway_postgres(postgres_server) as url:
        yield url


# Running every migration takes a test a quarter of a second or more, most of the suite's
# set-up: each run (each xdist worker) migrates one empty database of each kind, and a test's
# migrated database starts as a copy of it, the same as `upgrade` would leave.


@pytest.fixture(scope="session")
def _migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated from empty, once per run."""
    path = tmp_path_factory.mktemp("migrated") / "migrated.db"
    db = Database(f"sqlite:///{path}")
    upgrade(db.engine)
    db.dispose()  # the last connection to close checkpoints the write-ahead log into the file
    assert not Path(f"{path}-wal").exists(), "the migrated database is not one file"
    return path


@pytest.fixture(scope="session")
def _migrated_postgres(postgres_server: str) -> Iterator[str]:
    """A PostgreSQL database migrated from empty, once per run: its name."""
    with _throwaway_postgres(postgres_server) as url:
        db = Database(url)
        upgrade(db.engine)
        db.dispose()  # a database is copied only while nobody is connected to it
        yield str(make_url(url).database)


@pytest.fixture
def migrated_sqlite_url(sqlite_url: str, _migrated_sqlite: Path) -> str:
    """`sqlite_url`, migrated."""
    shutil.copyfile(_migrated_sqlite, str(make_url(sqlite_url).database))
    return sqlite_url


@pytest.fixture
def migrated_postgres_url(postgres_server: str, _migrated_postgres: str) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test, dropped afterwards."""
    with _throwaway_postgres(postgres_server, template=_migrated_postgres) as url:
        yield url


DATABASES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest) -> str:
    """Each storage test runs on a SQLite file and on PostgreSQL (empty databases)."""
    return str(request.getfixturevalue(f"{request.param}_url"))


def _open(url: str) -> Iterator[Database]:
    db = Database(url)
    yield db
    db.dispose()


@pytest.fixture(params=DATABASES)
def database(request: pytest.FixtureRequest) -> Iterator[Database]:
    """A migrated database (SQLite or PostgreSQL)."""
    yield from _open(str(request.getfixturevalue(f"migrated_{request.param}_url")))


@pytest.fixture
def postgres_database(migrated_postgres_url: str) -> Iterator[Database]:
    """A migrated PostgreSQL database, for what only PostgreSQL does."""
    yield from _open(migrated_postgres_url)


@pytest.fixture
def sqlite_database(migrated_sqlite_url: str) -> Iterator[Database]:
    """A migrated SQLite database."""
    yield from _open(migrated_sqlite_url)
