"""Slack's request signing, and SlackSender, which signs payloads and POSTs them to an app."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import urlencode

import requests

SignatureMode = Literal["valid", "missing", "wrong"]


def sign(signing_secret: str, body: str, timestamp: int | str) -> str:
    """Slack's v0 signature: v0=hex(HMAC-SHA256(secret, "v0:{ts}:{body}"))."""
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()


class SlackSender:
    """Posts Slack-signed requests to a Bolt HTTP endpoint (base_url + /slack/events)."""

    def __init__(
        self,
        base_url: str,
        signing_secret: str,
        *,
        path: str = "/slack/events",
        timeout: float = 10.0,
        session: requests.Session | None = None,
    ) -> None:
        """Configure the target app and the signing secret it verifies with."""
        self.url = base_url.rstrip("/") + path
        self.signing_secret = signing_secret
        self.timeout = timeout
        self.session = session or requests.Session()

    def command(self, payload: Mapping[str, Any], **options: Any) -> requests.Response:
        """Send a slash command (form-encoded fields)."""
        return self.post(urlencode(dict(payload)), "application/x-www-form-urlencoded", **options)

    def interactive(self, payload: Mapping[str, Any], **options: Any) -> requests.Response:
        """Send any interactive payload as form field payload=<json>."""
        body = urlencode({"payload": json.dumps(payload, separators=(",", ":"))})
        return self.post(body, "application/x-www-form-urlencoded", **options)

    def action(self, payload: Mapping[str, Any], **options: Any) -> requests.Response:
        """Send a block_actions payload."""
        return self.interactive(payload, **options)

    def submit_view(self, payload: Mapping[str, Any], **options: Any) -> requests.Response:
        """Send a view_submission payload."""
        return self.interactive(payload, **options)

    def suggest(self, payload: Mapping[str, Any], **options: Any) -> requests.Response:
        """Send a block_suggestion payload."""
        return self.interactive(payload, **options)

    def event(self, payload: Mapping[str, Any], **options: Any) -> requests.Response:
        """Send an Events API payload as JSON."""
        return self.post(json.dumps(payload, separators=(",", ":")), "application/json", **options)

    def post(
        self,
        body: str,
        content_type: str,
        *,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
        signature: SignatureMode = "valid",
        timestamp: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> requests.Response:
        """POST a raw body with Slack's headers; signature='missing'/'wrong' for 401 tests."""
        ts = int(time.time()) if timestamp is None else timestamp
        all_headers = {
            "Content-Type": content_type,
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
            "X-Slack-Request-Timestamp": str(ts),
        }
        if signature == "valid":
            all_headers["X-Slack-Signature"] = sign(self.signing_secret, body, ts)
        elif signature == "wrong":
            all_headers["X-Slack-Signature"] = sign(self.signing_secret + "-wrong", body, ts)
        else:
            del all_headers["X-Slack-Request-Timestamp"]
        if retry_num is not None:
            all_headers["X-Slack-Retry-Num"] = str(retry_num)
            all_headers["X-Slack-Retry-Reason"] = retry_reason
        all_headers.update(headers or {})
        # Send bytes so requests cannot re-encode the body we signed.
        return self.session.post(
            self.url, data=body.encode("utf-8"), headers=all_headers, timeout=self.timeout
        )

    def close(self) -> None:
        """Close the underlying HTTP session."""
        self.session.close()
