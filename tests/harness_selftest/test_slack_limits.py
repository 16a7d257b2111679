"""The tests' rate scale: read from the environment, and what every test's FakeSlack gets."""

from __future__ import annotations

import pytest

from bot.standin import FakeSlack
from tests.harness import slack_limits
from tests.harness.slack_limits import RATE_LIMITS, RATE_SCALE, read_rate_scale


def test_rate_scale_comes_from_the_environment() -> None:
    """LISTENING_BOT_TEST_RATE_SCALE overrides the x20 default; junk is refused."""
    env = slack_limits.SCALE_ENV
    assert read_rate_scale({}) == 20.0
    assert read_rate_scale({env: "1"}) == 1.0
    assert read_rate_scale({env: " 2.5 "}) == 2.5
    for junk in ("fast", "0", "-3", "inf", "nan"):
        with pytest.raises(ValueError, match=env):
            read_rate_scale({env: junk})


def test_the_fixture_runs_slacks_limits_at_the_rate_scale(fake_slack: FakeSlack) -> None:
    """The fake_slack fixture enforces Slack's limits sped up by RATE_SCALE, not scale 1."""
    assert fake_slack.rate_limits == RATE_LIMITS
    assert fake_slack.rate_limits.enabled
    assert fake_slack.rate_limits.scale == RATE_SCALE
