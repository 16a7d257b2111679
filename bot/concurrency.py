"""A generic group-commit writer: many items from many threads, one transaction per batch.

Nothing here knows about polls or Slack; the poll service writes its votes with it.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from typing import Generic, TypeVar

from sqlmodel import Session

from storage.db import Database

Item = TypeVar("Item")
Outcome = TypeVar("Outcome")


class BatchWriter(Generic[Item, Outcome]):
    """Writes items from many threads, many items per transaction (group commit).

    The first caller to find no write in progress becomes the writer: it takes every item
    waiting (its own included), applies them in one transaction and commits; callers whose
    items it took wait for that and return. Alone, a caller simply writes its own item. Under a
    burst of voters this is what keeps clicks fast: SQLite takes one writer at a time, and
    request threads queueing for its lock (each giving up Python's GIL at every statement)
    would spend longer waiting for one another than writing.
    """

    def __init__(
        self,
        db: Database,
        apply: Callable[[Session, Item], Outcome],
        *,
        max_batch: int = 200,
    ) -> None:
        self.db = db
        self._apply = apply
        self._max_batch = max_batch
        self._waiting: deque[tuple[Item, Future[Outcome]]] = deque()
        self._cond = threading.Condition()
        self._writing = False

    def write(self, item: Item) -> Outcome:
        """Apply `item` in a transaction and return its outcome once committed."""
        future: Future[Outcome] = Future()
        with self._cond:
            self._waiting.append((item, future))
        while not future.done():
            with self._cond:
                while self._writing and not future.done():
                    self._cond.wait()
                if future.done():
                    break
                # Nobody is writing and our item is still waiting: write everything waiting.
                self._writing = True
                taken = min(len(self._waiting), self._max_batch)
                batch = [self._waiting.popleft() for _ in range(taken)]
            try:
                self._write(batch)
            except BaseException as error:
                # Even an interrupt must not leave the others waiting for ever.
                for _, waiting in batch:
                    if not waiting.done():
                        waiting.set_exception(error)
                raise
            finally:
                with self._cond:
                    self._writing = False
                    self._cond.notify_all()
        return future.result()

    def _write(self, batch: list[tuple[Item, Future[Outcome]]]) -> None:
        try:
            with self.db.transaction() as db:
                outcomes = [self._apply(db, item) for item, _ in batch]
        except Exception as error:
            if len(batch) == 1:
                batch[0][1].set_exception(error)
                return
            # One bad item must not sink the others: write them one at a time.
            for entry in batch:
                self._write([entry])
            return
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            future.set_result(outcome)
