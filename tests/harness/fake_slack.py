"""A fake Slack Web API served over real HTTP on 127.0.0.1 for end-to-end tests."""

from __future__ import annotations

import contextlib
import copy
import itertools
import json
import math
import socket
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from tests.harness.slack_limits import (
    POST_MESSAGE_PER_CHANNEL,
    RESPONSE_URL_USES,
    UNLIMITED,
    RateLimits,
    Tier,
)

TEAM_ID = "T0001"
TEAM_DOMAIN = "fake-workspace"
TEAM_NAME = "Fake Workspace"
APP_ID = "A0001"
BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"
BOT_NAME = "listening-bot"
HOLD_TIMEOUT = 30.0  # a held answer is sent anyway after this long

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_MESSAGE_TEXT = 40000
RESPONSE_URL_MAX_USES = RESPONSE_URL_USES
# What FakeSlack() enforces when rate_limits is not given: False = unlimited (for now), True =
# RateLimits() (Slack's limits, sped up by RATE_SCALE). Tests can still ask for either one
# explicitly: FakeSlack(rate_limits=UNLIMITED) or FakeSlack(rate_limits=RateLimits(...)).
DEFAULT_RATE_LIMITS = True

# Form bodies carry these fields as JSON strings (slack_sdk json.dumps them before urlencoding).
_JSON_FIELDS = frozenset(
    {"blocks", "attachments", "view", "files", "metadata", "options", "option_groups"}
)
_MESSAGE_METHODS = frozenset(
    {"chat.postMessage", "chat.update", "chat.postEphemeral", "chat.scheduleMessage"}
)
_VIEW_METHODS = frozenset({"views.open", "views.update", "views.push", "views.publish"})
_TEXT_TYPES = frozenset({"plain_text", "mrkdwn"})
# Keys whose value Slack only accepts as a plain_text object, never a bare string or mrkdwn.
_PLAIN_TEXT_KEYS = frozenset({"placeholder", "label", "hint", "title", "submit", "close"})
_TEXT_LIMITS = {"placeholder": 150, "label": 2000, "hint": 2000}
_ELEMENT_LIMITS = {"actions": 25, "context": 10}
_OPTION_LIST_LIMITS = {
    "static_select": 100,
    "multi_static_select": 100,
    "overflow": 5,
    "radio_buttons": 10,
    "checkboxes": 10,
}
_OPTION_KEYS = frozenset({"options", "initial_options", "selected_options"})


@dataclass
class Call:
    """One request the fake received, with the answer it gave."""

    method: str
    args: dict[str, Any]
    headers: dict[str, str]
    token: str | None
    failed: bool = False
    injected: bool = False
    status: int = 200
    response: dict[str, Any] = field(default_factory=dict)
    path: str = ""
    rate_limited: bool = False  # answered 429 by the fake's own rate limits (not injected)


@dataclass
class _Failure:
    status: int
    error: str | None
    retry_after: int | None


@dataclass
class _Answer:
    status: int
    body: bytes
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


def _json_answer(data: dict[str, Any], status: int = 200, **headers: str) -> _Answer:
    """Build a JSON answer the way Slack serialises it."""
    return _Answer(status, json.dumps(data).encode(), headers=dict(headers))


def _text_answer(text: str, status: int = 200) -> _Answer:
    """Build a plain-text answer (response_url and upload endpoints answer in text)."""
    return _Answer(status, text.encode(), content_type="text/plain; charset=utf-8")


# ---------------------------------------------------------------------------
# Rate limits


