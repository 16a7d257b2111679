"""Two `run` processes on one PostgreSQL database, in Socket Mode, on one fake Socket Mode server.

Slack spreads an app's envelopes over its open connections (one per process), each envelope
to one of them: the fake server does the same, round-robin. Whichever process gets an
envelope handles it; the leader alone sends. Every envelope is acked once, every vote stored
once, and the session, the poll and its final results are each posted once.
"""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from sqlalchemy import text

from bot.standin import FakeSlack, payloads
from bot.standin.state import Call
from bot.views.polls import VOTE_ACTION_PREFIX
from tests.e2e.conftest import BOT_TOKEN, CHANNEL, FACILITATOR
from tests.e2e.test_polls import POLL
from tests.harness.fake_socket_mode import SUBPROCESS_ACK_DEADLINE_SECONDS, FakeSocketMode
from tests.harness.processes import BotProcess
from tests.harness.waiting import eventually

pytestmark = pytest.mark.postgres

APP_TOKEN = "xapp-1-A0001-1234-abcdef"
NAMES = ("s1", "s2")
VOTERS = [f"U0VOTER{i:02d}" for i in range(20)]
POLL_SECONDS = 10  # the shortest --time the bot takes
ACK_TIMEOUT = 10.0


@dataclass
class SocketReplica:
    name: str
    process: BotProcess
    connection: int  # the fake server's number for this process's connection


@dataclass
class SocketCluster:
    replicas: list[SocketReplica]
    slack: FakeSlack
    socket_mode: FakeSocketMode
    engine: sqlalchemy.Engine

    def by_connection(self, number: int) -> SocketReplica:
        return next(r for r in self.replicas if r.connection == number)

    def logs(self) -> str:
        return "\n".join(f"--- {r.name}\n{r.process.output()}" for r in self.replicas)

    def send(self, type: str, payload: dict[str, Any]) -> str:
        """Send an envelope to whichever connection's turn it is; returns its envelope_id."""
        return self.socket_mode.send_envelope_nowait(type, payload, timeout=ACK_TIMEOUT)

    def ack(self, envelope_id: str) -> dict[str, Any]:
        try:
            return self.socket_mode.wait_ack(envelope_id, timeout=ACK_TIMEOUT)
        except AssertionError as error:
            raise AssertionError(f"{error}\n{self.logs()}") from None

    def command(self, command: str, line: str) -> str:
        """Type a slash command as the facilitator; returns the acked envelope's id."""
        body = payloads.slash_command(
            command,
            line,
            user_id=FACILITATOR,
            channel_id=CHANNEL,
            response_url=self.slack.response_url(uuid.uuid4().hex),
        )
        envelope_id = self.send("slash_commands", body)
        ack = self.ack(envelope_id)
        assert "payload" not in ack or not ack["payload"], ack  # the channel sees it; no echo
        return envelope_id

    def click(self, message: dict[str, Any], option: int, user: str) -> str:
        """Click the poll's button `option` as `user` (not waiting for the ack)."""
        block_id, button = _vote_buttons(message)[option]
        body = payloads.button_click(message, block_id, button, user_id=user, channel_id=CHANNEL)
        # Each click has a response_url of its own, tied to who clicked (as ClickSender does).
        body["response_url"] = self.slack.response_url(
            f"click-{uuid.uuid4().hex}", channel=CHANNEL, user=user
        )
        return self.send("interactive", body)

    def votes(self) -> list[tuple[str, int]]:
        with self.engine.connect() as conn:
            rows = conn.execute(text("SELECT user_id, option_index FROM poll_vote")).all()
        return sorted((str(user), int(index)) for user, index in rows)

    def leader(self) -> str | None:
        with self.engine.connect() as conn:
            row = conn.execute(text("SELECT replica FROM leader_epoch WHERE id = 1")).first()
        return None if row is None else str(row[0])


@pytest.fixture
def socket_cluster(
    tmp_path: Path, slack: FakeSlack, migrated_postgres_url: str
) -> Iterator[SocketCluster]:
    replicas: list[SocketReplica] = []
    engine = sqlalchemy.create_engine(migrated_postgres_url)
    with FakeSocketMode(ack_deadline=SUBPROCESS_ACK_DEADLINE_SECONDS) as socket_mode:
        slack.socket_mode_url = socket_mode.url
        try:
            for number, name in enumerate(NAMES, start=1):
                process = BotProcess(
                    ["run"],
                    {
                        "SLACK_BOT_TOKEN": BOT_TOKEN,
                        "SLACK_APP_TOKEN": APP_TOKEN,
                        "SLACK_API_URL": slack.api_url,
                        "DATABASE_URL": migrated_postgres_url,
                        "REPLICA_NAME": name,
                    },
                    tmp_path / f"{name}.log",
                )
                replicas.append(SocketReplica(name, process, number))
                # One process at a time, so that connection #n is process n's.
                try:
                    socket_mode.wait_connected(timeout=30, count=number)
                except AssertionError as error:
                    raise AssertionError(f"{error}\n{process.output()}") from None
            yield SocketCluster(replicas, slack, socket_mode, engine)
        finally:
            codes = _stop_all(replicas)
            engine.dispose()
        assert codes == dict.fromkeys(NAMES, 0), "\n".join(r.process.output() for r in replicas)
        socket_mode.assert_no_violations()


