"""The stand-in's HTTP side: a threaded server on 127.0.0.1, its handler and body parsing.

The server knows nothing of Slack: each request goes to a `Dispatch` callable (FakeSlack's
router), which returns the `Answer` to write back.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# Form bodies carry these fields as JSON strings (slack_sdk json.dumps them before urlencoding).
JSON_FIELDS = frozenset(
    {"blocks", "attachments", "view", "files", "metadata", "options", "option_groups"}
)


@dataclass
class Answer:
    """What to write back: status, body, content type and extra headers."""

    status: int
    body: bytes
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


def json_answer(data: dict[str, Any], status: int = 200, **headers: str) -> Answer:
    """Build a JSON answer the way Slack serialises it."""
    return Answer(status, json.dumps(data).encode(), headers=dict(headers))


def text_answer(text: str, status: int = 200) -> Answer:
    """Build a plain-text answer (response_url and upload endpoints answer in text)."""
    return Answer(status, text.encode(), content_type="text/plain; charset=utf-8")


# verb, path (with query), lower-cased headers, body -> the answer
Dispatch = Callable[[str, str, dict[str, str], bytes], Answer]


class StandInServer(ThreadingHTTPServer):
    """A ThreadingHTTPServer that hands every request to `dispatch` and tracks connections."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], dispatch: Dispatch) -> None:
        """Bind address (port 0: any free port); requests go to dispatch."""
        super().__init__(address, _Handler)
        self.dispatch = dispatch
        self.accepted = 0  # TCP connections taken, to check that clients keep theirs open
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        """Count the connection and remember it, so stopping can close it."""
        with self._open_lock:
            self.accepted += 1
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        """Forget a connection its handler has finished with."""
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Drop every kept-alive connection, as a server going away does."""
        with self._open_lock:
            connections = list(self._open)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    server: StandInServer
    # Keep-alive, as Slack's own servers answer: a client that pools connections reuses them.
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        """Send each write at once, as Slack's servers do: with Nagle's algorithm on, the body
        written after the headers waits for the client's delayed ACK (40 ms a response)."""
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        """Silence per-request stderr logging (pytest shows failures on its own)."""

    def do_GET(self) -> None:
        """Serve GET Web API calls (slack_sdk uses GET for a few read methods)."""
        self._serve()

    def do_POST(self) -> None:
        """Serve POST Web API, upload and response_url calls."""
        self._serve()

    # Zoom's REST API also updates and deletes (meetings, polls); Slack's never sends these.
    def do_PATCH(self) -> None:
        """Serve PATCH calls."""
        self._serve()

    def do_DELETE(self) -> None:
        """Serve DELETE calls."""
        self._serve()

    def do_PUT(self) -> None:
        """Serve PUT calls (answered like any unknown path)."""
        self._serve()

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            answer = self.server.dispatch(self.command, self.path, headers, body)
        except Exception as exc:  # a stand-in bug must surface as a 500, not a hung client
            answer = json_answer({"ok": False, "error": f"fake_slack_bug: {exc!r}"}, 500)
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(answer.body)))
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(answer.body)


def parse_multipart(body: bytes, content_type: str) -> dict[str, Any]:
    """Parse a multipart/form-data body into fields (files become bytes)."""
    message: Message = BytesParser().parsebytes(
        f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode() + body
    )
    fields: dict[str, Any] = {}
    for part in message.walk():
        if part.is_multipart():
            continue
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        fields[name] = data if part.get_filename() else data.decode("utf-8", "replace")
    return fields


def decode_json_fields(args: dict[str, Any]) -> dict[str, Any]:
    """Turn JSON-string fields of form bodies back into structures."""
    for key in JSON_FIELDS & set(args):
        value = args[key]
        if isinstance(value, str):
            # A malformed value stays as sent; validation then reports it.
            with contextlib.suppress(ValueError):
                args[key] = json.loads(value)
    return args
