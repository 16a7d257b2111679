"""Three `serve` replicas on one PostgreSQL database, for the process-level replica tests.

A `Cluster` is the replicas (real processes on real ports), the fake Slack they all talk to
and an engine on their database; `cluster` is its fixture (import it into a test module as
`cluster = replicas_helpers.cluster`). `Receipts` notes when the fake Slack received each call,
and `Clicker` sends clicks round-robin over the replicas, each with a response_url of its own.
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy
from sqlalchemy import text

from bot.standin import FakeSlack, SlackSender, payloads
from bot.standin.state import Call
from bot.views.polls import VOTE_ACTION_PREFIX
from storage.leader import APPLICATION
from tests.e2e.conftest import BOT_TOKEN, CHANNEL, FACILITATOR, SIGNING_SECRET
from tests.e2e.test_polls import POLL
from tests.harness.processes import BotProcess, _free_port
from tests.harness.waiting import eventually

NAMES = ("r1", "r2", "r3")
# Three processes import and migrate at once on a shared machine: one took 25 s to print its
# first line under a load of 6 on two cores. Starting is not what these tests measure.
STARTUP_TIMEOUT = 90
SECOND_POLL = '"Should the branch meet monthly?" "Yes" "No"'


@dataclass
class Replica:
    name: str
    url: str
    process: BotProcess
    sender: SlackSender

    def alive(self) -> bool:
        return self.process.process.poll() is None

    def healthz(self) -> dict[str, Any]:
        response = requests.get(f"{self.url}/healthz", timeout=5)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


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

    def followers(self) -> list[Replica]:
        leader = self.leader()
        return [r for r in self.replicas if r is not leader]

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

    def voters(self, ts: str) -> set[str]:
        """Who has a row in poll_vote for the poll whose message is `ts`."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT v.user_id FROM poll_vote v JOIN poll p ON p.id = v.poll_id"
                    " WHERE p.message_ts = :ts"
                ),
                {"ts": ts},
            ).all()
        return {str(row[0]) for row in rows}

    def vote_rows(self, ts: str) -> int:
        """How many poll_vote rows the poll whose message is `ts` has."""
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    text(
                        "SELECT count(*) FROM poll_vote v JOIN poll p ON p.id = v.poll_id"
                        " WHERE p.message_ts = :ts"
                    ),
                    {"ts": ts},
                ).scalar_one()
            )

    def lock_backends(self, replica: Replica) -> list[int]:
        """The pids of `replica`'s backends that hold an advisory lock: its lock connection
        when it leads. (Its connection is not the only one with its application_name: each
        notice to the leader goes on a short connection of the same name.)"""
        with self.engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT DISTINCT a.pid FROM pg_locks l"
                    " JOIN pg_stat_activity a ON a.pid = l.pid"
                    " WHERE l.locktype = 'advisory' AND l.granted"
                    " AND a.datname = current_database() AND a.application_name = :name"
                ),
                {"name": f"{APPLICATION} {replica.name}"},
            ).all()
        return [int(row[0]) for row in rows]

    def terminate_backend(self, pid: int) -> None:
        with self.engine.connect() as conn:
            assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()


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
            replica.process.wait_until_serving(replica.url, timeout=STARTUP_TIMEOUT)
        yield Cluster(replicas, slack, engine)
    finally:
        for replica in replicas:
            replica.process.stop()
        engine.dispose()


# ---------------------------------------------------------------------------
# polls


def is_poll_post(call: Call) -> bool:
    return str(call.args.get("text", "")).startswith("Poll: ")


def is_final(call: Call) -> bool:
    return str(call.args.get("text", "")).startswith("Poll closed")


def finals(slack: FakeSlack, ts: str) -> list[Call]:
    return [c for c in slack.calls_to("chat.update") if c.args.get("ts") == ts and is_final(c)]


def start_session(cluster: Cluster, through: Replica) -> None:
    cluster.command(through, "/session", 'start "Replicated session"')
    cluster.slack.wait_for("chat.postMessage", timeout=10)


