"""Benchmark: votes through 1, 2 and 3 `listening-bot serve` replicas on one PostgreSQL database.

Run from the repository root:

    .venv/bin/python bench/replicas.py [--voters 300] [--threads 12] [--server URL]

For each replica count a throwaway database is created on the PostgreSQL server (and dropped
afterwards), the replicas are started (REPLICA_NAME r1..rN) against a fake Slack enforcing
Slack's rate limits (x20, as the tests run them; the bot is told the same scale), a session and
a poll are started, and `--voters` distinct voters click once each, round-robin over the
replicas' URLs from a thread pool, every click with a response_url of its own on the fake
Slack. Printed: votes/s, p50 and p99 time to acknowledge a click, p95 time from a click to its
confirmation reaching the voter (sent by the leader's outbox), outbox lag (last ack -> outbox
empty), votes stored. With 2 and 3 replicas, fail-over too: a 10 s poll is started on a
follower, the leader is killed with SIGKILL 2 s before its deadline, and the time to a new
epoch in leader_epoch and how late the poll's close was announced are printed.

On two cores the figures show the overhead of more replicas (every replica competes for the
same cores and database), not the scaling.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.standin import FakeSlack, payloads
from bot.standin.state import Call
from tests.e2e.conftest import BOT_TOKEN, CHANNEL, FACILITATOR, ClickSender
from tests.e2e.test_polls import POLL, _buttons, _is_poll_post
from tests.harness.processes import BotProcess, _free_port
from tests.harness.slack_limits import RATE_LIMITS
from tests.harness.waiting import eventually

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _command(slack: FakeSlack, sender: ClickSender, line: str, command: str = "/poll") -> None:
    body = payloads.slash_command(
        command,
        line,
        user_id=FACILITATOR,
        channel_id=CHANNEL,
        response_url=slack.response_url(uuid.uuid4().hex),
    )
    response = sender.command(body)
    assert response.status_code == 200, response.text
    assert response.text == "", response.text


def _poll_message(slack: FakeSlack, count: int) -> dict[str, Any]:
    def posted() -> bool:
        return len([c for c in slack.calls_to("chat.postMessage") if _is_poll_post(c)]) >= count

    eventually(posted, timeout=30, what="the poll message")
    post = [c for c in slack.calls_to("chat.postMessage") if _is_poll_post(c)][count - 1]
    ts = post.response["ts"]
    return next(m for m in slack.messages(CHANNEL) if m["ts"] == ts)


def _finals(slack: FakeSlack, ts: object) -> int:
    return len(
        [
            c
            for c in slack.calls_to("chat.update")
            if c.args.get("ts") == ts and str(c.args.get("text", "")).startswith("Poll closed")
        ]
    )


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


class Confirmations:
    """When each voter's first private reply reached the fake Slack (perf_counter)."""

    def __init__(self, slack: FakeSlack) -> None:
        self.slack = slack
        self.seen: dict[str, float] = {}
        self._lock = threading.Lock()
        self._owners: dict[str, str] = {}  # response path -> user

    def expect(self, name: str, user: str) -> None:
        with self._lock:
            self._owners[f"/response/{name}"] = user

    def __call__(self, call: Call) -> None:
        with self._lock:
            user = self._owners.get(call.path)
            if user is not None and not call.failed and user not in self.seen:
                self.seen[user] = time.perf_counter()


