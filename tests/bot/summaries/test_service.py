"""SummaryService on a real SQLite file: what it queues, once, and what recovery finds."""

from __future__ import annotations

import json

from bot.clock import FixedClock
from bot.config import load_settings
from bot.outbox import PUBLIC
from bot.sessions import SessionEnding, SessionService, SessionView, StartRequest
from bot.summaries import SummaryService
from storage import outbox as store
from storage.db import Database
from storage.models import ListeningSession

REQUEST = StartRequest(title="Durham", area=None, group_type=None, zoom_meeting_id=None)


def _rows(db: Database, kind: str) -> list[store.OutboxRow]:
    with db.read() as s:
        return [row for row in store.rows(s) if row.kind == kind]


def _ended_session(db: Database, clock: FixedClock, summaries: SummaryService) -> int:
    sessions = SessionService(db, load_settings(env_file=None), clock)
    ending = SessionEnding(sessions, after_session_end=[summaries.queue_final])
    started = sessions.start(channel_id="C1", user_id="U0FAC", request=REQUEST, delivery_key=None)
    assert isinstance(started, ListeningSession)
    assert started.id is not None
    ended = ending.end(channel_id="C1", user_id="U0FAC", delivery_key=None)
    assert isinstance(ended, SessionView)
    ending.follow_up(ended)
    return started.id


def test_the_final_summary_is_one_row_as_migration_0005_writes_it(
    sqlite_database: Database, clock: FixedClock
) -> None:
    summaries = SummaryService(sqlite_database, clock, min_group=5)
    session_id = _ended_session(sqlite_database, clock, summaries)
    [row] = _rows(sqlite_database, "summary.final")
    assert (row.key, row.target, row.priority) == (
        f"session:{session_id}:summary",
        f"session:{session_id}",
        PUBLIC,
    )
    assert json.loads(row.args) == {"session_id": session_id}
    # after "has ended", on the same target: the channel shows them in that order
    with sqlite_database.read() as s:
        keys = [r.key for r in store.rows(s) if r.target == f"session:{session_id}"]
    assert keys[-2:] == [f"session:{session_id}:ended", f"session:{session_id}:summary"]


def test_recovery_queues_only_what_is_missing_and_nothing_once_done(
    sqlite_database: Database, clock: FixedClock
) -> None:
    summaries = SummaryService(sqlite_database, clock, min_group=5)
    session_id = _ended_session(sqlite_database, clock, summaries)
    assert summaries.unposted() == [session_id]
    summaries.recover()  # the row exists: its key is unique, so nothing changes
    assert len(_rows(sqlite_database, "summary.final")) == 1
    # the bot stopped between the end and queuing the summary (or the row is long forgotten)
    with sqlite_database.transaction() as s:
        store.delete_rows(s, ids=[row.id or 0 for row in _rows(sqlite_database, "summary.final")])
    summaries.recover()
    assert [row.key for row in _rows(sqlite_database, "summary.final")] == [
        f"session:{session_id}:summary"
    ]
    summaries.mark_done(session_id)
    assert summaries.unposted() == []
    with sqlite_database.transaction() as s:
        store.delete_rows(s, ids=[row.id or 0 for row in _rows(sqlite_database, "summary.final")])
    summaries.recover()  # done: a forgotten row is not queued again
    assert _rows(sqlite_database, "summary.final") == []


def test_an_interim_summary_is_queued_once_per_request(
    sqlite_database: Database, clock: FixedClock
) -> None:
    summaries = SummaryService(sqlite_database, clock, min_group=5)
    assert summaries.request_interim(session_id=7, delivery_key="command:T1")
    assert not summaries.request_interim(session_id=7, delivery_key="command:T1")  # redelivered
    assert summaries.request_interim(session_id=7, delivery_key="command:T2")
    rows = _rows(sqlite_database, "summary.interim")
    assert [row.key for row in rows] == [
        "session:7:interim:command:T1",
        "session:7:interim:command:T2",
    ]
    assert {row.target for row in rows} == {"session:7"}
