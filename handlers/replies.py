"""Ephemeral answers every command shares: usage errors, refusals, private replies."""

from __future__ import annotations

from collections.abc import Callable

from slack_bolt import Ack, Respond

from bot.parsing import UsageError, escape_mrkdwn
from bot.views.common import as_dicts, render_usage_error
from bot.views.sessions import render_refusal


def ack_usage(ack: Ack, error: UsageError) -> None:
    """Answer with what was wrong, the usage and an example (user text escaped)."""
    ack(text=escape_mrkdwn(error.message), blocks=as_dicts(render_usage_error(error)))


def ack_refusal(ack: Ack, message: str) -> None:
    """Answer why nothing happened; `message` is mrkdwn that is already safe."""
    ack(text=message, blocks=as_dicts(render_refusal(message)))


def privately(respond: Respond) -> Callable[[str], object]:
    """Say something to the person behind a request, through its own response_url."""
    return lambda text: respond(text=text, response_type="ephemeral", replace_original=False)
