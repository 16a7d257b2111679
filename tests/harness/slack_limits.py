"""The pace the tests run Slack's rate limits at (the table itself is bot/standin/limits.py).

The stand-in defaults to Slack's own pace; the tests speed it up by RATE_SCALE (x20 unless
LISTENING_BOT_TEST_RATE_SCALE says otherwise) to stay fast, and tell the bot the same scale
(SLACK_RATE_SCALE) so that it plans within the limits it meets.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping

from bot.standin import RateLimits

SCALE_ENV = "LISTENING_BOT_TEST_RATE_SCALE"
DEFAULT_SCALE = 20.0


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
# What every test's FakeSlack enforces unless the test asks for other limits.
RATE_LIMITS = RateLimits(scale=RATE_SCALE)
