"""A bot served on a loopback port in a thread (the rehearsal, and the end-to-end tests), and
waiting for what it does."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import uvicorn

from bot.rehearsal.options import RehearsalError
from bot.server import KEEP_ALIVE_SECONDS

WAIT = 60.0  # real seconds any one thing may take before the rehearsal gives up


class ServerThread:
    """uvicorn serving the bot on a free loopback port, in a thread."""

    def __init__(self, app: Any) -> None:
        # Keep-alive outlasts any wait of the rehearsal (WAIT), so the client never reuses a
        # connection the server is closing at that moment (the request would be dropped).
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=0,
            log_level="warning",
            lifespan="off",
            timeout_keep_alive=KEEP_ALIVE_SECONDS,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="rehearsal-http", daemon=True)

    def start(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + WAIT
        while not (self.server.started and self.server.servers):
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RehearsalError("the bot's HTTP server did not start")
            time.sleep(0.01)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def wait_until(condition: Callable[[], object], what: str, timeout: float = WAIT) -> Any:
    """Wait (polling every 10 ms) until `condition()` is truthy, and return it."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise RuntimeError(f"the rehearsal waited {timeout:g}s for {what}")
        time.sleep(0.01)
