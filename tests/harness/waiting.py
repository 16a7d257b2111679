"""Waiting for effects that land in other threads or processes, without sleeping on luck."""

from __future__ import annotations

import time
from collections.abc import Callable


def eventually(condition: Callable[[], object], *, timeout: float = 5.0, what: str = "") -> None:
    """Wait until `condition()` holds (for effects that land after Slack's ack); fail on timeout."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or condition}")
        time.sleep(0.005)