def _unsent(engine: sqlalchemy.Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM outbox WHERE sent_at IS NULL")).one()[0])


def _start(url: str, slack: FakeSlack, replicas: int, logs: Path) -> list[tuple[str, Any, str]]:
    processes: list[tuple[str, Any, str]] = []
    for i in range(replicas):
        port = _free_port()
        process = BotProcess(
            ["serve", "--host", "127.0.0.1", "--port", str(port)],
            {
                "SLACK_BOT_TOKEN": BOT_TOKEN,
                "SLACK_SIGNING_SECRET": "8f742231b10e8888abcd99yyyzzz85a5",
                "SLACK_API_URL": slack.api_url,
                "DATABASE_URL": url,
                "REPLICA_NAME": f"r{i + 1}",
            },
            logs / f"{replicas}-r{i + 1}.log",
        )
        base = f"http://127.0.0.1:{port}"
        processes.append((f"r{i + 1}", process, base))
    for _, process, base in processes:
        process.wait_until_serving(base)
    return processes


def _vote(
    slack: FakeSlack, senders: list[ClickSender], voters: int, threads: int, row: dict[str, str]
) -> float:
    """The burst; returns perf_counter at the last ack."""
    _command(slack, senders[-1], f"{POLL} --time 10m")
    message = _poll_message(slack, 1)
    block_id, button = _buttons(message)[0]
    confirmations = Confirmations(slack)
    unsubscribe = slack.subscribe(confirmations)
    sent: dict[str, float] = {}

    def click(i: int) -> float:
        user = f"U{i:07d}"
        name = f"bench-{user}"
        confirmations.expect(name, user)
        body = payloads.button_click(message, block_id, button, user_id=user, channel_id=CHANNEL)
        body["response_url"] = slack.response_url(name, channel=CHANNEL, user=user)
        start = time.perf_counter()
        sent[user] = start
        response = senders[i % len(senders)].action(body)
        assert response.status_code == 200, response.text
        return time.perf_counter() - start

    began = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        acks = list(pool.map(click, range(voters)))
    last_ack = time.perf_counter()
    try:
        eventually(lambda: len(confirmations.seen) >= voters, timeout=60, what="confirmations")
    finally:
        unsubscribe()
    waits = [confirmations.seen[user] - start for user, start in sent.items()]
    row["votes/s"] = f"{voters / (last_ack - began):.0f}"
    row["ack p50 ms"] = f"{statistics.median(acks) * 1000:.0f}"
    row["ack p99 ms"] = f"{_percentile(acks, 0.99) * 1000:.0f}"
    row["confirm p95 ms"] = f"{_percentile(waits, 0.95) * 1000:.0f}"
    return last_ack


def run(server: str, replicas: int, voters: int, threads: int, logs: Path) -> dict[str, str]:
    admin = sqlalchemy.create_engine(server, isolation_level="AUTOCOMMIT")
    name = f"bench_replicas_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = sqlalchemy.make_url(server).set(database=name).render_as_string(hide_password=False)
    engine = sqlalchemy.create_engine(url)
    processes: list[tuple[str, Any, str]] = []
    row: dict[str, str] = {"replicas": str(replicas)}
    try:
        with FakeSlack(rate_limits=RATE_LIMITS) as slack:
            # The first replica migrates the new database; the others find it up to date.
            processes = _start(url, slack, 1, logs)
            if replicas > 1:
                processes += [
                    (f"r{i + 2}", p, b)
                    for i, (_, p, b) in enumerate(_start(url, slack, replicas - 1, logs))
                ]
            senders = [ClickSender(base, slack) for _, _, base in processes]
            _command(slack, senders[-1], 'start "Bench session"', "/session")
            slack.wait_for("chat.postMessage", timeout=30)
            last_ack = _vote(slack, senders, voters, threads, row)
            eventually(lambda: _unsent(engine) == 0, timeout=60, what="the outbox emptied")
            row["outbox lag s"] = f"{time.perf_counter() - last_ack:.2f}"
            with engine.connect() as conn:
                stored = conn.execute(text("SELECT count(*) FROM poll_vote")).scalar_one()
            row["stored"] = f"{stored}/{voters}"
            if replicas > 1:
                _fail_over(slack, engine, processes, senders, row)
    finally:
        for _, process, _ in processes:
            process.stop()
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return row


def _fail_over(
    slack: FakeSlack,
    engine: sqlalchemy.Engine,
    processes: list[tuple[str, Any, str]],
    senders: list[ClickSender],
    row: dict[str, str],
) -> None:
    with engine.connect() as conn:
        epoch, leader = conn.execute(
            text("SELECT epoch, replica FROM leader_epoch WHERE id = 1")
        ).one()
    follower = next(s for (n, _, _), s in zip(processes, senders, strict=True) if n != leader)
    _command(slack, follower, '"Fail-over?" "Yes" "No" --time 10s')
    second = _poll_message(slack, 2)
    with engine.connect() as conn:
        closes_at = conn.execute(
            text("SELECT closes_at FROM poll ORDER BY id DESC LIMIT 1")
        ).scalar_one()
    closes_at = closes_at if closes_at.tzinfo else closes_at.replace(tzinfo=UTC)
    eventually(
        lambda: datetime.now(UTC) >= closes_at - timedelta(seconds=2),
        timeout=15,
        what="2 s before the deadline",
    )
    victim = next(p for n, p, _ in processes if n == leader)
    killed = time.monotonic()
    victim.process.kill()
    victim.process.wait()

    def new_epoch() -> bool:
        with engine.connect() as conn:
            now = conn.execute(text("SELECT epoch FROM leader_epoch WHERE id = 1")).scalar_one()
        return int(now) > int(epoch)

    eventually(new_epoch, timeout=30, what="a new leader")
    row["fail-over s"] = f"{time.monotonic() - killed:.2f}"
    eventually(lambda: _finals(slack, second["ts"]), timeout=30, what="the close")
    late = datetime.now(UTC) - closes_at
    row["close late s"] = f"{late.total_seconds():.2f}"
    row["closes posted"] = str(_finals(slack, second["ts"]))


COLUMNS = [
    "replicas",
    "votes/s",
    "ack p50 ms",
    "ack p99 ms",
    "confirm p95 ms",
    "outbox lag s",
    "stored",
    "fail-over s",
    "close late s",
    "closes posted",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--voters", type=int, default=300)
    parser.add_argument("--threads", type=int, default=12)
    parser.add_argument("--server", default=SERVER)
    options = parser.parse_args()
    rows = []
    logs = Path(tempfile.mkdtemp(prefix="bench-replicas-"))
    for replicas in (1, 2, 3):
        rows.append(run(options.server, replicas, options.voters, options.threads, logs))
    print(f"replica logs: {logs}")
    print(" | ".join(f"{c:>14}" for c in COLUMNS))
    for row in rows:
        print(" | ".join(f"{row.get(c, '-'):>14}" for c in COLUMNS))


if __name__ == "__main__":
    main()
