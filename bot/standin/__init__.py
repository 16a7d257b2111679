"""A local stand-in for Slack: its Web API over HTTP, with Slack's limits, and Slack's requests.

One implementation serves `listening-bot rehearse` and the tests:

- `FakeSlack` (slack.py) answers the Web API, file uploads and response_urls on 127.0.0.1,
  validates Block Kit (blockkit.py) and enforces Slack's documented rate limits (limits.py).
- `payloads` and `events` build what Slack sends an app; `SlackSender` (sender.py) signs and
  posts it.

It knows nothing of the bot (an import-linter contract holds that): it plays Slack.
"""

from bot.standin.blockkit import MAX_MESSAGE_BLOCKS, MAX_VIEW_BLOCKS, validate_blocks, validate_view
from bot.standin.limits import (
    METHOD_TIER,
    POST_MESSAGE_PER_CHANNEL,
    RESPONSE_URL_USES,
    RESPONSE_URL_WINDOW,
    TIERS,
    UNLIMITED,
    RateLimits,
    Tier,
    TokenBucket,
    retry_after_seconds,
)
from bot.standin.sender import SignatureMode, SlackSender, sign
from bot.standin.slack import FakeSlack
from bot.standin.state import Call
from bot.standin.workspace import (
    APP_ID,
    BOT_ID,
    BOT_NAME,
    BOT_USER_ID,
    TEAM_DOMAIN,
    TEAM_ID,
    TEAM_NAME,
)

__all__ = [
    "APP_ID",
    "BOT_ID",
    "BOT_NAME",
    "BOT_USER_ID",
    "MAX_MESSAGE_BLOCKS",
    "MAX_VIEW_BLOCKS",
    "METHOD_TIER",
    "POST_MESSAGE_PER_CHANNEL",
    "RESPONSE_URL_USES",
    "RESPONSE_URL_WINDOW",
    "TEAM_DOMAIN",
    "TEAM_ID",
    "TEAM_NAME",
    "TIERS",
    "UNLIMITED",
    "Call",
    "FakeSlack",
    "RateLimits",
    "SignatureMode",
    "SlackSender",
    "Tier",
    "TokenBucket",
    "retry_after_seconds",
    "sign",
    "validate_blocks",
    "validate_view",
]
