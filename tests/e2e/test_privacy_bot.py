"""Erasure and retention with the real app running: the room message that listed an erased
person is edited in Slack, and `serve` purges old sessions daily when DATA_RETENTION_DAYS is set."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from apscheduler.triggers.interval import IntervalTrigger
from sqlmodel import func, select

from bot.cli import main
from bot.services import PURGE_AFTER_START
from storage.models import Participant
from storage.privacy import SessionPurge, is_erased
from tests.e2e.conftest import FACILITATOR, RunningBot, all_text
from tests.e2e.rooms_helpers import check_in, people, room_messages, start_round, start_session
from tests.harness.tour_data import generate_tour
from tests.harness.waiting import eventually

RETENTION_DAYS = 30


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """This module's bot keeps people's identities for 30 days."""
    return {"DATA_RETENTION_DAYS": RETENTION_DAYS}


def test_forget_edits_the_room_message_that_listed_them(
    bot: RunningBot, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    start_session(bot)
    users = people(6)
    for user in users:
        check_in(bot, user, place="Durham")
    check_in(bot, FACILITATOR, role="Organiser")
    start_round(bot, "2 --time 10m --seed 5", rooms=2)
    eventually(lambda: len(room_messages(bot)) == 2, what="two room messages")
    gone = users[0]
    [listed] = [m for m in room_messages(bot) if f"<@{gone}>" in all_text(m["blocks"])]

    monkeypatch.setenv("DATABASE_URL", bot.services.db.url)
    assert main(["--env-file", "/nonexistent/.env", "person", "forget", gone]) == 0
    assert "1 posted message will drop the mention" in capsys.readouterr().out

    def edited() -> dict[str, Any]:
        return next(m for m in room_messages(bot) if m["ts"] == listed["ts"])

    # The running bot sends the edit the CLI queued: the room's message, without them.
    eventually(lambda: f"<@{gone}>" not in all_text(edited()["blocks"]), what="mention dropped")
    text = all_text(edited()["blocks"])
    others = [user for user in users[1:] if f"<@{user}>" in all_text(listed["blocks"])]
    assert others
    assert all(f"<@{user}>" in text for user in others)
    assert all(gone not in all_text(m.get("blocks", [])) for m in room_messages(bot))


def test_serve_purges_old_sessions_daily(bot: RunningBot) -> None:
    services = bot.services
    retention = services.retention
    assert retention is not None
    assert retention.days == RETENTION_DAYS
    daily = services.deadlines.scheduler.get_job("purge")
    assert isinstance(daily.trigger, IntervalTrigger)
    assert daily.trigger.interval == timedelta(days=1)
    assert services.deadlines.scheduler.get_job("purge-at-start") is not None

    # Two sessions a week apart: 35 and 28 days before the bot's clock.
    now = bot.clock.now()
    generate_tour(
        services.db, sessions=2, people=8, polls=2, report_backs=2, start=now - timedelta(days=35)
    )
    with services.db.read() as s:
        assert s.exec(select(func.count()).select_from(SessionPurge)).one() == 0
    daily.func()  # what the scheduler runs each day
    with services.db.read() as s:
        purged = s.exec(select(SessionPurge.session_id)).all()
        left = s.exec(select(Participant.user_id)).all()
    assert len(purged) == 1
    # The older session's eight people are tokens now; the newer one's keep their ids.
    assert sum(1 for user in left if is_erased(user)) == 8
    assert sum(1 for user in left if not is_erased(user)) == 8
    # Run again the same day: nothing more is old enough; three days on, the second session is.
    assert retention.purge_due().sessions == 0
    bot.clock.advance(timedelta(days=3))
    assert retention.purge_due().sessions == 1
    # ... and once soon after start, not a day later.
    assert timedelta(0) < PURGE_AFTER_START <= timedelta(minutes=5)
