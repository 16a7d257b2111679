"""Who sends what a CLI command queued: the running bot, or the next one to start."""

from __future__ import annotations

import pytest

from bot.cli_support import who_sends
from storage import leader
from storage.db import Database
from storage.filelock import hold_single_process
from tests.harness.waiting import eventually


def test_on_sqlite_the_bot_holding_the_file_sends(sqlite_database: Database) -> None:
    assert "when it next starts" in who_sends(sqlite_database)
    with hold_single_process(sqlite_database.url):
        assert "running bot posts the changes in Slack within 2 seconds" in who_sends(
            sqlite_database
        )
    assert "when it next starts" in who_sends(sqlite_database)


@pytest.mark.postgres
def test_on_postgresql_the_leader_sends(postgres_database: Database) -> None:
    assert "when it next starts" in who_sends(postgres_database)
    with leader.connect(postgres_database.url, "cli-test", timeout=5) as connection:
        assert leader.try_lock(connection)
        assert "within 2 seconds" in who_sends(postgres_database)
    # The server frees the lock as the closed connection's backend exits, a moment later.
    eventually(lambda: "when it next starts" in who_sends(postgres_database), what="lock freed")
