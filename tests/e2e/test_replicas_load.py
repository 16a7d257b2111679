"""Three `serve` replicas on one PostgreSQL database under load, and losing one of them.

Real processes on real ports, the fake Slack, clicks spread round-robin over the replicas: a
burst of 300 voters is counted in full, the live tallies keep to their pace for the whole
workspace (not per process), every voter is told once; a leader whose lock connection
is ended hands over without doubling anything; a replica killed mid-burst loses no vote it
acknowledged.
"""

from __future__ import annotations

import itertools
import re
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.polls.effects import LIVE_UPDATE_INTERVAL, LIVE_UPDATE_SPACING
from bot.standin import FakeSlack
from bot.standin.state import Call
from tests.e2e import replicas_helpers
from tests.e2e.conftest import all_text
from tests.e2e.replicas_helpers import (
    SECOND_POLL,
    Click,
    Clicker,
    Cluster,
    Receipts,
    finals,
    launch_poll,
    poll_message,
    settle,
    start_session,
    wait_final,
)
from tests.e2e.test_polls import POLL
from tests.harness.waiting import eventually

pytestmark = pytest.mark.postgres

cluster = replicas_helpers.cluster  # the fixture: three `serve` replicas on one database

# The fake Slack notes a call's receipt on the thread that serves it, after it is stored: two
# calls sent exactly `interval` apart can be noted a few milliseconds closer than that.
RECEIPT_JITTER = 0.02


def _is_live(call: Call, ts: str) -> bool:
    return call.args.get("ts") == ts and str(call.args.get("text", "")).startswith("Poll: ")


def _gaps(times: list[float]) -> list[float]:
    ordered = sorted(times)
    return [round(b - a, 3) for a, b in itertools.pairwise(ordered)]


def _final_voters(slack: FakeSlack, ts: str) -> int:
    [final] = finals(slack, ts)
    found = re.search(r"· (\d+) voted", all_text(final.args.get("blocks", [])))
    assert found, final.args
    return int(found.group(1))


def _wait_shown(slack: FakeSlack, ts: str, voters: int) -> None:
    """Wait until the poll's live tally shows `voters` votes."""

    def shown() -> bool:
        return f"*{voters}* voted" in all_text(poll_message(slack, ts)["blocks"])

    eventually(shown, timeout=10, what=f"the live tally to show {voters} votes")


def _burst(clicker: Clicker, votes: list[tuple[dict[str, Any], int, str]]) -> list[Click]:
    with ThreadPoolExecutor(max_workers=12) as pool:
        return list(pool.map(lambda vote: clicker.vote(*vote), votes))


def test_a_300_voter_burst_is_counted_within_the_update_budget_and_each_voter_told_once(
    cluster: Cluster,
) -> None:
    slack = cluster.slack
    receipts = Receipts(slack)
    first, second, _ = cluster.replicas
    start_session(cluster, first)
    crowd = launch_poll(cluster, first, POLL, 120)
    other = launch_poll(cluster, second, SECOND_POLL, 120)
    voters = [f"U0CROWD{n:03d}" for n in range(300)]
    others = [f"U0OTHER{n:03d}" for n in range(60)]
    votes = [(crowd, n % 3, user) for n, user in enumerate(voters)]
    for n, user in enumerate(others):  # the second poll's votes come in amid the first's
        votes.insert(5 * n + 2, (other, n % 2, user))

    # Two halves, the second sent once the live tallies show the first: each poll's tally is
    # then edited at least twice whatever the machine's speed, so the pacing below is measured.
    half = len(votes) // 2
    clicker = Clicker(cluster)
    clicks = _burst(clicker, votes[:half])
    for message in (crowd, other):
        shown = sum(1 for vote in votes[:half] if vote[0] is message)
        _wait_shown(slack, str(message["ts"]), shown)
    clicks += _burst(clicker, votes[half:])
    clicker.close()
    assert [c for c in clicks if c.status != 200] == []

    # Every vote counted, by whichever replica took it.
    assert cluster.vote_rows(crowd["ts"]) == 300
    assert cluster.voters(crowd["ts"]) == set(voters)
    assert cluster.voters(other["ts"]) == set(others)

    # Every voter told: each click's confirmation reaches the fake Slack (once: checked below).
    # How fast is measured, not asserted here: bench/replicas.py prints the confirm p95.
    eventually(
        lambda: all(receipts.first_reply(c.path) is not None for c in clicks),
        timeout=30,
        what="every voter's confirmation",
    )

    # The live tallies catch up with every vote, then both polls close.
    for message, count in ((crowd, 300), (other, 60)):
        _wait_shown(slack, str(message["ts"]), count)
    cluster.command(second, "/poll", "close")  # the newest open poll first
    wait_final(slack, other["ts"], timeout=10)
    cluster.command(first, "/poll", "close")
    wait_final(slack, crowd["ts"], timeout=10)
    assert _final_voters(slack, crowd["ts"]) == 300
    assert _final_voters(slack, other["ts"]) == 60
    told = {c.user: len(slack.private_replies(c.user)) for c in clicks}
    assert {user: n for user, n in told.items() if n != 1} == {}  # each told once

    # Pacing for the workspace, however many replicas send: one poll's live tally at most
    # every LIVE_UPDATE_INTERVAL, all polls' live tallies together one every LIVE_UPDATE_SPACING.
    updates = receipts.of("chat.update")
    receipts.stop()
    live = {
        message["ts"]: [t for t, call in updates if _is_live(call, message["ts"])]
        for message in (crowd, other)
    }
    for ts, times in live.items():
        assert len(times) >= 2, (ts, times)
        gaps = _gaps(times)
        assert min(gaps) >= LIVE_UPDATE_INTERVAL - RECEIPT_JITTER, (ts, gaps)
    together = _gaps([t for times in live.values() for t in times])
    assert min(together) >= LIVE_UPDATE_SPACING - RECEIPT_JITTER, together
    assert slack.rate_limited() == 0