class TokenBucket:
    """A token bucket: up to `capacity` calls at once, refilled at `rate` calls per second.

    Not thread-safe on its own: FakeSlack uses it with its lock held.
    """

    _EPSILON = 1e-9  # float slack, so that waiting exactly the stated time is always enough

    def __init__(
        self, rate: float, capacity: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        """Start full; `clock` is a monotonic clock in seconds (inject one in unit tests)."""
        if rate <= 0 or capacity < 1:
            raise ValueError("a token bucket needs a positive rate and room for one call")
        self.rate = rate
        self.capacity = float(capacity)
        self._clock = clock
        self._tokens = self.capacity
        self._stamp = clock()

    def _refill(self) -> None:
        """Add the tokens earned since the last look, up to capacity."""
        now = self._clock()
        if now > self._stamp:
            self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now

    def wait(self) -> float:
        """Seconds until one call fits (0.0 when one fits now)."""
        self._refill()
        missing = 1.0 - self._tokens
        return 0.0 if missing <= self._EPSILON else missing / self.rate

    def take(self) -> None:
        """Spend one call (check wait() first: this never refuses)."""
        self._refill()
        self._tokens = max(0.0, self._tokens - 1.0)

    def try_take(self) -> float:
        """Spend one call and return 0.0 if one fits, else spend nothing and return the wait."""
        wait = self.wait()
        if wait == 0.0:
            self.take()
        return wait


class _RateLimiter:
    """Buckets per (token, method), and per (token, channel) for chat.postMessage."""

    def __init__(self, limits: RateLimits) -> None:
        self.limits = limits
        self._buckets: dict[tuple[str, ...], TokenBucket] = {}

    def _bucket(self, key: tuple[str, ...], tier: Tier) -> TokenBucket:
        """The bucket for key, created full on first use."""
        bucket = self._buckets.get(key)
        if bucket is None:
            rate = self.limits.per_second(tier)
            bucket = self._buckets[key] = TokenBucket(rate, tier.burst, self.limits.clock)
        return bucket

    def admit(self, method: str, token: str, channel: str | None) -> float:
        """Spend one call of token's budget for method: 0.0 if admitted, else seconds to wait."""
        buckets = [self._bucket(("method", token, method), self.limits.tier_of(method))]
        if method == "chat.postMessage" and channel:
            buckets.append(self._bucket(("channel", token, channel), POST_MESSAGE_PER_CHANNEL))
        wait = max(bucket.wait() for bucket in buckets)
        if wait == 0.0:
            for bucket in buckets:
                bucket.take()
        return wait

    def clear(self) -> None:
        """Refill every budget (forget all buckets)."""
        self._buckets.clear()


def retry_after_seconds(wait: float) -> int:
    """Slack's Retry-After for a wait: whole seconds, rounded up, at least 1."""
    return max(1, math.ceil(wait - TokenBucket._EPSILON))


# ---------------------------------------------------------------------------
# Block Kit validation


def validate_blocks(
    blocks: Any, *, pointer: str = "/blocks", max_blocks: int = MAX_MESSAGE_BLOCKS
) -> list[str]:
    """Return Slack-style error strings for a blocks array (empty when valid)."""
    if not isinstance(blocks, list):
        return [f"must be an array [json-pointer:{pointer}]"]
    errors: list[str] = []
    if len(blocks) > max_blocks:
        errors.append(f"must be less than {max_blocks + 1} items [json-pointer:{pointer}]")
    seen_block_ids: set[str] = set()
    for index, raw in enumerate(blocks):
        ptr = f"{pointer}/{index}"
        if not isinstance(raw, dict):
            errors.append(f"must be an object [json-pointer:{ptr}]")
            continue
        block_id = raw.get("block_id")
        if isinstance(block_id, str):
            # Slack rejects repeated block_ids because state.values is keyed by them.
            if block_id in seen_block_ids:
                errors.append(f"duplicate block_id {block_id!r} [json-pointer:{ptr}/block_id]")
            seen_block_ids.add(block_id)
        errors.extend(_validate_block(raw, ptr))
    return errors


def _validate_block(raw: dict[str, Any], ptr: str) -> list[str]:
    """Validate one block with slack_sdk.models plus the limits the models do not enforce."""
    errors: list[str] = []
    _walk(raw, ptr, None, errors)
    try:
        parsed = Block.parse(raw)
    except Exception as exc:  # models raise TypeError/KeyError/ValueError on malformed input
        return [*errors, f"invalid block ({type(exc).__name__}: {exc}) [json-pointer:{ptr}]"]
    if parsed is None:
        return [*errors, f"unsupported block type {raw.get('type')!r} [json-pointer:{ptr}]"]
    try:
        parsed.validate_json()
        rendered = parsed.to_dict()
    except SlackObjectFormationError as exc:
        # Our own walk reports the same limits with a precise pointer; avoid doubling them.
        return errors or [f"{exc} [json-pointer:{ptr}]"]
    except Exception as exc:  # nested element parsing can fail lazily
        return [*errors, f"invalid block ({type(exc).__name__}: {exc}) [json-pointer:{ptr}]"]
    # The models silently drop properties they do not know; Slack rejects them instead.
    errors.extend(_dropped_keys(raw, rendered, ptr))
    return errors


def _dropped_keys(raw: Any, rendered: Any, ptr: str) -> list[str]:
    """List raw keys that vanished in the model round trip (unknown/misspelt properties)."""
    if isinstance(raw, dict) and isinstance(rendered, dict):
        errors: list[str] = []
        for key, value in raw.items():
            if value is None or (isinstance(value, list | dict | str) and len(value) == 0):
                continue  # the models omit empty values, which Slack tolerates
            if key not in rendered:
                errors.append(f"unknown property {key!r} [json-pointer:{ptr}/{key}]")
            else:
                errors.extend(_dropped_keys(value, rendered[key], f"{ptr}/{key}"))
        return errors
    if isinstance(raw, list) and isinstance(rendered, list) and len(raw) == len(rendered):
        return [
            error
            for index, (r, o) in enumerate(zip(raw, rendered, strict=True))
            for error in _dropped_keys(r, o, f"{ptr}/{index}")
        ]
    return []


def _text_of(obj: Any) -> str | None:
    """Return the text of a text object, or None when it is not one."""
    if (
        isinstance(obj, dict)
        and obj.get("type") in _TEXT_TYPES
        and isinstance(obj.get("text"), str)
    ):
        text: str = obj["text"]
        return text
    return None


def _check_len(obj: Any, limit: int, ptr: str, errors: list[str]) -> None:
    """Append an error when a text object's text is longer than limit."""
    text = _text_of(obj)
    if text is not None and len(text) > limit:
        errors.append(f"must be less than {limit + 1} characters [json-pointer:{ptr}/text]")


def _walk(node: Any, ptr: str, key: str | None, errors: list[str]) -> None:
    """Recursively check text objects and element limits the slack_sdk models miss."""
    if isinstance(node, list):
        for index, item in enumerate(node):
            _walk(item, f"{ptr}/{index}", key, errors)
        return
    if not isinstance(node, dict):
        return
    kind = node.get("type")
    if kind in _TEXT_TYPES:
        text = node.get("text")
        if not isinstance(text, str) or not text:
            errors.append(f"must be more than 0 characters [json-pointer:{ptr}/text]")
        if key in _PLAIN_TEXT_KEYS and kind != "plain_text":
            errors.append(f"must be a plain_text object [json-pointer:{ptr}]")
        if key in _TEXT_LIMITS:
            _check_len(node, _TEXT_LIMITS[key], ptr, errors)
        return
    if kind == "rich_text":
        return  # rich text has its own grammar ("text" elements are strings); the model checks it
    for text_key in _PLAIN_TEXT_KEYS:
        if isinstance(node.get(text_key), str):
            errors.append(f"must be a text object [json-pointer:{ptr}/{text_key}]")
    if kind == "section":
        if isinstance(node.get("text"), str):
            errors.append(f"must be a text object [json-pointer:{ptr}/text]")
        _check_len(node.get("text"), 3000, ptr + "/text", errors)
        for index, item in enumerate(node.get("fields") or []):
            _check_len(item, 2000, f"{ptr}/fields/{index}", errors)
    elif kind == "header":
        text_obj = node.get("text")
        if not isinstance(text_obj, dict) or text_obj.get("type") != "plain_text":
            errors.append(f"must be a plain_text object [json-pointer:{ptr}/text]")
        _check_len(text_obj, 150, ptr + "/text", errors)
    elif kind == "button":
        text_obj = node.get("text")
        if not isinstance(text_obj, dict) or text_obj.get("type") != "plain_text":
            errors.append(f"must be a plain_text object [json-pointer:{ptr}/text]")
        _check_len(text_obj, 75, ptr + "/text", errors)
        value = node.get("value")
        if isinstance(value, str) and len(value) > 2000:
            errors.append(f"must be less than 2001 characters [json-pointer:{ptr}/value]")
    if isinstance(kind, str) and kind in _ELEMENT_LIMITS:
        limit = _ELEMENT_LIMITS[kind]
        if len(node.get("elements") or []) > limit:
            errors.append(f"must be less than {limit + 1} items [json-pointer:{ptr}/elements]")
    if isinstance(kind, str) and kind in _OPTION_LIST_LIMITS:
        limit = _OPTION_LIST_LIMITS[kind]
        if len(node.get("options") or []) > limit:
            errors.append(f"must be less than {limit + 1} items [json-pointer:{ptr}/options]")
    action_id = node.get("action_id")
    if isinstance(action_id, str) and len(action_id) > 255:
        errors.append(f"must be less than 256 characters [json-pointer:{ptr}/action_id]")
    for child_key, child in node.items():
        if child_key in _OPTION_KEYS and isinstance(child, list):
            for index, option in enumerate(child):
                _check_option(option, f"{ptr}/{child_key}/{index}", errors)
        elif child_key == "initial_option":
            _check_option(child, f"{ptr}/{child_key}", errors)
        _walk(child, f"{ptr}/{child_key}", child_key, errors)


def _check_option(option: Any, ptr: str, errors: list[str]) -> None:
    """Check the option-object limits (text 75, value 150)."""
    if not isinstance(option, dict):
        return
    _check_len(option.get("text"), 75, ptr + "/text", errors)
    value = option.get("value")
    if isinstance(value, str) and len(value) > 150:
        errors.append(f"must be less than 151 characters [json-pointer:{ptr}/value]")


def validate_view(view: Any, *, pointer: str = "/view") -> list[str]:
    """Return Slack-style error strings for a modal or home tab view (empty when valid)."""
    if not isinstance(view, dict):
        return [f"must be an object [json-pointer:{pointer}]"]
    kind = view.get("type")
    if kind not in ("modal", "home"):
        return [f"must be 'modal' or 'home' [json-pointer:{pointer}/type]"]
    errors: list[str] = []
    blocks = view.get("blocks")
    errors.extend(validate_blocks(blocks, pointer=f"{pointer}/blocks", max_blocks=MAX_VIEW_BLOCKS))
    for text_key in ("title", "submit", "close"):
        value = view.get(text_key)
        if value is None:
            continue
        if not isinstance(value, dict) or value.get("type") != "plain_text":
            errors.append(f"must be a plain_text object [json-pointer:{pointer}/{text_key}]")
        else:
            _walk(value, f"{pointer}/{text_key}", text_key, errors)
            _check_len(value, 24, f"{pointer}/{text_key}", errors)
    if kind == "modal":
        if view.get("title") is None:
            errors.append(f"missing required field: title [json-pointer:{pointer}]")
        has_input = isinstance(blocks, list) and any(
            isinstance(b, dict) and b.get("type") == "input" for b in blocks
        )
        if has_input and view.get("submit") is None:
            errors.append(f"submit is required when input blocks are present [{pointer}]")
    unknown = set(view) - View(type=str(kind)).attributes
    errors.extend(f"unknown property {k!r} [json-pointer:{pointer}/{k}]" for k in sorted(unknown))
    if not errors:
        try:
            View(**view).validate_json()
        except SlackObjectFormationError as exc:
            errors.append(f"{exc} [json-pointer:{pointer}]")
        except Exception as exc:  # constructor TypeErrors for malformed views
            errors.append(f"invalid view ({type(exc).__name__}: {exc}) [json-pointer:{pointer}]")
    return errors


# ---------------------------------------------------------------------------
# The server


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeSlack

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(address, handler)
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
    server: _Server
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

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            answer = self.server.fake._dispatch(self.command, self.path, headers, body)
        except Exception as exc:  # a harness bug must surface as a 500, not a hung client
            answer = _json_answer({"ok": False, "error": f"fake_slack_bug: {exc!r}"}, 500)
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(answer.body)))
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(answer.body)


