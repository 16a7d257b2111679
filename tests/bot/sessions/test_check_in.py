"""Checking in: the confirmation is queued with the check-in; features react after, isolated."""

from __future__ import annotations

import json
import logging

import pytest

from bot.clock import FixedClock
from bot.config import load_settings
from bot.outbox import PRIVATE_REPLY_TTL, REPLY
from bot.results import Duplicate
from bot.sessions import CheckedIn, CheckInAnswers, CheckingIn, SessionService, StartRequest
from storage import outbox as store
from storage.db import Database
from storage.models import ListeningSession

ANSWERS = CheckInAnswers(role="Member", place=None, group_name=None, consent_to_quote=False)


def _session(sessions: SessionService) -> int:
    session = sessions.start(
        channel_id="C1",
        user_id="U0FAC",
        request=StartRequest(title="Durham", area=None, group_type=None, zoom_meeting_id=None),
        delivery_key=None,
    )
    assert isinstance(session, ListeningSession)
    assert session.id is not None
    return session.id


def _confirmations(db: Database) -> list[store.OutboxRow]:
    with db.read() as s:
        return [row for row in store.rows(s) if row.kind == "session.checked_in"]


def test_the_confirmation_is_queued_privately_with_the_check_in(
    sqlite_database: Database, clock: FixedClock
) -> None:
    sessions = SessionService(sqlite_database, load_settings(env_file=None), clock)
    session_id = _session(sessions)
    checking_in = CheckingIn(sessions)
    first = checking_in.check_in(
        session_id=session_id, user_id="U1", answers=ANSWERS, delivery_key="view_submission:T1"
    )
    again = checking_in.check_in(
        session_id=session_id, user_id="U1", answers=ANSWERS, delivery_key="view_submission:T2"
    )
    retried = checking_in.check_in(
        session_id=session_id, user_id="U1", answers=ANSWERS, delivery_key="view_submission:T2"
    )
    assert isinstance(first, CheckedIn)
    assert isinstance(again, CheckedIn)
    assert isinstance(retried, Duplicate)
    rows = _confirmations(sqlite_database)
    assert [row.key for row in rows] == [
        f"session:{session_id}:check-in:view_submission:T1",
        f"session:{session_id}:check-in:view_submission:T2",
    ]
    assert {(row.target, row.priority) for row in rows} == {("user:U1", REPLY)}
    assert [json.loads(row.args)["first_time"] for row in rows] == [1, 0]
    # a private answer: dropped if it cannot be sent while it is still news
    assert all(row.expires_at == clock.now() + PRIVATE_REPLY_TTL for row in rows)
    confirmed = sessions.checked_in(session_id=session_id, user_id="U1", first_time=False)
    assert confirmed is not None
    assert (confirmed.channel_id, confirmed.participant.role) == ("C1", "Member")


def test_checking_someone_in_directly_confirms_nothing(
    sqlite_database: Database, clock: FixedClock
) -> None:
    sessions = SessionService(sqlite_database, load_settings(env_file=None), clock)
    session_id = _session(sessions)
    sessions.check_in(session_id=session_id, user_id="U1", answers=ANSWERS, delivery_key=None)
    assert _confirmations(sqlite_database) == []


def test_a_failing_hook_does_not_stop_the_others(
    sqlite_database: Database, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    done: list[str] = []

    def join_late(checked_in: CheckedIn) -> None:
        done.append("join a room")
        raise RuntimeError("Slack is down")

    def note(checked_in: CheckedIn) -> None:
        done.append(f"note {checked_in.participant.user_id}")

    sessions = SessionService(sqlite_database, load_settings(env_file=None), clock)
    session_id = _session(sessions)
    checking_in = CheckingIn(sessions, on_check_in=[join_late, note])
    checked_in = checking_in.check_in(
        session_id=session_id, user_id="U1", answers=ANSWERS, delivery_key=None
    )
    assert isinstance(checked_in, CheckedIn)

    with caplog.at_level(logging.ERROR):
        checking_in.follow_up(checked_in)

    assert done == ["join a room", "note U1"]
    assert [r.message for r in caplog.records] == ["check-in of U1: a step failed"]
    assert len(_confirmations(sqlite_database)) == 1  # queued before, whatever the hooks do
