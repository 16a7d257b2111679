"""Zoom webhook verification: the URL validation handshake and x-zm-signature checks."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from typing import Any

from bot.clock import Clock

logger = logging.getLogger(__name__)

MAX_AGE_SECONDS = 300  # like Slack's, a replayed request older than five minutes is refused


def zoom_signature(secret: str, timestamp: str, body: bytes) -> str:
    """The x-zm-signature Zoom sends: v0=HMAC-SHA256(secret, "v0:{timestamp}:{body}")."""
    message = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


class ZoomWebhook:
    """Checks Zoom webhook requests and answers the URL validation challenge."""

    def __init__(self, secret: str | None, clock: Clock) -> None:
        self.secret = secret
        self.clock = clock

    def handle(self, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """Verify a webhook request.

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
        logger.info("zoom event %s received", event)
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
