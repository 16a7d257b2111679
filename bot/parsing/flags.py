"""Converting a flag's text to its value, with a message for every way it can be wrong."""

from __future__ import annotations

import difflib
from datetime import timedelta

from bot.parsing.durations import (
    _MAX_DIGITS,
    _MAX_DURATION_SECONDS,
    _duration_seconds,
    format_duration,
)
from bot.parsing.specs import FlagSpec, FlagValue
from bot.parsing.tokens import _show


def _show_bound(value: int | timedelta) -> str:
    """Format a bound for messages: ints with thousands separators, durations compactly."""
    if isinstance(value, timedelta):
        return format_duration(value)
    return f"{value:,}"


def _bounds_text(low: int | timedelta | None, high: int | timedelta | None) -> str | None:
    """'between X and Y', 'at least X' or 'at most Y'; None when unbounded."""
    if low is not None and high is not None:
        return f"between {_show_bound(low)} and {_show_bound(high)}"
    if low is not None:
        return f"at least {_show_bound(low)}"
    if high is not None:
        return f"at most {_show_bound(high)}"
    return None


def _int_in_bounds(value: int, spec: FlagSpec) -> bool:
    """Whether value lies within an int flag's inclusive bounds."""
    low, high = spec.min_value, spec.max_value
    if isinstance(low, int) and value < low:
        return False
    return not (isinstance(high, int) and value > high)


def _duration_in_bounds(value: timedelta, spec: FlagSpec) -> bool:
    """Whether value lies within a duration flag's inclusive bounds."""
    low, high = spec.min_value, spec.max_value
    if isinstance(low, timedelta) and value < low:
        return False
    return not (isinstance(high, timedelta) and value > high)


class _Err(str):
    """An error message travelling through a str-typed return (distinguishable from values)."""

    __slots__ = ()


def _check_length(what: str, value: str, limit: int | None) -> str | None:
    """An error message if value is longer than limit."""
    if limit is not None and len(value) > limit:
        return f"{what} is {len(value):,} characters long; the limit is {limit:,}."
    return None


def _convert(spec: FlagSpec, raw: str) -> FlagValue | _Err:
    """Convert a flag's text to its value, or return an error message."""
    text = raw.strip()
    flag = spec.display
    if spec.kind == "str":
        if not text:
            return _Err(f"The {flag} value is empty.")
        too_long = _check_length(f"The {flag} value", text, spec.max_length)
        return _Err(too_long) if too_long else text
    if spec.kind == "int":
        if not text or not text.isdecimal():
            return _Err(f"The {flag} value must be a whole number, like 5; got {_show(raw)}.")
        digits = text.lstrip("0") or "0"
        bounds = _bounds_text(spec.min_value, spec.max_value)
        if len(digits) > _MAX_DIGITS:
            if spec.max_value is not None:
                return _Err(f"{flag} must be {bounds}; got {_show(raw)}.")
            return _Err(f"The {flag} value {_show(raw)} is too large.")
        number = int(digits)
        if not _int_in_bounds(number, spec):
            return _Err(f"{flag} must be {bounds}; got {number:,}.")
        return number
    if spec.kind == "duration":
        seconds = _duration_seconds(text)
        if seconds is None:
            if text.isdecimal() and len(text) <= 6:
                hint = f"add a unit, like {text}s or {text}m"
            else:
                hint = "use forms like 45s, 2m, 1m30s or 1h"
            return _Err(f"Unrecognised duration {_show(raw)} for {flag}: {hint}.")
        bounds = _bounds_text(spec.min_value, spec.max_value)
        if seconds > _MAX_DURATION_SECONDS:
            if spec.max_value is not None:
                return _Err(f"Duration for {flag} must be {bounds}; got {_show(raw)}.")
            return _Err(f"The {flag} duration {_show(raw)} is too long.")
        duration = timedelta(seconds=seconds)
        if not _duration_in_bounds(duration, spec):
            return _Err(f"Duration for {flag} must be {bounds}; got {format_duration(duration)}.")
        return duration
    if spec.kind == "choice":
        return _convert_choice(spec, raw, text)
    # Bool flags never reach here: they take no value.
    return True


def _convert_choice(spec: FlagSpec, raw: str, text: str) -> str | _Err:
    """Match text against the flag's choices, case-insensitively."""
    options = ", ".join(c + "…" if c.endswith(":") else c for c in spec.choices)
    if not text:
        return _Err(f"The {spec.display} value is empty: choose one of {options}.")
    lowered = text.lower()
    plain = [c.lower() for c in spec.choices if not c.endswith(":")]
    prefixed = [c.lower() for c in spec.choices if c.endswith(":")]
    if lowered in plain:
        return lowered
    for prefix in prefixed:
        if lowered.startswith(prefix):
            suffix = lowered[len(prefix) :].strip()
            if not suffix:
                return _Err(_needs_suffix(spec, prefix))
            return prefix + suffix
    if lowered + ":" in prefixed:
        return _Err(_needs_suffix(spec, lowered + ":"))
    candidates = plain + prefixed + [p[:-1] for p in prefixed]
    close = difflib.get_close_matches(lowered, candidates, n=1, cutoff=0.6)
    hint = ""
    if close:
        best = close[0]
        hint = f" Did you mean {best + '…' if best + ':' in prefixed else best}?"
    return _Err(f"Unknown value {_show(raw)} for {spec.display}: choose one of {options}.{hint}")


def _needs_suffix(spec: FlagSpec, prefix: str) -> str:
    """The message for a prefix choice such as "mix:" written without its value."""
    return (
        f"The {spec.display} choice {_show(prefix)} needs a value right after the colon, "
        "with no space."
    )
