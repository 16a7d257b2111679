"""Benchmark: Zoom's webhooks into a real `listening-bot serve`, and the Zoom calls of a session.

Run from the repository root (about two and a half minutes of real time):

    .venv/bin/python bench/zoom.py [--people 300] [--rooms 30] [--seed 7]

A real `listening-bot serve` process (SQLite) talks to the Slack stand-in at Slack's real rates
and to the fake Zoom (bot/standin/zoom) as its Zoom account (Pro plan). This process plays Zoom's
webhook deliveries, signed as Zoom signs them, up to 16 at a time as Zoom delivers them:

1. `/session start "…" --zoom <id>`: the meeting is looked up.
2. `meeting.started`, then `--people` participants join within 60 s (half with an email).
3. `/breakout <rooms>` while the meeting runs (the bot names the rooms and plans them), then
   everyone joins a Zoom breakout room within 20 s and leaves it 20 s later.
4. A poll with `--zoom` (created in the meeting), `/session end` (the poll closes), then
   `meeting.ended` and the past-meeting answers, fetched and merged.

It prints the webhook answer times (p50/p95/p99/max; the target is p99 ≤ 500 ms, Zoom's own
limit is 3 s), every Zoom call the session made by Zoom's rate-limit category, and the busiest
second of each category as a share of the Pro plan's per-second limit; exit code 1 on a miss.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the checkout's packages (bot.standin, ...), not an installed copy

from bot.standin import FakeSlack, RateLimits, SlackSender, payloads  # noqa: E402
from bot.standin.zoom import FakeZoom, ZoomWebhookSender  # noqa: E402
from bot.zoom.budget import PLAN_RATES, Category  # noqa: E402

SIGNING_SECRET = "bench-signing-secret"
BOT_TOKEN = "xoxb-bench-zoom"
WEBHOOK_SECRET = "bench-zoom-webhook-secret"
CHANNEL = "C0ZOOMBENCH"
FACILITATOR = "U0FACIL"
MEETING_ID = "81234567890"
DELIVERIES_AT_ONCE = 16
TARGET_P99_MS = 500.0
PLAN = "pro"


def category_of(method: str, path: str) -> Category:
    """The rate-limit category Zoom's API reference gives each path the bot calls."""
    if path.startswith(("/metrics/", "/report/")):
        return Category.HEAVY
    if path.startswith("/past_meetings/") or path.endswith("/registrants"):
        return Category.MEDIUM
    return Category.LIGHT


def percentile(values: list[float], fraction: float) -> float:
    """The value below which `fraction` of `values` lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def wait(condition: Callable[[], object], what: str, timeout: float = 120.0) -> None:
    """Poll `condition` until it holds; stop the bench if it never does."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"gave up after {timeout:g}s waiting for {what}")
        time.sleep(0.1)


