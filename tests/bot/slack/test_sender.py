"""The outbox sender against a real SQLite file, with senders that record or fail like Slack."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from bot.clock import FixedClock
from bot.outbox import PUBLIC, REPLY, Effect, queue
from bot.slack.kinds import NOT_LOADED, REPLACED, Kind, Pace, Progress
from bot.slack.sender import BACKOFF, OutboxSender
from storage import outbox as store
from storage.db import Database
from storage.outbox import Pending
from tests.harness.waiting import eventually


def slack_error(error: str, *, status: int = 200, retry_after: int | None = None) -> SlackApiError:
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
    response = SlackResponse(
        client=None,
        http_verb="POST",
        api_url="https://slack.test/api/chat.postMessage",
        req_args={},
        data={"ok": False, "error": error},
        headers=headers,
        status_code=status,
    )
    return SlackApiError(error, response)


@pytest.fixture
def sender(sqlite_database: Database, clock: FixedClock) -> Iterator[OutboxSender]:
    outbox = OutboxSender(sqlite_database, clock)
    yield outbox
    outbox.stop(grace=1)


def add(db: Database, clock: FixedClock, key: str, *, target: str = "t", **kw: Any) -> None:
    with db.transaction() as s:
        queue(
            s,
            Effect(key=key, kind=kw.pop("kind", "k"), target=target, priority=PUBLIC, **kw),
            now=clock.now(),
        )


def rows(db: Database) -> dict[str, store.OutboxRow]:
    with db.read() as s:
        return {row.key: row for row in store.rows(s)}


def recorder(into: list[str]) -> Kind:
    """A kind whose sender notes each row's key."""

    def send(row: Pending, progress: Progress) -> bool:
        into.append(row.key)
        return True

    return Kind(send=send)


def test_rows_of_one_target_go_in_order_and_are_marked_sent(
    sender: OutboxSender, sqlite_database: Database, clock: FixedClock
) -> None:
    seen: list[str] = []
    lock = threading.Lock()

    def send(row: Pending, progress: Progress) -> bool:
        with lock:
            seen.append(row.key)
        return True

    sender.register("k", Kind(send=send))
    for n in range(20):
        add(sqlite_database, clock, f"a{n}", target="a")
        add(sqlite_database, clock, f"b{n}", target="b")
    sender.start()
    assert sender.wait_idle()
    assert [k for k in seen if k.startswith("a")] == [f"a{n}" for n in range(20)]
    assert [k for k in seen if k.startswith("b")] == [f"b{n}" for n in range(20)]
    assert all(
        row.sent_at is not None and row.failed is None for row in rows(sqlite_database).values()
    )


def test_the_same_key_is_queued_once(sqlite_database: Database, clock: FixedClock) -> None:
    with sqlite_database.transaction() as s:
        first = queue(
            s, Effect(key="poll:1:final", kind="k", target="t", priority=PUBLIC), now=clock.now()
        )
        again = queue(
            s, Effect(key="poll:1:final", kind="k", target="t", priority=PUBLIC), now=clock.now()
        )
    assert (first, again) == (True, False)
    assert len(rows(sqlite_database)) == 1


def test_rate_limited_waits_for_retry_after_then_sends_once(
    sender: OutboxSender, sqlite_database: Database, clock: FixedClock
) -> None:
    calls: list[str] = []

    def send(row: Pending, progress: Progress) -> bool:
        calls.append(row.key)
        if len(calls) == 1:
            raise slack_error("ratelimited", status=429, retry_after=7)
        return True

    sender.register("k", Kind(send=send))
    add(sqlite_database, clock, "x")
    sender.start()
    eventually(lambda: rows(sqlite_database)["x"].attempts == 1, what="the 429 counted")
    row = rows(sqlite_database)["x"]
    assert row.sent_at is None
    assert row.due_at == clock.now() + timedelta(seconds=7)
    assert sender.wait_idle()
    assert calls == ["x"]  # not before Retry-After
    clock.advance(timedelta(seconds=7))
    eventually(lambda: rows(sqlite_database)["x"].sent_at is not None, what="sent after the wait")
    assert calls == ["x", "x"]


