"""One end-to-end test at Slack's real rates (×1), not the ×20 the others use: a crowd votes at
once, every confirmation arrives, live tallies stay within chat.update's budget, and the fake
Slack never answers 429 (the `fake_slack` fixture fails the test on any)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from bot.standin import FakeSlack, RateLimits
from tests.e2e.conftest import RunningBot
from tests.e2e.test_polls import _click_body, _launch, _votes

VOTERS = [f"U0REAL{n:03d}" for n in range(60)]


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    """The fake Slack at Slack's own pace (Tier 3 50 a minute, chat.postMessage 1 a second)."""
    with FakeSlack(rate_limits=RateLimits(scale=1.0)) as slack:
        yield slack
        slack.assert_no_violations()
        assert slack.rate_limited() == 0, "the bot was answered 429: it went past Slack's limits"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """The bot plans at the real rates too."""
    return {"SLACK_RATE_SCALE": 1}


def test_a_crowd_voting_at_real_rates_gets_every_confirmation_and_no_429(
    bot: RunningBot,
) -> None:
    message = _launch(bot)

    def vote(numbered: tuple[int, str]) -> int:
        number, user = numbered
        return bot.sender.action(_click_body(message, number % 2, user)).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        assert set(pool.map(vote, enumerate(VOTERS))) == {200}
    assert _votes(bot) == sorted((user, n % 2) for n, user in enumerate(VOTERS))
    # 60 confirmations in a few seconds: chat.postEphemeral (Tier 4) would allow about 100 a
    # minute with a short burst; each click's own response_url is not limited by a tier.
    replies = bot.slack.wait_for_private_replies(count=len(VOTERS), timeout=10)
    assert {bot.slack.recipient(reply) for reply in replies} == set(VOTERS)
    assert {reply.method for reply in replies} == {"response_url"}
    assert bot.services.outbox.wait_idle(timeout=10)
    # Live tallies are coalesced: a handful of chat.update calls, not one per vote.
    updates = [c for c in bot.slack.calls_to("chat.update") if c.args.get("ts") == message["ts"]]
    assert 1 <= len(updates) <= 5
