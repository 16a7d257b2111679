"""Three `serve` processes on one PostgreSQL database: one leads, the others hand over.

Real processes, real ports, the fake Slack: a replica is found leading through `leader_epoch`
and killed with SIGKILL, and the polls it was running still close once, in time.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy
from sqlalchemy import text

from bot.standin import FakeSlack, SlackSender, payloads
from bot.standin.state import Call
from tests.e2e.conftest import BOT_TOKEN, CHANNEL, FACILITATOR, SIGNING_SECRET
from tests.e2e.test_polls import POLL
from tests.harness.processes import BotProcess, _free_port
from tests.harness.waiting import eventually

pytestmark = pytest.mark.postgres

NAMES = ("r1", "r2", "r3")


@dataclass
class Replica:
    name: str
    url: str
    process: BotProcess
    sender: SlackSender


@dataclass
class Cluster:
    replicas: list[Replica]
    slack: FakeSlack
    engine: sqlalchemy.Engine

    def by_name(self, name: str) -> Replica:
        return next(r for r in self.replicas if r.name == name)

    def epoch(self) -> tuple[int, str] | None:
        with self.engine.connect() as conn:
            row = conn.execute(text("SELECT epoch, replica FROM leader_epoch WHERE id = 1")).first()
        return None if row is None else (int(row[0]), str(row[1]))

    def leader(self) -> Replica:
        eventually(lambda: self.epoch() is not None, timeout=10, what="a leader")
        found = self.epoch()
        assert found is not None
        return self.by_name(found[1])

    def command(self, replica: Replica, command: str, line: str) -> None:
        body = payloads.slash_command(
            command,
            line,
            user_id=FACILITATOR,
            channel_id=CHANNEL,
            response_url=self.slack.response_url(uuid.uuid4().hex),
        )
        response = replica.sender.command(body)
        assert response.status_code == 200, replica.process.output()
        assert response.text == "", response.text

    def poll_closes_at(self) -> datetime:
        with self.engine.connect() as conn:
            row = conn.execute(text("SELECT closes_at FROM poll ORDER BY id DESC LIMIT 1")).one()
        value: datetime = row[0]
        return value if value.tzinfo else value.replace(tzinfo=UTC)


@pytest.fixture
def cluster(tmp_path: Path, slack: FakeSlack, migrated_postgres_url: str) -> Iterator[Cluster]:
    replicas: list[Replica] = []
    engine = sqlalchemy.create_engine(migrated_postgres_url)
    try:
        for name in NAMES:
            port = _free_port()
            process = BotProcess(
                ["serve", "--host", "127.0.0.1", "--port", str(port)],
                {
                    "SLACK_BOT_TOKEN": BOT_TOKEN,
                    "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                    "SLACK_API_URL": slack.api_url,
                    "DATABASE_URL": migrated_postgres_url,
                    "REPLICA_NAME": name,
                },
                tmp_path / f"{name}.log",
            )
            url = f"http://127.0.0.1:{port}"
            replicas.append(Replica(name, url, process, SlackSender(url, SIGNING_SECRET)))
        for replica in replicas:
            replica.process.wait_until_serving(replica.url)
        yield Cluster(replicas, slack, engine)
    finally:
        for replica in replicas:
            replica.process.stop()
        engine.dispose()


def _is_poll_post(call: Call) -> bool:
    return str(call.args.get("text", "")).startswith("Poll: ")


def _finals(slack: FakeSlack, ts: str) -> list[Call]:
    return [
        c
        for c in slack.calls_to("chat.update")
        if c.args.get("ts") == ts and str(c.args.get("text", "")).startswith("Poll closed")
    ]


def _start_poll(cluster: Cluster, through: Replica, seconds: int) -> str:
    """Start a session and a poll through `through`; returns the poll message's ts."""
    cluster.command(through, "/session", 'start "Replicated session"')
    cluster.slack.wait_for("chat.postMessage", timeout=10)
    cluster.command(through, "/poll", f"{POLL} --time {seconds}s")
    [post] = cluster.slack.wait_for("chat.postMessage", predicate=_is_poll_post, timeout=10)
    return str(post.response["ts"])


def _wait_final(slack: FakeSlack, ts: str, timeout: float) -> datetime:
    """Wait for the poll's final results; returns when they were seen."""
    eventually(lambda: _finals(slack, ts), timeout=timeout, what="the poll's final results")
    return datetime.now(UTC)


def _settle(seconds: float) -> None:
    """Give a duplicate post the time to appear (there is no condition to wait on for 'never')."""
    until = time.monotonic() + seconds
    eventually(lambda: time.monotonic() >= until, timeout=seconds + 1, what="settling")


def test_a_poll_made_on_a_follower_closes_in_time(cluster: Cluster) -> None:
    leader = cluster.leader()
    follower = next(r for r in cluster.replicas if r is not leader)
    ts = _start_poll(cluster, follower, 10)
    closes_at = cluster.poll_closes_at()
    seen = _wait_final(cluster.slack, ts, timeout=20)
    assert seen - closes_at <= timedelta(seconds=2), seen - closes_at
    assert len(_finals(cluster.slack, ts)) == 1


def test_sigkill_of_the_leader_mid_poll_hands_over_and_posts_once(cluster: Cluster) -> None:
    leader = cluster.leader()
    before = cluster.epoch()
    assert before is not None
    follower = next(r for r in cluster.replicas if r is not leader)
    ts = _start_poll(cluster, follower, 10)
    closes_at = cluster.poll_closes_at()

    # The deadline falls during the fail-over: kill the leader 2 s before it.
    eventually(
        lambda: datetime.now(UTC) >= closes_at - timedelta(seconds=2),
        timeout=15,
        what="2 s before the deadline",
    )
    killed = time.monotonic()
    leader.process.process.kill()
    leader.process.process.wait(timeout=10)

    def new_epoch() -> bool:
        now = cluster.epoch()
        return now is not None and now[0] > before[0] and now[1] != leader.name

    eventually(new_epoch, timeout=5, what="a new leader within 5 s")
    assert time.monotonic() - killed <= 5

    seen = _wait_final(cluster.slack, ts, timeout=15)
    assert seen - closes_at <= timedelta(seconds=7), seen - closes_at
    cluster.slack.wait_for("files.completeUploadExternal", timeout=10)
    _settle(3)
    assert len(_finals(cluster.slack, ts)) == 1
    uploads = [c for c in cluster.slack.calls_to("files.completeUploadExternal") if not c.failed]
    assert len(uploads) == 1