def free_port() -> int:
    """A free loopback port for the bot."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_bot(tmp: Path, slack: FakeSlack, zoom: FakeZoom, port: int) -> subprocess.Popen[bytes]:
    """`listening-bot serve` on SQLite, pointed at the stand-ins."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", str(tmp)),
        "PYTHONPATH": str(ROOT),
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "DATABASE_URL": f"sqlite:///{tmp / 'zoom.db'}",
        "ZOOM_ACCOUNT_ID": zoom.account_id,
        "ZOOM_CLIENT_ID": zoom.client_id,
        "ZOOM_CLIENT_SECRET": zoom.client_secret,
        "ZOOM_API_URL": zoom.api_url,
        "ZOOM_OAUTH_URL": zoom.oauth_url,
        "ZOOM_WEBHOOK_SECRET_TOKEN": WEBHOOK_SECRET,
        "ZOOM_PLAN": PLAN,
    }
    log = (tmp / "bot.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=tmp,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )

    def healthy() -> bool:
        if process.poll() is not None:
            raise SystemExit((tmp / "bot.log").read_text())
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as answer:
                return bool(answer.status == 200)
        except OSError:
            return False

    wait(healthy, "the bot to start", 60)
    return process


class Deliveries:
    """Zoom's webhook deliveries to the bot, timed, several in flight at once."""

    def __init__(self, sender: ZoomWebhookSender) -> None:
        self.sender = sender
        self.times: dict[str, list[float]] = defaultdict(list)
        self.failed: Counter[str] = Counter()

    def deliver(self, event: str, send: Callable[[], requests.Response]) -> None:
        """Send one event and note how long the bot took to answer it."""
        started = time.perf_counter()
        try:
            answer = send()
        except requests.RequestException:
            self.failed[event] += 1
            return
        self.times[event].append((time.perf_counter() - started) * 1000)
        if answer.status_code != 200:
            self.failed[event] += 1

    def spread(self, planned: list[tuple[float, str, Callable[[], requests.Response]]]) -> None:
        """Deliver each event at its moment (seconds from now)."""
        start = time.monotonic()
        with ThreadPoolExecutor(max_workers=DELIVERIES_AT_ONCE) as pool:
            for at, event, send in sorted(planned, key=lambda p: p[0]):
                time.sleep(max(0.0, start + at - time.monotonic()))
                pool.submit(self.deliver, event, send)

    def all_times(self) -> list[float]:
        """Every answer time, in milliseconds."""
        return [t for times in self.times.values() for t in times]


def iso(moment: datetime) -> str:
    """A Zoom time."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def run(people: int, rooms: int, seed: int) -> int:
    """The whole bench; returns the exit code."""
    rng = random.Random(seed)
    with (
        tempfile.TemporaryDirectory() as folder,
        FakeSlack(rate_limits=RateLimits(scale=1.0)) as slack,
        FakeZoom(plan=PLAN) as zoom,
    ):
        tmp = Path(folder)
        port = free_port()
        bot = start_bot(tmp, slack, zoom, port)
        url = f"http://127.0.0.1:{port}"
        sender = SlackSender(url, SIGNING_SECRET)
        deliveries = Deliveries(ZoomWebhookSender(url + "/zoom/webhook", WEBHOOK_SECRET))
        db = tmp / "zoom.db"
        try:
            meeting = zoom.add_meeting(MEETING_ID, topic="Zoom bench", start_time=datetime.now(UTC))

            def command(name: str, text: str) -> None:
                answer = sender.command(
                    payloads.slash_command(name, text, user_id=FACILITATOR, channel_id=CHANNEL)
                )
                if answer.status_code != 200:
                    raise SystemExit(f"{name} {text}: HTTP {answer.status_code} {answer.text}")

            def query(sql: str) -> list[tuple[Any, ...]]:
                with sqlite3.connect(db, timeout=30) as connection:
                    return list(connection.execute(sql).fetchall())

            command("/session", f'start "Zoom bench" --zoom {MEETING_ID}')
            wait(lambda: query("SELECT looked_up_at FROM zoom_meeting")[0][0], "the lookup")
            uuid = zoom.start_meeting(MEETING_ID)
            meeting = zoom.meeting(MEETING_ID)
            webhooks = deliveries.sender
            deliveries.deliver("meeting.started", lambda: webhooks.meeting_started(meeting))

            start = datetime.now(UTC)
            who = [
                (f"pu-{i:04d}", f"Person {i}", f"person{i}@example.org" if i % 2 else "")
                for i in range(people)
            ]
            joins: list[tuple[float, str, Callable[[], requests.Response]]] = []
            for uid, name, email in who:
                at = rng.uniform(0, 60)
                moment = start + timedelta(seconds=at)
                joins.append(
                    (
                        at,
                        "participant_joined",
                        partial(
                            webhooks.participant_joined, meeting, uid, name, email, iso(moment)
                        ),
                    )
                )
            print(f"{people} participants join within 60 s …", flush=True)
            deliveries.spread(joins)

            # Mid-meeting: the bot names the rooms and plans who goes where (people choose in Zoom).
            command("/breakout", f"{rooms} --time 10m")
            wait(
                lambda: query("SELECT count(*) FROM breakout_room_member")[0][0] >= people,
                "the plan",
            )
            room_uuids = [f"bo-{r:02d}-{rng.randrange(10**8):08d}==" for r in range(rooms)]
            moves: list[tuple[float, str, Callable[[], requests.Response]]] = []
            begin = datetime.now(UTC)
            for index, (uid, name, email) in enumerate(who):
                room = room_uuids[index % rooms]
                at = rng.uniform(0, 20)
                joined, left = begin + timedelta(seconds=at), begin + timedelta(seconds=at + 20)
                moves.append(
                    (
                        at,
                        "joined_breakout_room",
                        partial(
                            webhooks.participant_joined_breakout_room,
                            meeting,
                            room,
                            uid,
                            name,
                            email,
                            iso(joined),
                        ),
                    )
                )
                moves.append(
                    (
                        at + 20,
                        "left_breakout_room",
                        partial(
                            webhooks.participant_left_breakout_room,
                            meeting,
                            room,
                            uid,
                            name,
                            email,
                            iso(left),
                        ),
                    )
                )
            print(f"{rooms} breakout rooms: {2 * people} events within 40 s …", flush=True)
            deliveries.spread(moves)

            command("/poll", '"Should the party listen more?" "Yes" "No" --zoom --time 5m')
            wait(lambda: zoom.polls(MEETING_ID), "the Zoom poll to be created")
            [created] = zoom.polls(MEETING_ID)
            question = created["questions"][0]["name"]
            zoom.set_past_polls(
                uuid,
                [
                    {
                        "name": name,
                        "email": email,
                        "question_details": [
                            {
                                "question": question,
                                "answer": rng.choice(["Yes", "No"]),
                                "polling_id": created["id"],
                            }
                        ],
                    }
                    for _uid, name, email in who
                ],
            )
            command("/session", "end")
            ended = datetime.now(UTC)
            deliveries.deliver(
                "meeting.ended", lambda: webhooks.meeting_ended(meeting, end_time=iso(ended))
            )
            wait(
                lambda: query("SELECT fetched_at FROM zoom_poll")[0][0],
                "the Zoom answers to be fetched and merged",
                300,
            )
            time.sleep(2)  # anything the merge queues (a delete in a recurring meeting) goes
        finally:
            bot.terminate()
            try:
                bot.wait(20)
            except subprocess.TimeoutExpired:
                bot.kill()

        return report(deliveries, zoom.calls, people, rooms)


def report(deliveries: Deliveries, calls: list[Any], people: int, rooms: int) -> int:
    """Print the figures; 1 if the webhook target was missed or a delivery failed."""
    times = deliveries.all_times()
    print(f"\nWebhook answers ({len(times)} events, {DELIVERIES_AT_ONCE} delivered at once):")
    for event, spent in sorted(deliveries.times.items()):
        print(
            f"  {event:24s} n={len(spent):4d}  p50 {percentile(spent, 0.5):6.1f} ms  "
            f"p99 {percentile(spent, 0.99):6.1f} ms  max {max(spent):6.1f} ms"
        )
    p99 = percentile(times, 0.99)
    print(
        f"  all                      n={len(times):4d}  p50 {percentile(times, 0.5):6.1f} ms  "
        f"p95 {percentile(times, 0.95):6.1f} ms  p99 {p99:6.1f} ms  max {max(times):6.1f} ms"
    )
    failed = sum(deliveries.failed.values())
    if failed:
        print(f"  failed or not 200: {dict(deliveries.failed)}")

    print(f"\nZoom calls for the session ({people} people, {rooms} rooms, one Zoom poll):")
    by_category: Counter[Category] = Counter()
    by_path: Counter[str] = Counter()
    per_second: dict[Category, Counter[int]] = defaultdict(Counter)
    for call in calls:
        path = call.path
        parts = path.split("/")
        shape = "/".join("{id}" if any(c.isdigit() for c in part) else part for part in parts)
        category = category_of(call.method, path)
        by_category[category] += 1
        by_path[f"{call.method} {shape}"] += 1
        per_second[category][int(call.at)] += 1
    for name, count in by_path.most_common():
        print(f"  {count:4d}  {name}")
    rates = PLAN_RATES[PLAN]
    print(f"\nShare of the account's rate budget ({PLAN} plan, per second):")
    for category in Category:
        busiest = max(per_second[category].values(), default=0)
        limit = rates[category]
        print(
            f"  {category.value:6s} {by_category[category]:4d} calls; busiest second "
            f"{busiest} of {limit:g} ({busiest / limit:.0%})"
        )
    ok = p99 <= TARGET_P99_MS and not failed
    verdict = "PASS" if ok else "FAIL"
    print(f"\n{verdict}: webhook p99 {p99:.0f} ms (target ≤ {TARGET_P99_MS:.0f} ms)")
    return 0 if ok else 1


def main() -> int:
    """Parse the arguments and run the bench."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--people", type=int, default=300)
    parser.add_argument("--rooms", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    options = parser.parse_args()
    return run(options.people, options.rooms, options.seed)


if __name__ == "__main__":
    sys.exit(main())
