"""Thin Slack listeners: ack → parse → call bot/ → render → send."""

from __future__ import annotations

from slack_bolt import App

from bot.services import Services
from handlers import context, middleware, polls, rooms, runsheets, sessions, summary


def register_all(app: App, services: Services) -> None:
    """Register every middleware and listener on `app`."""
    context.provide(app, services)
    # Polls first: their vote middleware answers clicks before the redelivery check, because a
    # vote recognises redeliveries in its own transaction (one database round trip, not two).
    polls.register(app, services)
    middleware.register(app, services)
    sessions.register(app, services)
    rooms.register(app, services)
    summary.register(app, services)
    runsheets.register(app, services)
