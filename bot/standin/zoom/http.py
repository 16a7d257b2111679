"""The fake Zoom's HTTP side: the stand-in's threaded server (bot/standin/server.py: keep-alive,
TCP_NODELAY, a dispatch callable per request, GET/POST/PATCH/DELETE)."""

from __future__ import annotations

from typing import Any

from bot.standin.server import Dispatch, StandInServer


class ZoomServer(StandInServer):
    """StandInServer with the Zoom verbs; a client gone before a slow answer is not an error."""

    def __init__(self, address: tuple[str, int], dispatch: Dispatch) -> None:
        """Bind address (port 0: any free port); requests go to dispatch."""
        super().__init__(address, dispatch)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet when a client timed out and closed its end before the answer."""
