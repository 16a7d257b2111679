"""What can go wrong with a Zoom call, as four kinds the callers act on differently."""

from __future__ import annotations

from typing import Any

# Zoom's codes for "not found", whatever HTTP status carries them.
NOT_FOUND_CODES = frozenset({1001, 3001})  # user does not exist; meeting does not exist
# Zoom's codes for "you may not" (HTTP 400 on Zoom's side, but no retry or other input helps):
# 200 "Only available for Paid account" / plan lacks the feature, 4700/4711 the token lacks the
# scope or permission, 12702 the feature is off for the account.
FORBIDDEN_CODES = frozenset({200, 4700, 4711, 12702})


class ZoomError(Exception):
    """A Zoom call that failed; `message` is Zoom's own words when it gave any."""

    def __init__(self, message: str, *, status: int | None = None, code: int | None = None):
        self.message = message
        self.status = status
        self.code = code
        super().__init__(message)

    def __str__(self) -> str:
        details = [f"HTTP {self.status}"] if self.status is not None else []
        if self.code is not None:
            details.append(f"Zoom code {self.code}")
        return f"{self.message} ({', '.join(details)})" if details else self.message


class ZoomNotFound(ZoomError):
    """The meeting (or user, poll, instance) does not exist: 404 or codes 3001/1001."""


class ZoomForbidden(ZoomError):
    """Zoom will not do it for this account: 403, plan or scope codes, refused credentials."""


class ZoomRejected(ZoomError):
    """Zoom refuses the request as made (bad input); retrying the same request will not help."""


class ZoomUnavailable(ZoomError):
    """Zoom cannot answer now (5xx, timeout, network, rate limit, token endpoint): try later.

    `maybe_done`: the request may have reached Zoom and taken effect (a POST that timed out or
    got a 5xx): check before sending it again. `retry_after`: seconds from the raise until Zoom
    said it would answer again (a rate limit's reset), when it said.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: int | None = None,
        maybe_done: bool = False,
        retry_after: float | None = None,
    ):
        super().__init__(message, status=status, code=code)
        self.maybe_done = maybe_done
        self.retry_after = retry_after


class ZoomStopped(ZoomUnavailable):
    """The client was interrupted (the bot is stopping) before Zoom answered."""


def zoom_error(status: int, body: Any, *, fallback: str = "") -> ZoomError:
    """The error for a final 4xx/5xx answer with Zoom's `{code, message}` body (if any)."""
    code = body.get("code") if isinstance(body, dict) else None
    code = code if isinstance(code, int) and not isinstance(code, bool) else None
    message = body.get("message") if isinstance(body, dict) else None
    text = str(message) if message else fallback or f"Zoom answered HTTP {status}"
    if status == 404 or code in NOT_FOUND_CODES:
        return ZoomNotFound(text, status=status, code=code)
    if status == 403 or (status == 400 and code in FORBIDDEN_CODES):
        return ZoomForbidden(text, status=status, code=code)
    if status >= 500 or status == 429:
        return ZoomUnavailable(text, status=status, code=code)
    return ZoomRejected(text, status=status, code=code)
