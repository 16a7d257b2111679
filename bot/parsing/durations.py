"""Durations such as 45s, 2m or 1h30m: parsing them from text and writing them back."""

from __future__ import annotations

import re
from datetime import timedelta

# Python refuses int() on strings over 4,300 digits; anything past this is out of range anyway.
_MAX_DIGITS = 18
_MAX_DURATION_SECONDS = int(timedelta.max.total_seconds())

_DURATION_RE = re.compile(
    r"""
    (?:(?P<h>\d+)\s*(?:h|hrs?|hours?))?\s*
    (?:(?P<m>\d+)\s*(?:m|mins?|minutes?))?\s*
    (?:(?P<s>\d+)\s*(?:s|secs?|seconds?))?
    """,
    re.IGNORECASE | re.VERBOSE,
)


def _duration_seconds(text: str) -> int | None:
    """Total seconds written in text (may be huge), or None if it is not a duration."""
    match = _DURATION_RE.fullmatch(text.strip())
    if match is None or not any(match.group(k) for k in ("h", "m", "s")):
        return None
    total = 0
    for key, scale in (("h", 3600), ("m", 60), ("s", 1)):
        digits = match.group(key)
        if digits:
            digits = digits.lstrip("0") or "0"
            if len(digits) > _MAX_DIGITS:
                return _MAX_DURATION_SECONDS + 1
            total += int(digits) * scale
    return total


def parse_duration(text: str) -> timedelta | None:
    """Parse 45s, 2m, 1m30s, 1h, 1h30m and similar; None for anything else or too large."""
    seconds = _duration_seconds(text)
    if seconds is None or seconds > _MAX_DURATION_SECONDS:
        return None
    return timedelta(seconds=seconds)


def format_duration(td: timedelta) -> str:
    """Write a timedelta compactly, e.g. 1m30s, 2m, 1h; the inverse of parse_duration."""
    total = td.days * 86400 + td.seconds
    if total < 0:
        return "-" + format_duration(-td)
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{v}{u}" for v, u in ((hours, "h"), (minutes, "m"), (seconds, "s")) if v]
    return "".join(parts) or "0s"
