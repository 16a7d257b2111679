"""Zoom's per-second rate limits as a budget the client plans within.

Zoom limits each account (all its apps together) per second in three categories of endpoint
("Rate limits", developers.zoom.us/docs/api/rate-limits/): Free 4/2/1, Pro 30/20/10 and
Business+ 80/60/40 calls a second for Light/Medium/Heavy. Every call takes a slot first: a
sliding window that never lets more than the rate start within any one second, so that in normal
operation Zoom has no reason to answer 429. Daily limits are not planned for; their 429s are,
and `advised_wait` reads how long such an answer asks the client to wait.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum

_EPOCH_THRESHOLD = 100_000_000  # an X-RateLimit-Reset above this is epoch seconds


class Category(StrEnum):
    """Zoom's rate-limit label of an endpoint (each endpoint's reference page gives it)."""

    LIGHT = "light"
    MEDIUM = "medium"
    HEAVY = "heavy"


PLAN_RATES: dict[str, dict[Category, float]] = {
    "free": {Category.LIGHT: 4, Category.MEDIUM: 2, Category.HEAVY: 1},
    "pro": {Category.LIGHT: 30, Category.MEDIUM: 20, Category.HEAVY: 10},
    "business": {Category.LIGHT: 80, Category.MEDIUM: 60, Category.HEAVY: 40},
}


class _Window:
    """At most `count` call starts within any `span` seconds (count/span = the rate)."""

    def __init__(self, rate: float) -> None:
        # A rate below 1/s (a free plan slowed down in tests) becomes one call per 1/rate s.
        self.count = max(1, math.floor(rate))
        self.span = self.count / rate
        self.starts: deque[float] = deque(maxlen=self.count)
        self.peak = 0.0

    def reserve(self, now: float) -> float:
        """Book the earliest start allowed from `now` on and return it."""
        start = now
        if len(self.starts) == self.count:
            start = max(now, self.starts[0] + self.span)
        self.starts.append(start)
        in_window = sum(1 for t in self.starts if t > start - self.span)
        self.peak = max(self.peak, in_window / self.count)
        return start


class Budget:
    """Per-category call budgets of one Zoom account, shared by every thread calling it.

    Args:
        plan: free, pro or business: sets the per-second rates.
        rate_scale: multiplies every rate (tests run Zoom's limits faster; 1 is the real rate).
        monotonic, sleep: the clock the windows slide by and how a caller waits for its slot.
    """

    def __init__(
        self,
        *,
        plan: str = "pro",
        rate_scale: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if plan not in PLAN_RATES:
            raise ValueError(f"unknown Zoom plan {plan!r}: use one of {', '.join(PLAN_RATES)}")
        if rate_scale <= 0:
            raise ValueError("rate_scale must be positive")
        self.plan = plan
        self.rates = {cat: rate * rate_scale for cat, rate in PLAN_RATES[plan].items()}
        self._monotonic = monotonic
        self._sleep = sleep
        self._lock = threading.Lock()
        self._windows = {cat: _Window(rate) for cat, rate in self.rates.items()}
        self._calls = dict.fromkeys(Category, 0)
        self._waited = dict.fromkeys(Category, 0.0)

    def spend(self, category: Category) -> float:
        """Wait for a slot of `category`, count the call, and return the seconds waited."""
        with self._lock:
            now = self._monotonic()
            start = self._windows[category].reserve(now)
            self._calls[category] += 1
            self._waited[category] += start - now
        # Sleep outside the lock: the slot is booked, later callers book the ones after it.
        if start > now:
            self._sleep(start - now)
        return start - now

    @property
    def calls(self) -> dict[str, int]:
        """Calls made per category so far."""
        with self._lock:
            return {str(cat): n for cat, n in self._calls.items()}

    @property
    def waited(self) -> dict[str, float]:
        """Seconds callers spent waiting for a slot, per category."""
        with self._lock:
            return {str(cat): w for cat, w in self._waited.items()}

    def used(self) -> dict[str, float]:
        """The busiest second so far as a share of the per-second budget, per category (0..1)."""
        with self._lock:
            return {str(cat): window.peak for cat, window in self._windows.items()}


def advised_wait(headers: Mapping[str, str], now: float) -> float | None:
    """Seconds a 429/5xx answer asks to wait (None: it does not say), `now` in epoch seconds.

    Retry-After in seconds or as a date (Zoom's daily limits send ISO-8601, others RFC 1123);
    X-RateLimit-Reset, which no Zoom source confirms, in seconds or epoch seconds.
    """
    retry_after = (headers.get("Retry-After") or "").strip()
    if retry_after:
        try:
            return max(0.0, float(retry_after))
        except ValueError:
            pass
        when = _parse_date(retry_after)
        if when is not None:
            return max(0.0, when.timestamp() - now)
    reset = (headers.get("X-RateLimit-Reset") or "").strip()
    if reset:
        try:
            value = float(reset)
        except ValueError:
            when = _parse_date(reset)
            return None if when is None else max(0.0, when.timestamp() - now)
        return max(0.0, value - now if value > _EPOCH_THRESHOLD else value)
    return None


def _parse_date(text: str) -> datetime | None:
    """An HTTP date (RFC 1123) or an ISO-8601 date such as 2020-05-31T00:00:00Z, in UTC."""
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        try:
            when = datetime.fromisoformat(text)
        except ValueError:
            return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)
