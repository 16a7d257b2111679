"""A stand-in for Slack's Socket Mode WebSocket server on 127.0.0.1.

Like Slack, it keeps every connection the app opens (one per process, up to 10) and spreads
the envelopes over them round-robin, each envelope to exactly one connection; it records which
connection each envelope went to and which connection acked it. Connections are numbered
1, 2, ... in the order they were accepted (reconnects get new numbers).
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
import time
import uuid
from http import HTTPStatus
from types import TracebackType
from typing import Any

from slack_sdk.socket_mode.builtin import SocketModeClient
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.sync.server import Server, ServerConnection, serve

from bot.standin import APP_ID, validate_blocks, validate_view

ACK_DEADLINE_SECONDS = 3.0  # Slack's, for handlers run in the test's own process
# For a bot in processes of its own (tests/e2e/test_replicas_socket.py): on a loaded two-core
# machine the processes and the test share the cores, so an ack the app sends at once can be
# read here after more than 3 s. A late ack is still a violation, at twice Slack's deadline.
SUBPROCESS_ACK_DEADLINE_SECONDS = 6.0
MAX_CONNECTIONS = 10  # "Your app can have up to 10 open WebSocket connections at the same time"

# Slack only asks for an ack payload where the ack can carry one (slash command replies,
# view_submission response_action, block_suggestion options); everything else is fire-and-ack.
_PAYLOAD_ACCEPTING_INTERACTIONS = frozenset({"view_submission", "block_suggestion"})


def _accepts_response_payload(envelope_type: str, payload: dict[str, Any]) -> bool:
    """What Slack sets accepts_response_payload to for this envelope."""
    if envelope_type == "slash_commands":
        return True
    if envelope_type == "interactive":
        return payload.get("type") in _PAYLOAD_ACCEPTING_INTERACTIONS
    return False


class FakeSocketMode:
    """Socket Mode server: sends hello and envelopes, collects the client's acks."""

    def __init__(
        self,
        *,
        app_id: str = APP_ID,
        send_hello: bool = True,
        ack_deadline: float = ACK_DEADLINE_SECONDS,
    ) -> None:
        """Configure the hello message and how late an ack may be before it is a violation."""
        self.app_id = app_id
        self.send_hello = send_hello
        self.ack_deadline = ack_deadline
        self.received: list[dict[str, Any]] = []
        self.violations: list[str] = []
        self._cond = threading.Condition()
        self._acks: dict[str, dict[str, Any]] = {}
        self._sent_at: dict[str, float] = {}
        # Open connections by number, in the order they were accepted.
        self._open: dict[int, ServerConnection] = {}
        # Connections asked to refresh: no new envelopes; closed when a new connection opens.
        self._retiring: list[int] = []
        self._closing: set[int] = set()  # retiring connections already being closed
        self._next_turn = 0  # round-robin position over the connections taking envelopes
        self._delivered: dict[str, int] = {}  # envelope_id -> the connection it was sent on
        self._acked_on: dict[str, list[int]] = {}  # envelope_id -> connections its acks came on
        self._connection_count = 0
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        # websockets logs client drops at ERROR; the builtin client never sends a close frame.
        self._logger = logging.getLogger(f"{__name__}.server")
        self._logger.setLevel(logging.CRITICAL)

    # -- lifecycle -----------------------------------------------------------

    def start(self) -> FakeSocketMode:
        """Bind a free port on 127.0.0.1 and serve connections in background threads."""
        if self._server is not None:
            return self
        # Server pings are off: Slack's cadence is irrelevant here and the client pings us anyway.
        self._server = serve(
            self._handle,
            "127.0.0.1",
            0,
            process_request=self._check_path,
            compression=None,
            ping_interval=None,
            logger=self._logger,
        )
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Close open connections and the listening socket."""
        if self._server is None:
            return
        self._server.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> FakeSocketMode:
        """Start the server for a with-block."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the server at the end of a with-block."""
        self.stop()

    @property
    def port(self) -> int:
        """The bound TCP port."""
        if self._server is None:
            raise RuntimeError("FakeSocketMode is not started")
        return int(self._server.socket.getsockname()[1])

    @property
    def url(self) -> str:
        """The ws:// URL to hand out from apps.connections.open."""
        return f"ws://127.0.0.1:{self.port}/link"

    @property
    def connected(self) -> bool:
        """Whether a client connection is currently open."""
        with self._cond:
            return bool(self._open)

    @property
    def open_connections(self) -> list[int]:
        """The numbers of the connections open now, oldest first."""
        with self._cond:
            return list(self._open)

    @property
    def connection_count(self) -> int:
        """How many WebSocket connections were accepted so far (reconnects included)."""
        with self._cond:
            return self._connection_count

    # -- waiting ----------------------------------------------------------------

    def wait_connected(self, timeout: float = 5.0, *, count: int = 1) -> None:
        """Block until a client is connected and count connections were accepted in total."""
        with self._cond:
            if not self._cond.wait_for(
                lambda: bool(self._open) and self._connection_count >= count, timeout
            ):
                raise AssertionError(
                    f"no Socket Mode connection #{count} within {timeout}s "
                    f"(accepted {self._connection_count}, open: {bool(self._open)})"
                )

    def wait_open_connections(self, count: int, timeout: float = 5.0) -> list[int]:
        """Block until at least count connections are open at once; returns their numbers."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self._open) >= count, timeout):
                raise AssertionError(
                    f"{len(self._open)} Socket Mode connections open after {timeout}s, "
                    f"not {count} (accepted {self._connection_count})"
                )
            return list(self._open)

    def wait_disconnected(self, timeout: float = 5.0) -> None:
        """Block until no client connection is open."""
        with self._cond:
            if not self._cond.wait_for(lambda: not self._open, timeout):
                raise AssertionError(f"Socket Mode client still connected after {timeout}s")

    # -- sending ----------------------------------------------------------------

    def send_envelope(
        self,
        type: str,
        payload: dict[str, Any],
        *,
        retry_attempt: int = 0,
        retry_reason: str = "",
        accepts_response_payload: bool | None = None,
        timeout: float = 5.0,
    ) -> dict[str, Any]:
        """Send an envelope and block until the client acks it; returns the ack message."""
        envelope_id = self.send_envelope_nowait(
            type,
            payload,
            retry_attempt=retry_attempt,
            retry_reason=retry_reason,
            accepts_response_payload=accepts_response_payload,
            timeout=timeout,
        )
        return self.wait_ack(envelope_id, timeout=timeout)

    def send_envelope_nowait(
        self,
        type: str,
        payload: dict[str, Any],
        *,
        retry_attempt: int = 0,
        retry_reason: str = "",
        accepts_response_payload: bool | None = None,
        timeout: float = 5.0,
    ) -> str:
        """Send an envelope without waiting for the ack; returns its envelope_id."""
        envelope_id = str(uuid.uuid4())
        if accepts_response_payload is None:
            accepts_response_payload = _accepts_response_payload(type, payload)
        envelope: dict[str, Any] = {
            "envelope_id": envelope_id,
            "payload": payload,
            "type": type,
            "accepts_response_payload": accepts_response_payload,
        }
        if type == "events_api":
            # Only Events API envelopes carry retry fields; Bolt maps them to X-Slack-Retry-*.
            envelope["retry_attempt"] = retry_attempt
            envelope["retry_reason"] = retry_reason
        self.send_raw(envelope, timeout=timeout)
        # The deadline counts from the send (not from waiting for a connection to send it on).
        # An ack that came in before this point was not late.
        with self._cond:
            if envelope_id not in self._acks:
                self._sent_at[envelope_id] = time.monotonic()
        return envelope_id

    def delivered_on(self, envelope_id: str) -> int:
        """The number of the connection envelope_id was sent on."""
        with self._cond:
            return self._delivered[envelope_id]

    def acked_on(self, envelope_id: str) -> list[int]:
        """The numbers of the connections an ack for envelope_id came on, one per ack."""
        with self._cond:
            return list(self._acked_on.get(envelope_id, []))

    @property
    def deliveries(self) -> dict[str, int]:
        """Every envelope sent so far: envelope_id -> the connection it went to."""
        with self._cond:
            return dict(self._delivered)

    def wait_ack(self, envelope_id: str, *, timeout: float = 5.0) -> dict[str, Any]:
        """Block until the client acknowledged envelope_id; returns the ack message."""
        with self._cond:
            if not self._cond.wait_for(lambda: envelope_id in self._acks, timeout):
                raise AssertionError(
                    f"no ack for envelope {envelope_id} within {timeout}s; "
                    f"client sent: {json.dumps(self.received)[:1000]}"
                )
            return self._acks[envelope_id]

    def assert_no_violations(self) -> None:
        """Fail if an ack was late or carried an invalid view/blocks payload."""
        with self._cond:
            if self.violations:
                raise AssertionError(
                    "Socket Mode violations:\n" + "\n".join(f"- {v}" for v in self.violations)
                )

    def send_raw(
        self, message: dict[str, Any] | str, *, timeout: float = 5.0, connection: int | None = None
    ) -> int:
        """Send any message (dict as JSON) to one client connection; returns its number.

        Without `connection`, the open connections not asked to refresh take turns
        (round-robin); if all of them were asked to refresh, the newest open one gets it.
        """
        self.wait_connected(timeout)
        text = message if isinstance(message, str) else json.dumps(message)
        envelope_id = message.get("envelope_id") if isinstance(message, dict) else None
        with self._cond:
            number = self._pick(connection)
            target = self._open[number]
            if isinstance(envelope_id, str):
                self._delivered[envelope_id] = number
        target.send(text)
        return number

    def _pick(self, connection: int | None) -> int:
        """The connection the next message goes to (called with the lock held)."""
        if connection is not None:
            if connection not in self._open:
                raise AssertionError(f"Socket Mode connection #{connection} is not open")
            return connection
        if not self._open:
            raise AssertionError("Socket Mode client disconnected before send")
        taking = [n for n in self._open if n not in self._retiring]
        if not taking:
            return max(self._open)
        number = taking[self._next_turn % len(taking)]
        self._next_turn += 1
        return number

    def send_disconnect(
        self, reason: str = "refresh_requested", *, connection: int | None = None
    ) -> None:
        """Ask a client (the newest connection unless told) to reconnect; its old connection
        gets no more envelopes and is closed once a new connection opens."""
        self.wait_connected()
        with self._cond:
            number = connection if connection is not None else max(self._open)
            self._retiring.append(number)
        self.send_raw(
            {
                "type": "disconnect",
                "reason": reason,
                "debug_info": {"host": "applink-fake-1"},
            },
            connection=number,
        )

    def drop(self, connection: int | None = None) -> None:
        """Close a connection (the newest unless told) from the server side (1001 going away)."""
        with self._cond:
            number = connection if connection is not None else max(self._open, default=None)
            target = self._open.get(number) if number is not None else None
        if target is not None:
            target.close(1001, "going away")

    # -- server callbacks -------------------------------------------------------------

    def _check_path(self, connection: ServerConnection, request: Request) -> Response | None:
        """Reject handshakes that are not for /link (the builtin client sends /link?)."""
        if not request.path.startswith("/link"):
            return connection.respond(HTTPStatus.NOT_FOUND, "not found\n")
        return None

    def _handle(self, connection: ServerConnection) -> None:
        """Serve one client connection until it closes."""
        with self._cond:
            full = len(self._open) >= MAX_CONNECTIONS
        if full:
            connection.close(1008, "too many connections")
            return
        with self._cond:
            retiring = None
            waiting = [n for n in self._retiring if n not in self._closing]
            if waiting:
                self._closing.add(waiting[0])
                retiring = self._open.get(waiting[0])
            self._connection_count += 1
            number = self._connection_count
            self._open[number] = connection
            open_now = len(self._open)
            self._cond.notify_all()
        if retiring is not None:
            # Slack closes the refreshed connection; the builtin client otherwise blocks ~3 s
            # in recv() on the old socket while swapping. close() waits for the client, so
            # it runs off this handler thread.
            threading.Thread(target=retiring.close, args=(1001, "refresh"), daemon=True).start()
        try:
            if self.send_hello:
                connection.send(
                    json.dumps(
                        {
                            "type": "hello",
                            "num_connections": open_now,
                            "debug_info": {
                                "host": "applink-fake-1",
                                "build_number": number,
                                "approximate_connection_time": 18060,
                            },
                            "connection_info": {"app_id": self.app_id},
                        }
                    )
                )
            for raw in connection:
                self._on_message(raw, number)
        except ConnectionClosed:
            pass  # the builtin client closes the TCP socket without a close frame
        finally:
            with self._cond:
                self._open.pop(number, None)
                if number in self._retiring:
                    self._retiring.remove(number)
                self._closing.discard(number)
                self._cond.notify_all()

    def _on_message(self, raw: str | bytes, number: int) -> None:
        """Record a client message and resolve the ack it carries."""
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        try:
            message = json.loads(text)
        except ValueError:
            message = {"_raw": text}
        if not isinstance(message, dict):
            message = {"_raw": message}
        with self._cond:
            self.received.append(message)
            envelope_id = message.get("envelope_id")
            if isinstance(envelope_id, str):
                self._check_ack(envelope_id, message)
                self._acks[envelope_id] = message
                self._acked_on.setdefault(envelope_id, []).append(number)
            self._cond.notify_all()

    def _check_ack(self, envelope_id: str, message: dict[str, Any]) -> None:
        """Record late acks and ack payloads Slack would reject (called with the lock held)."""
        sent_at = self._sent_at.get(envelope_id)
        if sent_at is not None:
            elapsed = time.monotonic() - sent_at
            if elapsed > self.ack_deadline:
                # Slack shows the user an error (and retries events) after 3 s without an ack.
                self.violations.append(f"envelope {envelope_id}: acked after {elapsed:.2f}s")
        payload = message.get("payload")
        if not isinstance(payload, dict):
            return
        errors: list[str] = []
        if "view" in payload:
            errors.extend(validate_view(payload["view"], pointer="/payload/view"))
        if "blocks" in payload:
            errors.extend(validate_blocks(payload["blocks"], pointer="/payload/blocks"))
        if errors:
            self.violations.append(f"ack for envelope {envelope_id}: " + "; ".join(errors))


def close_socket_mode_client(client: SocketModeClient) -> None:
    """Close a builtin SocketModeClient without its ~1-4 s shutdown waits."""
    client.auto_reconnect_enabled = False
    client.default_auto_reconnect_enabled = False
    # close() joins a thread blocked in message_queue.get(timeout=1); mark closed and wake it.
    client.closed = True
    client.message_queue.put(None)
    # close() also waits for a recv() with a 3 s timeout holding the receive lock;
    # shutting the socket down makes that recv() return at once.
    session = client.current_session
    sock = session.sock if session is not None else None
    if sock is not None:
        with contextlib.suppress(OSError):  # already closed by the peer
            sock.shutdown(socket.SHUT_RDWR)
    client.close()
