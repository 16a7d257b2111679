"""Benchmark: a crowd voting in polls through signed HTTP against `listening-bot serve` on SQLite.

Run from the repository root:

    .venv/bin/python bench/polls.py [--voters 300] [--window 5] [--burst 5] [--connections 12]

Three processes: this one runs the fake Slack Web API and checks the results; a load generator
sends pre-signed requests over keep-alive connections; the bot is a real `listening-bot serve`.

Phase 1 (arrival): every voter votes once in each of three polls (single choice, multiple choice,
anonymous) at a random moment within `--window` seconds; one click in ten is redelivered three
times with X-Slack-Retry-Num, as Slack does when an ack is slow.
Phase 2 (burst): for `--burst` seconds every connection clicks as fast as the bot answers,
voters changing their single choice and toggling multiple-choice options.

Printed: votes/s, time to acknowledge (p50/p95/p99), lost and duplicated votes (the database is
compared with what was sent), confirmations (all sent by the bot's outbox, after the ack) and
how long after the last vote the last one arrived, what the outbox still holds, and chat.update
calls per poll and across polls with their spacing.
Exit code 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import multiprocessing
import os
import random
import resource
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the checkout's packages (bot.standin, ...), not an installed copy

from bot.polls import LIVE_UPDATE_INTERVAL, LIVE_UPDATE_SPACING  # noqa: E402
from bot.slack.kinds import REPLACED  # noqa: E402
from bot.standin import (  # noqa: E402
    UNLIMITED,
    Call,
    FakeSlack,
    payloads,
    sign,
)
from bot.views.polls import VOTE_ACTION_PREFIX  # noqa: E402

SIGNING_SECRET = "bench-signing-secret"
BOT_TOKEN = "xoxb-bench-0000-token"
CHANNEL = "C0BENCH"
FACILITATOR = "U0BENCHFAC"
OPTIONS = ("Agree", "Disagree", "Not sure", "Pass")

TARGET_P99_MS = 100.0
TARGET_VOTES_PER_SECOND = 500.0
LIVE_INTERVAL = LIVE_UPDATE_INTERVAL  # 2 s between two updates of one poll's message
WORKSPACE_SPACING = LIVE_UPDATE_SPACING  # 1.5 s: 40 live updates a minute for all polls together


class TimedFakeSlack(FakeSlack):
    """The fake Slack, also noting when each call arrived (for chat.update spacing)."""

    def __init__(self) -> None:
        # No rate limits: this bench measures the bot, not Slack's budgets (bench/meeting.py
        # runs at Slack's real rates).
        super().__init__(rate_limits=UNLIMITED)
        self.arrivals: list[tuple[float, Call]] = []

    def _store(self, call: Call) -> tuple[int, tuple[Callable[[Call], None], ...]] | None:
        # Every call is stored here (a method's under the lock of the state change it made).
        self.arrivals.append((time.time(), call))
        return super()._store(call)


_CLICK_NUMBERS = itertools.count()


@dataclass(frozen=True)
class Click:
    """One request the load generator sends."""

    voter: str
    poll: str  # "single", "multi" or "anonymous"
    option: int
    retry: int | None  # None for the original delivery
    raw: bytes
    at: float = 0.0  # seconds after the phase starts (arrival phase only)


@dataclass
class Sent:
    """What happened to one request."""

    status: int
    latency: float
    done_at: float  # wall-clock time the ack arrived


@dataclass
class Polls:
    """The three polls' ids and messages."""

    ids: dict[str, int] = field(default_factory=dict)
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)


# ---------------------------------------------------------------------------
# building requests


def _signed_headers(body: str, retry: int | None) -> dict[str, str]:
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": str(timestamp),
        "X-Slack-Signature": sign(SIGNING_SECRET, body, timestamp),
    }
    if retry is not None:
        headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
    return headers


