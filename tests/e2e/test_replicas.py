"""Three `serve` processes on one PostgreSQL database: one leads, the others hand over.

Real processes, real ports, the fake Slack: a replica is found leading through `leader_epoch`
and killed with SIGKILL, and the polls it was running still close once, in time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e import replicas_helpers
from tests.e2e.replicas_helpers import Cluster, finals, settle, start_poll, wait_final
from tests.harness.waiting import eventually

pytestmark = pytest.mark.postgres

cluster = replicas_helpers.cluster  # the fixture: three `serve` replicas on one database


def test_a_poll_made_on_a_follower_closes_in_time(cluster: Cluster) -> None:
    leader = cluster.leader()
    follower = next(r for r in cluster.replicas if r is not leader)
    ts = start_poll(cluster, follower, 10)
    closes_at = cluster.poll_closes_at()
    seen = wait_final(cluster.slack, ts, timeout=20)
    # In time: at its deadline, give or take a loaded machine (not at some later recovery).
    assert seen - closes_at <= timedelta(seconds=5), seen - closes_at
    assert len(finals(cluster.slack, ts)) == 1


def test_sigkill_of_the_leader_mid_poll_hands_over_and_posts_once(cluster: Cluster) -> None:
    leader = cluster.leader()
    before = cluster.epoch()
    assert before is not None
    follower = next(r for r in cluster.replicas if r is not leader)
    ts = start_poll(cluster, follower, 10)
    closes_at = cluster.poll_closes_at()

    # The deadline falls during the fail-over: kill the leader 2 s before it.
    eventually(
        lambda: datetime.now(UTC) >= closes_at - timedelta(seconds=2),
        timeout=15,
        what="2 s before the deadline",
    )
    leader.process.process.kill()
    leader.process.process.wait(timeout=10)

    def new_epoch() -> bool:
        now = cluster.epoch()
        return now is not None and now[0] > before[0] and now[1] != leader.name

    # A safety net, not a measure: how soon a follower takes over is bench/replicas.py's.
    eventually(new_epoch, timeout=10, what="a new leader")

    # The new leader runs the deadline that fell during the fail-over (its recovery on taking
    # over), not some later restart: the final results follow the hand-over.
    seen = wait_final(cluster.slack, ts, timeout=20)
    assert seen - closes_at <= timedelta(seconds=2 + 10 + 5), seen - closes_at
    cluster.slack.wait_for("files.completeUploadExternal", timeout=10)
    settle(3)
    assert len(finals(cluster.slack, ts)) == 1
    uploads = [c for c in cluster.slack.calls_to("files.completeUploadExternal") if not c.failed]
    assert len(uploads) == 1
