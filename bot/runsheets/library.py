"""The run sheets the bot knows: stored by name, a new version whenever one changes."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from bot.clock import Clock
from bot.runsheets.model import RunSheet
from storage import runsheets as store
from storage.db import Database

# Two `runsheet add`s of one name at once both pick the next version; the loser tries again.
_ADD_ATTEMPTS = 3


@dataclass(frozen=True)
class Added:
    """What `add` did: the version now current, and whether it is new."""

    name: str
    version: int
    created: bool
    step_count: int


@dataclass(frozen=True)
class Listed:
    """A run sheet's newest version, and how many sessions have used any of its versions."""

    name: str
    version: int
    title: str | None
    step_count: int
    added_at: datetime
    sessions_used: int


@dataclass(frozen=True)
class StoredSheet:
    """One stored version, read back into its model."""

    id: int
    name: str
    version: int
    sheet: RunSheet


def digest(sheet: RunSheet) -> str:
    """The sheet's identity: sha256 of its canonical JSON (comments and layout do not count)."""
    canonical = json.dumps(
        sheet.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _stored(row: store.RunSheetVersion) -> StoredSheet:
    assert row.id is not None
    return StoredSheet(
        id=row.id,
        name=row.name,
        version=row.version,
        sheet=RunSheet.model_validate_json(row.steps),
    )


class RunSheetLibrary:
    """Adds, lists and reads run sheets."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def add(self, sheet: RunSheet, source: str) -> Added:
        """Store `sheet` (validated, written as `source`) unless its newest version is the same."""
        attempt = 1
        while True:
            try:
                return self._add_once(sheet, source)
            except IntegrityError:
                if attempt >= _ADD_ATTEMPTS:
                    raise
                attempt += 1

    def _add_once(self, sheet: RunSheet, source: str) -> Added:
        with self._db.transaction() as s:
            row, created = store.add_runsheet(
                s,
                name=sheet.name,
                title=sheet.title,
                source=source,
                steps=sheet.model_dump_json(),
                step_count=len(sheet.steps),
                digest=digest(sheet),
                now=self._clock.now(),
            )
            return Added(row.name, row.version, created, row.step_count)

    def list(self) -> list[Listed]:
        """Every run sheet's newest version, by name."""
        with self._db.read() as s:
            return [
                Listed(
                    name=row.name,
                    version=row.version,
                    title=row.title,
                    step_count=row.step_count,
                    added_at=row.created_at,
                    sessions_used=used,
                )
                for row, used in store.list_runsheets(s)
            ]

    def latest(self, name: str) -> StoredSheet | None:
        """The newest version of the sheet called `name`."""
        with self._db.read() as s:
            row = store.latest_runsheet(s, name=name)
            return _stored(row) if row is not None else None

    def get(self, runsheet_id: int) -> StoredSheet | None:
        """A stored version by id (the one a session follows)."""
        with self._db.read() as s:
            row = store.get_runsheet(s, runsheet_id=runsheet_id)
            return _stored(row) if row is not None else None
