"""The Zoom worker: due tasks run once in order, repeat, retry on outages, give up on refusals;
Zoom's health warns each Zoom session's facilitators once per outage."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from bot.clock import FixedClock
from bot.standin.zoom import FakeZoom
from bot.zoom.api import (
    Category,
    ZoomApi,
    ZoomNotFound,
    ZoomStopped,
    ZoomUnavailable,
    meeting_path,
)
from bot.zoom.health import FAILURES_BEFORE_WARNING, ZOOM_BACK, ZOOM_DOWN, ZoomHealth
from bot.zoom.tasks import (
    BACKOFF,
    LEASE,
    SESSION_ENDED,
    SESSION_GRACE,
    Again,
    GiveUp,
    ZoomWorker,
)
from storage import repository as repo
from storage.db import Database
from storage.migrate import upgrade
from storage.outbox import OutboxRow
from storage.zoom import meetings as store
from storage.zoom.meetings import DueTask, ZoomTask

# The handlers below that use no FakeZoom never call Zoom (construction makes no request).
API = ZoomApi(
    account_id="a",
    client_id="c",
    client_secret="s",
    api_url="http://127.0.0.1:9/v2",
    oauth_url="http://127.0.0.1:9/oauth/token",
)
MEETING = "81234567890"


@pytest.fixture
def db(sqlite_database: Database) -> Database:
    upgrade(sqlite_database.engine)
    return sqlite_database


def start_session(db: Database, clock: FixedClock, channel: str = "C1") -> int:
    with db.transaction() as unit:
        session = repo.create_session(
            unit,
            channel_id=channel,
            title="Tour",
            area=None,
            group_type=None,
            zoom_meeting_id="81234567890",
            started_by="U1",
            now=clock.now(),
        )
        assert session.id is not None
        store.bind_meeting(unit, session_id=session.id, meeting_id="81234567890")
        return session.id


def add(
    db: Database, clock: FixedClock, session_id: int, key: str, kind: str = "k", **at: Any
) -> None:
    with db.transaction() as unit:
        store.add_task(unit, key=key, kind=kind, session_id=session_id, now=clock.now(), **at)


def tasks(db: Database) -> dict[str, ZoomTask]:
    with db.read() as unit:
        return {row.key: row for row in unit.exec(select(ZoomTask)).all()}


def outbox_kinds(db: Database) -> list[str]:
    with db.read() as unit:
        return [row.key for row in unit.exec(select(OutboxRow).order_by(col(OutboxRow.id))).all()]


def test_due_tasks_run_once_in_order_and_later_ones_wait(db: Database, clock: FixedClock) -> None:
    session_id = start_session(db, clock)
    worker = ZoomWorker(db, clock, API, ZoomHealth(db, clock))
    ran: list[str] = []
    worker.register("k", lambda api, task: ran.append(task.key))
    add(db, clock, session_id, "a")
    add(db, clock, session_id, "b")
    add(db, clock, session_id, "a")  # the same key again: nothing new
    add(db, clock, session_id, "later", due_at=clock.now() + timedelta(minutes=2))
    assert worker.run_due() == 2
    assert ran == ["a", "b"]
    assert worker.run_due() == 0
    clock.advance(timedelta(minutes=2))
    worker.run_due()
    assert ran == ["a", "b", "later"]
    assert all(row.done_at is not None and row.failed is None for row in tasks(db).values())


def test_again_repeats_with_new_args_and_give_up_records_why(
    db: Database, clock: FixedClock
) -> None:
    session_id = start_session(db, clock)
    worker = ZoomWorker(db, clock, API, ZoomHealth(db, clock))
    seen: list[int] = []

    def repeat(api: ZoomApi, task: DueTask) -> Again | GiveUp | None:
        turn = int(task.args.get("turn", 0))
        seen.append(turn)
        if turn == 2:
            return GiveUp("enough")
        return Again(at=clock.now() + timedelta(minutes=2), args={"turn": turn + 1})

    worker.register("k", repeat)
    add(db, clock, session_id, "r")
    for _ in range(4):
        worker.run_due()
        clock.advance(timedelta(minutes=2))
    assert seen == [0, 1, 2]
    row = tasks(db)["r"]
    assert row.failed == "enough"
    assert row.attempts == 0  # repeating is not failing


@pytest.fixture
def zoom() -> Iterator[FakeZoom]:
    with FakeZoom() as fake:
        fake.add_meeting(MEETING, topic="Stoke branch")
        yield fake


def watched_api(zoom: FakeZoom, health: ZoomHealth) -> ZoomApi:
    """A client of the fake, one attempt a call, reporting to `health` as bootstrap wires it."""
    api = ZoomApi(
        account_id=zoom.account_id,
        client_id=zoom.client_id,
        client_secret=zoom.client_secret,
        api_url=zoom.api_url,
        oauth_url=zoom.oauth_url,
        max_attempts=1,
    )
    api.on_answer = health.succeeded
    api.on_unavailable = health.failed
    return api


def look_up(api: ZoomApi, task: DueTask) -> None:
    api.get(meeting_path(MEETING), category=Category.LIGHT)


def test_an_outage_is_retried_with_backoff_and_warned_once_then_back_once(
    db: Database, clock: FixedClock, zoom: FakeZoom
) -> None:
    session_id = start_session(db, clock)
    health = ZoomHealth(db, clock)
    worker = ZoomWorker(db, clock, watched_api(zoom, health), health)
    zoom.fail("GET", "/meetings/", status=503, times=FAILURES_BEFORE_WARNING + 1)
    worker.register("k", look_up)
    add(db, clock, session_id, "f")
    for attempt in range(FAILURES_BEFORE_WARNING + 1):
        assert worker.run_due() == 1
        row = tasks(db)["f"]
        assert row.done_at is None
        assert row.attempts == attempt + 1
        assert row.due_at == clock.now() + BACKOFF[attempt]
        assert worker.run_due() == 0  # not before its backoff
        clock.advance(BACKOFF[attempt])
    assert health.down
    assert outbox_kinds(db) == [f"zoom:{session_id}:down:1"]
    worker.run_due()
    assert not health.down
    assert tasks(db)["f"].done_at is not None
    assert outbox_kinds(db) == [f"zoom:{session_id}:down:1", f"zoom:{session_id}:back:1"]
    with db.read() as unit:
        kinds = [row.kind for row in unit.exec(select(OutboxRow).order_by(col(OutboxRow.id))).all()]
    assert kinds == [ZOOM_DOWN, ZOOM_BACK]


def test_a_task_that_calls_no_zoom_says_nothing_of_an_outage(
    db: Database, clock: FixedClock, zoom: FakeZoom
) -> None:
    session_id = start_session(db, clock)
    health = ZoomHealth(db, clock)
    worker = ZoomWorker(db, clock, watched_api(zoom, health), health)
    zoom.fail("GET", "/meetings/", status=503, times=100)
    worker.register("k", look_up)
    # A repeating task that waits without calling Zoom (a poll still open in Slack).
    worker.register("wait", lambda api, task: Again(at=clock.now() + timedelta(seconds=5)))
    add(db, clock, session_id, "f")
    add(db, clock, session_id, "w", kind="wait")
    for _ in range(6):
        worker.run_due()
        clock.advance(BACKOFF[-1])
    assert health.down
    assert outbox_kinds(db) == [f"zoom:{session_id}:down:1"]  # no false "back", no 2nd warning


def test_a_rate_limit_reset_later_than_the_backoff_is_waited_for(
    db: Database, clock: FixedClock
) -> None:
    session_id = start_session(db, clock)
    worker = ZoomWorker(db, clock, API, ZoomHealth(db, clock))

    def limited(api: ZoomApi, task: DueTask) -> None:
        raise ZoomUnavailable("daily limit used up", status=429, retry_after=5 * 3600)

    worker.register("k", limited)
    add(db, clock, session_id, "d")
    worker.run_due()
    assert tasks(db)["d"].due_at == clock.now() + timedelta(hours=5)


def test_a_failing_task_of_a_long_ended_session_is_given_up(
    db: Database, clock: FixedClock
) -> None:
    session_id = start_session(db, clock)
    worker = ZoomWorker(db, clock, API, ZoomHealth(db, clock))

    def down(api: ZoomApi, task: DueTask) -> None:
        raise ZoomUnavailable("Zoom answered HTTP 503", status=503)

    worker.register("k", down)
    add(db, clock, session_id, "e")
    with db.transaction() as unit:
        repo.end_session(unit, session_id=session_id, ended_by="U1", now=clock.now())
    worker.run_due()  # just ended: still retried
    assert tasks(db)["e"].done_at is None
    clock.advance(SESSION_GRACE + timedelta(minutes=1))
    worker.run_due()
    row = tasks(db)["e"]
    assert row.done_at is not None
    assert row.failed == SESSION_ENDED


def test_a_refusal_fails_the_task_for_good_without_an_outage(
    db: Database, clock: FixedClock
) -> None:
    session_id = start_session(db, clock)
    health = ZoomHealth(db, clock)
    worker = ZoomWorker(db, clock, API, health)

    def missing(api: ZoomApi, task: DueTask) -> None:
        raise ZoomNotFound("Meeting does not exist: 81234567890.", status=404, code=3001)

    worker.register("k", missing)
    add(db, clock, session_id, "m")
    worker.run_due()
    row = tasks(db)["m"]
    assert row.done_at is not None
    assert "does not exist" in (row.failed or "")
    assert not health.down
    assert outbox_kinds(db) == []


def test_a_bug_is_retried_a_few_times_then_given_up(db: Database, clock: FixedClock) -> None:
    session_id = start_session(db, clock)
    worker = ZoomWorker(db, clock, API, ZoomHealth(db, clock))

    def broken(api: ZoomApi, task: DueTask) -> None:
        raise KeyError("topic")

    worker.register("k", broken)
    add(db, clock, session_id, "b")
    for _ in range(10):
        worker.run_due()
        clock.advance(BACKOFF[-1])
    row = tasks(db)["b"]
    assert row.done_at is not None
    assert "KeyError" in (row.failed or "")


def test_the_thread_is_woken_by_a_commit_and_goes_idle(db: Database, clock: FixedClock) -> None:
    session_id = start_session(db, clock)
    worker = ZoomWorker(db, clock, API, ZoomHealth(db, clock))
    done = threading.Event()
    worker.register("k", lambda api, task: done.set())
    worker.start()
    try:
        add(db, clock, session_id, "w")
        assert done.wait(5)
        assert worker.wait_idle(5)
    finally:
        worker.stop()
    assert tasks(db)["w"].done_at is not None


def test_stop_ends_a_backoff_in_hand_and_leaves_the_task_due(
    db: Database, clock: FixedClock, zoom: FakeZoom
) -> None:
    session_id = start_session(db, clock)
    health = ZoomHealth(db, clock)
    api = ZoomApi(
        account_id=zoom.account_id,
        client_id=zoom.client_id,
        client_secret=zoom.client_secret,
        api_url=zoom.api_url,
        oauth_url=zoom.oauth_url,
    )
    worker = ZoomWorker(db, clock, api, health)
    zoom.fail("GET", "/meetings/", status=429, headers={"Retry-After": "50"})  # a 50 s wait
    worker.register("k", look_up)
    worker.start()
    add(db, clock, session_id, "s")
    waited = threading.Event()
    for _ in range(250):  # up to 5 s for the 429 to be answered
        if zoom.calls:
            break
        waited.wait(0.02)
    assert zoom.calls
    thread = worker._thread
    assert thread is not None
    worker.stop(timeout=5)  # far less than the 50 s Zoom asked for
    assert not thread.is_alive()
    row = tasks(db)["s"]
    assert row.done_at is None
    assert row.attempts == 0  # stopping is no failure: it runs after the restart
    assert not health.down


def test_a_task_taken_by_one_worker_is_not_run_by_another(db: Database, clock: FixedClock) -> None:
    # Several replicas: the old leader may still be running a task when a new one starts.
    session_id = start_session(db, clock)
    first = ZoomWorker(db, clock, API, ZoomHealth(db, clock))
    second = ZoomWorker(db, clock, API, ZoomHealth(db, clock))
    ran: list[str] = []

    def slow(api: ZoomApi, task: DueTask) -> None:
        ran.append(f"first:{task.key}")
        second.run_due()  # meanwhile, on the other replica

    first.register("k", slow)
    second.register("k", lambda api, task: ran.append(f"second:{task.key}"))
    add(db, clock, session_id, "a")
    first.run_due()
    assert ran == ["first:a"]
    assert tasks(db)["a"].done_at is not None

    # A worker that died with a task in hand: the task waits out its lease, then runs once.
    add(db, clock, session_id, "b")
    with db.transaction() as unit:
        [due] = store.due_tasks(unit, now=clock.now())
        assert store.lease_task(unit, task_id=due.id, now=clock.now(), until=clock.now() + LEASE)
    second.run_due()
    assert ran == ["first:a"]
    clock.advance(LEASE)
    second.run_due()
    assert ran == ["first:a", "second:b"]


def test_a_replica_that_no_longer_leads_runs_no_task(db: Database, clock: FixedClock) -> None:
    session_id = start_session(db, clock)
    epoch: list[int | None] = [None]
    worker = ZoomWorker(db, clock, API, ZoomHealth(db, clock), fence=lambda _db: epoch[0])
    ran: list[str] = []
    worker.register("k", lambda api, task: ran.append(task.key))
    add(db, clock, session_id, "a")
    worker.run_due()
    assert ran == []
    assert tasks(db)["a"].done_at is None  # still due, for the leader
    epoch[0] = 3
    worker.run_due()
    assert ran == ["a"]


def test_a_task_interrupted_by_a_stop_is_due_again_at_once(db: Database, clock: FixedClock) -> None:
    session_id = start_session(db, clock)
    worker = ZoomWorker(db, clock, API, ZoomHealth(db, clock))

    def stopped(api: ZoomApi, task: DueTask) -> None:
        raise ZoomStopped("stopping")

    worker.register("k", stopped)
    add(db, clock, session_id, "a")
    worker.run_due()
    row = tasks(db)["a"]
    assert row.done_at is None
    assert row.due_at <= clock.now()