def test_server_errors_back_off_and_are_never_given_up(
    sender: OutboxSender, sqlite_database: Database, clock: FixedClock
) -> None:
    failures = 12

    def send(row: Pending, progress: Progress) -> bool:
        nonlocal failures
        if failures:
            failures -= 1
            raise slack_error("internal_error", status=500)
        return True

    sender.register("k", Kind(send=send))
    add(sqlite_database, clock, "x")
    sender.start()
    for attempt in range(12):
        tries = attempt + 1
        eventually(lambda: rows(sqlite_database)["x"].attempts == tries)  # noqa: B023
        row = rows(sqlite_database)["x"]
        assert row.sent_at is None
        assert row.due_at - clock.now() == BACKOFF[min(attempt, len(BACKOFF) - 1)]
        clock.advance(row.due_at - clock.now())
        sender.wake()
    eventually(lambda: rows(sqlite_database)["x"].sent_at is not None)
    assert rows(sqlite_database)["x"].failed is None


def test_a_refusal_for_good_is_recorded_and_undone_once(
    sender: OutboxSender, sqlite_database: Database, clock: FixedClock
) -> None:
    undone: list[str] = []

    def send(row: Pending, progress: Progress) -> bool:
        raise slack_error("not_in_channel")

    sender.register("k", Kind(send=send, refused=lambda row, error: undone.append(row.key)))
    add(sqlite_database, clock, "x")
    sender.start()
    eventually(lambda: rows(sqlite_database)["x"].sent_at is not None)
    assert rows(sqlite_database)["x"].failed == "not_in_channel"
    assert sender.wait_idle()
    assert undone == ["x"]


def test_a_stale_private_reply_is_dropped(
    sender: OutboxSender, sqlite_database: Database, clock: FixedClock
) -> None:
    sent: list[str] = []
    sender.register("k", recorder(sent))
    with sqlite_database.transaction() as s:
        queue(
            s,
            Effect(key="old", kind="k", target="u", priority=REPLY, private=True),
            now=clock.now(),
        )
    clock.advance(timedelta(minutes=5, seconds=1))
    sender.start()
    eventually(lambda: rows(sqlite_database)["old"].sent_at is not None)
    assert rows(sqlite_database)["old"].failed == "expired"
    assert sent == []


def test_progress_survives_a_failed_try(
    sender: OutboxSender, sqlite_database: Database, clock: FixedClock
) -> None:
    steps: list[str] = []

    def send(row: Pending, progress: Progress) -> bool:
        if not progress.get("edited"):
            steps.append("edit")
            progress.done("edited", "123.456")
        steps.append("chart")
        if steps.count("chart") == 1:
            raise slack_error("internal_error", status=503)
        return True

    sender.register("k", Kind(send=send))
    add(sqlite_database, clock, "x")
    sender.start()
    eventually(lambda: rows(sqlite_database)["x"].attempts == 1)
    clock.advance(timedelta(seconds=1))
    sender.wake()
    eventually(lambda: rows(sqlite_database)["x"].sent_at is not None)
    assert steps == ["edit", "chart", "chart"]


def test_paced_rows_keep_their_spacing_per_target(
    sqlite_database: Database, clock: FixedClock
) -> None:
    now = [0.0]
    outbox = OutboxSender(sqlite_database, clock, monotonic=lambda: now[0])
    sent: list[tuple[str, float]] = []

    def send(row: Pending, progress: Progress) -> bool:
        sent.append((row.target, now[0]))
        return True

    outbox.register("live", Kind(send=send, pace=Pace(interval=2.0)))
    try:
        add(sqlite_database, clock, "l1", target="poll:1", kind="live")
        outbox.start()
        eventually(lambda: len(sent) == 1)
        # The worker notes the send's end (its pace counts from then) after the send returns:
        # wait for it to be idle before moving the clock, or the end is noted at the new time.
        assert outbox.wait_idle()
        add(sqlite_database, clock, "l2", target="poll:1", kind="live")
        now[0] = 1.0
        outbox.wake()
        assert not outbox.wait_idle(timeout=0.6)  # the second waits for its pace
        assert len(sent) == 1
        now[0] = 2.1
        outbox.wake()
        eventually(lambda: len(sent) == 2)
        assert sent[1][1] - sent[0][1] >= 2.0
    finally:
        outbox.stop(grace=1)


def test_stop_sends_what_is_queued_within_the_grace(
    sqlite_database: Database, clock: FixedClock
) -> None:
    outbox = OutboxSender(sqlite_database, clock)
    sent: list[str] = []
    outbox.register("k", recorder(sent))
    outbox.start()
    for n in range(100):
        add(sqlite_database, clock, f"c{n}", target=f"user:{n}")
    outbox.stop(grace=5)
    assert sorted(sent) == sorted(f"c{n}" for n in range(100))
    assert all(row.sent_at is not None for row in rows(sqlite_database).values())