def _parse_multipart(body: bytes, content_type: str) -> dict[str, Any]:
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


def _decode_json_fields(args: dict[str, Any]) -> dict[str, Any]:
    """Turn JSON-string fields of form bodies back into structures."""
    for key in _JSON_FIELDS & set(args):
        value = args[key]
        if isinstance(value, str):
            # A malformed value stays as sent; validation then reports it.
            with contextlib.suppress(ValueError):
                args[key] = json.loads(value)
    return args


class FakeSlack:
    """Fake Slack Web API, upload and response_url server on 127.0.0.1."""

    def __init__(
        self,
        valid_tokens: Iterable[str] | None = None,
        *,
        socket_mode_url: str | None = None,
        rate_limits: RateLimits | None = None,
    ) -> None:
        """Configure accepted tokens (default: any xoxb-/xapp- token) and the Socket Mode URL.

        rate_limits: Slack's rate limits to enforce, e.g. RateLimits(scale=1.0); UNLIMITED for
        none; omitted (None): whatever the module's DEFAULT_RATE_LIMITS says.
        """
        self.valid_tokens: set[str] | None = None if valid_tokens is None else set(valid_tokens)
        self.socket_mode_url = socket_mode_url
        if rate_limits is None:
            rate_limits = RateLimits() if DEFAULT_RATE_LIMITS else UNLIMITED
        self.rate_limits = rate_limits
        self._limiter = _RateLimiter(rate_limits) if rate_limits.enabled else None
        self.violations: list[str] = []
        self._cond = threading.Condition(threading.RLock())
        self._calls: list[Call] = []
        self._failures: dict[str, deque[_Failure]] = defaultdict(deque)
        self._holds: dict[str, deque[threading.Event]] = defaultdict(deque)
        self._held: set[threading.Event] = set()  # answers being held right now
        self._slow: dict[str, float] = {}  # seconds each answer of a method takes
        self._messages: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self._ephemerals: list[dict[str, Any]] = []
        self._views: dict[str, dict[str, Any]] = {}
        self._files: dict[str, dict[str, Any]] = {}
        self._channels: dict[str, dict[str, Any]] = {}
        self._users: dict[str, dict[str, Any]] = {}
        self._response_urls: dict[str, dict[str, Any]] = {}
        self._ts_counter = itertools.count(1)
        self._ids = itertools.count(1)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------

    def start(self) -> FakeSlack:
        """Bind a free port on 127.0.0.1 and serve in a daemon thread."""
        if self._server is not None:
            return self
        server = _Server(("127.0.0.1", 0), _Handler)
        server.fake = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._server is None:
            return
        self._release_holds()
        self._server.shutdown()
        self._server.server_close()
        self._server.close_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> FakeSlack:
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
    def connections_accepted(self) -> int:
        """How many TCP connections clients have opened so far."""
        if self._server is None:
            raise RuntimeError("FakeSlack is not started")
        return self._server.accepted

    @property
    def port(self) -> int:
        """The bound TCP port."""
        if self._server is None:
            raise RuntimeError("FakeSlack is not started")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """Root URL of the server, without trailing slash."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        """WebClient base_url form: http://127.0.0.1:PORT/api/ (trailing slash required)."""
        return f"{self.base_url}/api/"

    def response_url(
        self,
        name: str,
        *,
        channel: str | None = None,
        message_ts: str | None = None,
        user: str | None = None,
    ) -> str:
        """Give a response_url; linking channel/message_ts lets replace_original edit it, and
        `user` (whose request it came with) lets `private_replies` find what it was told."""
        with self._cond:
            self._response_urls[name] = {
                "channel": channel,
                "message_ts": message_ts,
                "user": user,
                "uses": 0,
                "issued": self._now(),
            }
        return f"{self.base_url}/response/{name}"

    # -- test-facing configuration ------------------------------------------

    def add_channel(
        self,
        channel_id: str,
        name: str | None = None,
        *,
        members: Iterable[str] = (BOT_USER_ID,),
        is_private: bool = False,
    ) -> None:
        """Register a channel for conversations.info / conversations.members."""
        with self._cond:
            self._channels[channel_id] = {
                "id": channel_id,
                "name": name or channel_id.lower(),
                "is_channel": not is_private,
                "is_group": is_private,
                "is_im": False,
                "is_private": is_private,
                "is_archived": False,
                "is_member": BOT_USER_ID in members,
                "created": 1700000000,
                "creator": "U0000",
                "members": list(members),
                "topic": {"value": "", "creator": "", "last_set": 0},
                "purpose": {"value": "", "creator": "", "last_set": 0},
            }

    def add_user(
        self,
        user_id: str,
        name: str | None = None,
        *,
        real_name: str | None = None,
        display_name: str | None = None,
        is_bot: bool = False,
        tz: str = "Europe/London",
        email: str | None = None,
    ) -> None:
        """Register a user for users.info."""
        name = name or user_id.lower()
        real_name = real_name or name.title()
        with self._cond:
            self._users[user_id] = {
                "id": user_id,
                "team_id": TEAM_ID,
                "name": name,
                "deleted": False,
                "real_name": real_name,
                "tz": tz,
                "is_bot": is_bot,
                "is_admin": False,
                "profile": {
                    "real_name": real_name,
                    "display_name": display_name if display_name is not None else name,
                    "email": email or f"{name}@example.com",
                    "team": TEAM_ID,
                },
            }

    def fail_next(
        self,
        method: str,
        *,
        status: int = 200,
        error: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Make the next `times` calls to method fail (429/5xx/HTTP-200 errors, in FIFO order)."""
        with self._cond:
            for _ in range(times):
                self._failures[method].append(_Failure(status, error, retry_after))

    def hold_next(self, method: str) -> threading.Event:
        """Delay the answer to the next call to method until the returned event is set.

        The call takes effect at once (a posted message is in the channel, as people see it)
        but the caller waits for its answer, as over a slow network.
        """
        release = threading.Event()
        with self._cond:
            self._holds[method].append(release)
        return release

    def slow(self, method: str, seconds: float) -> None:
        """Make every call to method take effect at once but answer `seconds` later (0: fast)."""
        with self._cond:
            if seconds > 0:
                self._slow[method] = seconds
            else:
                self._slow.pop(method, None)

    def clear_failures(self, method: str | None = None) -> None:
        """Drop the failures still queued for method (or for every method): Slack recovers."""
        with self._cond:
            if method is None:
                self._failures.clear()
            else:
                self._failures.pop(method, None)

    def _release_holds(self) -> None:
        """Let every held answer go (stopping or resetting must not leave callers hanging)."""
        with self._cond:
            pending = [event for queue in self._holds.values() for event in queue]
            pending += self._held
            self._holds.clear()
        for event in pending:
            event.set()

    # -- queries ---------------------------------------------------------------

    @property
    def calls(self) -> list[Call]:
        """A snapshot of every call so far."""
        with self._cond:
            return list(self._calls)

    def calls_to(self, method: str) -> list[Call]:
        """Calls to one method (including failed and injected ones), oldest first."""
        with self._cond:
            return [c for c in self._calls if c.method == method]

    def rate_limited(self, method: str | None = None) -> int:
        """How many calls (to method, or to any) the fake's rate limits answered with 429.

        Failures injected with fail_next(..., status=429) are not counted (they are `injected`).
        """
        with self._cond:
            return sum(
                1 for c in self._calls if c.rate_limited and (method is None or c.method == method)
            )

    def last(self, method: str) -> Call:
        """The latest call to method; AssertionError when there is none."""
        calls = self.calls_to(method)
        if not calls:
            raise AssertionError(f"no {method} call; saw {self._summary()}")
        return calls[-1]

    def wait_for(
        self,
        method: str,
        *,
        count: int = 1,
        timeout: float = 5.0,
        predicate: Callable[[Call], bool] | None = None,
    ) -> list[Call]:
        """Block until count matching calls arrived; AssertionError listing calls on timeout."""

        def matching() -> list[Call]:
            return [
                c for c in self._calls if c.method == method and (predicate is None or predicate(c))
            ]

        with self._cond:
            if self._cond.wait_for(lambda: len(matching()) >= count, timeout):
                return matching()
            raise AssertionError(
                f"timed out after {timeout}s waiting for {count} x {method} "
                f"(got {len(matching())}); calls seen: {self._summary()}"
            )

    def messages(self, channel: str) -> list[dict[str, Any]]:
        """Current state of messages in a channel (after updates/deletes), oldest first."""
        with self._cond:
            return copy.deepcopy(self._messages.get(channel, []))

    def recipient(self, call: Call) -> str | None:
        """Who a private reply went to: chat.postEphemeral's user, or the person a response_url
        was given with (see `response_url`)."""
        if call.method == "chat.postEphemeral":
            return str(call.args.get("user") or "") or None
        if call.method == "response_url":
            with self._cond:
                link = self._response_urls.get(call.path.removeprefix("/response/"), {})
            return link.get("user")
        return None

    def private_replies(self, user: str | None = None) -> list[Call]:
        """What people were told privately and it reached them, in order: chat.postEphemeral
        calls, and ephemeral posts to response_urls given with `user` (see `response_url`)."""
        with self._cond:
            owners = {
                f"/response/{name}": link.get("user") for name, link in self._response_urls.items()
            }
            calls = list(self._calls)
        replies: list[Call] = []
        for call in calls:
            if call.failed:
                continue
            if call.method == "chat.postEphemeral":
                to = call.args.get("user")
            elif call.method == "response_url" and call.args.get("response_type") == "ephemeral":
                to = owners.get(call.path)
            else:
                continue
            if user is None or to == user:
                replies.append(call)
        return replies

    def wait_for_private_replies(
        self, user: str | None = None, *, count: int = 1, timeout: float = 5.0
    ) -> list[Call]:
        """Wait until `user` (anyone, if None) has been told `count` things privately."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.private_replies(user)) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"timed out after {timeout}s waiting for {count} private replies to "
                        f"{user or 'anyone'} (got {len(self.private_replies(user))})"
                    )
                self._cond.wait(timeout=min(left, 0.05))
        return self.private_replies(user)

    def ephemerals(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Ephemeral messages sent (chat.postEphemeral and ephemeral response_url posts)."""
        with self._cond:
            return [
                copy.deepcopy(m)
                for m in self._ephemerals
                if channel is None or m.get("channel") == channel
            ]

    def view(self, view_id: str) -> dict[str, Any]:
        """Current state of an opened/updated view."""
        with self._cond:
            return copy.deepcopy(self._views[view_id])

    def file_content(self, file_id: str) -> bytes:
        """Bytes uploaded for a file id."""
        with self._cond:
            content: bytes = self._files[file_id].get("content", b"")
            return content

    def assert_no_violations(self) -> None:
        """Fail the test if any Block Kit / API contract violation was seen."""
        with self._cond:
            if self.violations:
                raise AssertionError(
                    "Slack contract violations:\n" + "\n".join(f"- {v}" for v in self.violations)
                )

    def reset(self) -> None:
        """Forget calls, violations, pending failures, stored state and used rate-limit budgets.

        Users and channels are kept.
        """
        with self._cond:
            if self._limiter is not None:
                self._limiter.clear()
            self._calls.clear()
            self.violations.clear()
            self._failures.clear()
            self._release_holds()
            self._messages.clear()
            self._ephemerals.clear()
            self._views.clear()
            self._files.clear()
            self._response_urls.clear()

    def _summary(self) -> str:
        """Readable list of calls for assertion messages."""
        with self._cond:
            lines = [
                f"\n  {c.method}{' (failed)' if c.failed else ''} {json.dumps(c.args)[:300]}"
                for c in self._calls
            ]
        return "".join(lines) or " none"

    # -- request plumbing ------------------------------------------------------

    def _dispatch(self, verb: str, raw_path: str, headers: dict[str, str], body: bytes) -> _Answer:
        """Route one HTTP request to the API, upload or response_url handlers."""
        parts = urlsplit(raw_path)
        path = parts.path
        if path.startswith("/api/"):
            method = path[len("/api/") :]
            with self._cond:  # the first call to arrive is the one held
                holds = self._holds.get(method)
                hold = holds.popleft() if holds else None
                if hold is not None:
                    self._held.add(hold)
                slow = self._slow.get(method, 0.0)
            answer = self._api(method, path, parts.query, headers, body)
            if slow:
                time.sleep(slow)  # a slow network: the call is done, its answer takes a while
            if hold is not None:
                hold.wait(HOLD_TIMEOUT)  # done, but the answer is slow to come back
                with self._cond:
                    self._held.discard(hold)
            return answer
        if path.startswith("/upload/") and verb == "POST":
            return self._upload(path[len("/upload/") :], path, headers, body)
        if path.startswith("/response/") and verb == "POST":
            return self._response(path[len("/response/") :], path, headers, body)
        return _text_answer("not found", 404)

    def _record(self, call: Call) -> None:
        """Store a call and wake wait_for() waiters."""
        with self._cond:
            self._calls.append(call)
            self._cond.notify_all()

    def _take_failure(self, method: str) -> _Failure | None:
        """Pop the next injected failure for method, if any."""
        with self._cond:
            queue = self._failures.get(method)
            return queue.popleft() if queue else None

    def _failure_answer(self, failure: _Failure) -> tuple[dict[str, Any], _Answer]:
        """Build the JSON body and answer for an injected Web API failure."""
        if failure.error is not None:
            error = failure.error
        elif failure.status == 429:
            error = "ratelimited"
        elif failure.status >= 500:
            error = "internal_error"
        else:
            error = "fatal_error"
        data = {"ok": False, "error": error}
        extra: dict[str, str] = {}
        if failure.status == 429 or failure.retry_after is not None:
            # Slack always sends Retry-After with 429s; 1s is its smallest value.
            extra["Retry-After"] = str(1 if failure.retry_after is None else failure.retry_after)
        return data, _json_answer(data, failure.status, **extra)

    def _api(
        self, method: str, path: str, query: str, headers: dict[str, str], body: bytes
    ) -> _Answer:
        """Handle /api/<method>."""
        args: dict[str, Any] = {
            k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()
        }
        content_type = headers.get("content-type", "")
        if body:
            if content_type.startswith("application/json"):
                try:
                    parsed = json.loads(body)
                except ValueError:
                    parsed = None
                if not isinstance(parsed, dict):
                    bad_json = {"ok": False, "error": "invalid_json"}
                    self._record(Call(method, {}, headers, None, True, False, 200, bad_json, path))
                    return _json_answer(bad_json)
                args.update(parsed)
            elif content_type.startswith("multipart/form-data"):
                args.update(_parse_multipart(body, content_type))
            else:
                form = parse_qs(body.decode("utf-8"), keep_blank_values=True)
                args.update({k: v[-1] for k, v in form.items()})
        _decode_json_fields(args)
        token = args.pop("token", None)
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            token = auth[len("bearer ") :].strip()

        failure = self._take_failure(method)
        if failure is not None:
            injected, answer = self._failure_answer(failure)
            self._record(
                Call(method, args, headers, token, True, True, answer.status, injected, path)
            )
            return answer

        data = self._check_token(method, token)
        if data is None:
            with self._cond:
                wait = self._admit(method, args, token)
                data = None if wait else self._method(method, args, token)
            if data is None:
                return self._rate_limited_answer(method, args, headers, token, path, wait)
        call = Call(method, args, headers, token, not data.get("ok"), False, 200, data, path)
        self._record(call)
        return _json_answer(data)

    def _now(self) -> float | None:
        """The rate limits' clock, or None when no limits are enforced."""
        return None if self._limiter is None else self._limiter.limits.clock()

    def _admit(self, method: str, args: dict[str, Any], token: str) -> float:
        """Spend one call of the token's budget: 0.0 if admitted, else the seconds to wait."""
        if self._limiter is None:
            return 0.0
        channel = self._channel_for(args) if method == "chat.postMessage" else None
        return self._limiter.admit(method, token, channel)

    def _rate_limited_answer(
        self,
        method: str,
        args: dict[str, Any],
        headers: dict[str, str],
        token: str,
        path: str,
        wait: float,
    ) -> _Answer:
        """Record and build Slack's answer to a call over its limit (HTTP 429, Retry-After)."""
        data = {"ok": False, "error": "ratelimited"}
        call = Call(method, args, headers, token, True, False, 429, data, path, rate_limited=True)
        self._record(call)
        return _json_answer(data, 429, **{"Retry-After": str(retry_after_seconds(wait))})

    def _response_url_expired(self, link: dict[str, Any]) -> bool:
        """Whether a response_url's window (30 minutes / scale from its issue) is over."""
        now = self._now()
        if now is None:
            return False  # unlimited: response_urls never expire
        if link.get("issued") is None:
            link["issued"] = now  # a URL the test never registered: issued on first use
            return False
        assert self._limiter is not None
        return bool(now - link["issued"] >= self._limiter.limits.response_url_window)

    def _check_token(self, method: str, token: str | None) -> dict[str, Any] | None:
        """Return an error body when the token is missing, invalid or of the wrong type."""
        if not token:
            return {"ok": False, "error": "not_authed"}
        if self.valid_tokens is not None:
            valid = token in self.valid_tokens
        else:
            valid = token.startswith(("xoxb-", "xapp-"))
        if not valid:
            return {"ok": False, "error": "invalid_auth"}
        # App-level tokens only work for apps.* methods; bot tokens cannot open sockets.
        is_app_token = token.startswith("xapp-")
        if is_app_token and not method.startswith("apps."):
            return {"ok": False, "error": "not_allowed_token_type"}
        if method == "apps.connections.open" and not is_app_token:
            return {"ok": False, "error": "not_allowed_token_type"}
        return None

    # -- Web API methods (called with self._cond held) ---------------------------

    def _next_ts(self) -> str:
        """Unique, increasing message ts like 1700000000.000100."""
        micros = 1_700_000_000_000_000 + next(self._ts_counter) * 100
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _next_id(self, prefix: str) -> str:
        """Unique Slack-looking id with the given prefix."""
        return f"{prefix}{next(self._ids):010d}"

    def _violation(self, method: str, errors: list[str], error: str) -> dict[str, Any]:
        """Record a contract violation and build Slack's error body."""
        self.violations.append(f"{method}: " + "; ".join(errors))
        return {
            "ok": False,
            "error": error,
            "errors": errors,
            "response_metadata": {"messages": [f"[ERROR] {e}" for e in errors]},
        }

    def _method(self, method: str, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        """Answer one authorised Web API call."""
        if method in _MESSAGE_METHODS and "blocks" in args:
            errors = validate_blocks(args["blocks"])
            if errors:
                return self._violation(method, errors, "invalid_blocks")
        if method in _VIEW_METHODS:
            if "view" not in args:
                return self._violation(
                    method, ["missing required field: view"], "invalid_arguments"
                )
            errors = validate_view(args["view"])
            if errors:
                return self._violation(method, errors, "invalid_arguments")
        handler = self._METHODS.get(method)
        if handler is None:
            return {"ok": True}
        return handler(self, args)

    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        """auth.test for the bot token."""
        return {
            "ok": True,
            "url": f"https://{TEAM_DOMAIN}.slack.com/",
            "team": TEAM_NAME,
            "user": BOT_NAME,
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _channel_for(self, args: dict[str, Any]) -> str | None:
        """Resolve the channel arg; user ids map to a DM channel like Slack does."""
        channel = args.get("channel")
        if not isinstance(channel, str) or not channel:
            return None
        if channel[0] in "UW":
            return "D" + channel[1:]
        return channel

    def _bot_message(self, args: dict[str, Any], ts: str) -> dict[str, Any]:
        """The message object Slack stores for a bot post."""
        message: dict[str, Any] = {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "team": TEAM_ID,
            "text": args.get("text", ""),
            "ts": ts,
        }
        for key in ("blocks", "attachments", "metadata", "thread_ts"):
            if args.get(key):
                message[key] = args[key]
        return message

    def _message_problem(self, args: dict[str, Any]) -> dict[str, Any] | None:
        """Error body for a message lacking content or with too much text."""
        if not (args.get("text") or args.get("blocks") or args.get("attachments")):
            return {"ok": False, "error": "no_text"}
        if len(str(args.get("text") or "")) > MAX_MESSAGE_TEXT:
            return {"ok": False, "error": "msg_too_long"}
        return None

    def _chat_post_message(self, args: dict[str, Any]) -> dict[str, Any]:
        """chat.postMessage: store the message and echo it."""
        channel = self._channel_for(args)
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        problem = self._message_problem(args)
        if problem:
            return problem
        ts = self._next_ts()
        message = self._bot_message(args, ts)
        self._messages[channel].append(message)
        return {"ok": True, "channel": channel, "ts": ts, "message": copy.deepcopy(message)}

    def _find_message(self, channel: str | None, ts: Any) -> dict[str, Any] | None:
        """Locate a stored message by channel and ts."""
        for message in self._messages.get(channel or "", []):
            if message["ts"] == ts:
                return message
        return None

    def _chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        """chat.update: edit a stored message in place."""
        channel = self._channel_for(args)
        message = self._find_message(channel, args.get("ts"))
        if message is None:
            return {"ok": False, "error": "message_not_found"}
        for key in ("text", "blocks", "attachments", "metadata"):
            if key in args:
                message[key] = args[key]
        message["edited"] = {"user": BOT_USER_ID, "ts": self._next_ts()}
        return {
            "ok": True,
            "channel": channel,
            "ts": message["ts"],
            "text": message.get("text", ""),
            "message": copy.deepcopy(message),
        }

    def _chat_delete(self, args: dict[str, Any]) -> dict[str, Any]:
        """chat.delete: remove a stored message."""
        channel = self._channel_for(args)
        message = self._find_message(channel, args.get("ts"))
        if message is None:
            return {"ok": False, "error": "message_not_found"}
        self._messages[channel or ""].remove(message)
        return {"ok": True, "channel": channel, "ts": message["ts"]}

    def _chat_post_ephemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        """chat.postEphemeral: remember it separately; it never appears in history."""
        channel = self._channel_for(args)
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        if not args.get("user"):
            return {"ok": False, "error": "user_not_in_channel"}
        problem = self._message_problem(args)
        if problem:
            return problem
        ts = self._next_ts()
        message = self._bot_message(args, ts)
        message.update(channel=channel, ephemeral_user=args["user"])
        self._ephemerals.append(message)
        return {"ok": True, "message_ts": ts}

    def _chat_schedule_message(self, args: dict[str, Any]) -> dict[str, Any]:
        """chat.scheduleMessage: acknowledge without delivering."""
        channel = self._channel_for(args)
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        problem = self._message_problem(args)
        if problem:
            return problem
        return {
            "ok": True,
            "channel": channel,
            "scheduled_message_id": self._next_id("Q"),
            "post_at": int(args.get("post_at") or 0),
            "message": self._bot_message(args, self._next_ts()),
        }

    def _chat_get_permalink(self, args: dict[str, Any]) -> dict[str, Any]:
        """chat.getPermalink."""
        ts = str(args.get("message_ts", "")).replace(".", "")
        channel = args.get("channel", "")
        return {
            "ok": True,
            "channel": channel,
            "permalink": f"https://{TEAM_DOMAIN}.slack.com/archives/{channel}/p{ts}",
        }

    def _conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        """conversations.history: top-level messages, newest first."""
        channel = self._channel_for(args) or ""
        top = [
            copy.deepcopy(m)
            for m in self._messages.get(channel, [])
            if m.get("thread_ts") in (None, m["ts"])
        ]
        return {"ok": True, "messages": top[::-1], "has_more": False}

    def _conversations_replies(self, args: dict[str, Any]) -> dict[str, Any]:
        """conversations.replies: the parent then its replies, oldest first."""
        channel = self._channel_for(args) or ""
        ts = args.get("ts")
        thread = [
            copy.deepcopy(m)
            for m in self._messages.get(channel, [])
            if m["ts"] == ts or m.get("thread_ts") == ts
        ]
        if not thread:
            return {"ok": False, "error": "thread_not_found"}
        return {"ok": True, "messages": thread, "has_more": False}

    def _channel_info(self, channel_id: str) -> dict[str, Any]:
        """Registered channel info, or a plausible public channel."""
        if channel_id not in self._channels:
            self.add_channel(channel_id)
        return self._channels[channel_id]

    def _conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        """conversations.info."""
        channel = self._channel_for(args)
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        info = {k: v for k, v in self._channel_info(channel).items() if k != "members"}
        info["num_members"] = len(self._channel_info(channel)["members"])
        return {"ok": True, "channel": copy.deepcopy(info)}

    def _conversations_members(self, args: dict[str, Any]) -> dict[str, Any]:
        """conversations.members with cursor pagination."""
        channel = self._channel_for(args)
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        members = self._channel_info(channel)["members"]
        start = int(args.get("cursor") or 0)
        limit = int(args.get("limit") or 100)
        page = members[start : start + limit]
        next_cursor = str(start + limit) if start + limit < len(members) else ""
        return {
            "ok": True,
            "members": list(page),
            "response_metadata": {"next_cursor": next_cursor},
        }

    def _conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        """conversations.open for a single user: the matching DM channel."""
        users = str(args.get("users") or "")
        if not users:
            return {"ok": False, "error": "users_list_not_supplied"}
        first = users.split(",")[0]
        return {"ok": True, "channel": {"id": "D" + first[1:]}}

    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        """users.info, fabricating a user for unknown ids."""
        user_id = args.get("user")
        if not isinstance(user_id, str) or not user_id:
            return {"ok": False, "error": "user_not_found"}
        if user_id not in self._users:
            self.add_user(user_id)
        return {"ok": True, "user": copy.deepcopy(self._users[user_id])}

    def _store_view(self, view: dict[str, Any], view_id: str | None = None) -> dict[str, Any]:
        """Store a view the way Slack returns it (id, hash, state, ...)."""
        previous = self._views.get(view_id or "")
        view_id = view_id or self._next_id("V")
        stored = {
            "id": view_id,
            "team_id": TEAM_ID,
            "type": view.get("type", "modal"),
            "blocks": view.get("blocks", []),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "state": {"values": {}},
            "hash": f"1700000000.{next(self._ids):08x}",
            "title": view.get("title"),
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "close": view.get("close"),
            "submit": view.get("submit"),
            "previous_view_id": None,
            "root_view_id": previous["root_view_id"] if previous else view_id,
            "app_id": APP_ID,
            "external_id": view.get("external_id", ""),
            "app_installed_team_id": TEAM_ID,
            "bot_id": BOT_ID,
        }
        self._views[view_id] = stored
        return copy.deepcopy(stored)

    def _views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        """views.open (needs a trigger_id)."""
        if not args.get("trigger_id"):
            return {"ok": False, "error": "invalid_arguments"}
        return {"ok": True, "view": self._store_view(args["view"])}

    def _views_push(self, args: dict[str, Any]) -> dict[str, Any]:
        """views.push (needs a trigger_id)."""
        if not args.get("trigger_id"):
            return {"ok": False, "error": "invalid_arguments"}
        return {"ok": True, "view": self._store_view(args["view"])}

    def _views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        """views.update by view_id or external_id, honouring hash conflicts."""
        view_id = args.get("view_id")
        if not view_id and args.get("external_id"):
            found = [v for v in self._views.values() if v["external_id"] == args["external_id"]]
            if not found:
                return {"ok": False, "error": "not_found"}
            view_id = found[0]["id"]
        if not view_id:
            return {"ok": False, "error": "invalid_arguments"}
        current = self._views.get(view_id)
        if current is not None and args.get("hash") and args["hash"] != current["hash"]:
            return {"ok": False, "error": "hash_conflict"}
        # Unknown ids are accepted because tests build view_submission payloads by hand.
        return {"ok": True, "view": self._store_view(args["view"], view_id)}

    def _views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        """views.publish for a user's home tab."""
        if not args.get("user_id"):
            return {"ok": False, "error": "invalid_arguments"}
        if args["view"].get("type") != "home":
            return {"ok": False, "error": "invalid_arguments"}
        return {"ok": True, "view": self._store_view(args["view"])}

    def _files_get_upload_url(self, args: dict[str, Any]) -> dict[str, Any]:
        """files.getUploadURLExternal: hand out an upload URL on this server."""
        if not args.get("filename") or not args.get("length"):
            return {"ok": False, "error": "invalid_arguments"}
        file_id = self._next_id("F")
        self._files[file_id] = {
            "id": file_id,
            "name": args["filename"],
            "length": int(args["length"]),
            "alt_txt": args.get("alt_txt"),
        }
        return {"ok": True, "upload_url": f"{self.base_url}/upload/{file_id}", "file_id": file_id}

    def _files_complete_upload(self, args: dict[str, Any]) -> dict[str, Any]:
        """files.completeUploadExternal: finish uploads and share them into a channel."""
        entries = args.get("files")
        if not isinstance(entries, list) or not entries:
            return {"ok": False, "error": "invalid_arguments"}
        done: list[dict[str, Any]] = []
        for entry in entries:
            record = self._files.get(entry.get("id", ""))
            if record is None:
                return {"ok": False, "error": "file_not_found"}
            record["title"] = entry.get("title") or record["name"]
            done.append(
                {
                    "id": record["id"],
                    "title": record["title"],
                    "name": record["name"],
                    "size": len(record.get("content", b"")),
                }
            )
        channel = args.get("channel_id") or (str(args.get("channels") or "").split(",")[0])
        if channel:
            message = self._bot_message({"text": args.get("initial_comment", "")}, self._next_ts())
            message.update(subtype="file_share", files=copy.deepcopy(done))
            if args.get("thread_ts"):
                message["thread_ts"] = args["thread_ts"]
            self._messages[channel].append(message)
        return {"ok": True, "files": done}

    def _apps_connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        """apps.connections.open: the FakeSocketMode URL."""
        if not self.socket_mode_url:
            return {"ok": False, "error": "fake_socket_mode_url_not_set"}
        return {"ok": True, "url": self.socket_mode_url}

    _METHODS: ClassVar[dict[str, Callable[[FakeSlack, dict[str, Any]], dict[str, Any]]]] = {
        "auth.test": _auth_test,
        "chat.postMessage": _chat_post_message,
        "chat.update": _chat_update,
        "chat.delete": _chat_delete,
        "chat.postEphemeral": _chat_post_ephemeral,
        "chat.scheduleMessage": _chat_schedule_message,
        "chat.getPermalink": _chat_get_permalink,
        "conversations.history": _conversations_history,
        "conversations.replies": _conversations_replies,
        "conversations.info": _conversations_info,
        "conversations.members": _conversations_members,
        "conversations.open": _conversations_open,
        "users.info": _users_info,
        "views.open": _views_open,
        "views.push": _views_push,
        "views.update": _views_update,
        "views.publish": _views_publish,
        "files.getUploadURLExternal": _files_get_upload_url,
        "files.completeUploadExternal": _files_complete_upload,
        "apps.connections.open": _apps_connections_open,
    }

    # -- non-API endpoints -------------------------------------------------------

    def _upload(self, file_id: str, path: str, headers: dict[str, str], body: bytes) -> _Answer:
        """POST /upload/<file_id>: accept the raw bytes like files.slack.com does."""
        args = {"file_id": file_id, "size": len(body)}
        failure = self._take_failure("upload")
        if failure is not None:
            data = {"ok": False, "error": failure.error or "upload_failed"}
            self._record(
                Call("upload", args, headers, None, True, True, failure.status, data, path)
            )
            return _text_answer(str(data["error"]), failure.status)
        with self._cond:
            record = self._files.get(file_id)
            if record is not None:
                record["content"] = body
        if record is None:
            data = {"ok": False, "error": "file_not_found"}
            self._record(Call("upload", args, headers, None, True, False, 404, data, path))
            return _text_answer("file_not_found", 404)
        self._record(Call("upload", args, headers, None, False, False, 200, {"ok": True}, path))
        return _text_answer(f"OK - {len(body)}")

    def _response(self, name: str, path: str, headers: dict[str, str], body: bytes) -> _Answer:
        """POST /response/<name>: a response_url, answering "ok" like hooks.slack.com."""
        args: dict[str, Any]
        try:
            if headers.get("content-type", "").startswith("application/json"):
                args = json.loads(body or b"{}")
            else:
                form = parse_qs(body.decode("utf-8"), keep_blank_values=True)
                args = json.loads(form.get("payload", ["{}"])[-1])
        except ValueError:
            args = {"_raw": body.decode("utf-8", "replace")}
        if not isinstance(args, dict):
            args = {"_raw": args}
        _decode_json_fields(args)

        def record(status: int, data: dict[str, Any], injected: bool = False) -> None:
            failed = not data.get("ok")
            self._record(
                Call("response_url", args, headers, None, failed, injected, status, data, path)
            )

        failure = self._take_failure("response_url")
        if failure is not None:
            error = failure.error or "internal_error"
            record(failure.status, {"ok": False, "error": error}, True)
            return _text_answer(error, failure.status)
        with self._cond:
            link = self._response_urls.setdefault(
                name, {"channel": None, "message_ts": None, "uses": 0, "issued": self._now()}
            )
            if self._response_url_expired(link):
                record(404, {"ok": False, "error": "expired_url"})
                return _text_answer("expired_url", 404)
            link["uses"] += 1
            if link["uses"] > RESPONSE_URL_MAX_USES:
                self.violations.append(f"response_url {name}: used more than 5 times")
                record(404, {"ok": False, "error": "used_url"})
                return _text_answer("used_url", 404)
            if "blocks" in args:
                errors = validate_blocks(args["blocks"])
                if errors:
                    data = self._violation(f"response_url {name}", errors, "invalid_blocks")
                    record(400, data)
                    return _text_answer("invalid_blocks", 400)
            self._apply_response(link, args)
        record(200, {"ok": True})
        return _text_answer("ok")

    def _apply_response(self, link: dict[str, Any], args: dict[str, Any]) -> None:
        """Reflect a response_url post in the message store (replace/delete/in_channel)."""
        channel = link["channel"]
        original = self._find_message(channel, link["message_ts"])
        if args.get("delete_original") and original is not None:
            self._messages[channel].remove(original)
        elif args.get("replace_original") and original is not None:
            for key in ("text", "blocks", "attachments"):
                if key in args:
                    original[key] = args[key]
        elif channel and args.get("response_type") == "in_channel":
            self._messages[channel].append(self._bot_message(args, self._next_ts()))
        elif channel:
            message = self._bot_message(args, self._next_ts())
            message["channel"] = channel
            self._ephemerals.append(message)
