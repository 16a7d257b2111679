"""ZoomWebhook hands verified events to the handlers registered for them, and only those."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.clock import FixedClock
from bot.standin.zoom.webhooks import signed_headers, webhook_body
from bot.zoom.webhook import ZoomWebhook

SECRET = "s3cret"


def _hook(clock: FixedClock) -> tuple[ZoomWebhook, list[tuple[str, datetime]]]:
    hook = ZoomWebhook(SECRET, clock)
    seen: list[tuple[str, datetime]] = []

    def joined(payload: dict[str, Any], received_at: datetime) -> None:
        seen.append((payload["payload"]["object"]["id"], received_at))

    hook.on("meeting.participant_joined", joined)
    return hook, seen


def _signed(clock: FixedClock, body: bytes, *, secret: str = SECRET) -> dict[str, str]:
    return signed_headers(secret, body, timestamp=int(clock.now().timestamp()))


def test_a_verified_event_reaches_its_handlers_with_the_time_it_came(clock: FixedClock) -> None:
    hook, seen = _hook(clock)
    body = webhook_body("meeting.participant_joined", {"id": "812"}, event_ts_ms=1)
    assert hook.handle(body, _signed(clock, body)) == (200, {"ok": True})
    assert seen == [("812", clock.now())]
    other = webhook_body("meeting.participant_left", {"id": "812"}, event_ts_ms=1)
    assert hook.handle(other, _signed(clock, other))[0] == 200  # no handler: answered, ignored
    assert len(seen) == 1


def test_unverified_or_malformed_requests_reach_no_handler(clock: FixedClock) -> None:
    hook, seen = _hook(clock)
    body = webhook_body("meeting.participant_joined", {"id": "812"}, event_ts_ms=1)
    assert hook.handle(body, _signed(clock, body, secret="wrong"))[0] == 401
    stale = signed_headers(SECRET, body, timestamp=int(clock.now().timestamp()) - 301)
    assert hook.handle(body, stale)[0] == 401
    assert hook.handle(b"{not json", _signed(clock, b"{not json"))[0] == 400
    assert hook.handle(b"[1]", _signed(clock, b"[1]"))[0] == 400
    assert seen == []


def test_a_failing_handler_gets_zoom_to_deliver_again(clock: FixedClock) -> None:
    hook, seen = _hook(clock)

    def broken(payload: dict[str, Any], received_at: datetime) -> None:
        raise RuntimeError("database is down")

    hook.on("meeting.participant_joined", broken)
    body = webhook_body("meeting.participant_joined", {"id": "812"}, event_ts_ms=1)
    status, answer = hook.handle(body, _signed(clock, body))
    assert status == 500  # Zoom retries 5xx only
    assert "again" in answer["error"]
    assert len(seen) == 1  # the handler registered first ran