def test_forgotten_rows_leave_no_trace(
    sender: OutboxSender, sqlite_database: Database, clock: FixedClock
) -> None:
    sender.register("k", Kind(send=lambda row, p: True, forget=True))
    add(sqlite_database, clock, "anon")
    sender.start()
    eventually(lambda: rows(sqlite_database) == {})


def test_done_rows_are_pruned_after_two_days_and_unsent_ones_never(
    sender: OutboxSender, sqlite_database: Database, clock: FixedClock
) -> None:
    sender.register("k", recorder([]))
    add(sqlite_database, clock, "done")
    sender.start()
    eventually(lambda: rows(sqlite_database)["done"].sent_at is not None)
    sender.stop(grace=1)
    add(sqlite_database, clock, "waiting")
    clock.advance(timedelta(days=2, seconds=1))
    assert sender.prune() == 1
    assert set(rows(sqlite_database)) == {"waiting"}


def test_rows_another_process_queued_are_found_and_sent(
    sender: OutboxSender, sqlite_database: Database, clock: FixedClock
) -> None:
    sent: list[str] = []
    sender.register("k", recorder(sent))
    sender.start()
    other = Database(sqlite_database.url)  # what a CLI command or a second replica writes
    try:
        add(other, clock, "from-elsewhere")
    finally:
        other.dispose()
    # Nothing told this sender; it reads the outbox again within RESYNC.
    eventually(lambda: sent == ["from-elsewhere"], what="the row found by reading again")
    assert sender.wait_idle()
    assert rows(sqlite_database)["from-elsewhere"].sent_at is not None


def test_a_row_retired_before_it_is_due_is_never_sent(
    sender: OutboxSender, sqlite_database: Database, clock: FixedClock
) -> None:
    sent: list[str] = []
    sender.register("k", recorder(sent))
    add(sqlite_database, clock, "round:7:warning", delay=timedelta(minutes=1))
    add(sqlite_database, clock, "round:8:warning", delay=timedelta(minutes=1))
    sender.start()
    assert sender.wait_idle()
    with sqlite_database.transaction() as s:
        store.retire(s, key_prefix="round:7:", now=clock.now(), reason="the round was undone")
    clock.advance(timedelta(minutes=1))
    sender.wake()
    eventually(lambda: sent == ["round:8:warning"], what="the other row sent")
    assert sender.wait_idle()
    assert sent == ["round:8:warning"]


def test_a_row_queued_in_a_savepoint_that_rolls_back_is_never_sent(
    sender: OutboxSender, sqlite_database: Database, clock: FixedClock
) -> None:
    sent: list[str] = []
    sender.register("k", recorder(sent))
    sender.start()
    with sqlite_database.transaction() as s:
        savepoint = s.begin_nested()
        queue(s, Effect(key="undone", kind="k", target="t", priority=PUBLIC), now=clock.now())
        savepoint.rollback()
        queue(s, Effect(key="kept", kind="k", target="t", priority=PUBLIC), now=clock.now())
    eventually(lambda: "kept" in sent)
    assert sender.wait_idle()
    assert sent == ["kept"]


def test_a_paced_row_is_not_held_back_by_a_backlog_of_replies(
    sender: OutboxSender, sqlite_database: Database, clock: FixedClock
) -> None:
    order: list[str] = []
    lock = threading.Lock()
    release = threading.Event()

    def reply(row: Pending, progress: Progress) -> bool:
        release.wait(timeout=10)
        with lock:
            order.append(row.key)
        return True

    def live(row: Pending, progress: Progress) -> bool:
        with lock:
            order.append(row.key)
        return True

    sender.register("reply", Kind(send=reply))
    sender.register("live", Kind(send=live, pace=Pace(interval=2.0)))
    with sqlite_database.transaction() as s:
        for n in range(300):
            effect = Effect(key=f"r{n}", kind="reply", target=f"user:{n}", priority=REPLY)
            queue(s, effect, now=clock.now())
        queue(s, Effect(key="tally", kind="live", target="poll:1", priority=2), now=clock.now())
    sender.start()
    eventually(lambda: "tally" in order, what="the live tally, ahead of the backlog")
    release.set()
    assert sender.wait_idle(timeout=20)
    assert order.index("tally") == 0
    assert len(order) == 301