def _raw_request(port: int, body: str, retry: int | None) -> bytes:
    """A whole signed HTTP/1.1 request, built before the clock starts."""
    data = body.encode()
    lines = [
        "POST /slack/events HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        f"Content-Length: {len(data)}",
        *(f"{name}: {value}" for name, value in _signed_headers(body, retry).items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + data


def _clicks(
    slack: FakeSlack,
    port: int,
    polls: Polls,
    voter: str,
    poll: str,
    option: int,
    *,
    retries: int,
    at: float = 0.0,
) -> list[Click]:
    message = polls.messages[poll]
    block_id, button = payloads.message_buttons(message, action_prefix=VOTE_ACTION_PREFIX)[option]
    payload = payloads.button_click(message, block_id, button, user_id=voter, channel_id=CHANNEL)
    # Each click has its own response_url, as on Slack: the bot answers the voter through it.
    payload["response_url"] = slack.response_url(
        f"vote-{next(_CLICK_NUMBERS)}", channel=CHANNEL, user=voter
    )
    body = urlencode({"payload": json.dumps(payload, separators=(",", ":"))})
    original = Click(voter, poll, option, None, _raw_request(port, body, None), at)
    redeliveries = [
        Click(voter, poll, option, n, _raw_request(port, body, n), at + 0.05 * n)
        for n in range(1, retries + 1)
    ]
    return [original, *redeliveries]


# ---------------------------------------------------------------------------
# the load generator (its own process, so measuring does not compete with the fake Slack)


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: bytes) -> int:
    writer.write(raw)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    if length:
        await reader.readexactly(length)
    return status


async def _arrival(port: int, clicks: list[Click], connections: int) -> list[Sent]:
    pool: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
    for _ in range(connections):
        pool.put_nowait(await asyncio.open_connection("127.0.0.1", port))
    results: list[Sent | None] = [None] * len(clicks)
    start = time.perf_counter()

    async def send(index: int, click: Click) -> None:
        await asyncio.sleep(max(0.0, start + click.at - time.perf_counter()))
        connection = await pool.get()
        began = time.perf_counter()
        status = await _exchange(*connection, click.raw)
        results[index] = Sent(status, time.perf_counter() - began, time.time())
        pool.put_nowait(connection)

    await asyncio.gather(*(send(i, click) for i, click in enumerate(clicks)))
    while not pool.empty():
        pool.get_nowait()[1].close()
    return [r for r in results if r is not None]


async def _burst(port: int, lanes: list[list[Click]], seconds: float) -> list[list[Sent]]:
    deadline = time.perf_counter() + seconds

    async def lane(clicks: list[Click]) -> list[Sent]:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        done: list[Sent] = []
        for click in clicks:
            if time.perf_counter() >= deadline:
                break
            began = time.perf_counter()
            status = await _exchange(reader, writer, click.raw)
            done.append(Sent(status, time.perf_counter() - began, time.time()))
        writer.close()
        return done

    return list(await asyncio.gather(*(lane(clicks) for clicks in lanes)))


def _load_generator(port: int, job: dict[str, Any], results: Any) -> None:
    if job["phase"] == "arrival":
        results.put(asyncio.run(_arrival(port, job["clicks"], job["connections"])))
    else:
        results.put(asyncio.run(_burst(port, job["lanes"], job["seconds"])))


def _run_phase(port: int, job: dict[str, Any]) -> Any:
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    process = context.Process(target=_load_generator, args=(port, job, results))
    process.start()
    outcome = results.get(timeout=600)
    process.join(timeout=30)
    return outcome


# ---------------------------------------------------------------------------
# the bot


def _wait(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.02)


def _start_bot(tmp: Path, slack: FakeSlack, port: int) -> subprocess.Popen[bytes]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", str(tmp)),
        "PYTHONPATH": str(ROOT),
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "DATABASE_URL": f"sqlite:///{tmp / 'bench.db'}",
        # The fake Slack here has no rate limits and the bench measures the bot, so the bot's
        # own budget of Slack calls must not be what limits it (1000: the highest setting).
        "SLACK_RATE_SCALE": "1000",
    }
    log = (tmp / "bot.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
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

    _wait(healthy, 30, "the bot to start")
    return process


def _command(port: int, slack: FakeSlack, text: str, command: str = "/poll") -> None:
    body = urlencode(
        payloads.slash_command(
            command,
            text,
            user_id=FACILITATOR,
            channel_id=CHANNEL,
            response_url=slack.response_url(f"bench-{time.time_ns()}"),
        )
    )
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/slack/events",
        data=body.encode(),
        headers=_signed_headers(body, None),
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        if answer.read():
            raise SystemExit(f"{command} {text} was refused")


def _poll_post(text: str) -> Callable[[Call], bool]:
    return lambda call: call.args.get("text") == text


def _launch_polls(port: int, slack: FakeSlack, db: Path) -> Polls:
    _command(port, slack, 'start "Benchmark session"', "/session")
    slack.wait_for("chat.postMessage", timeout=10)
    options = " ".join(f'"{o}"' for o in OPTIONS)
    polls = Polls()
    for name, flags in (("single", ""), ("multi", "--multi"), ("anonymous", "--anonymous")):
        _command(port, slack, f'"Benchmark {name}?" {options} --time 1h {flags}')
        call = slack.wait_for(
            "chat.postMessage", timeout=10, predicate=_poll_post(f"Poll: Benchmark {name}?")
        )[0]
        ts = call.response["ts"]
        polls.messages[name] = next(m for m in slack.messages(CHANNEL) if m["ts"] == ts)
    with sqlite3.connect(db) as connection:
        for poll_id, question in connection.execute("SELECT id, question FROM poll"):
            polls.ids[question.removeprefix("Benchmark ").removesuffix("?")] = poll_id
    return polls


# ---------------------------------------------------------------------------
# checking and reporting


def _cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far, from /proc (Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children_cpu_seconds() -> float:
    """CPU time of this process's children that have ended (the load generators)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def _latency_line(name: str, latencies: list[float]) -> str:
    ms = [v * 1000 for v in latencies]
    return (
        f"{name:<9} ack p50 {_percentile(ms, 0.50):6.1f} ms   p95 {_percentile(ms, 0.95):6.1f} ms"
        f"   p99 {_percentile(ms, 0.99):6.1f} ms   max {max(ms, default=0):6.1f} ms"
    )


def _expected(clicks: list[Click]) -> tuple[dict[str, int], dict[str, set[int]], Counter[int]]:
    """What the database must hold after these original clicks, in the order each voter sent."""
    single: dict[str, int] = {}
    multi: dict[str, set[int]] = defaultdict(set)
    anonymous: dict[str, int] = {}
    for click in clicks:
        if click.retry is not None:
            continue
        if click.poll == "single":
            single[click.voter] = click.option
        elif click.poll == "multi":
            multi[click.voter] ^= {click.option}
        else:
            anonymous.setdefault(click.voter, click.option)
    return single, {v: s for v, s in multi.items() if s}, Counter(anonymous.values())


def _compare(db: Path, polls: Polls, clicks: list[Click]) -> tuple[int, int, list[str]]:
    """Lost and duplicated votes: the database against what was sent."""
    single, multi, anonymous = _expected(clicks)
    with sqlite3.connect(db) as connection:
        rows = connection.execute("SELECT poll_id, user_id, option_index FROM poll_vote").fetchall()
        counters = dict(
            connection.execute(
                "SELECT option_index, anonymous_count FROM poll_option WHERE poll_id = ?",
                (polls.ids["anonymous"],),
            ).fetchall()
        )
        anonymous_voters = connection.execute(
            "SELECT count(*) FROM poll_voter WHERE poll_id = ?", (polls.ids["anonymous"],)
        ).fetchone()[0]
    stored: dict[int, dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))
    for poll_id, user, index in rows:
        stored[poll_id][user].add(index)
    expected_rows = {
        polls.ids["single"]: {v: {o} for v, o in single.items()},
        polls.ids["multi"]: multi,
    }
    lost = duplicated = 0
    notes: list[str] = []
    for poll_id, want in expected_rows.items():
        have = stored.get(poll_id, {})
        for voter in set(want) | set(have):
            missing = want.get(voter, set()) - have.get(voter, set())
            extra = have.get(voter, set()) - want.get(voter, set())
            lost += len(missing)
            duplicated += len(extra)
            if missing or extra:
                notes.append(f"poll {poll_id} {voter}: missing {missing} extra {extra}")
    for option in range(len(OPTIONS)):
        difference = counters.get(option, 0) - anonymous[option]
        lost += max(0, -difference)
        duplicated += max(0, difference)
    voters_expected = sum(anonymous.values())
    lost += max(0, voters_expected - anonymous_voters)
    duplicated += max(0, anonymous_voters - voters_expected)
    return lost, duplicated, notes


def _replaced_replies(db: Path) -> Counter[str]:
    """Per voter, confirmations the outbox did not send because a newer one for the same poll
    and person was queued behind them (both would have said the same)."""
    with sqlite3.connect(db) as connection:
        rows = connection.execute(
            "SELECT target FROM outbox WHERE failed = ? AND target LIKE 'user:%'", (REPLACED,)
        ).fetchall()
    return Counter(target.removeprefix("user:") for (target,) in rows)


def _outbox_unsent(db: Path) -> int:
    """Rows the bot's outbox has not sent yet (confirmations, tallies, results)."""
    with sqlite3.connect(db) as connection:
        return int(
            connection.execute("SELECT count(*) FROM outbox WHERE sent_at IS NULL").fetchone()[0]
        )


def _updates_report(
    slack: TimedFakeSlack, polls: Polls, last_ack: dict[str, float]
) -> tuple[list[str], bool]:
    lines: list[str] = []
    ok = True
    for name, message in polls.messages.items():
        times = [
            at
            for at, call in slack.arrivals
            if call.method == "chat.update" and call.args.get("ts") == message["ts"]
        ]
        gaps = [b - a for a, b in itertools.pairwise(times)]
        smallest = min(gaps, default=float("inf"))
        span = (times[-1] - times[0]) if len(times) > 1 else 0.0
        final_after = (times[-1] - last_ack[name]) if times and name in last_ack else float("nan")
        # "At most one per 2 s": no two updates of one poll reached Slack closer than that.
        spaced = smallest >= LIVE_INTERVAL
        ok &= spaced
        lines.append(
            f"{name:<9} chat.update {len(times):3d} calls over {span:5.1f} s, closest two "
            f"{smallest if gaps else 0:.2f} s apart, last one {final_after:.2f} s after the last "
            f"vote {'ok' if spaced else 'TOO CLOSE'}"
        )
    # Slack limits chat.update per workspace (about 50 a minute), whatever the message.
    poll_messages = {message["ts"] for message in polls.messages.values()}
    every = [
        at
        for at, call in slack.arrivals
        if call.method == "chat.update" and call.args.get("ts") in poll_messages
    ]
    gaps = [b - a for a, b in itertools.pairwise(every)]
    busiest = max((sum(1 for t in every if start <= t < start + 60) for start in every), default=0)
    shared = min(gaps, default=float("inf")) >= WORKSPACE_SPACING
    lines.append(
        f"all polls chat.update {len(every):3d} calls, closest two {min(gaps, default=0):.2f} s "
        f"apart, at most {busiest} in any minute {'ok' if shared else 'TOO CLOSE'}"
    )
    return lines, ok and shared


def main() -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--voters", type=int, default=300)
    parser.add_argument("--window", type=float, default=5.0, help="arrival window (s)")
    parser.add_argument("--burst", type=float, default=5.0, help="sustained burst length (s)")
    parser.add_argument("--connections", type=int, default=12)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    voters = [f"U0V{n:05d}" for n in range(args.voters)]

    slack = TimedFakeSlack()
    with tempfile.TemporaryDirectory(prefix="bench-polls-") as tmp_name, slack:
        tmp = Path(tmp_name)
        db = tmp / "bench.db"
        port = _free_port()
        bot = _start_bot(tmp, slack, port)
        try:
            polls = _launch_polls(port, slack, db)
            base_updates = len(slack.calls_to("chat.update"))

            # Phase 1: everyone votes once per poll within the window.
            arrival: list[Click] = []
            for voter in voters:
                for poll in ("single", "multi", "anonymous"):
                    retries = 3 if rng.random() < 0.1 else 0
                    at = rng.uniform(0, args.window)
                    option = rng.randrange(len(OPTIONS))
                    arrival += _clicks(
                        slack, port, polls, voter, poll, option, retries=retries, at=at
                    )
            arrival.sort(key=lambda c: c.at)
            started = time.time()
            cpu_before = _cpu_seconds(bot.pid)
            arrival_sent: list[Sent] = _run_phase(
                port,
                {"phase": "arrival", "clicks": arrival, "connections": args.connections},
            )
            arrival_time = time.time() - started
            arrival_cpu = _cpu_seconds(bot.pid) - cpu_before

            # Phase 2: as fast as the bot answers, each connection clicking for its voters.
            lanes: list[list[Click]] = [[] for _ in range(args.connections)]
            # Enough for 2,000 votes/s, so no lane runs dry during the burst.
            per_lane = int(2000 * args.burst / args.connections) + 1
            for lane_number, lane in enumerate(lanes):
                mine = voters[lane_number :: args.connections] or voters[:1]
                for n in range(per_lane):
                    voter = mine[n % len(mine)]
                    poll = "single" if n % 2 == 0 else "multi"
                    option = rng.randrange(len(OPTIONS))
                    lane += _clicks(slack, port, polls, voter, poll, option, retries=0)
            started = time.time()
            cpu_before = _cpu_seconds(bot.pid)
            harness_before = _cpu_seconds(os.getpid()), _children_cpu_seconds()
            burst_sent: list[list[Sent]] = _run_phase(
                port, {"phase": "burst", "lanes": lanes, "seconds": args.burst}
            )
            burst_time = time.time() - started
            burst_cpu = _cpu_seconds(bot.pid) - cpu_before
            fake_slack_cpu = _cpu_seconds(os.getpid()) - harness_before[0]
            load_cpu = _children_cpu_seconds() - harness_before[1]
            dry = sum(
                len(sents) == len(lane) for lane, sents in zip(lanes, burst_sent, strict=True)
            )
            if dry:
                print(f"warning: {dry} lanes ran out of clicks; raise per_lane")
            burst_done = [
                (click, sent)
                for lane, sents in zip(lanes, burst_sent, strict=True)
                for click, sent in zip(lane, sents, strict=False)
            ]

            sent_pairs = list(zip(arrival, arrival_sent, strict=True)) + burst_done
            acked = [click for click, sent in sent_pairs if sent.status == 200]
            failed = [sent.status for _, sent in sent_pairs if sent.status != 200]
            originals = [c for c in acked if c.retry is None]
            # Every original click gets one private reply (a confirmation, or "already voted"),
            # unless a newer confirmation for the same poll and person replaced it unsent.
            _wait(
                lambda: (
                    len(slack.private_replies()) + sum(_replaced_replies(db).values())
                    >= len(originals)
                ),
                120,
                "every confirmation",
            )
            replies_done = max(
                (at for at, call in slack.arrivals if slack.recipient(call) is not None),
                default=float("nan"),
            )
            time.sleep(LIVE_INTERVAL + 1)  # let the last live updates land
            unsent = _outbox_unsent(db)
            replaced = _replaced_replies(db)
            replies = Counter(str(slack.recipient(c)) for c in slack.private_replies())
            by_url = sum(1 for c in slack.private_replies() if c.method == "response_url")
            replies.update(replaced)
            wanted = Counter(c.voter for c in originals)
            extra_replies = sum(max(0, replies[v] - wanted[v]) for v in replies)
            missing_replies = sum(max(0, wanted[v] - replies[v]) for v in wanted)
            lost, duplicated, notes = _compare(db, polls, acked)
            last_ack: dict[str, float] = {}
            for click, sent in sent_pairs:
                last_ack[click.poll] = max(last_ack.get(click.poll, 0.0), sent.done_at)
            update_lines, spaced = _updates_report(slack, polls, last_ack)
        finally:
            bot.send_signal(signal.SIGTERM)
            bot.wait(timeout=30)

    arrival_originals = sum(1 for c in arrival if c.retry is None)
    burst_votes = len(burst_done)
    burst_rate = burst_votes / args.burst
    arrival_lat = [s.latency for s in arrival_sent]
    burst_lat = [s.latency for _, s in burst_done]
    all_lat = arrival_lat + burst_lat
    p99 = _percentile(all_lat, 0.99) * 1000
    print(
        f"listening-bot poll benchmark — {args.voters} voters, SQLite, "
        f"{args.connections} connections"
    )
    print(
        f"arrival   {arrival_originals} votes (+{len(arrival) - arrival_originals} redeliveries) "
        f"in {arrival_time:.1f} s: {arrival_originals / arrival_time:.0f} votes/s offered"
    )
    print(
        f"burst     {burst_votes} votes in {args.burst:.1f} s: {burst_rate:.0f} votes/s sustained"
        f" (phase wall time {burst_time:.1f} s)"
    )
    print(
        f"bot CPU   arrival {arrival_cpu:.1f} s ({100 * arrival_cpu / arrival_time:.0f}%), "
        f"burst {burst_cpu:.1f} s ({100 * burst_cpu / burst_time:.0f}%): "
        f"{1000 * burst_cpu / max(burst_votes, 1):.2f} ms of bot CPU per burst vote"
    )
    print(
        f"harness   during the burst the fake Slack used {fake_slack_cpu:.1f} s of CPU and the "
        f"load generator {load_cpu:.1f} s, on {os.cpu_count()} cores"
    )
    print(_latency_line("arrival", arrival_lat))
    print(_latency_line("burst", burst_lat))
    print(_latency_line("all", all_lat))
    print(f"non-200 answers: {len(failed)} {Counter(failed) if failed else ''}")
    print(f"lost votes: {lost}   duplicated votes: {duplicated}")
    last_vote = max((sent.done_at for _, sent in sent_pairs), default=float("nan"))
    print(
        f"private replies: {missing_replies} missing, {extra_replies} duplicated, "
        f"{sum(replaced.values())} replaced unsent by a newer one for the same poll and person; "
        f"the last one {replies_done - last_vote:.2f} s after the last vote; "
        f"{by_url} through the click's response_url"
    )
    print(f"outbox    {unsent} rows still unsent {LIVE_INTERVAL + 1:.0f} s after the last reply")
    for line in update_lines:
        print(line)
    total_updates = len(slack.calls_to("chat.update")) - base_updates
    print(f"chat.update total during the run: {total_updates}")
    for note in notes[:10]:
        print("  ", note)
    checks = {
        "0 lost": lost == 0 and missing_replies == 0 and not failed,
        "0 duplicated": duplicated == 0 and extra_replies == 0,
        f"p99 <= {TARGET_P99_MS:.0f} ms": p99 <= TARGET_P99_MS,
        f">= {TARGET_VOTES_PER_SECOND:.0f} votes/s": burst_rate >= TARGET_VOTES_PER_SECOND,
        "<= 1 chat.update per 2 s per poll, 1.5 s across polls": spaced,
    }
    for name, passed in checks.items():
        print(f"{'PASS' if passed else 'FAIL'}  {name}")
    return 0 if all(checks.values()) else 1


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


if __name__ == "__main__":
    threading.current_thread().name = "bench"
    sys.exit(main())
