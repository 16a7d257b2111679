"""The pooled WebClient keeps slack_sdk's behaviour: results, errors and retries."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from urllib.error import URLError

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_interval_calculators import (
    FixedValueRetryIntervalCalculator,
)

from bot.config import load_settings
from bot.slack.client import PooledWebClient, create_web_client
from bot.standin import FakeSlack
from tests.harness.slack_limits import RATE_LIMITS


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack(rate_limits=RATE_LIMITS) as slack:
        yield slack


class _NoWait(FixedValueRetryIntervalCalculator):
    """Retry at once: tests wait on nothing."""

    def __init__(self) -> None:
        super().__init__(fixed_internal=0.0)


def _client(url: str) -> WebClient:
    client = create_web_client(
        load_settings(env_file=None, SLACK_BOT_TOKEN="xoxb-test", SLACK_API_URL=url)
    )
    for handler in client.retry_handlers:
        handler.interval_calculator = _NoWait()
    return client


def test_calls_work_and_reuse_connections(fake: FakeSlack) -> None:
    client = _client(fake.api_url)
    for number in range(5):
        assert client.chat_postMessage(channel="C1", text=f"hi {number}")["ok"]
    assert [m["text"] for m in fake.messages("C1")] == [f"hi {n}" for n in range(5)]
    assert isinstance(client, PooledWebClient)
    assert fake.connections_accepted == 1  # five calls, one connection


@pytest.mark.parametrize("status", [429, 500])
def test_rate_limits_and_server_errors_are_left_to_the_sender(fake: FakeSlack, status: int) -> None:
    client = _client(fake.api_url)
    fake.fail_next("chat.postMessage", status=status, retry_after=1)
    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel="C1", text="not now")
    assert raised.value.response.status_code == status
    assert raised.value.response.headers.get("Retry-After") == "1"
    assert len(fake.calls_to("chat.postMessage")) == 1  # tried once: the sender decides when
    assert client.chat_postMessage(channel="C1", text="later")["ok"]


def test_slack_errors_raise_as_before(fake: FakeSlack) -> None:
    client = _client(fake.api_url)
    fake.fail_next("chat.postMessage", error="invalid_auth")
    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel="C1", text="no")
    assert raised.value.response["error"] == "invalid_auth"


def test_files_upload_v2_still_works(fake: FakeSlack) -> None:
    client = _client(fake.api_url)
    result = client.files_upload_v2(channel="C1", content=b"\x89PNG", filename="c.png")
    assert result["ok"]
    assert fake.calls_to("files.completeUploadExternal")


def test_a_refused_connection_is_a_url_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = _client(f"http://127.0.0.1:{port}/api/")
    with pytest.raises(URLError):
        client.chat_postMessage(channel="C1", text="nobody home")