def launch_poll(cluster: Cluster, through: Replica, line: str, seconds: int) -> dict[str, Any]:
    """Launch a poll through `through` (in the session started before); returns its message
    once the bot knows its ts (so clicks on it are counted at once)."""
    before = len([c for c in cluster.slack.calls_to("chat.postMessage") if is_poll_post(c)])
    cluster.command(through, "/poll", f"{line} --time {seconds}s")
    posts = cluster.slack.wait_for(
        "chat.postMessage", count=before + 1, predicate=is_poll_post, timeout=10
    )
    ts = str(posts[-1].response["ts"])

    def stored() -> bool:
        with cluster.engine.connect() as conn:
            found = conn.execute(
                text("SELECT count(*) FROM poll WHERE message_ts = :ts"), {"ts": ts}
            ).scalar_one()
        return bool(found)

    eventually(stored, timeout=10, what="the poll's message ts stored")
    return poll_message(cluster.slack, ts)


def poll_message(slack: FakeSlack, ts: str) -> dict[str, Any]:
    return next(m for m in slack.messages(CHANNEL) if m.get("ts") == ts)


def start_poll(cluster: Cluster, through: Replica, seconds: int) -> str:
    """Start a session and a poll through `through`; returns the poll message's ts."""
    start_session(cluster, through)
    return str(launch_poll(cluster, through, POLL, seconds)["ts"])


def wait_final(slack: FakeSlack, ts: str, timeout: float) -> datetime:
    """Wait for the poll's final results; returns when they were seen."""
    eventually(lambda: finals(slack, ts), timeout=timeout, what="the poll's final results")
    return datetime.now(UTC)


def settle(seconds: float) -> None:
    """Give a duplicate post the time to appear (there is no condition to wait on for 'never')."""
    until = time.monotonic() + seconds
    eventually(lambda: time.monotonic() >= until, timeout=seconds + 1, what="settling")


# ---------------------------------------------------------------------------
# receipts and clicks


class Receipts:
    """When the fake Slack received each call (time.monotonic(), noted as it is recorded)."""

    def __init__(self, slack: FakeSlack) -> None:
        self._lock = threading.Lock()
        self._seen: list[tuple[float, Call]] = []
        self._first: dict[str, float] = {}  # response_url path → first ephemeral post to it
        self.stop = slack.subscribe(self._note)

    def _note(self, call: Call) -> None:
        now = time.monotonic()
        with self._lock:
            self._seen.append((now, call))
            if (
                call.method == "response_url"
                and not call.failed
                and call.args.get("response_type") == "ephemeral"
            ):
                self._first.setdefault(call.path, now)

    def of(self, method: str) -> list[tuple[float, Call]]:
        with self._lock:
            return [(t, c) for t, c in self._seen if c.method == method]

    def first_reply(self, path: str) -> float | None:
        with self._lock:
            return self._first.get(path)

    def replies(self) -> int:
        with self._lock:
            return len(self._first)


@dataclass
class Click:
    user: str
    replica: str
    path: str  # the click's response_url path on the fake Slack
    sent: float  # time.monotonic() just before the request
    status: int | None = None  # None: the request failed (connection refused or reset)
    error: str = ""


@dataclass
class Clicker:
    """Clicks on poll buttons, round-robin over the replicas, each click with a response_url of
    its own on the fake Slack (tied to the voter, as ClickSender does)."""

    cluster: Cluster
    timeout: float = 10.0
    clicks: list[Click] = field(default_factory=list)
    _turn: Iterator[int] = field(default_factory=itertools.count)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._senders = {
            r.name: SlackSender(r.url, SIGNING_SECRET, timeout=self.timeout)
            for r in self.cluster.replicas
        }

    def vote(
        self, message: dict[str, Any], option: int, user: str, through: Replica | None = None
    ) -> Click:
        """Click option `option` of the poll `message` as `user`, through `through` or else
        the next replica in turn."""
        replicas = self.cluster.replicas
        with self._lock:
            replica = through or replicas[next(self._turn) % len(replicas)]
        buttons = [
            (block_id, button)
            for block_id, button in payloads.message_buttons(message)
            if button["action_id"].startswith(VOTE_ACTION_PREFIX)
        ]
        block_id, button = buttons[option]
        body = payloads.button_click(message, block_id, button, user_id=user, channel_id=CHANNEL)
        name = f"click-{uuid.uuid4().hex}"
        body["response_url"] = self.cluster.slack.response_url(name, channel=CHANNEL, user=user)
        click = Click(user=user, replica=replica.name, path=f"/response/{name}", sent=0.0)
        click.sent = time.monotonic()
        try:
            response = self._senders[replica.name].action(body)
            click.status = response.status_code
        except requests.RequestException as error:
            click.error = repr(error)
        with self._lock:
            self.clicks.append(click)
        return click

    def close(self) -> None:
        for sender in self._senders.values():
            sender.close()
