"""The fake Zoom's HTTP side: the stand-in's threaded server, taught PATCH and DELETE.

It reuses bot/standin/server.py (the fake Slack's server: keep-alive, TCP_NODELAY, a dispatch
callable per request); Slack needs only GET and POST, Zoom's REST API also PATCH and DELETE.
"""

from __future__ import annotations

from typing import Any

from bot.standin.server import Dispatch, StandInServer, _Handler


class _ZoomHandler(_Handler):
    def do_PATCH(self) -> None:  # noqa: N802 - http.server calls do_<VERB>
        """Serve PATCH calls (meeting updates)."""
        self._serve()

    def do_DELETE(self) -> None:  # noqa: N802 - http.server calls do_<VERB>
        """Serve DELETE calls (poll deletion)."""
        self._serve()

    def do_PUT(self) -> None:  # noqa: N802 - http.server calls do_<VERB>
        """Serve PUT calls (answered like any unknown path)."""
        self._serve()


class ZoomServer(StandInServer):
    """StandInServer with the Zoom verbs; a client gone before a slow answer is not an error."""

    def __init__(self, address: tuple[str, int], dispatch: Dispatch) -> None:
        """Bind address (port 0: any free port); requests go to dispatch."""
        super().__init__(address, dispatch)
        self.RequestHandlerClass = _ZoomHandler

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet when a client timed out and closed its end before the answer."""
