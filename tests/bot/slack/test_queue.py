"""The sender's picture of the outbox: first row of each target, most urgent first."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.slack.queue import PendingRows
from storage.outbox import Pending

T0 = datetime(2026, 12, 2, 19, 0, tzinfo=UTC)


def row(row_id: int, target: str, priority: int = 1) -> Pending:
    return Pending(
        id=row_id,
        key=f"k{row_id}",
        kind="k",
        target=target,
        priority=priority,
        args={},
        response_url=None,
        created_at=T0,
        due_at=T0,
        expires_at=None,
        attempts=0,
        progress={},
    )


def ids(rows: list[Pending]) -> list[int]:
    return [r.id for r in rows]


def test_only_the_first_row_of_each_target_most_urgent_first() -> None:
    pending = PendingRows()
    pending.add([row(1, "a", 1), row(2, "a", 0), row(3, "b", 2), row(4, "c", 0), row(5, "b", 0)])
    # a's first is 1 (priority 1) however urgent its second; b's first is 3 (priority 2).
    assert ids(pending.firsts(10)) == [4, 1, 3]


def test_a_removed_first_row_lets_the_next_of_its_target_go() -> None:
    pending = PendingRows()
    pending.add([row(1, "a"), row(2, "a"), row(3, "a")])
    pending.remove([1])
    assert ids(pending.firsts(10)) == [2]
    pending.remove([3])  # not the first: nothing moves
    assert ids(pending.firsts(10)) == [2]
    pending.remove([2])
    assert pending.firsts(10) == []
    assert len(pending) == 0


def test_a_row_learnt_late_still_goes_before_later_ones_of_its_target() -> None:
    pending = PendingRows()
    pending.add([row(11, "a")])
    pending.add([row(10, "a")])  # committed first, handed over second
    assert ids(pending.firsts(10)) == [10]
    pending.remove([10])
    assert ids(pending.firsts(10)) == [11]
    assert ids(pending.firsts(10)) == [11]  # asking again changes nothing


def test_firsts_takes_up_to_the_limit_from_each_priority() -> None:
    pending = PendingRows()
    pending.add([row(n, f"u{n}", 0) for n in range(1, 101)])
    pending.add([row(200, "poll:1", 2)])
    # The live tally is seen even behind a hundred private replies.
    assert ids(pending.firsts(5)) == [1, 2, 3, 4, 5, 200]


def test_known_rows_are_not_added_twice_and_updates_replace_them() -> None:
    pending = PendingRows()
    pending.add([row(1, "a")])
    pending.add([row(1, "a")])
    assert len(pending) == 1
    later = row(1, "a")
    pending.update(later)
    assert pending.firsts(1)[0] is later
    pending.update(row(99, "z"))  # unknown: ignored
    assert 99 not in pending


def test_behind_lists_the_rows_queued_after_one_on_its_target() -> None:
    pending = PendingRows()
    pending.add([row(1, "a"), row(2, "b"), row(3, "a"), row(4, "a")])
    assert ids(pending.behind(row(1, "a"))) == [3, 4]
    assert ids(pending.behind(row(4, "a"))) == []


def test_learnt_before_tells_rows_known_before_a_mark_from_newer_ones() -> None:
    pending = PendingRows()
    pending.add([row(1, "a"), row(2, "b")])
    mark = pending.mark
    pending.add([row(3, "c")])
    assert sorted(pending.learnt_before(mark)) == [1, 2]
