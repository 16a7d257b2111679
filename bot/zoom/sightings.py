"""What Zoom's webhook events, live metrics rows and registrants say about people, read into
`Sighting`s (pure: no database, no Zoom calls).

Zoom's shapes (docs/zoom-api-notes.md §3, §5): webhook objects carry the meeting `id` (a string)
and instance `uuid`, and a `participant` with `participant_uuid` (the same in every breakout
room), `user_id` (a new one in each room; `parent_user_id` is the main meeting's), `user_name`,
`email` (blank for guests and people outside the account), `registrant_id`, and `join_time` or
`leave_time`. Metrics rows carry the same, with `bo_mtg_id` for the breakout room and `status`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.zoom.service import parse_zoom_time
from storage.models import ATTRIBUTE_MAX
from storage.zoom.people import normalize_email
from storage.zoom.presence import Answers, Sighting

MEETING_STARTED = "meeting.started"
MEETING_ENDED = "meeting.ended"
JOINED = "meeting.participant_joined"
LEFT = "meeting.participant_left"
JOINED_ROOM = "meeting.participant_joined_breakout_room"
LEFT_ROOM = "meeting.participant_left_breakout_room"
PARTICIPANT_EVENTS = (JOINED, LEFT, JOINED_ROOM, LEFT_ROOM)
_ROOM_EVENTS = (JOINED_ROOM, LEFT_ROOM)
_JOIN_EVENTS = (JOINED, JOINED_ROOM)

# A role is offered back at check-in as a select option (75 characters, like bot.sessions'
# ROLE_MAX); place and group fill their columns.
ROLE_MAX = 75
WAITING_ROOM = "in_waiting_room"


@dataclass(frozen=True)
class MeetingRef:
    """Which meeting (and instance) an event is about."""

    meeting_id: str | None
    uuid: str | None


@dataclass(frozen=True)
class Questions:
    """The registration questions whose answers are a registrant's check-in (names compared
    trimmed and case-blind)."""

    role: str = "Role"
    place: str = "Place"
    group: str = "Group"


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    text = str(value).strip()
    return text or None


def event_time(envelope: Mapping[str, Any]) -> datetime | None:
    """When Zoom says the event happened (`event_ts`, epoch milliseconds)."""
    stamp = envelope.get("event_ts")
    if isinstance(stamp, bool) or not isinstance(stamp, int | float):
        return None
    try:
        return datetime.fromtimestamp(stamp / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def event_object(envelope: Mapping[str, Any]) -> Mapping[str, Any]:
    """The event's `payload.object` ({} when it has none)."""
    payload = envelope.get("payload")
    found = payload.get("object") if isinstance(payload, Mapping) else None
    return found if isinstance(found, Mapping) else {}


def meeting_ref(obj: Mapping[str, Any]) -> MeetingRef:
    """The meeting id (digits, as sessions store it) and instance uuid of an event object."""
    meeting_id = _text(obj.get("id"))
    return MeetingRef(
        meeting_id=meeting_id.replace(" ", "") if meeting_id else None, uuid=_text(obj.get("uuid"))
    )