def test_an_unsent_row_is_given_up_when_a_newer_one_makes_it_needless(
    sender: OutboxSender, sqlite_database: Database, clock: FixedClock
) -> None:
    sent: list[str] = []
    first_started = threading.Event()
    release = threading.Event()

    def send(row: Pending, progress: Progress) -> bool:
        if row.key == "vote-1":
            first_started.set()
            release.wait(timeout=10)
        sent.append(row.key)
        return True

    sender.register(
        "voted",
        Kind(send=send, replaced_by=lambda row, later: later.args == row.args),
    )

    def confirm(key: str, poll: int) -> None:
        with sqlite_database.transaction() as s:
            effect = Effect(key=key, kind="voted", target="user:U1", priority=REPLY)
            queue(s, replace(effect, args={"poll_id": poll}), now=clock.now())

    sender.start()
    confirm("vote-1", 1)
    assert first_started.wait(timeout=5)
    confirm("vote-2", 1)  # says what vote-3 will say when it goes
    confirm("vote-3", 1)
    confirm("other-poll", 2)  # not made needless by anything
    release.set()
    assert sender.wait_idle()
    assert sent == ["vote-1", "vote-3", "other-poll"]
    stored = rows(sqlite_database)
    assert stored["vote-2"].sent_at is not None
    assert stored["vote-2"].failed == REPLACED
    assert {stored[k].failed for k in ("vote-1", "vote-3", "other-poll")} == {None}


def test_a_kinds_load_reads_once_for_the_rows_sent_together(
    sender: OutboxSender, sqlite_database: Database, clock: FixedClock
) -> None:
    batches: list[list[str]] = []
    seen: dict[str, Any] = {}
    lock = threading.Lock()

    def load(rows: Sequence[Pending]) -> list[str]:
        batches.append([row.key for row in rows])
        return [f"read for {row.key}" for row in rows]

    def send(row: Pending, progress: Progress) -> bool:
        with lock:
            seen[row.key] = progress.loaded
        return True

    sender.register("k", Kind(send=send, load=load))
    with sqlite_database.transaction() as s:
        for n in range(10):
            effect = Effect(key=f"c{n}", kind="k", target=f"user:{n}", priority=REPLY)
            queue(s, effect, now=clock.now())
    sender.start()
    assert sender.wait_idle()
    assert seen == {f"c{n}": f"read for c{n}" for n in range(10)}
    assert sorted(key for batch in batches for key in batch) == sorted(seen)
    assert len(batches) < 10  # rows taken together were read together


def test_a_failed_load_leaves_each_send_to_read_for_itself(
    sender: OutboxSender, sqlite_database: Database, clock: FixedClock
) -> None:
    seen: list[object] = []

    def load(rows: Sequence[Pending]) -> list[str]:
        raise RuntimeError("the database went away for a moment")

    def send(row: Pending, progress: Progress) -> bool:
        seen.append(progress.loaded)
        return True

    sender.register("k", Kind(send=send, load=load))
    add(sqlite_database, clock, "x")
    sender.start()
    assert sender.wait_idle()
    assert seen == [NOT_LOADED]
    assert rows(sqlite_database)["x"].sent_at is not None


@pytest.mark.parametrize(
    ("retry_after", "waited"),
    [(None, BACKOFF[0]), (30, timedelta(seconds=30))],
    ids=["429 without Retry-After: the first backoff", "Retry-After: 30"],
)
def test_a_429_waits_for_retry_after_or_the_backoff_then_sends_once(
    sender: OutboxSender,
    sqlite_database: Database,
    clock: FixedClock,
    retry_after: int | None,
    waited: timedelta,
) -> None:
    calls: list[str] = []

    def send(row: Pending, progress: Progress) -> bool:
        calls.append(row.key)
        if len(calls) == 1:
            raise slack_error("ratelimited", status=429, retry_after=retry_after)
        return True

    sender.register("k", Kind(send=send))
    add(sqlite_database, clock, "x")
    sender.start()
    eventually(lambda: rows(sqlite_database)["x"].attempts == 1, what="the 429 counted")
    assert rows(sqlite_database)["x"].due_at == clock.now() + waited
    clock.advance(waited - timedelta(seconds=1))
    sender.wake()
    assert sender.wait_idle()
    assert calls == ["x"]  # not a second early
    clock.advance(timedelta(seconds=1))
    sender.wake()
    eventually(lambda: rows(sqlite_database)["x"].sent_at is not None, what="sent after the wait")
    assert calls == ["x", "x"]
