"""The real bot with Zoom connected to a fake Zoom on loopback (and the fake Slack).

A test module uses it by overriding `settings_overrides` with `zoom_overrides(fake_zoom)`
(the `fake_zoom` fixture is in conftest.py);
`zoom_webhooks(bot)` sends signed webhooks to the bot as Zoom does.
"""

from __future__ import annotations

from typing import Any

from bot.standin.zoom import FakeZoom, ZoomWebhookSender
from tests.e2e.conftest import RunningBot

WEBHOOK_SECRET = "zoom-webhook-secret-for-tests"
MEETING_ID = "81234567890"


def zoom_overrides(zoom: FakeZoom, **more: Any) -> dict[str, Any]:
    """Settings pointing the bot at `zoom` (with the webhook secret)."""
    return {
        "ZOOM_ACCOUNT_ID": zoom.account_id,
        "ZOOM_CLIENT_ID": zoom.client_id,
        "ZOOM_CLIENT_SECRET": zoom.client_secret,
        "ZOOM_API_URL": zoom.api_url,
        "ZOOM_OAUTH_URL": zoom.oauth_url,
        "ZOOM_WEBHOOK_SECRET_TOKEN": WEBHOOK_SECRET,
        **more,
    }


def zoom_webhooks(bot: RunningBot) -> ZoomWebhookSender:
    """Sends signed Zoom webhooks to the bot under test."""
    return ZoomWebhookSender(bot.url + "/zoom/webhook", WEBHOOK_SECRET)


def zoom_idle(bot: RunningBot, timeout: float = 15.0) -> None:
    """Wait until the bot owes Zoom nothing that is due, then until the outbox is drained."""
    worker = bot.services.zoom_worker
    assert worker is not None, "Zoom is not connected in this test"
    assert worker.wait_idle(timeout), "the Zoom worker did not go idle"
    assert bot.services.outbox.wait_idle(timeout), "the outbox did not drain"
