"""Zoom's health across a restart and for sessions started during an outage; task pruning."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import col, select

from bot.clock import FixedClock
from bot.zoom.health import FAILURES_BEFORE_WARNING, ZoomHealth
from bot.zoom.tasks import KEEP_DONE, ZoomWorker
from storage import repository as repo
from storage.db import Database
from storage.outbox import OutboxRow
from storage.zoom import meetings as store
from storage.zoom.meetings import ZoomTask
from tests.bot.zoom.test_tasks import API, add, start_session


@pytest.fixture
def db(sqlite_database: Database) -> Database:
    return sqlite_database


def outbox_keys(db: Database) -> list[str]:
    with db.read() as unit:
        return [row.key for row in unit.exec(select(OutboxRow).order_by(col(OutboxRow.id))).all()]


def down_since(db: Database, session_id: int) -> object:
    with db.read() as unit:
        meeting = store.meeting_of(unit, session_id=session_id)
        assert meeting is not None
        return meeting.down_since


def go_down(health: ZoomHealth) -> None:
    for _ in range(FAILURES_BEFORE_WARNING):
        health.failed("Zoom answered HTTP 503")


def test_an_outage_outlives_a_restart_and_back_is_still_told(
    db: Database, clock: FixedClock
) -> None:
    session_id = start_session(db, clock)
    go_down(ZoomHealth(db, clock))
    restarted = ZoomHealth(db, clock)
    restarted.recover()
    assert restarted.down
    restarted.succeeded()
    assert not restarted.down
    assert down_since(db, session_id) is None
    assert outbox_keys(db) == [f"zoom:{session_id}:down:1", f"zoom:{session_id}:back:1"]


def test_back_clears_the_outage_of_a_session_ended_meanwhile(
    db: Database, clock: FixedClock
) -> None:
    session_id = start_session(db, clock)
    health = ZoomHealth(db, clock)
    go_down(health)
    with db.transaction() as unit:
        repo.end_session(unit, session_id=session_id, ended_by="U1", now=clock.now())
    health.succeeded()
    assert down_since(db, session_id) is None
    assert outbox_keys(db) == [f"zoom:{session_id}:down:1"]  # nobody to tell it is back


def test_a_session_started_during_an_outage_is_warned_at_the_next_failure(
    db: Database, clock: FixedClock
) -> None:
    first = start_session(db, clock, channel="C1")
    health = ZoomHealth(db, clock)
    go_down(health)
    second = start_session(db, clock, channel="C2")
    health.failed("Zoom answered HTTP 503")
    health.failed("Zoom answered HTTP 503")
    assert outbox_keys(db) == [f"zoom:{first}:down:1", f"zoom:{second}:down:1"]


def test_no_outage_is_recovered_when_none_was_stored(db: Database, clock: FixedClock) -> None:
    start_session(db, clock)
    health = ZoomHealth(db, clock)
    health.recover()
    assert not health.down


def test_tasks_done_over_two_days_ago_are_pruned(db: Database, clock: FixedClock) -> None:
    session_id = start_session(db, clock)
    worker = ZoomWorker(db, clock, API, ZoomHealth(db, clock))
    worker.register("k", lambda api, task: None)
    add(db, clock, session_id, "old")
    worker.run_due()
    clock.advance(KEEP_DONE - timedelta(hours=1))
    add(db, clock, session_id, "recent")
    worker.run_due()
    add(db, clock, session_id, "pending", due_at=clock.now() + timedelta(days=9))
    clock.advance(timedelta(hours=2))
    assert worker.prune() == 1
    with db.read() as unit:
        keys = {row.key for row in unit.exec(select(ZoomTask)).all()}
    assert keys == {"recent", "pending"}
