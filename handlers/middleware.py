"""Global middleware: recognise Slack's redeliveries so they change nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext, BoltResponse

from bot.services import Services
from handlers.context import services_of

DELIVERY_KEY = "delivery_key"


def delivery_key(body: dict[str, Any]) -> str | None:
    """A key that is the same for every redelivery of one user action, and differs otherwise.

    Slack redelivers the identical body (same trigger_id or event_id) with X-Slack-Retry-Num,
    or as a Socket Mode envelope with a retry_attempt.
    """
    if event_id := body.get("event_id"):
        return f"event:{event_id}"
    if trigger_id := body.get("trigger_id"):
        kind = body.get("type") or "command"
        return f"{kind}:{trigger_id}"
    return None


def skip_redeliveries(
    body: dict[str, Any],
    context: BoltContext,
    ack: Ack,
    next: Callable[[], None],
) -> BoltResponse | None:
    """Put the delivery key on the context; answer a redelivery of done work and stop there."""
    key = delivery_key(body)
    context[DELIVERY_KEY] = key
    if services_of(context).sessions.already_done(key):
        # Already committed: answer Slack so it stops retrying, and do nothing else.
        ack()
        return BoltResponse(status=200, body="")
    next()
    return None


def register(app: App, services: Services) -> None:
    """Add the redelivery check in front of every listener."""
    app.use(skip_redeliveries)