def _stop_all(replicas: list[SocketReplica]) -> dict[str, int]:
    """SIGTERM every process at once, then wait for each (BotProcess.stop one by one is slower);
    returns the exit codes."""
    for replica in replicas:
        if replica.process.process.poll() is None:
            replica.process.process.send_signal(signal.SIGTERM)
    for replica in replicas:
        with contextlib.suppress(subprocess.TimeoutExpired):  # stop() below kills it then
            replica.process.process.wait(timeout=15)
    return {r.name: r.process.stop() for r in replicas}


def _vote_buttons(message: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (block_id, button)
        for block_id, button in payloads.message_buttons(message)
        if button["action_id"].startswith(VOTE_ACTION_PREFIX)
    ]


def _posts(slack: FakeSlack, prefix: str) -> list[Call]:
    return [
        c
        for c in slack.calls_to("chat.postMessage")
        if not c.failed and str(c.args.get("text", "")).startswith(prefix)
    ]


def _finals(slack: FakeSlack, ts: str) -> list[Call]:
    return [
        c
        for c in slack.calls_to("chat.update")
        if not c.failed
        and c.args.get("ts") == ts
        and str(c.args.get("text", "")).startswith("Poll closed")
    ]


def _settle(seconds: float) -> None:
    """Give a duplicate post the time to appear (there is no condition to wait on for 'never')."""
    until = time.monotonic() + seconds
    eventually(lambda: time.monotonic() >= until, timeout=seconds + 1, what="settling")


def test_envelopes_spread_over_two_run_processes_are_each_handled_once(
    socket_cluster: SocketCluster,
) -> None:
    cluster, slack, socket_mode = socket_cluster, socket_cluster.slack, socket_cluster.socket_mode
    assert socket_mode.wait_open_connections(2, timeout=10) == [1, 2]
    opened = slack.calls_to("apps.connections.open")
    assert [c.token for c in opened] == [APP_TOKEN, APP_TOKEN]
    eventually(lambda: cluster.leader() in NAMES, timeout=10, what="a leader")

    envelopes = [cluster.command("/session", 'start "Socket replicas"')]
    eventually(
        lambda: _posts(slack, "Listening session:"), timeout=10, what="the session's message"
    )
    envelopes.append(cluster.command("/poll", f"{POLL} --time {POLL_SECONDS}s"))
    eventually(lambda: _posts(slack, "Poll: "), timeout=10, what="the poll's message")
    [poll_post] = _posts(slack, "Poll: ")
    ts = str(poll_post.response["ts"])
    [message] = [m for m in slack.messages(CHANNEL) if m["ts"] == ts]
    assert len(_vote_buttons(message)) == 3, message["blocks"]

    clicks = [cluster.click(message, i % 3, user) for i, user in enumerate(VOTERS)]
    for envelope_id in clicks:
        cluster.ack(envelope_id)
    envelopes.extend(clicks)

    # Spread over both processes, each envelope to one connection, acked once, on it.
    delivered = {e: socket_mode.delivered_on(e) for e in envelopes}
    per_connection = {n: sum(1 for c in delivered.values() if c == n) for n in (1, 2)}
    assert per_connection == {1: len(envelopes) // 2, 2: len(envelopes) // 2}
    assert {e: socket_mode.acked_on(e) for e in envelopes} == {e: [n] for e, n in delivered.items()}
    # The two slash commands went to different processes (round-robin): s1 started the
    # session, s2 launched the poll on it.
    assert {cluster.by_connection(delivered[e]).name for e in envelopes[:2]} == set(NAMES)

    expected = sorted((user, i % 3) for i, user in enumerate(VOTERS))
    eventually(lambda: cluster.votes() == expected, timeout=10, what="every vote stored once")

    eventually(lambda: _finals(slack, ts), timeout=POLL_SECONDS + 15, what="the final results")
    _settle(3)
    assert len(_posts(slack, "Listening session:")) == 1, cluster.logs()
    assert len(_posts(slack, "Poll: ")) == 1, cluster.logs()
    [final] = _finals(slack, ts)
    assert f"{len(VOTERS)} voted" in json.dumps(final.args["blocks"]), final.args["blocks"]
    assert cluster.votes() == expected
    # Nobody reconnected: connection #n stayed process n's throughout.
    assert socket_mode.connection_count == 2
    assert socket_mode.open_connections == [1, 2]
