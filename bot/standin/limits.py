"""Slack's documented Web API rate limits, as the Slack stand-in enforces them.

The stand-in ships with the product (``listening-bot rehearse`` runs the real app against it)
and serves the tests. It uses this table to answer like real Slack does when an app goes too
fast: HTTP 429, a ``Retry-After`` header in whole seconds (at least 1) and
``{"ok": false, "error": "ratelimited"}``. The bot plans its own budgets (bot/slack/budgets.py)
and never reads this table: the stand-in plays Slack, the other side of the wire.

Sources (looked up for this table; cite them when changing a number):

[RL]   "Rate limits", https://docs.slack.dev/apis/web-api/rate-limits (formerly
       https://api.slack.com/apis/rate-limits): limits apply "per API method per app per
       workspace"; Tier 1 "1+ per minute ... A small amount of burst behavior is tolerated",
       Tier 2 "20+ per minute ... occasional bursts", Tier 3 "50+ per minute ... Sporadic
       bursts are welcome", Tier 4 "100+ per minute ... generous burst behavior"; Special
       tier: "chat.postMessage generally allows posting one message per second per channel,
       while also maintaining a workspace-wide limit"; "Posting messages: 1 per second. Short
       bursts >1 allowed"; rate limit windows are per minute; over a limit Slack answers
       HTTP 429 with a Retry-After header giving the seconds to wait.
[MTH]  The "Facts" box of each method's reference page, https://api.slack.com/methods/<name>
       (now https://docs.slack.dev/reference/methods/<name>): chat.postMessage and
       chat.getPermalink "Special rate limits apply"; views.open, views.push,
       files.getUploadURLExternal, files.completeUploadExternal "Tier 4";
       apps.connections.open "Tier 1"; conversations.info "Tier 3".
[JAVA] slackapi/java-slack-sdk, slack-api-client/src/main/java/com/slack/api/methods/
       MethodsRateLimits.java and MethodsRateLimitTier.java (Slack's own machine-readable
       copy of the method catalogue): the tier of every method below; auth.test and
       chat.getPermalink are special tiers that "allow hundreds of requests per minute"
       (600/min in that SDK); chat.postMessage: "1 message per second to a specific channel
       ... limiting posting to several hundred messages per minute [workspace-wide].
       Generous burst behavior is also granted."
[CMD]  "Slash commands" / "Handling user interaction", https://api.slack.com/interactivity/
       slash-commands and https://api.slack.com/interactivity/handling: with a response_url
       "you can respond to a user's command up to 5 times within 30 minutes of the user's
       invocation". Slack does not document the answer past that; the stand-in answers
       404 "used_url" (6th use) or 404 "expired_url" (after the 30 minutes).

Slack publishes no burst sizes. The ``burst`` numbers below are the stand-in's choices: a full
minute's quota for Tiers 2-4 and the special tiers (Slack counts per-minute windows), a small
burst for Tier 1, and a deliberately small one for chat.postMessage per channel so that a
sender relying on bursts notices.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Tier:
    """A token-bucket limit: `per_minute` sustained, up to `burst` calls at once."""

    per_minute: float
    burst: int


TIER_1 = "tier1"
TIER_2 = "tier2"
TIER_3 = "tier3"
TIER_4 = "tier4"
SPECIAL = "special"  # auth.test, chat.getPermalink: "hundreds of requests per minute" [JAVA]
POST_MESSAGE = "chat.postMessage"  # its workspace-wide special limit [RL][JAVA]

TIERS: dict[str, Tier] = {
    TIER_1: Tier(per_minute=1, burst=3),  # "1+ per minute", small burst tolerated [RL]
    TIER_2: Tier(per_minute=20, burst=20),  # "20+ per minute" [RL]
    TIER_3: Tier(per_minute=50, burst=50),  # "50+ per minute" [RL]
    TIER_4: Tier(per_minute=100, burst=100),  # "100+ per minute" [RL]
    SPECIAL: Tier(per_minute=600, burst=600),  # "hundreds per minute"; 600 as in [JAVA]
    POST_MESSAGE: Tier(per_minute=300, burst=300),  # "several hundred per minute" [JAVA]
}

# chat.postMessage's own rule, per (app/workspace token, channel): 1 per second, short
# bursts allowed [RL][JAVA]. The burst size is the stand-in's choice (Slack gives none).
POST_MESSAGE_PER_CHANNEL = Tier(per_minute=60, burst=3)

# Every method the stand-in serves, with its documented tier.
METHOD_TIER: dict[str, str] = {
    "chat.postMessage": POST_MESSAGE,  # special [MTH]; plus POST_MESSAGE_PER_CHANNEL
    "chat.update": TIER_3,  # [JAVA]
    "chat.delete": TIER_3,  # [JAVA]
    "chat.postEphemeral": TIER_4,  # [JAVA]
    "chat.scheduleMessage": TIER_3,  # [JAVA]
    "chat.getPermalink": SPECIAL,  # "Special rate limits apply" [MTH]; hundreds/min [JAVA]
    "auth.test": SPECIAL,  # special, hundreds/min [JAVA]
    "users.info": TIER_4,  # [JAVA]
    "users.list": TIER_2,  # [JAVA]
    "users.lookupByEmail": TIER_3,  # [JAVA]
    "users.profile.get": TIER_4,  # [JAVA]
    "conversations.info": TIER_3,  # [MTH][JAVA]
    "conversations.members": TIER_4,  # [JAVA]
    "conversations.open": TIER_3,  # [JAVA]
    # Tier 3 for internal and Marketplace apps; since 2025-05-29 new commercially
    # distributed non-Marketplace apps get 1/min on these two [RL]. This bot is internal.
    "conversations.history": TIER_3,  # [JAVA]
    "conversations.replies": TIER_3,  # [JAVA]
    "views.open": TIER_4,  # [MTH][JAVA]
    "views.push": TIER_4,  # [MTH][JAVA]
    "views.update": TIER_4,  # [JAVA]
    "views.publish": TIER_4,  # [JAVA]
    "files.getUploadURLExternal": TIER_4,  # [MTH][JAVA]
    "files.completeUploadExternal": TIER_4,  # [MTH][JAVA]
    "files.upload": TIER_2,  # deprecated upload [JAVA]
    "apps.connections.open": TIER_1,  # [MTH][JAVA]
}
# Methods the table does not list: "Most methods allow at least 20 requests per minute" [RL]
# (java-slack-sdk falls back to Tier 2 as well).
DEFAULT_TIER = TIER_2

RESPONSE_URL_USES = 5  # uses of one response_url ... [CMD]
RESPONSE_URL_WINDOW = 30 * 60.0  # ... within this many seconds of the invocation [CMD]


@dataclass(frozen=True)
class RateLimits:
    """How a FakeSlack enforces Slack's limits.

    `scale` compresses time: every rate is multiplied by it and every window divided by it.
    The default, 1.0, is Slack's own pace (what a rehearsal runs at); the tests pass a larger
    scale to stay fast. Bursts are not scaled. `clock` is a monotonic clock in seconds (inject
    one in unit tests). `enabled=False` (see UNLIMITED) turns enforcement off.
    """

    scale: float = 1.0
    clock: Callable[[], float] = time.monotonic
    enabled: bool = True

    def __post_init__(self) -> None:
        """Reject scales that would stop time or run it backwards."""
        if not math.isfinite(self.scale) or self.scale <= 0:
            raise ValueError(f"RateLimits.scale must be a positive number, not {self.scale!r}")

    def tier_of(self, method: str) -> Tier:
        """The limit of a Web API method (DEFAULT_TIER when the table does not list it)."""
        return TIERS[METHOD_TIER.get(method, DEFAULT_TIER)]

    def per_second(self, tier: Tier) -> float:
        """A tier's scaled refill rate, in calls per second of the clock."""
        return tier.per_minute * self.scale / 60.0

    @property
    def response_url_window(self) -> float:
        """Scaled seconds a response_url stays usable after it is issued."""
        return RESPONSE_URL_WINDOW / self.scale


