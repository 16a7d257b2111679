"""Slack's rate limits as a budget the bot plans within, not an error it bumps into.

Slack limits each Web API method per app per workspace, by tier (Tier 2 20+/min, Tier 3 50+/min,
Tier 4 100+/min), and `chat.postMessage` to about one message per second per channel with short
bursts ("Rate limits", docs.slack.dev/apis/web-api/rate-limits, and each method's reference page).
Every call the bot makes takes a token from its method's bucket first, refilled at 90% of the
documented rate, so in normal operation Slack never has to answer 429. When it does anyway, that
method alone waits out the `Retry-After`. Waiting callers are served most urgent first.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

HEADROOM = 0.9
TIER_PER_MINUTE = {"tier1": 1, "tier2": 20, "tier3": 50, "tier4": 100}
# The methods the bot calls and their tiers, from each method's page in Slack's reference.
METHOD_TIERS = {
    "chat.update": "tier3",
    "chat.delete": "tier3",
    "chat.postEphemeral": "tier4",
    "chat.getPermalink": "tier4",
    "views.open": "tier4",
    "views.push": "tier4",
    "views.update": "tier4",
    "files.getUploadURLExternal": "tier4",
    "files.completeUploadExternal": "tier4",
    "users.info": "tier4",
    "conversations.info": "tier3",
    "auth.test": "tier4",
}
# chat.postMessage: about one a second in each channel ("Short bursts >1 allowed", no size given)
# and a workspace-wide limit of several hundred a minute, which the per-channel rule keeps us under.
POST_MESSAGE = "chat.postMessage"
POST_MESSAGE_PER_SECOND = 1.0
# Two, not three: Slack counts posts as they arrive, and the first posts of a burst can arrive
# later than the next one sent a pace after them (threads, network). With a burst as large as
# Slack's, only the 10% headroom on the rate (0.1 s) absorbed that; one post less absorbs 1.1 s.
POST_MESSAGE_BURST = 2
# Called by the replica that got the request (a form opens at once), not by the one sender: with
# several replicas each spends its share of these (see `Budgets.share`).
REQUEST_METHODS = frozenset({"views.open", "views.push", "views.update"})
BURST_SECONDS = 6  # a bucket holds this many seconds' worth of calls: Slack's "modest bursts"


@dataclass
class _Bucket:
    rate: float  # tokens per second
    capacity: float
    tokens: float
    stamp: float
    blocked_until: float = 0.0
    waiting: list[tuple[int, int]] = field(default_factory=list)  # (priority, ticket) heap

    def refill(self, now: float) -> None:
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def wait(self, now: float) -> float:
        """Seconds until a token is there (0: now)."""
        self.refill(now)
        if now < self.blocked_until:
            return self.blocked_until - now
        return 0.0 if self.tokens >= 1 - 1e-9 else (1 - self.tokens) / self.rate


class Budgets:
    """Token buckets per method (and per channel for chat.postMessage), shared by every caller.

    Args:
        scale: multiplies every rate (tests run Slack's limits faster; 1 is the real rate).
        monotonic: the clock the buckets refill by.
    """

    def __init__(self, *, scale: float = 1.0, monotonic: Callable[[], float] = time.monotonic):
        self.scale = scale
        self._monotonic = monotonic
        self._cond = threading.Condition()
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._tickets = itertools.count()
        self._local = threading.local()
        self.waited: dict[str, float] = {}  # seconds callers spent waiting, per method
        self.replicas = 1  # replicas sharing the workspace's budget for REQUEST_METHODS

    def share(self, replicas: int) -> None:
        """Spend 1/`replicas` of Slack's rate for the methods every replica calls itself."""
        replicas = max(1, replicas)
        with self._cond:
            if replicas == self.replicas:
                return
            factor = self.replicas / replicas
            self.replicas = replicas
            for (method, _channel), bucket in self._buckets.items():
                if method in REQUEST_METHODS:
                    bucket.refill(self._monotonic())
                    bucket.rate *= factor
                    bucket.capacity = max(1.0, bucket.capacity * factor)
                    bucket.tokens = min(bucket.tokens, bucket.capacity)

    def _bucket(self, method: str, channel: str | None) -> _Bucket | None:
        key = _key(method, channel)
        if method == POST_MESSAGE:
            rate, burst = POST_MESSAGE_PER_SECOND, float(POST_MESSAGE_BURST)
        elif method in METHOD_TIERS:
            rate = TIER_PER_MINUTE[METHOD_TIERS[method]] / 60
            burst = max(1.0, rate * BURST_SECONDS)
        else:
            return None  # not a method the bot plans for (response_url, Socket Mode)
        bucket = self._buckets.get(key)
        if bucket is None:
            rate *= HEADROOM * self.scale
            if method in REQUEST_METHODS:
                rate, burst = rate / self.replicas, max(1.0, burst / self.replicas)
            bucket = _Bucket(rate, burst, burst, self._monotonic())
            self._buckets[key] = bucket
        return bucket

    @contextmanager
    def priority(self, priority: int) -> Iterator[None]:
        """Calls made in this block (this thread) wait in line with this priority."""
        previous = getattr(self._local, "priority", None)
        self._local.priority = priority
        try:
            yield
        finally:
            self._local.priority = previous

    @contextmanager
    def prepaid(self, method: str, channel: str | None = None) -> Iterator[None]:
        """The first call of `method` in this block (this thread) was paid for already."""
        previous = getattr(self._local, "prepaid", None)
        self._local.prepaid = _key(method, channel)
        try:
            yield
        finally:
            self._local.prepaid = previous

    def spend(self, method: str, channel: str | None = None) -> None:
        """Pay for a call about to be made: a token prepaid for it, or the next one free."""
        if getattr(self._local, "prepaid", None) == _key(method, channel):
            self._local.prepaid = None
            return
        self.take(method, channel)

    def take(
        self, method: str, channel: str | None = None, *, timeout: float | None = None
    ) -> bool:
        """Wait for a token of `method` (most urgent callers first); False if `timeout` passed."""
        priority = getattr(self._local, "priority", None)
        ticket = (0 if priority is None else priority, next(self._tickets))
        deadline = None if timeout is None else self._monotonic() + timeout
        with self._cond:
            bucket = self._bucket(method, channel)
            if bucket is None:
                return True
            heapq.heappush(bucket.waiting, ticket)
            start = self._monotonic()
            try:
                while True:
                    now = self._monotonic()
                    wait = bucket.wait(now)
                    # Only the most urgent waiter takes a token; the others wait their turn.
                    first = bucket.waiting[0] == ticket
                    if wait == 0 and first:
                        bucket.tokens -= 1
                        self.waited[method] = self.waited.get(method, 0.0) + now - start
                        return True
                    if deadline is not None and now >= deadline:
                        return False
                    pause = wait if first else 0.5  # woken when the one ahead is served
                    if deadline is not None:
                        pause = min(pause, max(0.0, deadline - now))
                    self._cond.wait(timeout=max(0.001, pause))
            finally:
                bucket.waiting.remove(ticket)
                heapq.heapify(bucket.waiting)
                self._cond.notify_all()

    def poke(self) -> None:
        """Wake every waiter to look at the clock again (after a test moves it)."""
        with self._cond:
            self._cond.notify_all()

    def available(self, method: str, channel: str | None = None) -> float:
        """Seconds until `method` has a token (0: now), without taking it."""
        with self._cond:
            bucket = self._bucket(method, channel)
            return 0.0 if bucket is None else bucket.wait(self._monotonic())

    def rate_limited(self, method: str, retry_after: float, channel: str | None = None) -> None:
        """Slack answered 429: nobody calls `method` again before `retry_after` seconds."""
        with self._cond:
            bucket = self._bucket(method, channel)
            if bucket is not None:
                now = self._monotonic()
                bucket.blocked_until = max(bucket.blocked_until, now + retry_after)
                bucket.tokens = 0
            self._cond.notify_all()


def _key(method: str, channel: str | None) -> tuple[str, str]:
    """Which budget a call spends: chat.postMessage's is per channel, the others' per method
    (a prepaid chat.postEphemeral matches its call whatever channel the call names)."""
    return (method, channel or "") if method == POST_MESSAGE else (method, "")
