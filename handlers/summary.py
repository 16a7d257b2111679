"""`/summary` listener: ack → parse → queue the interim summary (the outbox sender posts it)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext

from bot.parsing import UsageError
from bot.results import Refusal
from bot.services import Services
from bot.summaries import SUMMARY_SPEC, SummaryHelp, parse_summary_command
from bot.views.common import as_dicts
from bot.views.summary import render_summary_help
from handlers.context import services_of
from handlers.middleware import DELIVERY_KEY
from handlers.replies import ack_refusal, ack_usage


def handle_summary_command(ack: Ack, command: dict[str, Any], context: BoltContext) -> None:
    """`/summary` (facilitators): post an interim summary of the channel's session."""
    request = parse_summary_command(command.get("text", ""))
    if isinstance(request, SummaryHelp):
        ack(text=f"Usage: {SUMMARY_SPEC.usage}", blocks=as_dicts(render_summary_help()))
        return
    if isinstance(request, UsageError):
        ack_usage(ack, request)
        return
    services = services_of(context)
    session = services.sessions.controlled_session(
        channel_id=command["channel_id"], user_id=command["user_id"]
    )
    if isinstance(session, Refusal):
        ack_refusal(ack, session.message)
        return
    assert session.id is not None
    if not services.summaries.request_interim(
        session_id=session.id, delivery_key=context.get(DELIVERY_KEY)
    ):
        ack()  # a redelivery: the summary is already on its way
        return
    ack(text=":hourglass_flowing_sand: Posting an interim summary…")


def register(app: App, services: Services) -> None:
    """Register `/summary`."""
    app.command("/summary")(handle_summary_command)
