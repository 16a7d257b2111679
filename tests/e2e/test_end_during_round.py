"""`/session end` while a breakout round runs: everything it posts at once stays within limits.

Ending a session during a round posts, nearly together, the end in each room's thread, the
session-ended post, the summary in the session channel and in the summary channel, and the
report-backs' posts still going out: many chat.postMessage calls to one channel, threads
included. Slack allows about one a second per channel with short bursts; the fake answers 429
past that (per channel, thread replies counted with the channel), and the `fake_slack` fixture
fails the test on any 429: the bot must plan within the limits it knows.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest

from bot.slack.budgets import HEADROOM, POST_MESSAGE_BURST
from tests.e2e.conftest import CHANNEL, RunningBot
from tests.e2e.rooms_helpers import (
    check_in,
    form_values,
    members,
    open_report,
    outbox_sent,
    people,
    rooms_of,
    start_round,
    start_session,
    submit_report,
    thread,
)
from tests.harness.slack_limits import RATE_SCALE
from tests.harness.waiting import eventually

SUMMARY_CHANNEL = "C0SUMMARY"
ROOMS = 10


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"SUMMARY_CHANNEL": SUMMARY_CHANNEL}


def _summary_posts(bot: RunningBot, channel: str) -> list[dict[str, Any]]:
    return [
        c.args
        for c in bot.slack.calls_to("chat.postMessage")
        if c.args["channel"] == channel and "ummary of" in c.args["text"] and not c.failed
    ]


def _report(bot: RunningBot, reporter: str, number: int) -> None:
    """A long report-back (the summary then has long parts), through the form."""
    view = open_report(bot, reporter)
    values = form_values(
        f"Room {number}: " + "We want better buses and fairer rents. " * 60,
        key_points="\n".join(f"• Point {i}: " + "more evening services " * 6 for i in range(20)),
        quotes=[
            (f"Quote {q}: " + "The last bus is at 7pm. " * 30, "Member", "Durham", True)
            for q in range(5)
        ],
    )
    assert submit_report(bot, reporter, view, values).text == ""


@pytest.mark.parametrize("timed_out", [False, True], ids=["round-running", "time-just-up"])
def test_ending_a_session_during_a_round_is_never_answered_429(
    bot: RunningBot, timed_out: bool
) -> None:
    session = start_session(bot)
    for user in people(ROOMS * 3):
        check_in(bot, user, place="Durham")
    breakout_round = start_round(bot, f"{ROOMS} --time 15m --seed 4", rooms=ROOMS)
    assert breakout_round.id is not None
    by_room = members(bot, breakout_round.id)
    for number in range(1, ROOMS // 2 + 1):
        _report(bot, sorted(by_room[number])[0], number)
    outbox_sent(bot)
    # The channel quiet long enough for its whole burst: the end's posts start with one.
    time.sleep(POST_MESSAGE_BURST / (HEADROOM * RATE_SCALE) + 0.1)
    for number in range(ROOMS // 2 + 1, ROOMS + 1):  # still going out when the session ends
        _report(bot, sorted(by_room[number])[0], number)
    if timed_out:
        bot.clock.advance(timedelta(minutes=15))
        bot.services.rooms.expire(breakout_round.id)  # time's up in every room's thread
    assert bot.command("/session", "end").text == ""
    ended = bot.services.sessions.active_session(CHANNEL)
    assert ended is None or ended.id != session.id

    eventually(lambda: len(_summary_posts(bot, SUMMARY_CHANNEL)) >= 1, what="summary posted")
    outbox_sent(bot, timeout=30)
    assert _summary_posts(bot, CHANNEL)
    for room in rooms_of(bot, breakout_round.id):
        assert room.message_ts is not None
        texts = [m["text"] for m in thread(bot, room.message_ts)]
        assert len(texts) >= 2, f"room {room.number}'s thread: {texts}"  # report, then the end
    assert bot.slack.rate_limited() == 0, [
        (c.method, c.args.get("channel"), c.args.get("thread_ts"))
        for c in bot.slack.calls
        if c.rate_limited
    ]
