"""FakeSocketMode with a real Bolt App and the builtin SocketModeHandler."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from slack_bolt import Ack, App, BoltRequest, Respond
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient

from bot.standin import FakeSlack
from bot.standin.events import event_callback, message_event
from bot.standin.payloads import (
    block_action,
    plain_text_value,
    slash_command,
    state_values,
    view_submission,
)
from tests.harness.fake_socket_mode import FakeSocketMode, close_socket_mode_client
from tests.harness.fixtures import APP_TOKEN, BOT_TOKEN
from tests.harness.waiting import eventually

MODAL = {
    "type": "modal",
    "callback_id": "feedback",
    "title": {"type": "plain_text", "text": "Feedback"},
    "submit": {"type": "plain_text", "text": "Send"},
    "blocks": [
        {
            "type": "input",
            "block_id": "note",
            "label": {"type": "plain_text", "text": "Note"},
            "element": {"type": "plain_text_input", "action_id": "value"},
        }
    ],
}


class Seen:
    """Thread-safe record of what listeners saw."""

    def __init__(self) -> None:
        """Start empty."""
        self.items: list[tuple[str, Any]] = []
        self.cond = threading.Condition()

    def add(self, kind: str, value: Any) -> None:
        """Record one observation."""
        with self.cond:
            self.items.append((kind, value))
            self.cond.notify_all()

    def wait(self, kind: str, timeout: float = 5.0) -> Any:
        """Wait for the first observation of kind."""
        with self.cond:
            assert self.cond.wait_for(lambda: any(k == kind for k, _ in self.items), timeout)
            return next(v for k, v in self.items if k == kind)


@pytest.fixture
def seen() -> Seen:
    """Listener observations."""
    return Seen()


@pytest.fixture
def bolt_app(fake_slack: FakeSlack, seen: Seen) -> App:
    """A Bolt app wired to FakeSlack with a few listeners."""
    app = App(
        client=WebClient(token=BOT_TOKEN, base_url=fake_slack.api_url),
        logger=logging.getLogger("selftest.bolt"),
    )

    @app.command("/listen")
    def on_command(ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        ack(f"Listening: {command['text']}")
        respond("done")

    @app.action("join")
    def on_join(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        seen.add("join", body)

    @app.view("feedback")
    def on_feedback(ack: Ack, view: dict[str, Any]) -> None:
        note = view["state"]["values"]["note"]["value"]["value"]
        if not note:
            ack(response_action="errors", errors={"note": "Required"})
            return
        ack()
        seen.add("feedback", note)

    @app.event("message")
    def on_message(event: dict[str, Any], request: BoltRequest) -> None:
        seen.add("message", (event["text"], request.headers.get("x-slack-retry-num")))

    return app


@pytest.fixture
def handler(
    bolt_app: App, fake_slack: FakeSlack, fake_socket_mode: FakeSocketMode
) -> Iterator[SocketModeHandler]:
    """A connected SocketModeHandler; closed before the fakes stop."""
    socket_handler = SocketModeHandler(bolt_app, app_token=APP_TOKEN)
    socket_handler.connect()
    fake_socket_mode.wait_connected()
    yield socket_handler
    close_socket_mode_client(socket_handler.client)


def test_connects_through_apps_connections_open(
    handler: SocketModeHandler, fake_slack: FakeSlack, fake_socket_mode: FakeSocketMode
) -> None:
    """The client gets the URL from apps.connections.open using the app token."""
    call = fake_slack.last("apps.connections.open")
    assert call.token == APP_TOKEN
    assert handler.client.is_connected()
    assert fake_socket_mode.connection_count == 1


def test_slash_command_ack_payload(
    handler: SocketModeHandler, fake_slack: FakeSlack, fake_socket_mode: FakeSocketMode
) -> None:
    """A slash command envelope is acked with the ack text as payload."""
    url = fake_slack.response_url("cmd")
    ack = fake_socket_mode.send_envelope(
        "slash_commands", slash_command("/listen", "now", user_id="U1", response_url=url)
    )
    assert ack["payload"] == {"text": "Listening: now"}
    assert fake_slack.wait_for("response_url")[0].args["text"] == "done"


def test_block_action_ack_without_payload(
    handler: SocketModeHandler, fake_socket_mode: FakeSocketMode, seen: Seen
) -> None:
    """A block_actions envelope is acked with no payload and reaches the listener."""
    payload = block_action(user_id="U1", action_id="join", value="s1", message_ts="1.000100")
    ack = fake_socket_mode.send_envelope("interactive", payload)
    assert "payload" not in ack
    body = seen.wait("join")
    assert body["actions"][0]["value"] == "s1"
    assert body["container"]["message_ts"] == "1.000100"


def test_view_submission_errors_and_success(
    handler: SocketModeHandler, fake_socket_mode: FakeSocketMode, seen: Seen
) -> None:
    """response_action errors come back in the ack payload."""
    empty = state_values({("note", "value"): plain_text_value(None)})
    ack = fake_socket_mode.send_envelope(
        "interactive", view_submission(user_id="U1", view=MODAL, values=empty)
    )
    assert ack["payload"] == {"response_action": "errors", "errors": {"note": "Required"}}
    filled = state_values({("note", "value"): plain_text_value("great")})
    ack = fake_socket_mode.send_envelope(
        "interactive", view_submission(user_id="U1", view=MODAL, values=filled)
    )
    assert "payload" not in ack
    assert seen.wait("feedback") == "great"


def test_events_api_retry_headers(
    handler: SocketModeHandler, fake_socket_mode: FakeSocketMode, seen: Seen
) -> None:
    """Events envelopes carry retry fields that Bolt maps to x-slack-retry-* headers."""
    payload = event_callback(message_event("hello", user="U1"))
    fake_socket_mode.send_envelope("events_api", payload, retry_attempt=2, retry_reason="timeout")
    assert seen.wait("message") == ("hello", ["2"])


def test_first_delivery_still_gets_retry_num_header(
    handler: SocketModeHandler, fake_socket_mode: FakeSocketMode, seen: Seen
) -> None:
    """Bolt turns retry_attempt 0 into x-slack-retry-num "0": check the value, not presence."""
    fake_socket_mode.send_envelope("events_api", event_callback(message_event("x", user="U1")))
    assert seen.wait("message") == ("x", ["0"])


def test_invalid_ack_view_is_a_violation(
    bolt_app: App, fake_slack: FakeSlack, fake_socket_mode: FakeSocketMode
) -> None:
    """A response_action view that Slack would reject is recorded as a violation."""

    @bolt_app.view("broken")
    def on_broken(ack: Ack) -> None:
        ack(response_action="update", view={"type": "modal", "blocks": [{"type": "nope"}]})

    socket_handler = SocketModeHandler(bolt_app, app_token=APP_TOKEN)
    socket_handler.connect()
    try:
        view = dict(MODAL, callback_id="broken")
        fake_socket_mode.send_envelope("interactive", view_submission(user_id="U1", view=view))
    finally:
        close_socket_mode_client(socket_handler.client)
    assert "unsupported block type" in fake_socket_mode.violations[0]
    with pytest.raises(AssertionError, match="Socket Mode violations"):
        fake_socket_mode.assert_no_violations()
    fake_socket_mode.violations.clear()


def test_disconnect_message_makes_client_reconnect(
    handler: SocketModeHandler, fake_slack: FakeSlack, fake_socket_mode: FakeSocketMode
) -> None:
    """A Slack disconnect message makes the client open a fresh connection."""
    fake_socket_mode.send_disconnect()
    fake_socket_mode.wait_connected(count=2)
    assert len(fake_slack.calls_to("apps.connections.open")) == 2
    ack = fake_socket_mode.send_envelope(
        "slash_commands",
        slash_command("/listen", "again", user_id="U1", response_url=fake_slack.response_url("r")),
    )
    assert ack["payload"] == {"text": "Listening: again"}


def test_unacked_envelope_times_out(fake_socket_mode: FakeSocketMode) -> None:
    """Without a client the envelope cannot be sent, and the error says so."""
    with pytest.raises(AssertionError, match="no Socket Mode connection"):
        fake_socket_mode.send_envelope("events_api", {}, timeout=0.05)


def _clicker(fake_slack: FakeSlack, seen: Seen, name: str) -> App:
    """A Bolt app that records, under `name`, the value of every "join" click it handles."""
    app = App(
        client=WebClient(token=BOT_TOKEN, base_url=fake_slack.api_url),
        logger=logging.getLogger(f"selftest.bolt.{name}"),
    )

    @app.action("join")
    def on_join(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        seen.add(name, body["actions"][0]["value"])

    return app


def test_envelopes_are_spread_round_robin_over_several_connections(
    fake_slack: FakeSlack, fake_socket_mode: FakeSocketMode, seen: Seen
) -> None:
    """Two clients of one app: envelopes alternate between them, each sent to one and acked
    once, on the connection it was sent on; hello counts the open connections."""
    handlers = []
    try:
        for name in ("one", "two"):
            handlers.append(SocketModeHandler(_clicker(fake_slack, seen, name), APP_TOKEN))
            handlers[-1].connect()
            fake_socket_mode.wait_connected(count=len(handlers))
        assert fake_socket_mode.wait_open_connections(2) == [1, 2]

        ids = [
            fake_socket_mode.send_envelope_nowait(
                "interactive", block_action(user_id=f"U{i}", action_id="join", value=str(i))
            )
            for i in range(6)
        ]
        for envelope_id in ids:
            fake_socket_mode.wait_ack(envelope_id)
        assert [fake_socket_mode.delivered_on(e) for e in ids] == [1, 2, 1, 2, 1, 2]
        assert [fake_socket_mode.acked_on(e) for e in ids] == [[1], [2], [1], [2], [1], [2]]
        assert fake_socket_mode.deliveries == dict(zip(ids, [1, 2, 1, 2, 1, 2], strict=True))
        with seen.cond:
            assert seen.cond.wait_for(lambda: len(seen.items) == 6, 5)
            assert sorted(seen.items) == sorted(
                [("one", "0"), ("two", "1"), ("one", "2"), ("two", "3"), ("one", "4"), ("two", "5")]
            )
    finally:
        for handler in handlers:
            close_socket_mode_client(handler.client)
    fake_socket_mode.wait_disconnected()
    assert fake_socket_mode.open_connections == []


def test_a_refreshing_connection_gets_no_envelopes_while_the_others_do(
    fake_slack: FakeSlack, fake_socket_mode: FakeSocketMode, seen: Seen
) -> None:
    """After a disconnect message to one of two connections, envelopes go to the other until
    the refreshed client is back on a new connection; then they are spread again."""
    handlers = []
    try:
        for name in ("one", "two"):
            handlers.append(SocketModeHandler(_clicker(fake_slack, seen, name), APP_TOKEN))
            handlers[-1].connect()
            fake_socket_mode.wait_connected(count=len(handlers))
        fake_socket_mode.send_disconnect(connection=1)
        payload = block_action(user_id="U1", action_id="join", value="x")
        envelope_id = fake_socket_mode.send_envelope_nowait("interactive", payload)
        assert fake_socket_mode.delivered_on(envelope_id) == 2
        fake_socket_mode.wait_ack(envelope_id)

        fake_socket_mode.wait_connected(count=3)
        eventually(lambda: fake_socket_mode.open_connections == [2, 3], what="#1 closed")
        ids = [fake_socket_mode.send_envelope_nowait("interactive", payload) for _ in range(2)]
        for e in ids:
            fake_socket_mode.wait_ack(e)
        assert sorted(fake_socket_mode.delivered_on(e) for e in ids) == [2, 3]
        assert [fake_socket_mode.acked_on(e) for e in ids] == [
            [fake_socket_mode.delivered_on(e)] for e in ids
        ]
    finally:
        for handler in handlers:
            close_socket_mode_client(handler.client)


def test_send_to_a_connection_that_is_not_open_fails(
    handler: SocketModeHandler, fake_socket_mode: FakeSocketMode
) -> None:
    """Naming a connection that is not open is an error of the test, said plainly."""
    with pytest.raises(AssertionError, match="connection #7 is not open"):
        fake_socket_mode.send_raw({"type": "x"}, connection=7)
