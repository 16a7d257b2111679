"""SlackSender signatures and payload builders against SignatureVerifier and a real Bolt App."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from slack_bolt import Ack, App, BoltRequest
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier

from bot.standin import FakeSlack, SlackSender
from bot.standin.events import app_mention_event, event_callback, url_verification
from bot.standin.payloads import (
    block_action,
    block_suggestion,
    checkboxes_value,
    option,
    plain_text_value,
    slash_command,
    state_values,
    static_select_value,
    view_submission,
)
from tests.harness.fixtures import BOT_TOKEN, SIGNING_SECRET


class _Captured:
    """The last request a capture server saw."""

    body: str = ""
    headers: dict[str, str] = {}  # noqa: RUF012 - replaced per request, never mutated


class _BoltServer(ThreadingHTTPServer):
    daemon_threads = True
    app: App | None = None
    captured: _Captured


class _BoltHandler(BaseHTTPRequestHandler):
    """Minimal HTTP adapter: capture the request, then verify or dispatch it."""

    server: _BoltServer

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""

    def do_POST(self) -> None:
        """Capture, then hand to Bolt (or just verify the signature without an app)."""
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.server.captured.body, self.server.captured.headers = body, headers
        bolt_headers: dict[str, str | Sequence[str]] = dict(headers)
        app = self.server.app
        if app is None:
            ok = SignatureVerifier(SIGNING_SECRET).is_valid_request(body, headers)
            status, out, content_type = (200 if ok else 401), b"", "text/plain"
        else:
            request = BoltRequest(body=body, query=urlsplit(self.path).query, headers=bolt_headers)
            response = app.dispatch(request)
            status, out = response.status, response.body.encode()
            content_type = response.headers.get("content-type", ["text/plain"])[0]
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)


def _serve(app: App | None) -> Iterator[tuple[SlackSender, _Captured]]:
    """Run the adapter on 127.0.0.1 and yield a sender aimed at it."""
    server = _BoltServer(("127.0.0.1", 0), _BoltHandler)
    server.app, server.captured = app, _Captured()
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    sender = SlackSender(f"http://127.0.0.1:{server.server_address[1]}", SIGNING_SECRET)
    try:
        yield sender, server.captured
    finally:
        sender.close()
        server.shutdown()
        server.server_close()


@pytest.fixture
def verifier_endpoint() -> Iterator[tuple[SlackSender, _Captured]]:
    """An endpoint that only checks signatures with SignatureVerifier."""
    yield from _serve(None)


@pytest.fixture
def bolt_sender(fake_slack: FakeSlack) -> Iterator[tuple[SlackSender, _Captured]]:
    """A real Bolt App behind a tiny HTTP adapter, talking to FakeSlack."""
    app = App(
        client=WebClient(token=BOT_TOKEN, base_url=fake_slack.api_url),
        signing_secret=SIGNING_SECRET,
        logger=logging.getLogger("selftest.bolt_http"),
    )

    @app.command("/listen")
    def on_command(ack: Ack, command: dict[str, Any]) -> None:
        ack(f"{command['user_id']}:{command['text']}:{command['channel_id']}")

    @app.action("vote")
    def on_vote(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        app.client.chat_postMessage(
            channel=body["channel"]["id"], text=f"{action['selected_option']['value']}"
        )

    @app.view("form")
    def on_form(ack: Ack, view: dict[str, Any]) -> None:
        values = view["state"]["values"]
        picked = [o["value"] for o in values["topics"]["pick"]["selected_options"]]
        ack(
            response_action="update",
            view={
                "type": "modal",
                "title": {"type": "plain_text", "text": "Done"},
                "blocks": [
                    {
                        "type": "section",
                        "text": {
                            "type": "mrkdwn",
                            "text": f"{values['name']['input']['value']} {picked} "
                            f"{values['room']['select']['selected_option']['value']}"
                            f" {view['private_metadata']}",
                        },
                    }
                ],
            },
        )

    @app.options("select")
    def on_options(ack: Ack, payload: dict[str, Any]) -> None:
        ack(options=[option(f"{payload['value']}-1")])

    @app.event("app_mention")
    def on_mention(event: dict[str, Any], say: Any) -> None:
        say(f"heard {event['text']}")

    yield from _serve(app)


def test_signatures_verify_with_signature_verifier(
    verifier_endpoint: tuple[SlackSender, _Captured],
) -> None:
    """Every send style produces a body/header pair SignatureVerifier accepts."""
    sender, captured = verifier_endpoint
    assert sender.command(slash_command("/x", "hi there & more", user_id="U1")).status_code == 200
    assert parse_qs(captured.body)["text"] == ["hi there & more"]
    assert captured.headers["content-type"] == "application/x-www-form-urlencoded"
    assert sender.action(block_action(user_id="U1", action_id="a")).status_code == 200
    assert json.loads(parse_qs(captured.body)["payload"][0])["type"] == "block_actions"
    assert sender.event(event_callback({"type": "app_mention", "text": "é"})).status_code == 200
    assert captured.headers["content-type"] == "application/json"
    verifier = SignatureVerifier(SIGNING_SECRET)
    assert verifier.is_valid(
        captured.body,
        captured.headers["x-slack-request-timestamp"],
        captured.headers["x-slack-signature"],
    )


def test_bad_signatures_are_rejected(verifier_endpoint: tuple[SlackSender, _Captured]) -> None:
    """Missing, wrong and stale signatures fail verification."""
    sender, captured = verifier_endpoint
    payload = slash_command("/x", "", user_id="U1")
    assert sender.command(payload, signature="missing").status_code == 401
    assert "x-slack-signature" not in captured.headers
    assert sender.command(payload, signature="wrong").status_code == 401
    stale = int(time.time()) - 600
    assert sender.command(payload, timestamp=stale).status_code == 401


def test_retry_headers(verifier_endpoint: tuple[SlackSender, _Captured]) -> None:
    """retry_num adds Slack's retry headers."""
    sender, captured = verifier_endpoint
    sender.event(event_callback({"type": "app_mention"}), retry_num=1)
    assert captured.headers["x-slack-retry-num"] == "1"
    assert captured.headers["x-slack-retry-reason"] == "http_timeout"


