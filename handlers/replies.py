"""Immediate ephemeral answers every command shares: usage errors and refusals."""

from __future__ import annotations

from slack_bolt import Ack

from bot.parsing import UsageError, escape_mrkdwn
from bot.views.common import as_dicts, render_usage_error
from bot.views.sessions import render_refusal


def ack_usage(ack: Ack, error: UsageError) -> None:
    """Answer with what was wrong, the usage and an example (user text escaped)."""
    ack(text=escape_mrkdwn(error.message), blocks=as_dicts(render_usage_error(error)))


def ack_refusal(ack: Ack, message: str) -> None:
    """Answer why nothing happened; `message` is mrkdwn that is already safe."""
    ack(text=message, blocks=as_dicts(render_refusal(message)))
