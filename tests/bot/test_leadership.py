"""One leader among replicas on PostgreSQL: the advisory lock, the epoch, fencing, notices."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text

from bot.clock import SystemClock
from bot.leadership import Leadership
from storage.db import Database
from storage.leader import APPLICATION, NOTIFIER, connect, leader_running, replicas_running
from tests.harness.waiting import eventually

pytestmark = pytest.mark.postgres


@pytest.fixture
def db(migrated_postgres_url: str) -> Iterator[Database]:
    database = Database(migrated_postgres_url)
    yield database
    database.dispose()


class Replica:
    """A Leadership and what it was told: its leads, losses and notices."""

    def __init__(self, db: Database, name: str) -> None:
        self.leadership = Leadership(db, SystemClock(), name)
        self.led: list[int] = []
        self.lost = 0
        self.heard: list[str] = []
        self.leadership.on_lead.append(self.led.append)
        self.leadership.on_lose.append(self._lose)
        self.leadership.on_notice["deadline"] = [self.heard.append]

    def _lose(self) -> None:
        self.lost += 1


@pytest.fixture
def replicas(db: Database) -> Iterator[list[Replica]]:
    made = [Replica(db, f"r{i}") for i in range(3)]
    yield made
    for replica in made:
        replica.leadership.stop()


def _terminate_lock_connection(db: Database, name: str) -> int:
    with db.engine.connect() as connection:
        ended = connection.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND application_name = :name"
            ),
            {"name": f"{APPLICATION} {name}"},
        ).scalar_one()
    return int(ended)


def test_the_first_replica_leads_and_the_others_follow(
    db: Database, replicas: list[Replica]
) -> None:
    for replica in replicas:
        replica.leadership.start()
    assert [r.leadership.is_leader for r in replicas] == [True, False, False]
    assert replicas[0].led == [1]
    assert replicas[0].leadership.still_leading()
    assert not replicas[1].leadership.still_leading()
    with db.read() as session:
        assert leader_running(session)
        assert replicas_running(session) == 3
    # Each learns the count at its next heartbeat (budgets for forms are shared by it).
    eventually(lambda: all(r.leadership.replicas == 3 for r in replicas), what="the count")


def test_when_the_leader_stops_another_leads_within_seconds(replicas: list[Replica]) -> None:
    first, second, third = replicas
    for replica in replicas:
        replica.leadership.start()
    first.leadership.stop()
    assert first.lost == 1
    # A safety net, not a measure (a follower tries every INTERVAL; bench/replicas.py prints
    # how long a fail-over takes).
    eventually(
        lambda: second.leadership.is_leader or third.leadership.is_leader,
        timeout=10,
        what="a follower leading",
    )
    leaders = [r for r in (second, third) if r.leadership.is_leader]
    assert len(leaders) == 1
    assert leaders[0].led == [2]  # a new epoch


def test_a_leader_whose_lock_connection_is_ended_stops_and_is_fenced(
    db: Database, replicas: list[Replica]
) -> None:
    first, second, _third = replicas
    first.leadership.start()
    second.leadership.start()
    assert _terminate_lock_connection(db, "r0") == 1
    eventually(lambda: first.lost == 1, timeout=10, what="the old leader stopping")
    eventually(lambda: second.leadership.is_leader, timeout=10, what="the follower leading")
    assert second.leadership.epoch == 2
    # The old leader's epoch is refused by the database, whatever it believes.
    first.leadership.epoch = 1
    assert not first.leadership.still_leading()
    first.leadership.epoch = None
    # It reconnects and follows: it does not lead while the other does.
    eventually(
        lambda: replicas_running_now(db) == 2, timeout=10, what="the old leader reconnecting"
    )
    assert not first.leadership.is_leader


def replicas_running_now(db: Database) -> int:
    with db.read() as session:
        return replicas_running(session)


def test_a_follower_notice_reaches_the_leader(replicas: list[Replica]) -> None:
    leader, follower, _third = replicas
    leader.leadership.start()
    follower.leadership.start()
    # Notices are pushed (LISTEN/NOTIFY on the lock connection): there is no other way for
    # the text to reach the leader. The timeout is a safety net for a loaded machine.
    follower.leadership.notify("deadline", '{"id": "poll-close-1"}')
    eventually(lambda: leader.heard, timeout=10, what="the notice")
    assert leader.heard == ['{"id": "poll-close-1"}']
    assert follower.heard == []  # its own notices are not handed back to it


def test_sqlite_is_one_process_that_always_leads(tmp_path: object) -> None:
    database = Database(f"sqlite:///{tmp_path}/bot.db")
    replica = Replica(database, "solo")
    replica.leadership.start()
    assert replica.led == [0]
    assert replica.leadership.still_leading()
    replica.leadership.stop()
    assert replica.lost == 1
    database.dispose()


def test_a_connection_sending_a_notice_is_not_counted_as_a_replica(
    db: Database, replicas: list[Replica]
) -> None:
    for replica in replicas:
        replica.leadership.start()
    with connect(db.url, "r1", timeout=3, role=NOTIFIER), db.read() as session:
        # notify_now's short connection, open while a count is taken
        assert replicas_running(session) == 3
