"""Zoom's webhook requests: event bodies as Zoom sends them, signed, posted to an app.

Shapes from docs/zoom-api-notes.md §5: the envelope {"event", "event_ts" (epoch ms),
"payload": {"account_id", "object"}}, compact JSON; `object.id` a string; breakout events carry
`breakout_room_uuid` and the participant's main-meeting `parent_user_id`, while `object.uuid`
stays the main meeting's. Signature: x-zm-signature = v0=hex(HMAC-SHA256(secret,
"v0:{x-zm-request-timestamp}:{body}")), the timestamp in epoch seconds.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import zlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import requests

from bot.standin.zoom.state import iso

DEFAULT_ACCOUNT_ID = "fake-zoom-account"
MEETING_FIELDS = ("id", "uuid", "host_id", "topic", "type", "start_time", "timezone", "duration")


def webhook_body(
    event: str, obj: Mapping[str, Any], *, event_ts_ms: int, account_id: str = DEFAULT_ACCOUNT_ID
) -> bytes:
    """The raw body Zoom posts for an event (compact JSON, as Zoom sends it)."""
    envelope = {
        "event": event,
        "event_ts": event_ts_ms,
        "payload": {"account_id": account_id, "object": dict(obj)},
    }
    return json.dumps(envelope, separators=(",", ":")).encode()


def signed_headers(secret: str, body: bytes, *, timestamp: int) -> dict[str, str]:
    """Zoom's headers for a body: content type, request timestamp and v0 signature."""
    message = b"v0:" + str(timestamp).encode() + b":" + body
    digest = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "x-zm-request-timestamp": str(timestamp),
        "x-zm-signature": f"v0={digest}",
    }


def meeting_object(meeting: Mapping[str, Any]) -> dict[str, Any]:
    """An event's `object` for a meeting (as FakeZoom returns it): its id as a string."""
    obj = {key: meeting[key] for key in MEETING_FIELDS if key in meeting}
    obj["id"] = str(meeting["id"])
    return obj


