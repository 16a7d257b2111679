"""The Slack Web API client every part of the bot shares."""

from __future__ import annotations

import io
from email.message import Message
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.request import Request

import urllib3
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.config import Settings

POOL_SIZE = 16


class PooledWebClient(WebClient):
    """A WebClient that keeps HTTP connections open (urllib3's pool) instead of one per call.

    slack_sdk's urllib transport opens, resolves and closes a connection for every call; under a
    burst of votes that costs more CPU than the database. Responses and failures are handed back
    exactly as urlopen would (an HTTPError for 4xx/5xx, a URLError when the connection fails), so
    slack_sdk's own error handling and retry handlers (429 Retry-After, 5xx, resets) still apply.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pool = urllib3.PoolManager(
            maxsize=POOL_SIZE,
            retries=False,
            timeout=urllib3.Timeout(total=self.timeout),
            ssl_context=self.ssl,
        )

    def _perform_urllib_http_request_internal(self, url: str, req: Request) -> dict[str, Any]:
        if self.proxy is not None or not url.lower().startswith("http"):
            return super()._perform_urllib_http_request_internal(url, req)
        try:
            response = self._pool.request(
                req.get_method(),
                url,
                body=req.data,  # type: ignore[arg-type]
                headers=dict(req.header_items()),
                redirect=False,
            )
        except urllib3.exceptions.HTTPError as error:
            raise URLError(error) from error
        headers = Message()
        for name, value in response.headers.items():
            headers[name] = value
        if response.status >= 400:
            raise HTTPError(
                url, response.status, response.reason or "", headers, io.BytesIO(response.data)
            )
        if headers.get_content_type() == "application/gzip":
            return {"status": response.status, "headers": headers, "body": response.data}
        charset = headers.get_content_charset() or "utf-8"
        return {
            "status": response.status,
            "headers": headers,
            "body": response.data.decode(charset),
        }


def create_web_client(settings: Settings) -> WebClient:
    """A WebClient on SLACK_API_URL that retries 429s after Retry-After, 5xx and dropped links."""
    return PooledWebClient(
        token=settings.SLACK_BOT_TOKEN,
        base_url=settings.SLACK_API_URL,
        timeout=15,
        retry_handlers=[
            RateLimitErrorRetryHandler(max_retry_count=3),
            ServerErrorRetryHandler(max_retry_count=2),
            ConnectionErrorRetryHandler(max_retry_count=2),
        ],
    )
