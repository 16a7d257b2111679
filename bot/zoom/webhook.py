"""Zoom webhooks: the URL validation handshake, x-zm-signature checks, and the dispatch of
verified events to the handlers registered for them."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot.clock import Clock

logger = logging.getLogger(__name__)

MAX_AGE_SECONDS = 300  # like Slack's, a replayed request older than five minutes is refused

# Runs inside Zoom's request, after the signature check and before the answer (Zoom wants one
# within 3 s): quick (database writes only, no Zoom calls) and idempotent. Takes the whole
# event ({"event", "event_ts", "payload"}) and when it was received.
EventHandler = Callable[[dict[str, Any], datetime], None]


def zoom_signature(secret: str, timestamp: str, body: bytes) -> str:
    """The x-zm-signature Zoom sends: v0=HMAC-SHA256(secret, "v0:{timestamp}:{body}")."""
    message = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


class ZoomWebhook:
    """Checks Zoom webhook requests and answers the URL validation challenge."""

    def __init__(self, secret: str | None, clock: Clock) -> None:
        self.secret = secret
        self.clock = clock
        self._handlers: dict[str, list[EventHandler]] = {}

    def on(self, event: str, handler: EventHandler) -> None:
        """Run `handler` for each verified event named `event` (in the order registered)."""
        self._handlers.setdefault(event, []).append(handler)

    def handle(self, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """Verify a webhook request and hand its event to the handlers registered for it.

        A handler that fails gets Zoom answered 500, so Zoom delivers the event again later
        (it retries only 5xx); each handler commits on its own and recognises a redelivery of
        what it already applied.

        Returns:
            The HTTP status and JSON body to answer with.
        """
        if not self.secret:
            return 404, {"error": "Zoom webhooks are off: ZOOM_WEBHOOK_SECRET_TOKEN is not set"}
        if not self._verified(body, headers):
            return 401, {"error": "invalid signature"}
        try:
            payload = json.loads(body)
        except ValueError:
            return 400, {"error": "body is not JSON"}
        if not isinstance(payload, dict):
            return 400, {"error": "body is not a JSON object"}
        event = payload.get("event")
        if event == "endpoint.url_validation":
            plain = str((payload.get("payload") or {}).get("plainToken", ""))
            encrypted = hmac.new(self.secret.encode(), plain.encode(), hashlib.sha256).hexdigest()
            return 200, {"plainToken": plain, "encryptedToken": encrypted}
        handlers = self._handlers.get(str(event), [])
        logger.info("zoom event %s received (%d handlers)", event, len(handlers))
        received_at = self.clock.now()
        for handler in handlers:
            try:
                handler(payload, received_at)
            except Exception:
                logger.exception("zoom event %s: a handler failed", event)
                return 500, {"error": "not handled; deliver it again later"}
        return 200, {"ok": True}

    def _verified(self, body: bytes, headers: dict[str, str]) -> bool:
        lowered = {key.lower(): value for key, value in headers.items()}
        timestamp = lowered.get("x-zm-request-timestamp", "")
        signature = lowered.get("x-zm-signature", "")
        if not timestamp.isdigit() or not signature or self.secret is None:
            return False
        if abs(self.clock.now().timestamp() - int(timestamp)) > MAX_AGE_SECONDS:
            return False
        expected = zoom_signature(self.secret, timestamp, body)
        return hmac.compare_digest(expected, signature)
