"""Pytest fixtures wiring the fakes together (pytest_plugins = ["tests.harness.fixtures"])."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk import WebClient

from bot.standin import FakeSlack
from tests.harness.fake_socket_mode import FakeSocketMode
from tests.harness.slack_limits import RATE_LIMITS

BOT_TOKEN = "xoxb-fake-bot-token"
APP_TOKEN = "xapp-1-A0001-1-fake"
SIGNING_SECRET = "fake-signing-secret"


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    """A running FakeSlack; the test fails afterwards if any Block Kit violation was seen."""
    with FakeSlack(rate_limits=RATE_LIMITS) as fake:
        yield fake
        fake.assert_no_violations()


@pytest.fixture
def fake_socket_mode(fake_slack: FakeSlack) -> Iterator[FakeSocketMode]:
    """A FakeSocketMode that apps.connections.open points at; fails on late/invalid acks."""
    with FakeSocketMode() as socket_mode:
        fake_slack.socket_mode_url = socket_mode.url
        yield socket_mode
        socket_mode.assert_no_violations()


@pytest.fixture
def slack_web_client(fake_slack: FakeSlack) -> WebClient:
    """A real WebClient talking to fake_slack with a bot token."""
    return WebClient(token=BOT_TOKEN, base_url=fake_slack.api_url)