def test_ending_the_leaders_lock_connection_hands_over_and_posts_once(cluster: Cluster) -> None:
    slack = cluster.slack
    leader = cluster.leader()
    before = cluster.epoch()
    assert before is not None
    # The leader's lock connection: named for it, holding the advisory lock.
    [lock] = cluster.lock_backends(leader)
    assert all(cluster.lock_backends(r) == [] for r in cluster.replicas if r is not leader)

    follower = next(r for r in cluster.replicas if r is not leader)
    start_session(cluster, follower)
    # Long enough that the hand-over and the last votes come well before the deadline, however
    # slow the machine is to get this far (checked below, before the lock connection ends).
    message = launch_poll(cluster, follower, POLL, 40)
    closes_at = cluster.poll_closes_at()
    clicker = Clicker(cluster)
    voters = [f"U0FENCE{n}" for n in range(6)]
    assert {clicker.vote(message, 0, user).status for user in voters[:3]} == {200}

    assert datetime.now(UTC) < closes_at - timedelta(seconds=20)
    cluster.terminate_backend(lock)

    def new_epoch() -> bool:
        now = cluster.epoch()
        return now is not None and now[0] > before[0] and now[1] != leader.name

    # A safety net, not a measure: bench/replicas.py prints how soon a follower takes over.
    eventually(new_epoch, timeout=10, what="another replica leading")
    assert leader.alive(), leader.process.output()

    assert {clicker.vote(message, 1, user).status for user in voters[3:]} == {200}
    assert datetime.now(UTC) < closes_at  # the last votes came in while the poll was open
    seen = wait_final(slack, message["ts"], timeout=60)
    assert seen - closes_at <= timedelta(seconds=5), seen - closes_at
    slack.wait_for("files.completeUploadExternal", timeout=10)
    settle(3)
    assert len(finals(slack, message["ts"])) == 1
    assert _final_voters(slack, message["ts"]) == 6
    assert [len(slack.private_replies(user)) for user in voters] == [1] * 6
    uploads = [c for c in slack.calls_to("files.completeUploadExternal") if not c.failed]
    assert len(uploads) == 1
    # The old leader runs on (a follower now, or leading again later: either is fine).
    assert leader.alive(), leader.process.output()
    assert leader.healthz()["ok"] is True
    clicker.close()


def test_a_replica_killed_mid_burst_loses_no_acknowledged_vote(cluster: Cluster) -> None:
    slack = cluster.slack
    victim = cluster.leader()
    before = cluster.epoch()
    assert before is not None
    survivors = [r for r in cluster.replicas if r is not victim]
    start_session(cluster, survivors[0])
    message = launch_poll(cluster, survivors[0], POLL, 120)
    voters = [f"U0KILL{n:03d}" for n in range(240)]
    clicker = Clicker(cluster)

    def acked_by_victim() -> int:
        return sum(1 for c in list(clicker.clicks) if c.replica == victim.name and c.status == 200)

    with ThreadPoolExecutor(max_workers=12) as pool:
        futures = [pool.submit(clicker.vote, message, n % 3, user) for n, user in enumerate(voters)]
        eventually(lambda: acked_by_victim() >= 25, timeout=30, what="votes through the victim")
        victim.process.process.kill()  # while clicks to it are in flight
        killed = time.monotonic()
        clicks = [future.result(timeout=30) for future in futures]
    victim.process.process.wait(timeout=10)
    clicker.close()

    acked = [c for c in clicks if c.status == 200]
    lost = [c for c in clicks if c.status is None]
    assert [c for c in clicks if c.status not in (200, None)] == []
    assert {c.replica for c in lost} <= {victim.name}, lost
    after = [c for c in acked if c.replica != victim.name and c.sent > killed]
    assert len(after) >= 20, "the surviving replicas took few clicks after the kill"

    # Every acknowledged vote is stored (a refused connection's may or may not be).
    stored = cluster.voters(message["ts"])
    missing = sorted({c.user for c in acked} - stored)
    assert missing == [], f"{len(missing)} acknowledged votes lost: {missing[:10]}"
    assert stored <= set(voters)

    # The survivors lead and keep counting: a new leader, more votes, the results.
    def new_epoch() -> bool:
        now = cluster.epoch()
        return now is not None and now[0] > before[0] and now[1] != victim.name

    eventually(new_epoch, timeout=10, what="a surviving replica leading")
    late = [f"U0LATE{n:02d}" for n in range(10)]
    clicker = Clicker(cluster)
    for n, user in enumerate(late):
        assert clicker.vote(message, 0, user, through=survivors[n % 2]).status == 200
    clicker.close()
    stored = cluster.voters(message["ts"])
    assert set(late) <= stored
    cluster.command(survivors[1], "/poll", "close")
    wait_final(slack, message["ts"], timeout=15)
    settle(2)
    assert len(finals(slack, message["ts"])) == 1
    assert _final_voters(slack, message["ts"]) == len(stored)
