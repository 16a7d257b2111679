"""GET /healthz: the database, the replica's name and role, and how long the outbox waits."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests

from bot.sessions.effects import SESSION_POST
from storage import outbox
from tests.e2e.conftest import RunningBot


def _health(bot: RunningBot) -> requests.Response:
    return requests.get(f"{bot.url}/healthz", timeout=5)


def test_a_healthy_replica_names_itself_and_nothing_waits(bot: RunningBot) -> None:
    response = _health(bot)
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "ok": True,
        "database": "ok",
        "replica": bot.services.settings.REPLICA_NAME,
        "leader": True,
        "oldest_unsent_seconds": None,
    }
    assert isinstance(body["replica"], str)
    assert body["replica"]


def test_the_oldest_unsent_row_ages_by_the_bots_clock(bot: RunningBot) -> None:
    with bot.services.db.transaction() as db:
        outbox.enqueue(
            db,
            key="healthz-test",
            # A kind the sender knows (one it does not know is given up at once), due later.
            kind=SESSION_POST,
            target="session:999",
            priority=1,
            args={"session_id": 999},
            now=bot.clock.now(),
            due_at=bot.clock.now() + timedelta(days=1),  # not sent during the test
        )
    bot.clock.advance(timedelta(seconds=90))
    age = _health(bot).json()["oldest_unsent_seconds"]
    assert isinstance(age, float)
    assert age == pytest.approx(90, abs=1)


def test_a_follower_says_so(bot: RunningBot) -> None:
    bot.services.is_leader = lambda: False
    assert _health(bot).json()["leader"] is False


def test_an_unreachable_database_answers_503(
    bot: RunningBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreachable() -> None:
        raise ConnectionError("no database")

    monkeypatch.setattr(bot.services.db, "read", unreachable)
    response = _health(bot)
    assert response.status_code == 503
    assert response.json() == {
        "ok": False,
        "database": "unreachable",
        "replica": bot.services.settings.REPLICA_NAME,
        "leader": True,
    }
