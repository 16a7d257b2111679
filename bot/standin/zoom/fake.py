"""FakeZoom: a stand-in for Zoom's REST API and OAuth token endpoint on 127.0.0.1.

It answers like Zoom (docs/zoom-api-notes.md): Server-to-Server OAuth tokens that expire,
bearer checks (401 code 124), meeting ids and (double-)encoded instance uuids in paths, plan
restrictions, pagination, poll validation, a daily cap on meeting updates; and it lets a test
queue faults (`fail`), slow answers (`slow`) and expire tokens.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import secrets
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from bot.standin.server import Answer, json_answer
from bot.standin.zoom.http import ZoomServer
from bot.standin.zoom.routes import POLLS_PENDING, ZoomRoutes
from bot.standin.zoom.state import (
    INVALID_TOKEN,
    Fault,
    Slow,
    ZoomCall,
    iso,
    parse_json,
    take,
)

PLANS = ("free", "pro", "business")
MEETING_UPDATES_PER_DAY = 100  # per host, Zoom's user-level limit (resets 00:00 UTC)


class FakeZoom(ZoomRoutes):
    """Fake Zoom API (under /v2) and token endpoint (/oauth/token) on a free loopback port.

    Args:
        account_id, client_id, client_secret: the credentials it accepts.
        plan: free, pro or business; metrics need business, polls and reports a paid plan.
        token_ttl: seconds a token lives, by `monotonic`.
        now: the wall clock (UTC) for meeting times and the daily update cap.
        pending_polls_answer: what GET /past_meetings/{uuid}/polls answers before
            `set_past_polls` (status, body); a 2xx status answers with the body's questions.
    """

    def __init__(
        self,
        *,
        account_id: str = "fake-zoom-account",
        client_id: str = "fake-zoom-client",
        client_secret: str = "fake-zoom-secret",
        plan: str = "business",
        token_ttl: float = 3600.0,
        monotonic: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        patch_daily_limit: int = MEETING_UPDATES_PER_DAY,
        pending_polls_answer: tuple[int, dict[str, Any]] = POLLS_PENDING,
    ) -> None:
        if plan not in PLANS:
            raise ValueError(f"plan must be one of {PLANS}")
        self.account_id = account_id
        self.client_id = client_id
        self.client_secret = client_secret
        self.plan = plan
        self.token_ttl = token_ttl
        self.patch_daily_limit = patch_daily_limit
        self.pending_polls_answer = pending_polls_answer
        self._monotonic = monotonic
        self._now = now
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ZoomServer | None = None
        self._thread: threading.Thread | None = None
        self._tokens: dict[str, float] = {}  # token -> issued at (monotonic)
        self._revoked: set[str] = set()
        self._faults: list[Fault] = []
        self._slows: list[Slow] = []
        self._calls: list[ZoomCall] = []
        self.token_requests = 0
        self._meetings = {}
        self._instances = {}
        self._polls = {}
        self._live = {}
        self._registrants = {}
        self._past_participants = {}
        self._report_participants = {}
        self._past_polls = {}
        self._page_tokens = {}
        self._patches = {}

    # -- lifecycle -----------------------------------------------------------

    def start(self) -> FakeZoom:
        """Bind a free port on 127.0.0.1 and serve in a daemon thread."""
        if self._server is not None:
            return self
        self._stopping.clear()
        self._server = ZoomServer(("127.0.0.1", 0), self._dispatch)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving (slow answers are let go) and release the port."""
        if self._server is None:
            return
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._server.close_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> FakeZoom:
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
    def base_url(self) -> str:
        """http://127.0.0.1:PORT (the server must be started)."""
        if self._server is None:
            raise RuntimeError("FakeZoom is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def api_url(self) -> str:
        """The REST API base, like https://api.zoom.us/v2."""
        return self.base_url + "/v2"

    @property
    def oauth_url(self) -> str:
        """The token endpoint, like https://zoom.us/oauth/token."""
        return self.base_url + "/oauth/token"

    # -- what Zoom holds -------------------------------------------------------

    def add_meeting(
        self,
        meeting_id: str,
        *,
        topic: str = "Listening session",
        start_time: datetime | None = None,
        type: int = 2,
        uuid: str | None = None,
        host_email: str = "host@example.com",
        registration: bool = False,
    ) -> dict[str, Any]:
        """Create a meeting (type 1 instant, 2 scheduled, 3/8 recurring) and return it."""
        if not str(meeting_id).isdigit():
            raise ValueError(f"a Zoom meeting id is digits, not {meeting_id!r}")
        meeting_id = str(meeting_id)
        uuid = uuid or _new_uuid()
        meeting: dict[str, Any] = {
            "id": int(meeting_id),
            "uuid": uuid,
            "host_id": _host_id(host_email),
            "host_email": host_email,
            "topic": topic,
            "type": type,
            "status": "waiting",
            "start_time": iso(start_time or self._now()),
            "duration": 60,
            "timezone": "UTC",
            "created_at": iso(self._now()),
            "join_url": f"https://zoom.us/j/{meeting_id}",
            "settings": {
                # approval_type 2: no registration; 0: registration, approved automatically
                "approval_type": 0 if registration else 2,
                "breakout_room": {"enable": False},
                "meeting_authentication": False,
            },
        }
        with self._lock:
            self._meetings[meeting_id] = meeting
            self._instances[uuid] = meeting_id
            return copy.deepcopy(meeting)

    def meeting(self, meeting_id: str) -> dict[str, Any]:
        """The meeting as Zoom holds it now (settings.breakout_room after a PATCH included)."""
        with self._lock:
            return copy.deepcopy(self._meetings[str(meeting_id)])

    def start_meeting(self, meeting_id: str, *, uuid: str | None = None) -> str:
        """Start a new instance of the meeting and return its uuid."""
        uuid = uuid or _new_uuid()
        with self._lock:
            meeting = self._meetings[str(meeting_id)]
            meeting["uuid"] = uuid
            meeting["status"] = "started"
            self._instances[uuid] = str(meeting_id)
        return uuid

    def set_live_participants(self, meeting_id: str, rows: list[dict[str, Any]]) -> None:
        """Who GET /metrics/meetings/{id}/participants?type=live lists now."""
        with self._lock:
            self._live[str(meeting_id)] = copy.deepcopy(rows)

    def set_registrants(self, meeting_id: str, rows: list[dict[str, Any]]) -> None:
        """The meeting's registrants (rows without a status count as approved)."""
        with self._lock:
            self._registrants[str(meeting_id)] = copy.deepcopy(rows)

    def set_past_participants(self, uuid_or_id: str, rows: list[dict[str, Any]]) -> None:
        """Who attended an instance (GET /past_meetings/{uuid}/participants: user_email)."""
        with self._lock:
            self._past_participants[self._known_instance(uuid_or_id)] = copy.deepcopy(rows)

    def set_report_participants(self, uuid_or_id: str, rows: list[dict[str, Any]]) -> None:
        """Rows of GET /report/meetings/{id}/participants (default: the past participants)."""
        with self._lock:
            self._report_participants[self._known_instance(uuid_or_id)] = copy.deepcopy(rows)

    def set_past_polls(self, uuid_or_id: str, respondents: list[dict[str, Any]]) -> None:
        """An instance's poll results: one {name, email, question_details[]} per respondent."""
        with self._lock:
            self._past_polls[self._known_instance(uuid_or_id)] = copy.deepcopy(respondents)

    def polls(self, meeting_id: str) -> list[dict[str, Any]]:
        """The polls created on the meeting and not deleted, oldest first."""
        with self._lock:
            return copy.deepcopy(self._polls.get(str(meeting_id), []))

    def _known_instance(self, uuid_or_id: str) -> str:
        uuid = self._instance_of(str(uuid_or_id))
        if uuid is None:
            raise KeyError(f"no meeting or instance {uuid_or_id!r}: add_meeting it first")
        return uuid

    # -- faults ------------------------------------------------------------------

    def fail(
        self,
        method: str,
        path_prefix: str,
        *,
        status: int,
        headers: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
        raw_body: bytes | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next `times` calls of method ("*": any) to paths starting with
        path_prefix (relative to /v2, or "/oauth/token") with this status, headers and body
        (default: Zoom's usual body for the status; raw_body for a non-JSON answer)."""
        fault = Fault(
            method.upper(), path_prefix, status, dict(headers or {}), body, raw_body, times
        )
        with self._lock:
            self._faults.append(fault)

    def slow(self, method: str, path_prefix: str, *, seconds: float, times: int = 1) -> None:
        """Answer the next `times` matching calls `seconds` late (they still take effect)."""
        with self._lock:
            self._slows.append(Slow(method.upper(), path_prefix, seconds, times))

    def expire_tokens(self) -> None:
        """Every token issued so far now gets 401 code 124; new tokens work."""
        with self._lock:
            self._revoked.update(self._tokens)

    @property
    def calls(self) -> list[ZoomCall]:
        """The API calls received so far, oldest first (token requests are counted apart)."""
        with self._lock:
            return list(self._calls)

    # -- serving -------------------------------------------------------------------

    def _dispatch(self, verb: str, target: str, headers: dict[str, str], body: bytes) -> Answer:
        split = urlsplit(target)
        query = dict(parse_qsl(split.query))
        if split.path == "/oauth/token":
            return self._token(verb, query, headers, body)
        if not split.path.startswith("/v2/"):
            return json_answer({"code": 404, "message": "Not Found"}, 404)
        path = split.path[len("/v2") :]
        authorization = headers.get("authorization", "")
        token = authorization[7:] if authorization.startswith("Bearer ") else None
        payload = parse_json(body)
        with self._lock:
            fault = take(self._faults, verb, path)
            delay = take(self._slows, verb, path)
            if fault is not None:
                answer = fault.answer()
            elif not self._valid(token):
                answer = json_answer(dict(INVALID_TOKEN), 401)
            else:
                segments = [s for s in path.split("/") if s]
                answer = self._route(verb, segments, query, payload)
            call = ZoomCall(verb, path, query, payload, answer.status, token, self._monotonic())
            self._calls.append(call)
        if delay is not None:
            self._stopping.wait(delay.seconds)
        return answer

    def _valid(self, token: str | None) -> bool:
        issued = self._tokens.get(token or "")
        if issued is None or token in self._revoked:
            return False
        return self._monotonic() - issued < self.token_ttl

    def _token(
        self, verb: str, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> Answer:
        """POST /oauth/token with grant_type=account_credentials (query or form body)."""
        form = {**query, **dict(parse_qsl(body.decode("utf-8", "replace")))}
        with self._lock:
            self.token_requests += 1
            fault = take(self._faults, verb, "/oauth/token")
            delay = take(self._slows, verb, "/oauth/token")
            answer = fault.answer() if fault is not None else self._issue(verb, form, headers)
        if delay is not None:
            self._stopping.wait(delay.seconds)
        return answer

    def _issue(self, verb: str, form: dict[str, str], headers: dict[str, str]) -> Answer:
        if verb != "POST":
            return json_answer({"reason": "Method not allowed", "error": "invalid_request"}, 405)
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if headers.get("authorization", "") != f"Basic {expected}":
            return json_answer(
                {"reason": "Invalid client_id or client_secret", "error": "invalid_client"}, 401
            )
        if form.get("grant_type") != "account_credentials":
            return json_answer(
                {"reason": "Unsupported grant type", "error": "unsupported_grant_type"}, 400
            )
        if form.get("account_id") != self.account_id:
            return json_answer({"reason": "Invalid account_id", "error": "invalid_request"}, 400)
        token = "fz." + secrets.token_urlsafe(24)
        self._tokens[token] = self._monotonic()
        return json_answer(
            {
                "access_token": token,
                "token_type": "bearer",
                "expires_in": int(self.token_ttl),
                "scope": "meeting:read:admin meeting:write:admin dashboard_meetings:read:admin "
                "report:read:admin",
                "api_url": self.base_url,
            }
        )


def _new_uuid() -> str:
    """An instance uuid as Zoom makes them: base64 of 16 bytes (may hold "/" and "+")."""
    return base64.b64encode(secrets.token_bytes(16)).decode()


def _host_id(email: str) -> str:
    """A stable Zoom-style user id for a host's email."""
    return base64.urlsafe_b64encode(hashlib.sha256(email.encode()).digest())[:22].decode()
