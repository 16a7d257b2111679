"""HTTP mode: a Starlette app served by uvicorn, with Slack, Zoom and health endpoints."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.services import Services
from bot.zoom.webhook import ZoomWebhook
from storage import outbox

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1_000_000  # Slack payloads are far smaller; refuse anything absurd early
# How long an idle keep-alive connection stays open. uvicorn's default (5 s) is shorter than a
# load balancer's idle timeout (AWS ALB 60 s, nginx 75 s): the balancer would reuse a connection
# the bot is closing and the request in flight would be dropped. Longer than theirs, as advised.
KEEP_ALIVE_SECONDS = 90


def create_web_app(bolt_app: App, services: Services) -> Starlette:
    """The ASGI app: POST /slack/events, POST /zoom/webhook, GET /healthz."""
    zoom = services.zoom_webhook or ZoomWebhook(
        services.settings.ZOOM_WEBHOOK_SECRET_TOKEN, services.clock
    )

    async def slack_events(request: Request) -> Response:
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return Response("payload too large", status_code=413)
        bolt_request = to_bolt_request(request, body)
        # Bolt's sync dispatch blocks until ack(); run it off the event loop so one slow
        # listener never holds up the others.
        bolt_response = await run_in_threadpool(bolt_app.dispatch, bolt_request)
        return to_starlette_response(bolt_response)

    async def zoom_webhook(request: Request) -> Response:
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return Response("payload too large", status_code=413)
        # Its event handlers write to the database: off the event loop, like Slack's.
        status, payload = await run_in_threadpool(zoom.handle, body, dict(request.headers))
        return JSONResponse(payload, status_code=status)

    def health() -> tuple[int, dict[str, Any]]:
        replica = {"replica": services.replica, "leader": services.is_leader()}
        try:
            with services.db.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            with services.db.read() as db:
                oldest = outbox.oldest_unsent(db)
        except Exception:
            logger.exception("health check: database unreachable")
            return 503, {"ok": False, "database": "unreachable", **replica}
        # How long the oldest post still waiting has waited, by the bot's clock.
        age = None if oldest is None else (services.clock.now() - oldest).total_seconds()
        return 200, {"ok": True, "database": "ok", **replica, "oldest_unsent_seconds": age}

    async def healthz(_request: Request) -> Response:
        status, body = await run_in_threadpool(health)
        return JSONResponse(body, status_code=status)

    return Starlette(
        routes=[
            Route("/slack/events", slack_events, methods=["POST"]),
            Route("/zoom/webhook", zoom_webhook, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ]
    )
