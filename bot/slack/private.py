"""Answering a person privately: through their own request's `response_url` where Slack allows it.

Every slash command and click carries a `response_url`. It takes 5 posts within 30 minutes and no
method tier limits it, so a burst of 300 confirmations does not queue behind `chat.postEphemeral`'s
100 a minute. Without one, or once it is used up or expired (Slack answers 404), the answer goes by
`chat.postEphemeral` in the channel instead.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient

from bot.slack.kinds import Progress, SendLater
from storage.outbox import Pending

logger = logging.getLogger(__name__)

Blocks = list[dict[str, Any]] | None
# A row's step once its response_url answered 404: a retry goes straight to chat.postEphemeral.
STEP_URL_GONE = "response_url gone"
# What a response_url answers when it can take no more posts (used 5 times, or 30 minutes old).
_GONE = frozenset({404, 410})
UNREACHABLE = -1  # no answer at all (the address does not resolve, or refused the connection)


def answer_privately(
    client: WebClient,
    row: Pending,
    progress: Progress,
    *,
    channel: str,
    user_id: str,
    text: str,
    blocks: Blocks = None,
) -> None:
    """Send an outbox row's private answer: to its response_url, else ephemeral in `channel`.

    Raises:
        SendLater: the response_url answered 429 or 5xx (the sender tries again later).
    """
    if row.response_url and not progress.get(STEP_URL_GONE):
        status = post_to_response_url(row.response_url, text=text, blocks=blocks)
        if status == UNREACHABLE:
            logger.info("response_url for %s unreachable; sending ephemeral", row.key)
        elif status == 200:
            return
        elif status == 429 or status >= 500:
            raise SendLater(f"response_url answered HTTP {status}")
        elif status not in _GONE:
            logger.warning("response_url for %s answered %s; sending ephemeral", row.key, status)
        progress.done(STEP_URL_GONE)
    client.chat_postEphemeral(channel=channel, user=user_id, text=text, blocks=blocks)


def answer_now(
    client: WebClient,
    response_url: str | None,
    *,
    channel: str,
    user_id: str,
    text: str,
    blocks: Blocks = None,
) -> None:
    """`answer_privately` for an answer that follows from no committed change (a refusal): one
    try at each, nothing retried."""
    if response_url and post_to_response_url(response_url, text=text, blocks=blocks) == 200:
        return
    client.chat_postEphemeral(channel=channel, user=user_id, text=text, blocks=blocks)


def tell_requester(client: WebClient, row: Pending, *, user_id: str | None, text: str) -> None:
    """Tell the person whose request queued `row` something, privately: through the request's
    response_url when it had one and it answers, else in a direct message (which reaches them
    even when the bot cannot post in the channel)."""
    if row.response_url:
        status = post_to_response_url(row.response_url, text=text)
        if status == 200:
            return
        logger.warning("response_url for %s answered %s", row.key, status)
    if user_id:
        client.chat_postMessage(channel=user_id, text=text)


def post_to_response_url(url: str, *, text: str, blocks: Blocks = None) -> int:
    """Post an ephemeral answer that leaves the message it came from as it is: the HTTP status,
    or UNREACHABLE (the answer then goes through the Web API instead)."""
    try:
        # No retry handlers: slack_sdk's default sleeps half a second or more on the sender's
        # worker and tries a dead address again; the answer goes by the Web API at once instead.
        answer = WebhookClient(url, retry_handlers=[]).send(
            text=text, blocks=blocks, response_type="ephemeral", replace_original=False
        )
    except (URLError, OSError):
        return UNREACHABLE
    return int(answer.status_code)