UNLIMITED = RateLimits(enabled=False)


class TokenBucket:
    """A token bucket: up to `capacity` calls at once, refilled at `rate` calls per second.

    Not thread-safe on its own: FakeSlack uses it with its lock held.
    """

    _EPSILON = 1e-9  # float slack, so that waiting exactly the stated time is always enough

    def __init__(
        self, rate: float, capacity: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        """Start full; `clock` is a monotonic clock in seconds (inject one in unit tests)."""
        if rate <= 0 or capacity < 1:
            raise ValueError("a token bucket needs a positive rate and room for one call")
        self.rate = rate
        self.capacity = float(capacity)
        self._clock = clock
        self._tokens = self.capacity
        self._stamp = clock()

    def _refill(self) -> None:
        """Add the tokens earned since the last look, up to capacity."""
        now = self._clock()
        if now > self._stamp:
            self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now

    def wait(self) -> float:
        """Seconds until one call fits (0.0 when one fits now)."""
        self._refill()
        missing = 1.0 - self._tokens
        return 0.0 if missing <= self._EPSILON else missing / self.rate

    def take(self) -> None:
        """Spend one call (check wait() first: this never refuses)."""
        self._refill()
        self._tokens = max(0.0, self._tokens - 1.0)

    def try_take(self) -> float:
        """Spend one call and return 0.0 if one fits, else spend nothing and return the wait."""
        wait = self.wait()
        if wait == 0.0:
            self.take()
        return wait


class RateLimiter:
    """Buckets per (token, method), and per (token, channel) for chat.postMessage."""

    def __init__(self, limits: RateLimits) -> None:
        self.limits = limits
        self._buckets: dict[tuple[str, ...], TokenBucket] = {}

    def _bucket(self, key: tuple[str, ...], tier: Tier) -> TokenBucket:
        """The bucket for key, created full on first use."""
        bucket = self._buckets.get(key)
        if bucket is None:
            rate = self.limits.per_second(tier)
            bucket = self._buckets[key] = TokenBucket(rate, tier.burst, self.limits.clock)
        return bucket

    def admit(self, method: str, token: str, channel: str | None) -> float:
        """Spend one call of token's budget for method: 0.0 if admitted, else seconds to wait."""
        buckets = [self._bucket(("method", token, method), self.limits.tier_of(method))]
        if method == "chat.postMessage" and channel:
            buckets.append(self._bucket(("channel", token, channel), POST_MESSAGE_PER_CHANNEL))
        wait = max(bucket.wait() for bucket in buckets)
        if wait == 0.0:
            for bucket in buckets:
                bucket.take()
        return wait

    def clear(self) -> None:
        """Refill every budget (forget all buckets)."""
        self._buckets.clear()


def retry_after_seconds(wait: float) -> int:
    """Slack's Retry-After for a wait: whole seconds, rounded up, at least 1."""
    return max(1, math.ceil(wait - TokenBucket._EPSILON))
