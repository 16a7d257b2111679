"""The generic concurrency pieces: group commit."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlmodel import Session, select

from bot.concurrency import BatchWriter
from storage.db import Database
from storage.models import Delivery
from tests.harness.waiting import eventually

NOW = datetime(2031, 11, 21, 18, 30, tzinfo=UTC)


# ---------------------------------------------------------------------------
# BatchWriter (group commit)


def test_the_batch_writer_commits_every_item_before_answering(sqlite_database: Database) -> None:
    batches: list[int] = []
    gate = threading.Event()

    def apply(db: Session, item: int) -> int:
        gate.wait(5)  # hold the first transaction open so the rest queue up behind it
        db.add(Delivery(key=f"item-{item}", received_at=NOW))
        return item * 10

    writer: BatchWriter[int, int] = BatchWriter(sqlite_database, apply)
    original = writer._write

    def counting(batch: list[Any]) -> None:
        batches.append(len(batch))
        original(batch)

    writer._write = counting  # type: ignore[method-assign]
    with ThreadPoolExecutor(max_workers=40) as pool:
        futures = [pool.submit(writer.write, n) for n in range(40)]
        try:
            # Every item is either in the transaction held open or queued behind it.
            eventually(
                lambda: sum(batches) + len(writer._waiting) == 40, what="all 40 items queued"
            )
        finally:
            gate.set()
        results = [f.result(timeout=10) for f in futures]
    assert results == [n * 10 for n in range(40)]
    assert sum(batches) == 40
    assert len(batches) < 40  # the waiting items went in together
    with sqlite_database.read() as db:
        assert len(db.exec(select(Delivery)).all()) == 40


def test_one_failing_item_does_not_sink_its_batch(sqlite_database: Database) -> None:
    gate = threading.Event()

    def apply(db: Session, item: int) -> int:
        gate.wait(5)
        if item == 3:
            raise ValueError("bad item")
        db.add(Delivery(key=f"item-{item}", received_at=NOW))
        return item

    writer: BatchWriter[int, int] = BatchWriter(sqlite_database, apply)
    batches: list[int] = []
    original = writer._write

    def counting(batch: list[Any]) -> None:
        batches.append(len(batch))
        original(batch)

    writer._write = counting  # type: ignore[method-assign]
    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = {n: pool.submit(writer.write, n) for n in range(8)}
        try:
            eventually(lambda: sum(batches) + len(writer._waiting) == 8, what="all 8 items queued")
        finally:
            gate.set()
        with pytest.raises(ValueError, match="bad item"):
            futures[3].result(timeout=10)
        assert [futures[n].result(timeout=10) for n in range(8) if n != 3] == [0, 1, 2, 4, 5, 6, 7]
    with sqlite_database.read() as db:
        keys = {d.key for d in db.exec(select(Delivery)).all()}
    assert keys == {f"item-{n}" for n in range(8) if n != 3}


def test_a_lone_write_happens_in_the_callers_own_thread(sqlite_database: Database) -> None:
    threads: list[int] = []

    def apply(db: Session, item: int) -> int:
        threads.append(threading.get_ident())
        return item + 1

    writer: BatchWriter[int, int] = BatchWriter(sqlite_database, apply)
    assert writer.write(1) == 2
    assert writer.write(2) == 3
    assert threads == [threading.get_ident()] * 2
