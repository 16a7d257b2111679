"""Benchmark: votes through 1, 2 and 3 `listening-bot serve` replicas on one PostgreSQL database.

Run from the repository root:

    .venv/bin/python bench/replicas.py [--voters 200] [--threads 12] [--server URL]

For each replica count a throwaway database is created on the PostgreSQL server (and dropped
afterwards), the replicas are started (REPLICA_NAME r1..rN) against a fake Slack enforcing
Slack's (scaled) rate limits, a session and a poll are started, and `--voters` distinct voters
click once each, round-robin over the replicas' URLs from a thread pool. Printed: votes/s, p50
and p99 time to acknowledge a click, votes stored. With 3 replicas, fail-over is measured too:
SIGKILL of the leader -> a new epoch in leader_epoch -> the next poll deadline served.

On two cores the figures show the overhead of more replicas (every replica competes for the
same cores and database), not the scaling.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.standin import FakeSlack, SlackSender, payloads
from tests.e2e.conftest import BOT_TOKEN, CHANNEL, FACILITATOR, SIGNING_SECRET
from tests.e2e.test_polls import POLL, _buttons, _is_poll_post
from tests.harness.processes import BotProcess, _free_port
from tests.harness.slack_limits import RATE_LIMITS
from tests.harness.waiting import eventually

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _command(slack: FakeSlack, sender: SlackSender, line: str, command: str = "/poll") -> None:
    body = payloads.slash_command(
        command,
        line,
        user_id=FACILITATOR,
        channel_id=CHANNEL,
        response_url=slack.response_url(uuid.uuid4().hex),
    )
    assert sender.command(body).status_code == 200


def _poll_message(slack: FakeSlack, count: int) -> dict[str, object]:
    def posted() -> bool:
        return len([c for c in slack.calls_to("chat.postMessage") if _is_poll_post(c)]) >= count

    eventually(posted, timeout=15, what="the poll message")
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


def run(server: str, replicas: int, voters: int, threads: int, logs: Path) -> dict[str, str]:
    admin = sqlalchemy.create_engine(server, isolation_level="AUTOCOMMIT")
    name = f"bench_replicas_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = sqlalchemy.make_url(server).set(database=name).render_as_string(hide_password=False)
    engine = sqlalchemy.create_engine(url)
    processes: list[tuple[str, BotProcess, str]] = []
    row: dict[str, str] = {"replicas": str(replicas)}
    try:
        with FakeSlack(rate_limits=RATE_LIMITS) as slack:
            for i in range(replicas):
                port = _free_port()
                process = BotProcess(
                    ["serve", "--host", "127.0.0.1", "--port", str(port)],
                    {
                        "SLACK_BOT_TOKEN": BOT_TOKEN,
                        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                        "SLACK_API_URL": slack.api_url,
                        "DATABASE_URL": url,
                        "REPLICA_NAME": f"r{i + 1}",
                    },
                    logs / f"{replicas}-r{i + 1}.log",
                )
                base = f"http://127.0.0.1:{port}"
                processes.append((f"r{i + 1}", process, base))
                process.wait_until_serving(base)  # one at a time: the first migrates
            senders = [SlackSender(base, SIGNING_SECRET) for _, _, base in processes]
            _command(slack, senders[-1], 'start "Bench session"', "/session")
            slack.wait_for("chat.postMessage", timeout=15)
            _command(slack, senders[-1], f"{POLL} --time 10m")
            message = _poll_message(slack, 1)
            block_id, button = _buttons(message)[0]

            def click(i: int) -> float:
                body = payloads.button_click(
                    message, block_id, button, user_id=f"U{i:07d}", channel_id=CHANNEL
                )
                start = time.perf_counter()
                response = senders[i % len(senders)].action(body)
                assert response.status_code == 200, response.text
                return time.perf_counter() - start

            began = time.perf_counter()
            with ThreadPoolExecutor(threads) as pool:
                acks = sorted(pool.map(click, range(voters)))
            elapsed = time.perf_counter() - began
            with engine.connect() as conn:
                stored = conn.execute(text("SELECT count(*) FROM poll_vote")).scalar_one()
            row["votes/s"] = f"{voters / elapsed:.0f}"
            row["ack p50 ms"] = f"{statistics.median(acks) * 1000:.0f}"
            row["ack p99 ms"] = f"{acks[min(len(acks) - 1, int(len(acks) * 0.99))] * 1000:.0f}"
            row["stored"] = f"{stored}/{voters}"

            if replicas > 1:
                with engine.connect() as conn:
                    epoch, leader = conn.execute(
                        text("SELECT epoch, replica FROM leader_epoch WHERE id = 1")
                    ).one()
                pairs = zip(processes, senders, strict=True)
                follower = next(s for (n, _, _), s in pairs if n != leader)
                _command(slack, follower, '"Fail-over?" "Yes" "No" --time 10s')
                second = _poll_message(slack, 2)
                with engine.connect() as conn:
                    closes_at = conn.execute(
                        text("SELECT closes_at FROM poll ORDER BY id DESC LIMIT 1")
                    ).scalar_one()
                victim = next(p for n, p, _ in processes if n == leader)
                killed = time.monotonic()
                victim.process.kill()
                victim.process.wait()

                def new_epoch() -> bool:
                    with engine.connect() as conn:
                        now = conn.execute(
                            text("SELECT epoch FROM leader_epoch WHERE id = 1")
                        ).scalar_one()
                    return int(now) > int(epoch)

                eventually(new_epoch, timeout=30, what="a new leader")
                row["fail-over s"] = f"{time.monotonic() - killed:.2f}"
                try:
                    eventually(lambda: _finals(slack, second["ts"]), timeout=30, what="the close")
                except AssertionError:
                    row["deadline late s"] = "not in 30 s"
                else:
                    late = datetime.now(UTC) - closes_at.replace(tzinfo=closes_at.tzinfo or UTC)
                    row["deadline late s"] = f"{late.total_seconds():.2f}"
    finally:
        for _, process, _ in processes:
            process.stop()
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voters", type=int, default=200)
    parser.add_argument("--threads", type=int, default=12)
    parser.add_argument("--server", default=SERVER)
    options = parser.parse_args()
    columns = [
        "replicas",
        "votes/s",
        "ack p50 ms",
        "ack p99 ms",
        "stored",
        "fail-over s",
        "deadline late s",
    ]
    rows = []
    logs = Path(tempfile.mkdtemp(prefix="bench-replicas-"))
    for replicas in (1, 2, 3):
        rows.append(run(options.server, replicas, options.voters, options.threads, logs))
    print(f"replica logs: {logs}")
    print(" | ".join(f"{c:>15}" for c in columns))
    for row in rows:
        print(" | ".join(f"{row.get(c, '-'):>15}" for c in columns))


if __name__ == "__main__":
    main()
