"""In-process requests: a signed `BoltRequest` handed to `App.dispatch()`, as bolt-python's own
scenario tests do — the real listeners and middleware, no HTTP server in between."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from slack_bolt import App, BoltRequest, BoltResponse

from bot.standin import sign

FORM = "application/x-www-form-urlencoded"


class Dispatcher:
    """Signs Slack payloads and dispatches them to a Bolt app in this process."""

    def __init__(self, app: App, signing_secret: str) -> None:
        self.app = app
        self.signing_secret = signing_secret

    def command(self, payload: Mapping[str, Any], *, retry_num: int | None = None) -> BoltResponse:
        """A slash command (form-encoded fields)."""
        return self.post(urlencode(dict(payload)), FORM, retry_num=retry_num)

    def interactive(
        self, payload: Mapping[str, Any], *, retry_num: int | None = None
    ) -> BoltResponse:
        """A block action, view submission or suggestion (form field payload=<json>)."""
        body = urlencode({"payload": json.dumps(payload, separators=(",", ":"))})
        return self.post(body, FORM, retry_num=retry_num)

    def post(
        self,
        body: str,
        content_type: str,
        *,
        retry_num: int | None = None,
        signature: str | None = None,
    ) -> BoltResponse:
        """Dispatch a raw body with Slack's headers (a given `signature` replaces the real one)."""
        timestamp = str(int(time.time()))
        headers: dict[str, str | Sequence[str]] = {
            "content-type": [content_type],
            "x-slack-request-timestamp": [timestamp],
            "x-slack-signature": [signature or sign(self.signing_secret, body, timestamp)],
        }
        if retry_num is not None:
            headers["x-slack-retry-num"] = str(retry_num)
            headers["x-slack-retry-reason"] = "http_timeout"
        return self.app.dispatch(BoltRequest(body=body, headers=headers))


def answer(response: BoltResponse) -> dict[str, Any]:
    """The JSON a listener acked with ({} for an empty ack)."""
    assert response.status == 200, response.body
    return json.loads(response.body) if response.body else {}