def participant(
    participant_uuid: str,
    name: str,
    email: str,
    *,
    user_id: str | None = None,
    join_time: datetime | str | None = None,
    leave_time: datetime | str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """An event's `participant`; user_id defaults to a stable number for participant_uuid."""
    row: dict[str, Any] = {
        "user_id": user_id or str(16_000_000 + zlib.crc32(participant_uuid.encode()) % 10**6),
        "user_name": name,
        "participant_uuid": participant_uuid,
        "email": email,
    }
    if join_time is not None:
        row["join_time"] = _time(join_time)
    if leave_time is not None:
        row["leave_time"] = _time(leave_time)
    row.update({key: value for key, value in extra.items() if value is not None})
    return row


class ZoomWebhookSender:
    """Posts signed Zoom webhook requests to an app's endpoint (e.g. .../zoom/webhook)."""

    def __init__(
        self,
        url: str,
        secret: str,
        *,
        account_id: str = DEFAULT_ACCOUNT_ID,
        wall_clock: Callable[[], float] = time.time,
        timeout: float = 10.0,
    ) -> None:
        self.url = url
        self.secret = secret
        self.account_id = account_id
        self._wall_clock = wall_clock
        self.timeout = timeout

    def send(
        self,
        event: str,
        obj: Mapping[str, Any],
        *,
        event_ts_ms: int | None = None,
        timestamp: int | None = None,
    ) -> requests.Response:
        """Sign and post one event; the times default to now by the sender's clock."""
        now = self._wall_clock()
        body = webhook_body(
            event,
            obj,
            event_ts_ms=int(now * 1000) if event_ts_ms is None else event_ts_ms,
            account_id=self.account_id,
        )
        return self.post(body, timestamp=int(now) if timestamp is None else timestamp)

    def post(self, body: bytes, *, timestamp: int) -> requests.Response:
        """Post a raw body signed for `timestamp` (to test bodies Zoom would not send)."""
        headers = signed_headers(self.secret, body, timestamp=timestamp)
        return requests.post(self.url, data=body, headers=headers, timeout=self.timeout)

    def url_validation(self, plain_token: str) -> requests.Response:
        """Zoom's endpoint.url_validation challenge (signed too)."""
        now = self._wall_clock()
        body = json.dumps(
            {
                "event": "endpoint.url_validation",
                "event_ts": int(now * 1000),
                "payload": {"plainToken": plain_token},
            },
            separators=(",", ":"),
        ).encode()
        return self.post(body, timestamp=int(now))

    def meeting_started(
        self, meeting: Mapping[str, Any], *, start_time: datetime | str | None = None
    ) -> requests.Response:
        """meeting.started for the meeting's current instance."""
        obj = meeting_object(meeting)
        if start_time is not None:
            obj["start_time"] = _time(start_time)
        return self.send("meeting.started", obj)

    def meeting_ended(
        self, meeting: Mapping[str, Any], *, end_time: datetime | str | None = None
    ) -> requests.Response:
        """meeting.ended: the started object plus end_time."""
        obj = meeting_object(meeting)
        ended = end_time if end_time is not None else iso(_utc_from(self._wall_clock()))
        obj["end_time"] = _time(ended)
        return self.send("meeting.ended", obj)

    def participant_joined(
        self,
        meeting: Mapping[str, Any],
        participant_uuid: str,
        name: str,
        email: str,
        join_time: datetime | str,
        *,
        user_id: str | None = None,
        registrant_id: str | None = None,
    ) -> requests.Response:
        """meeting.participant_joined."""
        who = participant(
            participant_uuid,
            name,
            email,
            user_id=user_id,
            join_time=join_time,
            registrant_id=registrant_id,
        )
        return self.send(
            "meeting.participant_joined", {**meeting_object(meeting), "participant": who}
        )

    def participant_left(
        self,
        meeting: Mapping[str, Any],
        participant_uuid: str,
        name: str,
        email: str,
        leave_time: datetime | str,
        *,
        user_id: str | None = None,
        leave_reason: str | None = None,
    ) -> requests.Response:
        """meeting.participant_left."""
        who = participant(
            participant_uuid,
            name,
            email,
            user_id=user_id,
            leave_time=leave_time,
            leave_reason=leave_reason,
        )
        return self.send(
            "meeting.participant_left", {**meeting_object(meeting), "participant": who}
        )

    def participant_joined_breakout_room(
        self,
        meeting: Mapping[str, Any],
        breakout_room_uuid: str,
        participant_uuid: str,
        name: str,
        email: str,
        join_time: datetime | str,
        *,
        user_id: str | None = None,
        parent_user_id: str | None = None,
    ) -> requests.Response:
        """meeting.participant_joined_breakout_room (object.uuid: the main meeting's)."""
        return self._breakout(
            "meeting.participant_joined_breakout_room",
            meeting,
            breakout_room_uuid,
            participant_uuid,
            name,
            email,
            {"join_time": join_time},
            user_id,
            parent_user_id,
        )

    def participant_left_breakout_room(
        self,
        meeting: Mapping[str, Any],
        breakout_room_uuid: str,
        participant_uuid: str,
        name: str,
        email: str,
        leave_time: datetime | str,
        *,
        user_id: str | None = None,
        parent_user_id: str | None = None,
    ) -> requests.Response:
        """meeting.participant_left_breakout_room."""
        return self._breakout(
            "meeting.participant_left_breakout_room",
            meeting,
            breakout_room_uuid,
            participant_uuid,
            name,
            email,
            {"leave_time": leave_time},
            user_id,
            parent_user_id,
        )

    def _breakout(
        self,
        event: str,
        meeting: Mapping[str, Any],
        breakout_room_uuid: str,
        participant_uuid: str,
        name: str,
        email: str,
        when: dict[str, datetime | str],
        user_id: str | None,
        parent_user_id: str | None,
    ) -> requests.Response:
        # In a room the participant has another user_id; parent_user_id is the main meeting's.
        main_user = participant(participant_uuid, name, email)["user_id"]
        who = participant(
            participant_uuid,
            name,
            email,
            user_id=user_id or str(int(main_user) + 1),
            parent_user_id=parent_user_id or main_user,
            **when,
        )
        obj = {**meeting_object(meeting), "breakout_room_uuid": breakout_room_uuid}
        return self.send(event, {**obj, "participant": who})


def _time(value: datetime | str) -> str:
    return value if isinstance(value, str) else iso(value)


def _utc_from(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)
