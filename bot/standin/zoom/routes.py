"""The fake Zoom's REST endpoints, answering with the shapes of docs/zoom-api-notes.md §3."""

from __future__ import annotations

import copy
import secrets
import threading
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from typing import Any

from bot.standin.server import Answer, json_answer
from bot.standin.zoom.state import decode_segment, deep_merge, error, iso, no_content

MAX_TITLE = 64  # a poll's title, Zoom's limit
MAX_QUESTION = 1024
MIN_ANSWERS, MAX_ANSWERS = 2, 10
MAX_ROOMS, MAX_ASSIGNED = 100, 1000  # breakout pre-assignment (Zoom support KB0061353)
MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE = 300, 30
POLL_QUESTION_TYPES = ("single", "multiple")
PAID_ONLY = "Only available for Paid or ZMP account."
BUSINESS_ONLY = "Only available for Business plan or higher: the Dashboard is not enabled."
POLLS_PENDING: tuple[int, dict[str, Any]] = (
    404,
    {"code": 3001, "message": "Meeting poll results not available yet."},
)


class ZoomRoutes:
    """The endpoints; FakeZoom holds the state they read and change (under `_lock`)."""

    plan: str
    patch_daily_limit: int
    pending_polls_answer: tuple[int, dict[str, Any]]
    _lock: threading.Lock
    _now: Callable[[], datetime]
    _meetings: dict[str, dict[str, Any]]
    _instances: dict[str, str]  # instance uuid -> meeting id
    _polls: dict[str, list[dict[str, Any]]]
    _live: dict[str, list[dict[str, Any]]]
    _registrants: dict[str, list[dict[str, Any]]]
    _past_participants: dict[str, list[dict[str, Any]]]
    _report_participants: dict[str, list[dict[str, Any]]]
    _past_polls: dict[str, list[dict[str, Any]]]
    _page_tokens: dict[str, int]
    _patches: dict[tuple[str, str], int]  # (host_id, UTC day) -> meeting updates

    def _route(self, verb: str, segments: list[str], query: dict[str, str], body: Any) -> Answer:
        """Answer one authenticated API call (the caller holds the lock)."""
        decoded = [decode_segment(s) for s in segments]
        handlers: dict[str, Callable[..., Answer]]
        match segments:
            case ["meetings", _]:
                handlers = {"GET": self._get_meeting, "PATCH": self._patch_meeting}
            case ["meetings", _, "polls"]:
                handlers = {"POST": self._create_poll, "GET": self._list_polls}
            case ["meetings", _, "polls", _]:
                handlers = {"DELETE": self._delete_poll, "GET": self._get_poll}
            case ["meetings", _, "registrants"]:
                handlers = {"GET": self._list_registrants}
            case ["metrics", "meetings", _, "participants"]:
                handlers = {"GET": self._live_participants}
            case ["past_meetings", _, "polls"]:
                handlers = {"GET": self._past_polls_answer}
            case ["past_meetings", _, "participants"]:
                handlers = {"GET": self._past_participants_answer}
            case ["report", "meetings", _, "participants"]:
                handlers = {"GET": self._report_participants_answer}
            case _:
                return error(404, 404, "Unsupported request path: /" + "/".join(segments))
        handler = handlers.get(verb)
        if handler is None:
            return error(405, 405, f"Method {verb} not allowed here.")
        ref = decoded[2] if segments[0] in ("metrics", "report") else decoded[1]
        args = [d or "" for d in decoded[3:]] if segments[0] == "meetings" else []
        if ref is None:  # a uuid Zoom could not route: it needed double encoding
            return _no_meeting(segments[2] if segments[0] in ("metrics", "report") else segments[1])
        return handler(ref, *args, query=query, body=body)

    # -- meetings ------------------------------------------------------------

    def _meeting_of(self, ref: str) -> dict[str, Any] | None:
        """The meeting an id or an instance uuid names."""
        if ref in self._meetings:
            return self._meetings[ref]
        meeting_id = self._instances.get(ref)
        return None if meeting_id is None else self._meetings[meeting_id]

    def _instance_of(self, ref: str) -> str | None:
        """The instance uuid an id (its latest instance) or a uuid names."""
        if ref in self._meetings:
            return str(self._meetings[ref]["uuid"])
        return ref if ref in self._instances else None

    def _get_meeting(self, ref: str, *, query: dict[str, str], body: Any) -> Answer:
        meeting = self._meeting_of(ref)
        return _no_meeting(ref) if meeting is None else json_answer(copy.deepcopy(meeting))

    def _patch_meeting(self, ref: str, *, query: dict[str, str], body: Any) -> Answer:
        meeting = self._meeting_of(ref)
        if meeting is None:
            return _no_meeting(ref)
        if not isinstance(body, dict):
            return error(400, 300, "Request body must be a JSON object.")
        now = self._now().astimezone(UTC)
        day = (str(meeting["host_id"]), now.date().isoformat())
        if self._patches.get(day, 0) >= self.patch_daily_limit:
            midnight = datetime.combine(now.date() + timedelta(days=1), time(0, 0), UTC)
            return error(
                429,
                429,
                f"You have exceeded the daily rate limit ({self.patch_daily_limit}) of Meeting "
                "Create/Update API requests permitted for this particular user. You may resume "
                "these user-level requests at GMT 00:00:00.",
                **{"Retry-After": iso(midnight), "X-RateLimit-Type": "Daily-limit"},
            )
        problem = _check_breakout(body)
        if problem is not None:
            return error(400, 300, problem)
        self._patches[day] = self._patches.get(day, 0) + 1
        changes = {k: v for k, v in body.items() if k not in ("id", "uuid", "host_id")}
        deep_merge(meeting, changes)
        return no_content()

    # -- polls ---------------------------------------------------------------

    def _create_poll(self, ref: str, *, query: dict[str, str], body: Any) -> Answer:
        meeting = self._meetings.get(ref)
        if meeting is None:
            return _no_meeting(ref)
        if self.plan == "free":
            return error(400, 200, PAID_ONLY)
        if meeting["type"] == 1:
            return error(400, 3000, "Polls are not available for instant meetings.")
        problem = _check_poll(body)
        if problem is not None:
            return error(400, 4400, problem)
        poll = {
            "id": secrets.token_urlsafe(16)[:22],
            "status": "notstart",
            "title": body["title"],
            "anonymous": bool(body.get("anonymous", False)),
            "poll_type": int(body.get("poll_type", 1)),
            "questions": copy.deepcopy(body["questions"]),
        }
        self._polls.setdefault(ref, []).append(poll)
        return json_answer(copy.deepcopy(poll), 201)

    def _list_polls(self, ref: str, *, query: dict[str, str], body: Any) -> Answer:
        if ref not in self._meetings:
            return _no_meeting(ref)
        polls = copy.deepcopy(self._polls.get(ref, []))
        return json_answer({"total_records": len(polls), "polls": polls})

    def _find_poll(self, ref: str, poll_id: str) -> dict[str, Any] | None:
        return next((p for p in self._polls.get(ref, []) if p["id"] == poll_id), None)

    def _get_poll(self, ref: str, poll_id: str, *, query: dict[str, str], body: Any) -> Answer:
        if ref not in self._meetings:
            return _no_meeting(ref)
        poll = self._find_poll(ref, poll_id)
        if poll is None:
            return error(404, 4400, f"Poll does not exist: {poll_id}.")
        return json_answer(copy.deepcopy(poll))

    def _delete_poll(self, ref: str, poll_id: str, *, query: dict[str, str], body: Any) -> Answer:
        if ref not in self._meetings:
            return _no_meeting(ref)
        poll = self._find_poll(ref, poll_id)
        if poll is None:
            return error(404, 4400, f"Poll does not exist: {poll_id}.")
        self._polls[ref].remove(poll)
        return no_content()

    def _past_polls_answer(self, ref: str, *, query: dict[str, str], body: Any) -> Answer:
        uuid = self._instance_of(ref)
        if uuid is None:
            return _no_meeting(ref)
        if self.plan == "free":
            return error(400, 200, PAID_ONLY)
        meeting = self._meetings[self._instances[uuid]]
        if uuid not in self._past_polls:
            status, answer = self.pending_polls_answer
            if status >= 300:
                return json_answer(copy.deepcopy(answer), status)
            rows: list[dict[str, Any]] = list(answer.get("questions", []))
        else:
            rows = self._past_polls[uuid]
        return json_answer(
            {
                "id": meeting["id"],
                "uuid": uuid,
                "start_time": meeting.get("start_time"),
                "questions": copy.deepcopy(rows),
            }
        )

    # -- people ----------------------------------------------------------------

    def _list_registrants(self, ref: str, *, query: dict[str, str], body: Any) -> Answer:
        meeting = self._meetings.get(ref)
        if meeting is None:
            return _no_meeting(ref)
        if meeting["settings"].get("approval_type") == 2:
            return error(400, 3000, "Registration has not been enabled for this meeting.")
        status = query.get("status", "approved")
        rows = [r for r in self._registrants.get(ref, []) if r.get("status", "approved") == status]
        return self._page("registrants", rows, query)

    def _live_participants(self, ref: str, *, query: dict[str, str], body: Any) -> Answer:
        meeting = self._meeting_of(ref)
        if meeting is None:
            return _no_meeting(ref)
        if self.plan != "business":
            return error(400, 200, PAID_ONLY if self.plan == "free" else BUSINESS_ONLY)
        kind = query.get("type", "live")
        if kind == "live":
            rows = self._live.get(str(meeting["id"]), [])
        elif kind in ("past", "pastOne"):
            rows = self._past_participants.get(self._instance_of(ref) or "", [])
        else:
            return error(400, 300, f"Invalid field: type {kind!r}.")
        return self._page("participants", rows, query)

    def _past_participants_answer(self, ref: str, *, query: dict[str, str], body: Any) -> Answer:
        uuid = self._instance_of(ref)
        if uuid is None:
            return _no_meeting(ref)
        if self.plan == "free":
            return error(400, 200, PAID_ONLY)
        return self._page("participants", self._past_participants.get(uuid, []), query)

    def _report_participants_answer(self, ref: str, *, query: dict[str, str], body: Any) -> Answer:
        uuid = self._instance_of(ref)
        if uuid is None:
            return _no_meeting(ref)
        if self.plan == "free":
            return error(400, 200, PAID_ONLY)
        rows = self._report_participants.get(uuid)
        if rows is None:
            rows = self._past_participants.get(uuid, [])
        return self._page("participants", rows, query)

    def _page(self, key: str, rows: list[dict[str, Any]], query: dict[str, str]) -> Answer:
        """One page of rows, Zoom style: page_size (≤300, default 30) and next_page_token."""
        try:
            size = min(MAX_PAGE_SIZE, max(1, int(query.get("page_size", DEFAULT_PAGE_SIZE))))
        except ValueError:
            return error(400, 300, "Invalid field: page_size.")
        offset = 0
        token = query.get("next_page_token")
        if token:
            if token not in self._page_tokens:
                return error(400, 300, "The next page token is invalid or expired.")
            offset = self._page_tokens[token]
        following = ""
        if offset + size < len(rows):
            following = secrets.token_urlsafe(12)
            self._page_tokens[following] = offset + size
        return json_answer(
            {
                "page_size": size,
                "total_records": len(rows),
                "next_page_token": following,
                key: copy.deepcopy(rows[offset : offset + size]),
            }
        )


