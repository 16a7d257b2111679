"""Events API payloads shaped as Slack sends them: the event_callback envelope and its events."""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from typing import Any

from bot.standin.payloads import DEFAULT_CHANNEL_ID, VERIFICATION_TOKEN, new_event_id, new_ts
from bot.standin.workspace import APP_ID, BOT_USER_ID, TEAM_ID


def event_callback(
    event: Mapping[str, Any], *, event_id: str | None = None, team_id: str = TEAM_ID
) -> dict[str, Any]:
    """An Events API event_callback envelope around event."""
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "context_team_id": team_id,
        "context_enterprise_id": None,
        "api_app_id": APP_ID,
        "event": dict(event),
        "type": "event_callback",
        "event_id": event_id or new_event_id(),
        "event_time": int(time.time()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": team_id,
                "user_id": BOT_USER_ID,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": f"4-{uuid.uuid4().hex}",
    }


def message_event(
    text: str,
    *,
    user: str,
    channel: str = DEFAULT_CHANNEL_ID,
    ts: str | None = None,
    thread_ts: str | None = None,
    channel_type: str = "channel",
) -> dict[str, Any]:
    """A message event (human user)."""
    ts = ts or new_ts()
    event: dict[str, Any] = {
        "client_msg_id": str(uuid.uuid4()),
        "type": "message",
        "text": text,
        "user": user,
        "ts": ts,
        "team": TEAM_ID,
        "channel": channel,
        "event_ts": ts,
        "channel_type": channel_type,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def app_mention_event(
    text: str, *, user: str, channel: str = DEFAULT_CHANNEL_ID, ts: str | None = None
) -> dict[str, Any]:
    """An app_mention event; text should contain <@UBOT>."""
    ts = ts or new_ts()
    return {
        "client_msg_id": str(uuid.uuid4()),
        "type": "app_mention",
        "text": text,
        "user": user,
        "ts": ts,
        "team": TEAM_ID,
        "channel": channel,
        "event_ts": ts,
    }


def url_verification(challenge: str = "fake-challenge") -> dict[str, Any]:
    """The url_verification handshake body."""
    return {"token": VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"}
