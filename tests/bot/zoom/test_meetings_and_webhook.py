"""Zoom meeting references and webhook verification."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime

import pytest

from bot.clock import FixedClock
from bot.zoom.meetings import parse_meeting_id
from bot.zoom.webhook import ZoomWebhook, zoom_signature


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("81234567890", "81234567890"),
        ("812 3456 7890", "81234567890"),
        ("812-3456-7890", "81234567890"),
        ("https://zoom.us/j/81234567890", "81234567890"),
        ("https://us02web.zoom.us/j/81234567890?pwd=abc.1", "81234567890"),
        ("<https://us02web.zoom.us/j/81234567890?pwd=abc|join>", "81234567890"),
        ("https://example.zoomgov.com/w/123456789", "123456789"),
        ("12345", None),
        ("https://evil.example/j/81234567890", None),
        ("https://zoom.us.evil.example/j/81234567890", None),
        ("banana", None),
        ("", None),
    ],
)
def test_meeting_ids(text: str, expected: str | None) -> None:
    assert parse_meeting_id(text) == expected


NOW = datetime(2026, 11, 21, 18, 0, tzinfo=UTC)


def _signed(secret: str, body: bytes, timestamp: int) -> dict[str, str]:
    return {
        "x-zm-request-timestamp": str(timestamp),
        "x-zm-signature": zoom_signature(secret, str(timestamp), body),
    }


def test_url_validation_answers_the_challenge() -> None:
    hook = ZoomWebhook("s3cret", FixedClock(NOW))
    body = json.dumps(
        {"event": "endpoint.url_validation", "payload": {"plainToken": "qgg8vlvZRS6UYooatFL8Aw"}}
    ).encode()
    status, answer = hook.handle(body, _signed("s3cret", body, int(NOW.timestamp())))
    assert status == 200
    expected = hmac.new(b"s3cret", b"qgg8vlvZRS6UYooatFL8Aw", hashlib.sha256).hexdigest()
    assert answer == {"plainToken": "qgg8vlvZRS6UYooatFL8Aw", "encryptedToken": expected}


def test_signature_must_match_and_be_fresh() -> None:
    hook = ZoomWebhook("s3cret", FixedClock(NOW))
    body = b'{"event":"meeting.participant_joined","payload":{}}'
    now = int(NOW.timestamp())
    assert hook.handle(body, _signed("s3cret", body, now))[0] == 200
    assert hook.handle(body, _signed("wrong", body, now))[0] == 401
    assert hook.handle(body, _signed("s3cret", body, now - 301))[0] == 401
    assert hook.handle(body + b" ", _signed("s3cret", body, now))[0] == 401
    assert hook.handle(body, {})[0] == 401


def test_without_a_secret_the_endpoint_is_off() -> None:
    status, answer = ZoomWebhook(None, FixedClock(NOW)).handle(b"{}", {})
    assert status == 404
    assert "ZOOM_WEBHOOK_SECRET_TOKEN" in answer["error"]
