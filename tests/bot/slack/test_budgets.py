"""Budgets: token buckets at 90% of Slack's documented rates, served most urgent first."""

from __future__ import annotations

import threading

import pytest

from bot.slack.budgets import Budgets
from bot.standin.limits import RateLimiter, RateLimits
from tests.harness.waiting import eventually


class Clock:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_a_tier_3_method_allows_a_modest_burst_then_paces_at_90_percent(clock: Clock) -> None:
    budgets = Budgets(monotonic=clock)
    burst = sum(budgets.take("chat.update", timeout=0) for _ in range(20))
    assert burst == 5  # six seconds' worth of 50 a minute
    assert budgets.available("chat.update") == pytest.approx(60 / 45)
    clock.now += 60 / 45
    assert budgets.take("chat.update", timeout=0)
    assert not budgets.take("chat.update", timeout=0)


def test_post_message_is_paced_per_channel(clock: Clock) -> None:
    budgets = Budgets(monotonic=clock)
    first = [budgets.take("chat.postMessage", "C1", timeout=0) for _ in range(3)]
    assert first == [True, True, False]  # a burst of two: one below the stand-in's three
    assert budgets.take("chat.postMessage", "C2", timeout=0)  # another channel has its own
    assert budgets.available("chat.postMessage", "C1") == pytest.approx(1 / 0.9)


def test_the_scale_speeds_every_rate_up(clock: Clock) -> None:
    budgets = Budgets(scale=20, monotonic=clock)
    while budgets.take("chat.postEphemeral", timeout=0):
        pass
    assert budgets.available("chat.postEphemeral") == pytest.approx(60 / (100 * 0.9 * 20))


def test_a_429_stops_that_method_only_until_retry_after(clock: Clock) -> None:
    budgets = Budgets(monotonic=clock)
    budgets.rate_limited("chat.update", 30)
    assert not budgets.take("chat.update", timeout=0)
    assert budgets.take("chat.postEphemeral", timeout=0)
    clock.now += 30
    assert budgets.available("chat.update") == 0
    assert budgets.take("chat.update", timeout=0)


def test_methods_the_bot_does_not_plan_for_are_not_limited(clock: Clock) -> None:
    budgets = Budgets(monotonic=clock)
    assert all(budgets.take("apps.connections.open", timeout=0) for _ in range(100))


def test_the_most_urgent_waiter_is_served_first(clock: Clock) -> None:
    budgets = Budgets(monotonic=clock)
    while budgets.take("chat.postEphemeral", timeout=0):
        pass
    served: list[str] = []

    def wait(name: str, priority: int) -> None:
        with budgets.priority(priority):
            budgets.take("chat.postEphemeral")
        served.append(name)

    bulk = threading.Thread(target=wait, args=("bulk notice", 3))
    bulk.start()
    eventually(lambda: len(budgets._buckets[("chat.postEphemeral", "")].waiting) == 1)
    reply = threading.Thread(target=wait, args=("confirmation", 0))
    reply.start()
    eventually(lambda: len(budgets._buckets[("chat.postEphemeral", "")].waiting) == 2)
    clock.now += 60 / 90  # one token
    budgets.poke()
    eventually(lambda: served == ["confirmation"])
    clock.now += 60 / 90
    budgets.poke()
    eventually(lambda: served == ["confirmation", "bulk notice"])
    bulk.join(timeout=5)
    reply.join(timeout=5)


def test_a_prepaid_call_costs_one_token_whatever_channel_it_names(clock: Clock) -> None:
    budgets = Budgets(monotonic=clock)
    while budgets.take("chat.postEphemeral", timeout=0):
        pass  # the burst spent
    clock.now += 60 / 90  # one token's worth (Tier 4 at 90%)
    # The sender takes the token without knowing the channel; the call it pays for names one.
    assert budgets.take("chat.postEphemeral", timeout=0)
    clock.now += 60 / 90
    with budgets.prepaid("chat.postEphemeral"):
        budgets.spend("chat.postEphemeral", "C0MEETING")  # paid already: takes nothing
    # The token refilled meanwhile is still there (room notices once went at half their budget).
    assert budgets.take("chat.postEphemeral", timeout=0)


def test_replicas_share_the_budget_of_the_methods_each_calls_itself(clock: Clock) -> None:
    budgets = Budgets(monotonic=clock)
    budgets.take("views.open", timeout=0)  # the bucket exists before the count is known
    budgets.share(3)
    while budgets.take("views.open", timeout=0):
        pass
    # A third of Tier 4's 100 a minute at 90% (0.5 a second), and a third of its burst:
    # together the three stay within Slack's.
    clock.now += 1.9
    assert sum(budgets.take("views.open", timeout=0) for _ in range(5)) == 1
    while budgets.take("chat.update", timeout=0):
        pass
    # The sender's methods are the leader's alone: its budget stays whole.
    assert budgets.available("chat.update") == pytest.approx(60 / 45)
    budgets.share(1)
    clock.now += 1.9
    assert sum(budgets.take("views.open", timeout=0) for _ in range(5)) == 3  # 1.5 a second


@pytest.mark.parametrize("scale", [1.0, 20.0])
def test_a_burst_arriving_late_stays_within_the_stand_ins_per_channel_limit(
    clock: Clock, scale: float
) -> None:
    """Slack counts posts as they arrive. When the first posts of a burst reach it half a
    second (at Slack's pace) after they were sent, they arrive with the next ones: the plan must
    still fit the stand-in's per-channel limit (1 a second, bursts of 3), so no 429."""
    budgets = Budgets(scale=scale, monotonic=clock)
    sent: list[float] = []
    for _ in range(8):  # as fast as the budget allows, in one channel
        clock.now += budgets.available("chat.postMessage", "C1")
        assert budgets.take("chat.postMessage", "C1", timeout=0)
        sent.append(clock.now)
    late = 0.5 / scale
    arrivals = sorted(t + late if t == sent[0] else t for t in sent)
    slack = RateLimiter(RateLimits(scale=scale, clock=clock))
    refused = []
    for arrival in arrivals:
        clock.now = arrival
        if slack.admit("chat.postMessage", "xoxb-test", "C1"):
            refused.append(arrival - sent[0])
    assert refused == []
