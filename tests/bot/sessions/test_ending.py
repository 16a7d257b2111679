"""What follows a session's end: the features' hooks, then "has ended" and the reports queued."""

from __future__ import annotations

import logging

import pytest
from sqlmodel import Session

from bot.clock import FixedClock
from bot.config import load_settings
from bot.outbox import PUBLIC
from bot.sessions import SessionEnding, SessionService, SessionView, StartRequest
from storage import outbox as store
from storage.db import Database
from storage.models import ListeningSession

REQUEST = StartRequest(title="Durham", area=None, group_type=None, zoom_meeting_id=None)


def _keys(db: Database) -> list[str]:
    with db.read() as s:
        return [row.key for row in store.rows(s)]


def _started(ending: SessionEnding) -> int:
    started = ending.sessions.start(
        channel_id="C1", user_id="U0FAC", request=REQUEST, delivery_key=None
    )
    assert isinstance(started, ListeningSession)
    assert started.id is not None
    return started.id


def test_hooks_run_in_order_though_some_fail_then_the_end_is_queued(
    sqlite_database: Database, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    done: list[str] = []

    def close_polls(session: ListeningSession) -> None:
        done.append("close polls")
        raise RuntimeError("Slack is down")

    def end_rounds(session: ListeningSession) -> None:
        # "has ended" is queued only after the hooks: it must not go before what they post.
        done.append(f"end rounds ({len(_keys(sqlite_database))} rows queued)")

    def summary(db: Session, session: ListeningSession) -> None:
        # In the transaction that queues "has ended", which it can already see.
        ended = store.has_unsent(db, kind="session.ended", target=f"session:{session.id}")
        done.append(f"summary of {session.title} after the end: {ended}")

    sessions = SessionService(sqlite_database, load_settings(env_file=None), clock)
    ending = SessionEnding(
        sessions, on_session_end=[close_polls, end_rounds], after_session_end=[summary]
    )
    session_id = _started(ending)
    ended = ending.end(channel_id="C1", user_id="U0FAC", delivery_key="end-1")
    assert isinstance(ended, SessionView)
    assert ended.session.ended_at is not None
    # the session message's edit is queued with the end itself
    assert _keys(sqlite_database) == [f"session:{session_id}:post", f"session:{session_id}:close"]

    with caplog.at_level(logging.ERROR):
        ending.follow_up(ended)

    assert done == [
        "close polls",
        "end rounds (2 rows queued)",
        "summary of Durham after the end: True",
    ]
    assert [r.message for r in caplog.records] == [f"end of session {session_id}: a step failed"]
    with sqlite_database.read() as s:
        rows = store.rows(s)
    assert [(row.key, row.kind, row.target, row.priority) for row in rows] == [
        (f"session:{session_id}:post", "session.post", f"session:{session_id}", PUBLIC),
        (f"session:{session_id}:close", "session.close", f"session:{session_id}", PUBLIC),
        (f"session:{session_id}:ended", "session.ended", f"session:{session_id}", PUBLIC),
    ]


def test_a_second_end_queues_nothing_more(sqlite_database: Database, clock: FixedClock) -> None:
    sessions = SessionService(sqlite_database, load_settings(env_file=None), clock)
    ending = SessionEnding(sessions)
    _started(ending)
    ended = ending.end(channel_id="C1", user_id="U0FAC", delivery_key=None)
    assert isinstance(ended, SessionView)
    ending.follow_up(ended)
    ending.follow_up(ended)  # e.g. run again by mistake: every key is queued once
    again = ending.end(channel_id="C1", user_id="U0FAC", delivery_key=None)
    assert not isinstance(again, SessionView)
    assert len(_keys(sqlite_database)) == 3