def _participant(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    found = obj.get("participant")
    return found if isinstance(found, Mapping) else {}


def event_digest(envelope: Mapping[str, Any]) -> str:
    """What tells one delivery of an event from another: Zoom's events carry no id, and a
    retry repeats its content (event, event_ts, meeting uuid, participant, join/leave time)."""
    obj = event_object(envelope)
    person = _participant(obj)
    parts = [
        envelope.get("event"),
        envelope.get("event_ts"),
        obj.get("uuid"),
        obj.get("breakout_room_uuid"),
        person.get("participant_uuid") or person.get("user_id"),
        person.get("join_time") or person.get("leave_time"),
        obj.get("start_time") if envelope.get("event") == MEETING_STARTED else obj.get("end_time"),
    ]
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()


def _identity(person: Mapping[str, Any], *, main_user_id: Any) -> str | None:
    """participant_uuid where Zoom gives it; else the main meeting's user_id; else a digest of
    the email (an address may be 320 characters: too long for the identity column)."""
    uuid = _text(person.get("participant_uuid"))
    if uuid:
        return uuid
    user_id = _text(main_user_id)
    if user_id:
        return f"user:{user_id}"
    email = normalize_email(_text(person.get("email")))
    return f"email:{hashlib.sha256(email.encode()).hexdigest()}" if email else None


def participant_sighting(envelope: Mapping[str, Any]) -> Sighting | None:
    """The join or leave a participant event reports; None if it names nobody (or no room)."""
    event = envelope.get("event")
    if event not in PARTICIPANT_EVENTS:
        return None
    obj = event_object(envelope)
    person = _participant(obj)
    in_room = event in _ROOM_EVENTS
    main_user_id = person.get("parent_user_id") if in_room else person.get("user_id")
    identity = _identity(person, main_user_id=main_user_id)
    room = _text(obj.get("breakout_room_uuid")) if in_room else None
    if identity is None or (in_room and room is None):
        return None
    joined = event in _JOIN_EVENTS
    # The event's own time; event_ts only when Zoom left the time out.
    at = parse_zoom_time(person.get("join_time" if joined else "leave_time")) or event_time(
        envelope
    )
    if at is None:
        return None
    return Sighting(
        identity=identity,
        name=_text(person.get("user_name")),
        email=normalize_email(_text(person.get("email"))),
        registrant_id=_text(person.get("registrant_id")),
        room_uuid=room,
        joined_at=at if joined else None,
        left_at=None if joined else at,
    )


def metrics_sighting(row: Mapping[str, Any]) -> Sighting | None:
    """A live metrics row (one stay in the main room or a breakout room); None for people in
    the waiting room or rows that name nobody."""
    if _text(row.get("status")) == WAITING_ROOM:
        return None
    identity = _identity(row, main_user_id=None if row.get("bo_mtg_id") else row.get("user_id"))
    joined = parse_zoom_time(row.get("join_time"))
    if identity is None or joined is None:
        return None
    left = parse_zoom_time(row.get("leave_time"))
    if left is not None and left <= joined:
        # One row is one stay, so its leave follows its join even within Zoom's second (a
        # tie between separate events reads as a rejoin).
        left = joined + timedelta(microseconds=1)
    return Sighting(
        identity=identity,
        name=_text(row.get("user_name")),
        email=normalize_email(_text(row.get("email"))),
        registrant_id=_text(row.get("registrant_id")),
        room_uuid=_text(row.get("bo_mtg_id")),
        joined_at=joined,
        left_at=left,
    )


def _question(title: str) -> str:
    return " ".join(title.split()).strip(" :?*").casefold()


def _answer(value: Any, limit: int) -> str | None:
    """An answer as check-in keeps it: whitespace collapsed, cut to its column (the same rule
    as the check-in form's)."""
    text = " ".join(str(value or "").split())
    return text[:limit] or None


def registrant_sighting(
    row: Mapping[str, Any], questions: Questions
) -> tuple[Sighting, Answers] | None:
    """A registrant, and their answers to the Role / Place / Group questions."""
    registrant_id = _text(row.get("id"))
    if registrant_id is None:
        return None
    name = " ".join(
        part for part in (_text(row.get("first_name")), _text(row.get("last_name"))) if part
    )
    wanted = {
        _question(questions.role): "role",
        _question(questions.place): "place",
        _question(questions.group): "group",
    }
    given: dict[str, str | None] = {}
    for item in row.get("custom_questions") or []:
        if isinstance(item, Mapping) and (
            field := wanted.get(_question(str(item.get("title") or "")))
        ):
            given[field] = _answer(
                item.get("value"), ROLE_MAX if field == "role" else ATTRIBUTE_MAX
            )
    sighting = Sighting(
        identity=f"registrant:{registrant_id}",
        name=name or None,
        email=normalize_email(_text(row.get("email"))),
        registrant_id=registrant_id,
    )
    return sighting, Answers(
        role=given.get("role"), place=given.get("place"), group_name=given.get("group")
    )