def test_bolt_accepts_command_and_rejects_bad_signature(
    bolt_sender: tuple[SlackSender, _Captured],
) -> None:
    """Bolt's own request verification accepts SlackSender and 401s tampered requests."""
    sender, _ = bolt_sender
    payload = slash_command("/listen", "now", user_id="U1", channel_id="C7")
    response = sender.command(payload)
    assert response.status_code == 200
    # In HTTP mode Bolt acks a plain string as text/plain (Socket Mode wraps it as {"text"}).
    assert response.text == "U1:now:C7"
    assert sender.command(payload, signature="wrong").status_code == 401
    assert sender.command(payload, signature="missing").status_code == 401


def test_bolt_action_with_selected_option(
    bolt_sender: tuple[SlackSender, _Captured], fake_slack: FakeSlack
) -> None:
    """A static_select block action reaches the listener and its API call hits FakeSlack."""
    sender, _ = bolt_sender
    payload = block_action(
        user_id="U1",
        action_id="vote",
        channel_id="C3",
        message_ts="1700000000.000100",
        action_type="static_select",
        selected_option=option("yes", "Yes"),
    )
    assert sender.action(payload).status_code == 200
    assert fake_slack.wait_for("chat.postMessage")[0].args == {"channel": "C3", "text": "yes"}


def test_bolt_view_submission_values(bolt_sender: tuple[SlackSender, _Captured]) -> None:
    """State value helpers produce what Bolt listeners read."""
    sender, _ = bolt_sender
    values = state_values(
        {
            ("name", "input"): plain_text_value("Ada"),
            ("topics", "pick"): checkboxes_value(["a", ("b", "Bee")]),
            ("room", "select"): static_select_value("r1", external=True),
        }
    )
    view = {"type": "modal", "callback_id": "form", "title": {"type": "plain_text", "text": "F"}}
    payload = view_submission(user_id="U1", view=view, values=values, private_metadata="s-1")
    response = sender.submit_view(payload)
    assert response.status_code == 200
    body = response.json()
    assert body["response_action"] == "update"
    assert body["view"]["blocks"][0]["text"]["text"] == "Ada ['a', 'b'] r1 s-1"


def test_bolt_block_suggestion(bolt_sender: tuple[SlackSender, _Captured]) -> None:
    """block_suggestion payloads get options back."""
    sender, _ = bolt_sender
    payload = block_suggestion(user_id="U1", action_id="select", block_id="room", value="ab")
    response = sender.suggest(payload)
    assert response.status_code == 200
    assert response.json()["options"][0]["value"] == "ab-1"


def test_bolt_event_and_url_verification(
    bolt_sender: tuple[SlackSender, _Captured], fake_slack: FakeSlack
) -> None:
    """Events reach listeners; url_verification echoes the challenge."""
    sender, _ = bolt_sender
    assert sender.event(url_verification("c-1")).json() == {"challenge": "c-1"}
    event = app_mention_event("<@UBOT> hi", user="U1", channel="C5")
    assert sender.event(event_callback(event)).status_code == 200
    call = fake_slack.wait_for("chat.postMessage")[0]
    assert call.args["channel"] == "C5"
    assert call.args["text"] == "heard <@UBOT> hi"


def test_builders_make_unique_ids() -> None:
    """trigger_ids and event_ids never repeat; slash command fields are all strings."""
    first = slash_command("/x", user_id="U1")
    second = slash_command("/x", user_id="U1")
    assert first["trigger_id"] != second["trigger_id"]
    assert all(isinstance(v, str) for v in first.values())
    assert set(first) == {
        "token",
        "team_id",
        "team_domain",
        "channel_id",
        "channel_name",
        "user_id",
        "user_name",
        "command",
        "text",
        "api_app_id",
        "is_enterprise_install",
        "response_url",
        "trigger_id",
    }
    assert event_callback({})["event_id"] != event_callback({})["event_id"]
