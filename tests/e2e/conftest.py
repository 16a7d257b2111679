"""The real bot in HTTP mode on a loopback port, talking to a fake Slack Web API."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

from bot.bootstrap import create_app, create_services
from bot.clock import FixedClock
from bot.config import Settings, load_settings
from bot.rehearsal.serving import ServerThread
from bot.server import create_web_app
from bot.services import Services
from bot.standin import FakeSlack, SlackSender, payloads
from bot.standin.zoom import FakeZoom
from tests.harness.slack_limits import RATE_LIMITS, RATE_SCALE

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BOT_TOKEN = "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy"
CHANNEL = "C0SESSION"
FACILITATOR = "U0FACIL"
PARTICIPANT = "U0PART1"


def all_text(value: Any) -> str:
    """Every string inside a payload."""
    return json.dumps(value, ensure_ascii=False)


def mrkdwn(value: Any) -> list[str]:
    """Every mrkdwn text in blocks (where Slack turns <…> into pings and links)."""
    found: list[str] = []
    if isinstance(value, dict):
        if value.get("type") == "mrkdwn":
            found.append(str(value["text"]))
        for item in value.values():
            found.extend(mrkdwn(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(mrkdwn(item))
    return found


def ack_text(response: requests.Response) -> str:
    """The text of an ephemeral ack."""
    assert response.status_code == 200, response.text
    return all_text(response.json())


@dataclass
class RunningBot:
    """The bot under test with the fake Slack it talks to, and ways to act as Slack users."""

    url: str
    slack: FakeSlack
    sender: SlackSender
    services: Services
    clock: FixedClock
    responses: list[str] = field(default_factory=list)

    def command(
        self,
        command: str,
        text: str,
        *,
        user: str = FACILITATOR,
        channel: str = CHANNEL,
        retry_num: int | None = None,
        payload: dict[str, Any] | None = None,
    ) -> requests.Response:
        """Type a slash command as `user` in `channel`."""
        body = payload or self.command_payload(command, text, user=user, channel=channel)
        return self.sender.command(body, retry_num=retry_num)

    def command_payload(
        self, command: str, text: str, *, user: str = FACILITATOR, channel: str = CHANNEL
    ) -> dict[str, Any]:
        """A slash command payload with a response_url on the fake Slack."""
        name = uuid.uuid4().hex
        self.responses.append(name)
        return payloads.slash_command(
            command,
            text,
            user_id=user,
            channel_id=channel,
            response_url=self.slack.response_url(name, channel=channel, user=user),
        )

    def click(
        self,
        action_id: str,
        value: str,
        *,
        user: str = PARTICIPANT,
        channel: str = CHANNEL,
        message_ts: str | None = None,
        block_id: str = "session_actions",
    ) -> requests.Response:
        """Click a button in a channel message."""
        body = payloads.block_action(
            user_id=user,
            channel_id=channel,
            action_id=action_id,
            block_id=block_id,
            value=value,
            message_ts=message_ts,
        )
        return self.sender.action(body)


class ClickSender(SlackSender):
    """Sends clicks as Slack does, each with a response_url of its own (here on the fake Slack,
    tied to the person who clicked, so `FakeSlack.private_replies(user)` finds what they were
    told); a redelivered click keeps its click's response_url."""

    def __init__(self, url: str, slack: FakeSlack) -> None:
        super().__init__(url, SIGNING_SECRET)
        self.slack = slack
        self._given: dict[str, str] = {}

    def action(self, payload: Mapping[str, Any], **options: Any) -> requests.Response:
        """Send a block_actions payload, its unreachable default response_url replaced."""
        url = str(payload.get("response_url") or "")
        if url.startswith("https://hooks.slack.invalid/"):
            name = "click-" + uuid.uuid5(uuid.NAMESPACE_URL, url).hex
            channel = (payload.get("channel") or {}).get("id")
            user = (payload.get("user") or {}).get("id")
            if name not in self._given:
                self._given[name] = self.slack.response_url(name, channel=channel, user=user)
            payload = {**payload, "response_url": self._given[name]}
        return super().action(payload, **options)


def bot_settings(slack: FakeSlack, database_url: str, **overrides: Any) -> Settings:
    """Settings pointing the bot at the fake Slack and a test database."""
    values: dict[str, Any] = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "DATABASE_URL": database_url,
        # The bot plans within Slack's limits at the speed the fake enforces them.
        "SLACK_RATE_SCALE": RATE_SCALE,
    }
    values.update(overrides)
    return load_settings(env_file=None, **values)


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    """A fake Slack Web API enforcing Slack's rate limits (scaled); a Block Kit violation, or a
    429 of the fake's own (the bot went past a limit it should plan within), fails the test."""
    with FakeSlack(rate_limits=RATE_LIMITS) as slack:
        yield slack
        slack.assert_no_violations()
        assert slack.rate_limited() == 0, "the bot was answered 429: it went past Slack's limits"


@pytest.fixture
def slack(fake_slack: FakeSlack) -> FakeSlack:
    """The same fake Slack, by its short name (process-level tests)."""
    return fake_slack


@pytest.fixture
def fake_zoom() -> Iterator[FakeZoom]:
    """A fake Zoom API and OAuth endpoint on loopback (see tests/e2e/zoom_helpers.py)."""
    with FakeZoom() as zoom:
        yield zoom


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Extra settings for a test module (override this fixture)."""
    return {}


@pytest.fixture
def bot(
    fake_slack: FakeSlack,
    migrated_sqlite_url: str,
    clock: FixedClock,
    settings_overrides: dict[str, Any],
) -> Iterator[RunningBot]:
    """The real app in HTTP mode on a loopback port, on a real SQLite file."""
    settings = bot_settings(fake_slack, migrated_sqlite_url, **settings_overrides)
    with running_bot(settings, fake_slack, clock) as running:
        yield running


@contextmanager
def running_bot(
    settings: Settings, slack: FakeSlack, clock: FixedClock, *, socket_mode: bool = False
) -> Iterator[RunningBot]:
    """The real app served over loopback HTTP (built for Socket Mode if asked: then it gets no
    webhooks and polls Zoom instead), stopped afterwards."""
    services = create_services(settings, clock=clock, socket_mode=socket_mode)
    app = create_app(services)
    services.start_background()
    server = ServerThread(create_web_app(app, services))
    url = server.start()
    try:
        yield RunningBot(
            url=url,
            slack=slack,
            sender=ClickSender(url, slack),
            services=services,
            clock=clock,
        )
    finally:
        server.stop()
        services.stop_background()


@pytest.fixture
def cli_env(bot: RunningBot, monkeypatch: pytest.MonkeyPatch) -> None:
    """The command line on the running bot's database."""
    monkeypatch.setenv("DATABASE_URL", bot.services.settings.DATABASE_URL)
