"""The sender's picture of the outbox: the unsent rows it knows of, first of each target in front.

The database is the truth; this is what the dispatcher reads many times a second instead of
querying it. Commits in this process hand their new rows over as they happen (see
`Database.on_queued`); rows written elsewhere, or changed by others (retired), are found when the
sender reads the outbox again (`OutboxSender._resync`). Not thread-safe: the sender holds its lock.
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Iterable

from storage.outbox import Pending


class PendingRows:
    """Unsent rows by id, each target's in id order, and the targets' first rows by urgency."""

    def __init__(self) -> None:
        self._rows: dict[int, Pending] = {}
        self._targets: dict[str, list[int]] = {}
        # Per priority, a heap of ids that were the first of their target when pushed; an entry
        # whose row has gone or is no longer first is dropped when it comes to the top.
        self._firsts: dict[int, list[int]] = {}
        self._added: dict[int, int] = {}  # id -> when it was learnt of (see `learnt_before`)
        self._clock = 0

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, row_id: object) -> bool:
        return row_id in self._rows

    @property
    def mark(self) -> int:
        """A point in the order rows were learnt of (for `learnt_before`)."""
        return self._clock

    def add(self, rows: Iterable[Pending]) -> None:
        """Learn of rows (ones already known are left as they are)."""
        for row in rows:
            if row.id in self._rows:
                continue
            self._clock += 1
            self._rows[row.id] = row
            self._added[row.id] = self._clock
            ids = self._targets.setdefault(row.target, [])
            bisect.insort(ids, row.id)
            if ids[0] == row.id:
                heapq.heappush(self._firsts.setdefault(row.priority, []), row.id)

    def update(self, row: Pending) -> None:
        """Replace a known row by a newer copy of it (a retry's time, the steps done)."""
        if row.id in self._rows:
            self._rows[row.id] = row

    def remove(self, row_ids: Iterable[int]) -> None:
        """Forget rows (done, given up, or no longer unsent)."""
        for row_id in row_ids:
            row = self._rows.pop(row_id, None)
            if row is None:
                continue
            del self._added[row_id]
            ids = self._targets[row.target]
            first = ids[0] == row_id
            ids.remove(row_id)
            if not ids:
                del self._targets[row.target]
            elif first:
                following = self._rows[ids[0]]
                heapq.heappush(self._firsts.setdefault(following.priority, []), following.id)

    def behind(self, row: Pending) -> list[Pending]:
        """The known rows of `row`'s target queued after it, in order."""
        ids = self._targets.get(row.target, [])
        return [self._rows[row_id] for row_id in ids[bisect.bisect_right(ids, row.id) :]]

    def learnt_before(self, mark: int) -> list[int]:
        """The ids of rows learnt of before `mark` was taken."""
        return [row_id for row_id, added in self._added.items() if added <= mark]

    def firsts(self, limit: int) -> list[Pending]:
        """Up to `limit` rows of each priority that are the first of their target, most urgent
        first: only a target's first row may go, so a later edit never overtakes an earlier one.
        """
        chosen: list[Pending] = []
        for priority in sorted(self._firsts):
            heap = self._firsts[priority]
            taken: list[int] = []
            while heap and len(taken) < limit:
                row_id = heapq.heappop(heap)
                row = self._rows.get(row_id)
                if row is None or self._targets[row.target][0] != row_id:
                    continue  # gone, or behind another row of its target now
                if taken and taken[-1] == row_id:
                    continue  # pushed twice
                taken.append(row_id)
            for row_id in taken:
                heapq.heappush(heap, row_id)
            chosen += (self._rows[row_id] for row_id in taken)
        return chosen
