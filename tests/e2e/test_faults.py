"""The outbox across process deaths: `listening-bot serve` stopped (SIGTERM) or killed (SIGKILL)
with posts still owed, then started again on the same database."""

from __future__ import annotations

import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bot.polls.effects import POLL_VOTED
from bot.standin import FakeSlack
from tests.e2e.test_polls_restart import Served, _click, _poll_message
from tests.harness.waiting import eventually

VOTERS = [f"U0CROWD{n:03d}" for n in range(100)]


def _confirmations(slack: FakeSlack) -> Counter[str]:
    """How many vote confirmations each person got."""
    return Counter(
        str(call.args["user"])
        for call in slack.calls_to("chat.postEphemeral")
        if not call.failed and re.match(r":white_check_mark: You voted:", call.args["text"])
    )


def _unsent(served: Served, kind: str | None = None) -> int:
    """Outbox rows still to send (of one kind, or all)."""
    rows = served.rows(
        "SELECT count(*) FROM outbox WHERE sent_at IS NULL AND (:kind IS NULL OR kind = :kind)",
        kind=kind,
    )
    return int(rows[0][0])


def _session_with_poll(served: Served, question: str) -> dict[str, Any]:
    """Start a session and an hour-long Yes/No poll; its message, once its ts is stored."""
    assert served.command("/session", 'start "Fault session"').status_code == 200
    served.slack.wait_for("chat.postMessage", timeout=10)
    assert served.command("/poll", f'"{question}" "Yes" "No" --time 1h').text == ""
    message = _poll_message(served.slack, question)
    eventually(
        lambda: served.rows("SELECT message_ts FROM poll") == [(message["ts"],)],
        what="the poll's message stored",
    )
    return message


def test_sigterm_with_confirmations_queued_then_a_start_sends_each_exactly_once(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    slack = fake_slack
    served = Served(tmp_path, slack)
    first = served.start()
    try:
        message = _session_with_poll(served, "Agree?")
        # Slack answers each private message slowly, so confirmations queue up in the outbox.
        slack.slow("chat.postEphemeral", 1.0)
        with ThreadPoolExecutor(max_workers=10) as pool:
            answers = list(
                pool.map(lambda user: served.sender.action(_click(message, 0, user)), VOTERS)
            )
        assert all(answer.status_code == 200 for answer in answers)
        assert served.rows("SELECT count(*) FROM poll_vote")[0][0] == len(VOTERS)
        assert first.stop() == 0  # SIGTERM: the sender drains what it can for a few seconds
    finally:
        first.stop()
    before = _confirmations(slack)
    assert sum(before.values()) < len(VOTERS), "everything was sent before the stop"
    assert max(before.values()) == 1
    assert _unsent(served, kind=POLL_VOTED) == len(VOTERS) - sum(before.values())

    slack.slow("chat.postEphemeral", 0)
    second = served.start()
    try:
        eventually(lambda: _unsent(served) == 0, timeout=30, what="the outbox to drain")
        eventually(lambda: len(_confirmations(slack)) == len(VOTERS), timeout=10)
    finally:
        second.stop()
    after = _confirmations(slack)
    assert set(after) == set(VOTERS)
    assert set(after.values()) == {1}, "someone got two confirmations, or none"


def test_sigkill_after_a_close_is_committed_posts_the_results_and_chart_once(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    slack = fake_slack
    served = Served(tmp_path, slack)
    first = served.start()
    try:
        message = _session_with_poll(served, "Kill?")
        assert served.sender.action(_click(message, 1, "U0VOTER01")).status_code == 200
        # Slack is failing edits when the poll closes: the close is committed, its
        # announcement is owed when the process dies.
        slack.fail_next("chat.update", status=500, times=10_000)
        assert served.command("/poll", "close").status_code == 200
        eventually(
            lambda: served.rows("SELECT closed_at FROM poll")[0][0] is not None,
            what="the close committed",
        )
        [(key, sent_at)] = served.rows("SELECT key, sent_at FROM outbox WHERE kind = 'poll.final'")
        assert sent_at is None
        first.process.kill()  # SIGKILL: no shutdown code runs
        first.process.wait(timeout=10)
    finally:
        first.stop()
    assert slack.calls_to("files.completeUploadExternal") == []

    slack.clear_failures("chat.update")
    second = served.start()
    try:
        slack.wait_for("files.completeUploadExternal", timeout=20)
        eventually(lambda: _unsent(served) == 0, timeout=20, what="the outbox to drain")
    finally:
        second.stop()
    finals = [
        call
        for call in slack.calls_to("chat.update")
        if not call.failed and str(call.args.get("text")).startswith("Poll closed")
    ]
    assert len(finals) == 1
    assert finals[0].args["ts"] == message["ts"]
    assert len(slack.calls_to("files.completeUploadExternal")) == 1
    assert served.rows("SELECT announced_at IS NOT NULL FROM poll") == [(1,)]
    assert key == "poll:1:final"
