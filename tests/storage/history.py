"""Read a database's files as someone with a copy of them would: every state they still hold."""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import text

from storage.db import Database

WAL_HEADER = 32
FRAME_HEADER = 24


def sqlite_commits(db_file: Path, query: Callable[[sqlite3.Connection], Any]) -> list[Any]:
    """What `query` returns after each commit still in the write-ahead log, repeats dropped.

    The database file alone comes first, then the file with the log replayed up to each commit
    record (a frame whose header gives the database size), as SQLite itself would replay it.
    """
    wal_file = Path(f"{db_file}-wal")
    wal = wal_file.read_bytes() if wal_file.exists() else b""
    ends = [0]
    frame = 0
    if len(wal) >= WAL_HEADER:
        frame = FRAME_HEADER + int.from_bytes(wal[8:12], "big")
        for index in range((len(wal) - WAL_HEADER) // frame):
            start = WAL_HEADER + index * frame
            if int.from_bytes(wal[start + 4 : start + 8], "big"):  # a commit record
                ends.append(index + 1)
    states: list[Any] = []
    with tempfile.TemporaryDirectory(prefix="replay-") as scratch:
        for number, end in enumerate(ends):
            copy = Path(scratch) / f"replay-{number}.db"
            shutil.copyfile(db_file, copy)
            if end:
                Path(f"{copy}-wal").write_bytes(wal[: WAL_HEADER + end * frame])
            with contextlib.closing(sqlite3.connect(copy)) as connection:
                try:
                    state = query(connection)
                except sqlite3.OperationalError:  # the tables were not created yet
                    continue
            if not states or states[-1] != state:
                states.append(state)
    return states


def postgres_row_versions(database: Database, table: str) -> list[tuple[str, bytes]]:
    """Every row version on the table's pages, dead or alive: (writing transaction, data).

    Uses the pageinspect extension, as someone reading the table's files would.
    """
    with database.engine.connect() as connection:
        autocommit = connection.execution_options(isolation_level="AUTOCOMMIT")
        autocommit.execute(text("CREATE EXTENSION IF NOT EXISTS pageinspect"))
        pages = autocommit.execute(
            text("SELECT pg_relation_size(:t) / current_setting('block_size')::int"), {"t": table}
        ).scalar_one()
        versions: list[tuple[str, bytes]] = []
        for page in range(pages):
            rows = autocommit.execute(
                text(
                    "SELECT t_xmin::text, t_data FROM heap_page_items(get_raw_page(:t, :p)) "
                    "WHERE t_data IS NOT NULL"
                ),
                {"t": table, "p": page},
            ).all()
            versions += [(xmin, bytes(data)) for xmin, data in rows]
    return versions
