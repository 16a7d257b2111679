"""What the fake Zoom records and queues: calls, faults, slow answers; and Zoom's answer shapes."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote

from bot.standin.server import Answer, json_answer

INVALID_TOKEN = {"code": 124, "message": "Invalid access token."}
PER_SECOND_LIMIT = (
    "You have reached the maximum per-second rate limit for this API. Try again later."
)
_ENCODED = re.compile(r"%[0-9A-Fa-f]{2}")


@dataclass(frozen=True)
class ZoomCall:
    """One API call as the fake saw it: path relative to /v2 as sent (still encoded), and
    when it came by the fake's monotonic clock."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    status: int
    token: str | None
    at: float = 0.0


@dataclass
class Fault:
    """An answer queued by `FakeZoom.fail` for the next calls matching method and path."""

    method: str
    path_prefix: str
    status: int
    headers: dict[str, str]
    body: dict[str, Any] | None
    raw_body: bytes | None
    times: int

    def answer(self) -> Answer:
        """Zoom's answer: the given JSON body, raw bytes, or Zoom's usual body for the status."""
        if self.raw_body is not None:
            return Answer(self.status, self.raw_body, "text/html", dict(self.headers))
        body = self.body if self.body is not None else default_error_body(self.status)
        return json_answer(body, self.status, **self.headers)


@dataclass
class Slow:
    """A delay queued by `FakeZoom.slow`: the call takes effect, its answer comes late."""

    method: str
    path_prefix: str
    seconds: float
    times: int


def take(queue: list[Any], method: str, path: str) -> Any:
    """Pop one use of the first fault/slow entry matching the call ("*" matches any method)."""
    for entry in queue:
        if entry.method in ("*", method) and path.startswith(entry.path_prefix):
            entry.times -= 1
            if entry.times <= 0:
                queue.remove(entry)
            return entry
    return None


def default_error_body(status: int) -> dict[str, Any]:
    """The body Zoom usually sends with an error status."""
    if status == 429:
        return {"code": 429, "message": PER_SECOND_LIMIT}
    if status == 401:
        return dict(INVALID_TOKEN)
    if status == 404:
        return {"code": 3001, "message": "Meeting does not exist."}
    if status == 400:
        return {"code": 300, "message": "Invalid request."}
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    return {"code": status, "message": phrase}


def error(status: int, code: int, message: str, **headers: str) -> Answer:
    """A Zoom error answer: {"code", "message"}."""
    return json_answer({"code": code, "message": message}, status, **headers)


def no_content() -> Answer:
    """Zoom's 204 answer to PATCH and DELETE."""
    return Answer(204, b"", content_type="application/json")


def decode_segment(segment: str) -> str | None:
    """A meeting id or uuid from its path segment; None if Zoom could not route it.

    A double-encoded uuid decodes twice. A uuid that starts with "/" or holds "//" must come
    double-encoded (Zoom's rule): sent encoded once, Zoom cannot find it, and neither do we.
    """
    once = unquote(segment)
    if _ENCODED.search(once):
        return unquote(once)
    if once.startswith("/") or "//" in once:
        return None
    return once


def parse_json(body: bytes) -> Any:
    """A request's JSON body (None when empty; the raw text when not JSON)."""
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace")


def iso(when: datetime) -> str:
    """Zoom's time format: 2026-01-31T18:30:00Z."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def deep_merge(target: dict[str, Any], changes: dict[str, Any]) -> None:
    """Merge a PATCH body into a meeting as Zoom does: objects merge, other values replace."""
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            deep_merge(target[key], value)
        else:
            target[key] = json.loads(json.dumps(value))
