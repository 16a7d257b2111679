"""The Slack Web API client every part of the bot shares."""

from __future__ import annotations

import io
from email.message import Message
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.request import Request

import urllib3
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler
from slack_sdk.web import SlackResponse

from bot.config import Settings
from bot.slack.budgets import Budgets

POOL_SIZE = 16


class PooledWebClient(WebClient):
    """A WebClient that keeps HTTP connections open (urllib3's pool) instead of one per call.

    slack_sdk's urllib transport opens, resolves and closes a connection for every call; under a
    burst of votes that costs more CPU than the database. Responses and failures are handed back
    exactly as urlopen would (an HTTPError for 4xx/5xx, a URLError when the connection fails), so
    slack_sdk's own error handling and retry handlers still apply.

    It overrides slack_sdk's private `_perform_urllib_http_request_internal`, so slack-sdk is
    pinned (pyproject.toml) and tests/bot/test_slack_client.py checks connections are reused.
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


class BudgetedWebClient(PooledWebClient):
    """Every call spends its method's budget first; a 429 stops that method for Retry-After."""

    def __init__(self, *args: Any, budgets: Budgets, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.budgets = budgets

    def api_call(self, api_method: str, *, http_verb: str = "POST", **kwargs: Any) -> SlackResponse:
        """slack_sdk's api_call, within the budget."""
        channel = _channel_of(kwargs)
        self.budgets.spend(api_method, channel)
        try:
            return super().api_call(api_method, http_verb=http_verb, **kwargs)
        except SlackApiError as error:
            if getattr(error.response, "status_code", 200) == 429:
                after = retry_after_seconds(error.response.headers) or 1.0
                self.budgets.rate_limited(api_method, after, channel)
            raise


def _channel_of(kwargs: dict[str, Any]) -> str | None:
    for part in ("json", "data", "params"):
        values = kwargs.get(part)
        if isinstance(values, dict) and isinstance(values.get("channel"), str):
            return str(values["channel"])
    return None


def retry_after_seconds(headers: Any) -> float | None:
    """Slack's Retry-After header in seconds, if it sent one."""
    if not headers:
        return None
    for name, value in dict(headers).items():
        if str(name).lower() == "retry-after":
            raw = value[0] if isinstance(value, list) else value
            try:
                return max(0.0, float(str(raw).strip()))
            except ValueError:
                return None
    return None


def create_web_client(settings: Settings, budgets: Budgets | None = None) -> WebClient:
    """A WebClient on SLACK_API_URL.

    It tries a call again only when a kept-alive connection turned out to be closed (the
    request never reached Slack). Everything else is the outbox sender's to retry, with its
    backoff and Slack's Retry-After: a client that slept and retried by itself would block a
    sender's worker, spend Slack's budget twice, and retry forms, whose trigger dies in 3 s.
    """
    return BudgetedWebClient(
        token=settings.SLACK_BOT_TOKEN,
        base_url=settings.SLACK_API_URL,
        timeout=15,
        retry_handlers=[ConnectionErrorRetryHandler(max_retry_count=1)],
        budgets=budgets or Budgets(scale=settings.SLACK_RATE_SCALE),
    )
