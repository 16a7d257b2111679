"""Two replicas in one process on one PostgreSQL database: one leads, the other hands over.

Each replica is the real app with its own services, database pool and HTTP port, as two
`serve` processes would be; they share the fake Slack and the test's clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from sqlalchemy import text
from sqlmodel import select

from bot.clock import FixedClock
from bot.polls.closing import close_job_id
from bot.sessions.effects import SESSION_POST
from bot.slack.sender import INFLIGHT_GRACE
from bot.standin import FakeSlack
from storage import outbox
from storage.leader import APPLICATION
from storage.polls import Poll
from tests.e2e.conftest import CHANNEL, PARTICIPANT, RunningBot, bot_settings, running_bot
from tests.e2e.test_polls import POLL, _click_body, _is_poll_post
from tests.harness.waiting import eventually

pytestmark = pytest.mark.postgres


@pytest.fixture
def replicas(
    fake_slack: FakeSlack, migrated_postgres_url: str, clock: FixedClock
) -> Iterator[list[RunningBot]]:
    with ExitStack() as stack:
        yield [
            stack.enter_context(
                running_bot(
                    bot_settings(fake_slack, migrated_postgres_url, REPLICA_NAME=name),
                    fake_slack,
                    clock,
                )
            )
            for name in ("replica-a", "replica-b")
        ]


def _poll(bot: RunningBot) -> Poll:
    with bot.services.db.read() as db:
        return list(db.exec(select(Poll).order_by(Poll.id)).all())[-1]  # type: ignore[arg-type]


def _poll_message(bot: RunningBot) -> dict[str, Any]:
    [post] = bot.slack.wait_for("chat.postMessage", predicate=_is_poll_post)
    ts = post.response["ts"]
    eventually(lambda: _poll(bot).message_ts == ts, what="the poll's message ts stored")
    return next(m for m in bot.slack.messages(CHANNEL) if m["ts"] == ts)


def _leadership(bot: RunningBot) -> Any:
    leadership = bot.services.leadership
    assert leadership is not None  # PostgreSQL: replicas elect a leader
    return leadership


def test_a_poll_made_on_a_follower_is_run_by_the_leader_and_survives_its_stop(
    replicas: list[RunningBot],
) -> None:
    leader, follower = replicas
    assert _leadership(leader).is_leader
    assert not _leadership(follower).is_leader
    health = [requests.get(f"{bot.url}/healthz", timeout=5).json() for bot in replicas]
    assert [(h["replica"], h["leader"]) for h in health] == [
        ("replica-a", True),
        ("replica-b", False),
    ]
    assert follower.command("/session", 'start "Durham listening session"').text == ""
    leader.slack.wait_for("chat.postMessage")

    # Created through the follower: its deadline reaches the leader's scheduler, relayed by a
    # notice (the only way there: nothing polls for deadlines); the timeout is a safety net.
    assert follower.command("/poll", POLL + " --time 2m").text == ""
    message = _poll_message(follower)
    poll_id = _poll(follower).id
    assert poll_id is not None
    job = close_job_id(poll_id)
    eventually(lambda: job in leader.services.deadlines.pending(), timeout=10, what="the relay")
    assert job not in follower.services.deadlines.pending()

    # A vote through the follower reaches the tally, sent by the leader.
    assert follower.sender.action(_click_body(message, 0, PARTICIPANT)).status_code == 200
    eventually(
        lambda: any(
            "*1* voted" in str(c.args.get("blocks")) for c in leader.slack.calls_to("chat.update")
        ),
        what="the live tally",
    )

    # A refusal is the follower's own answer to its request (the sender is the leader's).
    late = "U0LATE"
    body = _click_body(message, 0, late)
    body["actions"][0]["value"] = "not a vote"
    assert follower.sender.action(body).status_code == 200
    refusal = follower.slack.wait_for_private_replies(late)[0]
    assert "poll" in str(refusal.args.get("text", "")).lower()

    # The leader stops: the follower leads and recovers the deadline (the timeout is a safety
    # net; bench/replicas.py prints how long a fail-over takes).
    leader.services.stop_background()
    eventually(
        lambda: _leadership(follower).is_leader and job in follower.services.deadlines.pending(),
        timeout=10,
        what="the follower leading, with the poll's deadline",
    )

    follower.clock.advance(timedelta(minutes=3))
    # The scheduler runs on real time: bring the job's real moment forward to match the clock.
    follower.services.deadlines.scheduler.modify_job(job, next_run_time=datetime.now(UTC))
    eventually(lambda: _poll(follower).closed_at is not None, timeout=5, what="the close")
    follower.slack.wait_for("files.completeUploadExternal")
    assert follower.services.outbox.wait_idle()
    finals = [
        c
        for c in follower.slack.calls_to("chat.update")
        if c.args.get("ts") == message["ts"] and "Closed at its deadline" in str(c.args)
    ]
    assert len(finals) == 1
    uploads = [c for c in follower.slack.calls_to("files.completeUploadExternal") if not c.failed]
    assert len(uploads) == 1


def _end_lock_connection(bot: RunningBot) -> int:
    """pg_terminate_backend on a replica's lock connection (its process keeps running)."""
    with bot.services.db.engine.connect() as connection:
        ended = connection.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND application_name = :name"
            ),
            {"name": f"{APPLICATION} {bot.services.replica}"},
        ).scalar_one()
    return int(ended)


def _posted_row(bot: RunningBot) -> outbox.OutboxRow:
    with bot.services.db.read() as db:
        [row] = [r for r in outbox.rows(db) if r.kind == SESSION_POST]
    return row


def test_a_post_in_flight_when_the_leader_loses_its_lock_is_not_sent_again(
    replicas: list[RunningBot],
) -> None:
    leader, follower = replicas
    assert _leadership(leader).is_leader
    # The leader's post of "started" reaches Slack, but Slack's answer is slow to come back.
    answer = leader.slack.hold_next("chat.postMessage")
    assert follower.command("/session", 'start "Durham listening session"').text == ""
    leader.slack.wait_for("chat.postMessage")
    row = _posted_row(leader)
    assert row.sent_at is None
    assert row.claimed_epoch == _leadership(leader).epoch == 1  # claimed with its epoch

    # Meanwhile its lock connection is ended: the follower leads, with a new epoch.
    assert _end_lock_connection(leader) == 1
    eventually(lambda: _leadership(follower).is_leader, timeout=10, what="the follower leading")
    assert _leadership(follower).epoch == 2
    # The new leader leaves the row to the send still in flight: it waits INFLIGHT_GRACE
    # from the claim before it would send it itself (set as it takes over).
    assert row.claimed_at is not None
    grace_over = row.claimed_at + timedelta(seconds=INFLIGHT_GRACE)
    eventually(lambda: _posted_row(follower).due_at == grace_over, what="the claim waited out")
    assert follower.services.outbox.wait_idle()

    # Slack answers the old leader, which records the post as sent: it is posted once.
    answer.set()
    eventually(lambda: _posted_row(follower).sent_at is not None, what="the post recorded")
    follower.clock.advance(timedelta(seconds=INFLIGHT_GRACE + 1))
    assert follower.services.outbox.wait_idle()
    posts = follower.slack.calls_to("chat.postMessage")
    assert len(posts) == 1, [c.args.get("text") for c in posts]
    assert len(follower.slack.messages(CHANNEL)) == 1
    assert not _leadership(leader).is_leader
