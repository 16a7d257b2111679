"""The rehearsal's HTTP server keeps idle connections longer than the rehearsal ever waits."""

from __future__ import annotations

import requests
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from bot.rehearsal.serving import WAIT, ServerThread
from bot.server import KEEP_ALIVE_SECONDS


def test_a_connection_idle_for_the_longest_wait_is_still_open() -> None:
    # uvicorn's default keep-alive (5 s) closed a connection the rehearsal's client was just
    # reusing after a long wait, and that click was dropped ("Remote end closed connection").
    assert KEEP_ALIVE_SECONDS > WAIT
    app = Starlette(routes=[Route("/", lambda _request: PlainTextResponse("ok"))])
    server = ServerThread(app)
    url = server.start()
    try:
        assert server.server.config.timeout_keep_alive == KEEP_ALIVE_SECONDS
        with requests.Session() as session:
            first = session.get(url, timeout=5)
            assert first.headers.get("connection", "keep-alive").lower() != "close"
            assert session.get(url, timeout=5).text == "ok"
    finally:
        server.stop()