def _no_meeting(ref: str) -> Answer:
    return error(404, 3001, f"Meeting does not exist: {ref}.")


def _check_poll(body: Any) -> str | None:
    """Zoom's complaint about a poll body, or None when it is acceptable."""
    if not isinstance(body, dict):
        return "Request body must be a JSON object."
    title = body.get("title")
    if not isinstance(title, str) or not title.strip() or len(title) > MAX_TITLE:
        return f"Poll title must be 1 to {MAX_TITLE} characters."
    if body.get("poll_type", 1) not in (1, 2, 3):
        return "Invalid field: poll_type."
    questions = body.get("questions")
    if not isinstance(questions, list) or not questions:
        return "A poll needs at least one question."
    for question in questions:
        if not isinstance(question, dict):
            return "Invalid field: questions."
        name = question.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > MAX_QUESTION:
            return f"Question must be 1 to {MAX_QUESTION} characters."
        if question.get("type") not in POLL_QUESTION_TYPES:
            return "Question type must be single or multiple."
        answers = question.get("answers")
        if not isinstance(answers, list) or not MIN_ANSWERS <= len(answers) <= MAX_ANSWERS:
            return f"A question needs {MIN_ANSWERS} to {MAX_ANSWERS} answers."
        if not all(isinstance(a, str) and a.strip() for a in answers):
            return "Answers must be non-empty text."
    return None


def _check_breakout(body: dict[str, Any]) -> str | None:
    """Zoom's complaint about a breakout pre-assignment, or None."""
    settings = body.get("settings")
    room_setting = settings.get("breakout_room") if isinstance(settings, dict) else None
    if room_setting is None:
        return None
    rooms = room_setting.get("rooms", []) if isinstance(room_setting, dict) else None
    if not isinstance(rooms, list) or not all(isinstance(r, dict) for r in rooms):
        return "Invalid field: settings.breakout_room.rooms."
    if len(rooms) > MAX_ROOMS:
        return f"The number of breakout rooms cannot exceed {MAX_ROOMS}."
    if any(not isinstance(r.get("name"), str) or not r["name"].strip() for r in rooms):
        return "Each breakout room needs a name."
    assigned = sum(len(r.get("participants") or []) for r in rooms)
    if assigned > MAX_ASSIGNED:
        return f"At most {MAX_ASSIGNED} participants can be pre-assigned to breakout rooms."
    return None
