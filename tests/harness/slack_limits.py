"""Slack's documented Web API rate limits, as the fake Slack in tests/harness enforces them.

Test harness only: the product must never import this module (its own budgets come from its
own configuration); the fake uses it to answer like real Slack does when an app goes too fast:
HTTP 429, a ``Retry-After`` header in whole seconds (at least 1) and
``{"ok": false, "error": "ratelimited"}``.

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
       invocation". Slack does not document the answer past that; the fake answers 404
       "used_url" (6th use) or 404 "expired_url" (after the 30 minutes).

Slack publishes no burst sizes. The ``burst`` numbers below are this fake's choices: a full
minute's quota for Tiers 2-4 and the special tiers (Slack counts per-minute windows), a small
burst for Tier 1, and a deliberately small one for chat.postMessage per channel so that a
sender relying on bursts notices.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

SCALE_ENV = "LISTENING_BOT_TEST_RATE_SCALE"
DEFAULT_SCALE = 20.0


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
# bursts allowed [RL][JAVA]. The burst size is this fake's choice (Slack gives none).
POST_MESSAGE_PER_CHANNEL = Tier(per_minute=60, burst=3)

# Every method the fake serves, with its documented tier.
METHOD_TIER: dict[str, str] = {
    "chat.postMessage": POST_MESSAGE,  # special [MTH]; plus POST_MESSAGE_PER_CHANNEL
    "chat.update": TIER_3,  # [JAVA]
    "chat.delete": TIER_3,  # [JAVA]
    "chat.postEphemeral": TIER_4,  # [JAVA]
    "chat.scheduleMessage": TIER_3,  # [JAVA]
    "chat.getPermalink": SPECIAL,  # "Special rate limits apply" [MTH]; hundreds/min [JAVA]
    "auth.test": SPECIAL,  # special, hundreds/min [JAVA]
    "users.info": TIER_4,  # [JAVA]
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


def read_rate_scale(environ: Mapping[str, str] = os.environ) -> float:
    """The speed-up in LISTENING_BOT_TEST_RATE_SCALE (default 20): rates x it, windows / it."""
    raw = environ.get(SCALE_ENV, "").strip()
    if not raw:
        return DEFAULT_SCALE
    try:
        scale = float(raw)
    except ValueError:
        raise ValueError(f"{SCALE_ENV}={raw!r} is not a number") from None
    if not math.isfinite(scale) or scale <= 0:
        raise ValueError(f"{SCALE_ENV}={raw!r} must be a positive number")
    return scale


RATE_SCALE = read_rate_scale()


@dataclass(frozen=True)
class RateLimits:
    """How a FakeSlack enforces Slack's limits.

    `scale` compresses time: every rate is multiplied by it and every window divided by it
    (x20 keeps ordinary tests fast; a bench or an e2e test can use x1 for Slack's own pace).
    Bursts are not scaled. `clock` is a monotonic clock in seconds (inject one in unit tests).
    `enabled=False` (see UNLIMITED) turns enforcement off.
    """

    scale: float = RATE_SCALE
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
