"""Payloads shaped exactly as Slack sends them to an app: slash commands, actions, views.

A rehearsal's simulated people and the tests build their requests here; sender.py signs and
posts them (events.py has the Events API envelopes).
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from bot.standin.workspace import APP_ID, BOT_ID, BOT_USER_ID, TEAM_DOMAIN, TEAM_ID

VERIFICATION_TOKEN = "fake-verification-token"
DEFAULT_CHANNEL_ID = "C0001"
DEFAULT_CHANNEL_NAME = "general"

_counter = itertools.count(1)


def _seq() -> int:
    """Process-wide sequence number so generated ids never collide."""
    return next(_counter)


def new_trigger_id() -> str:
    """A unique trigger_id in Slack's format."""
    return f"{1700000000000 + _seq()}.{1700000000}.{uuid.uuid4().hex}"


def new_ts() -> str:
    """A unique, increasing message/action ts."""
    micros = 1_700_000_000_000_000 + 7_000_000 + _seq() * 100
    return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


def new_event_id() -> str:
    """A unique Events API event_id."""
    return f"Ev{_seq():010d}"


def default_response_url(kind: str = "commands") -> str:
    """A hooks.slack.com-shaped response_url on a reserved name that never resolves (anywhere,
    CI included): pass FakeSlack.response_url for one that answers."""
    return f"https://hooks.slack.invalid/{kind}/{TEAM_ID}/{_seq()}/{uuid.uuid4().hex[:24]}"


def _user(user_id: str, user_name: str | None, team_id: str) -> dict[str, Any]:
    """The user object of interactive payloads."""
    name = user_name or user_id.lower()
    return {"id": user_id, "username": name, "name": name, "team_id": team_id}


def _team(team_id: str) -> dict[str, Any]:
    """The team object of interactive payloads."""
    return {"id": team_id, "domain": TEAM_DOMAIN}


def plain_text(text: str, *, emoji: bool = True) -> dict[str, Any]:
    """A plain_text object as Slack echoes it back (emoji flag set)."""
    return {"type": "plain_text", "text": text, "emoji": emoji}


def option(value: str, text: str | None = None) -> dict[str, Any]:
    """An option object."""
    return {"text": plain_text(text if text is not None else value), "value": value}


# ---------------------------------------------------------------------------
# state.values entries


def plain_text_value(value: str | None) -> dict[str, Any]:
    """state.values entry of a plain_text_input (None when left empty)."""
    return {"type": "plain_text_input", "value": value}


def static_select_value(
    value: str | None, text: str | None = None, *, external: bool = False
) -> dict[str, Any]:
    """state.values entry of a static/external select (value None when nothing chosen)."""
    selected = option(value, text) if value is not None else None
    return {
        "type": "external_select" if external else "static_select",
        "selected_option": selected,
    }


def checkboxes_value(options: Iterable[str | tuple[str, str]]) -> dict[str, Any]:
    """state.values entry of checkboxes; options are values or (value, text) pairs."""
    selected = [option(o) if isinstance(o, str) else option(o[0], o[1]) for o in options]
    return {"type": "checkboxes", "selected_options": selected}


def state_values(entries: Mapping[tuple[str, str], dict[str, Any]]) -> dict[str, Any]:
    """Build view.state.values from {(block_id, action_id): entry}."""
    values: dict[str, Any] = {}
    for (block_id, action_id), entry in entries.items():
        values.setdefault(block_id, {})[action_id] = entry
    return values


# ---------------------------------------------------------------------------
# payload builders


def slash_command(
    command: str,
    text: str = "",
    *,
    user_id: str,
    channel_id: str = DEFAULT_CHANNEL_ID,
    channel_name: str = DEFAULT_CHANNEL_NAME,
    team_id: str = TEAM_ID,
    user_name: str | None = None,
    response_url: str | None = None,
    trigger_id: str | None = None,
) -> dict[str, str]:
    """A slash command body (every value is a string, as in Slack's form post)."""
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "team_domain": TEAM_DOMAIN,
        "channel_id": channel_id,
        "channel_name": channel_name,
        "user_id": user_id,
        "user_name": user_name or user_id.lower(),
        "command": command,
        "text": text,
        "api_app_id": APP_ID,
        "is_enterprise_install": "false",
        "response_url": response_url or default_response_url("commands"),
        "trigger_id": trigger_id or new_trigger_id(),
    }


def full_view(
    view: Mapping[str, Any],
    *,
    values: Mapping[str, Any] | None = None,
    private_metadata: str | None = None,
    callback_id: str | None = None,
) -> dict[str, Any]:
    """A view as Slack includes it in payloads (definition plus id, hash, state, ...)."""
    view_id = str(view.get("id") or f"V{_seq():010d}")
    return {
        "id": view_id,
        "team_id": TEAM_ID,
        "type": view.get("type", "modal"),
        "blocks": list(view.get("blocks", [])),
        "private_metadata": (
            private_metadata if private_metadata is not None else view.get("private_metadata", "")
        ),
        "callback_id": callback_id if callback_id is not None else view.get("callback_id", ""),
        "state": {"values": dict(values or {})},
        "hash": str(view.get("hash") or f"1700000000.{uuid.uuid4().hex[:8]}"),
        "title": view.get("title"),
        "clear_on_close": bool(view.get("clear_on_close", False)),
        "notify_on_close": bool(view.get("notify_on_close", False)),
        "close": view.get("close"),
        "submit": view.get("submit"),
        "previous_view_id": view.get("previous_view_id"),
        "root_view_id": view.get("root_view_id") or view_id,
        "app_id": APP_ID,
        "external_id": view.get("external_id", ""),
        "app_installed_team_id": TEAM_ID,
        "bot_id": BOT_ID,
    }


def block_action(
    *,
    user_id: str,
    action_id: str,
    block_id: str = "actions",
    value: str | None = None,
    channel_id: str | None = DEFAULT_CHANNEL_ID,
    channel_name: str = DEFAULT_CHANNEL_NAME,
    message_ts: str | None = None,
    message: Mapping[str, Any] | None = None,
    view: Mapping[str, Any] | None = None,
    is_ephemeral: bool = False,
    trigger_id: str | None = None,
    response_url: str | None = None,
    action_type: str = "button",
    button_text: str = "Button",
    selected_option: Mapping[str, Any] | None = None,
    selected_options: list[Mapping[str, Any]] | None = None,
    action_extra: Mapping[str, Any] | None = None,
    user_name: str | None = None,
    team_id: str = TEAM_ID,
) -> dict[str, Any]:
    """A block_actions payload from a message (default) or from a view (when view is given)."""
    action: dict[str, Any] = {"action_id": action_id, "block_id": block_id, "type": action_type}
    if action_type == "button":
        action["text"] = plain_text(button_text)
        if value is not None:
            action["value"] = value
    elif value is not None:
        action["value"] = value
    if selected_option is not None:
        action["selected_option"] = dict(selected_option)
    if selected_options is not None:
        action["selected_options"] = [dict(o) for o in selected_options]
    action.update(action_extra or {})
    action["action_ts"] = new_ts()

    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": _user(user_id, user_name, team_id),
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
    }
    if view is not None:
        shown = full_view(view) if "state" not in view else dict(view)
        payload["container"] = {"type": "view", "view_id": shown["id"]}
        payload["trigger_id"] = trigger_id or new_trigger_id()
        payload["team"] = _team(team_id)
        payload.update(enterprise=None, is_enterprise_install=False)
        payload["view"] = shown
        payload["actions"] = [action]
        return payload
    if channel_id is None:
        raise ValueError("block_action needs channel_id (message actions) or view")
    ts = message_ts or (str(message["ts"]) if message and "ts" in message else None)
    container: dict[str, Any] = {"type": "message", "channel_id": channel_id}
    if ts is not None:
        container["message_ts"] = ts
    container["is_ephemeral"] = is_ephemeral
    payload["container"] = container
    payload["trigger_id"] = trigger_id or new_trigger_id()
    payload["team"] = _team(team_id)
    payload.update(enterprise=None, is_enterprise_install=False)
    payload["channel"] = {"id": channel_id, "name": channel_name}
    if message is not None or (ts is not None and not is_ephemeral):
        shown_message: dict[str, Any] = {
            "bot_id": BOT_ID,
            "type": "message",
            "text": "",
            "user": BOT_USER_ID,
            "ts": ts,
            "app_id": APP_ID,
            "team": team_id,
            "blocks": [],
        }
        shown_message.update(message or {})
        payload["message"] = shown_message
    payload["state"] = {"values": {}}
    payload["response_url"] = response_url or default_response_url("actions")
    payload["actions"] = [action]
    return payload


def message_buttons(
    message: Mapping[str, Any], *, action_prefix: str = ""
) -> list[tuple[str, dict[str, Any]]]:
    """(block_id, button) for each button in a message's actions blocks, in order.

    Only buttons whose action_id starts with `action_prefix`.
    """
    return [
        (block["block_id"], element)
        for block in message["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if element.get("type") == "button" and element["action_id"].startswith(action_prefix)
    ]


def button_click(
    message: Mapping[str, Any],
    block_id: str,
    button: Mapping[str, Any],
    *,
    user_id: str,
    channel_id: str,
) -> dict[str, Any]:
    """The block_actions payload Slack sends when someone clicks that button on that message."""
    return block_action(
        user_id=user_id,
        channel_id=channel_id,
        action_id=button["action_id"],
        block_id=block_id,
        value=button.get("value"),
        message_ts=message["ts"],
        button_text=button["text"]["text"],
    )


def message_selects(
    message: Mapping[str, Any], *, action_prefix: str = ""
) -> list[tuple[str, dict[str, Any]]]:
    """(block_id, select) for each static_select in a message's actions blocks, in order.

    Only selects whose action_id starts with `action_prefix`.
    """
    return [
        (block["block_id"], element)
        for block in message["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if element.get("type") == "static_select" and element["action_id"].startswith(action_prefix)
    ]


def select_click(
    message: Mapping[str, Any],
    block_id: str,
    select: Mapping[str, Any],
    value: str,
    *,
    user_id: str,
    channel_id: str,
    response_url: str | None = None,
    trigger_id: str | None = None,
) -> dict[str, Any]:
    """The block_actions payload Slack sends when someone picks the option `value` of that
    static_select on that message (the option's text as the select offers it)."""
    offered = {o["value"]: o["text"]["text"] for o in select.get("options", [])}
    picked = option(value, offered.get(value, value))
    return block_action(
        user_id=user_id,
        channel_id=channel_id,
        action_id=select["action_id"],
        block_id=block_id,
        message_ts=message["ts"],
        action_type="static_select",
        selected_option=picked,
        action_extra={"placeholder": select.get("placeholder", plain_text("Select"))},
        response_url=response_url,
        trigger_id=trigger_id,
    )


def view_submission(
    *,
    user_id: str,
    view: Mapping[str, Any],
    values: Mapping[str, Any] | None = None,
    private_metadata: str | None = None,
    callback_id: str | None = None,
    trigger_id: str | None = None,
    user_name: str | None = None,
    team_id: str = TEAM_ID,
) -> dict[str, Any]:
    """A view_submission payload for a view definition (or a FakeSlack-returned view)."""
    return {
        "type": "view_submission",
        "team": _team(team_id),
        "user": _user(user_id, user_name, team_id),
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id or new_trigger_id(),
        "view": full_view(
            view, values=values, private_metadata=private_metadata, callback_id=callback_id
        ),
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }


def view_closed(
    *, user_id: str, view: Mapping[str, Any], user_name: str | None = None
) -> dict[str, Any]:
    """A view_closed payload (sent only when the view set notify_on_close)."""
    return {
        "type": "view_closed",
        "team": _team(TEAM_ID),
        "user": _user(user_id, user_name, TEAM_ID),
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "view": full_view(view),
        "is_cleared": False,
        "is_enterprise_install": False,
        "enterprise": None,
    }


def block_suggestion(
    *,
    user_id: str,
    action_id: str,
    block_id: str,
    value: str,
    view: Mapping[str, Any] | None = None,
    channel_id: str = DEFAULT_CHANNEL_ID,
    user_name: str | None = None,
) -> dict[str, Any]:
    """A block_suggestion payload (external_select typing) in a view or a message."""
    payload: dict[str, Any] = {
        "type": "block_suggestion",
        "user": _user(user_id, user_name, TEAM_ID),
        "container": {},
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "action_id": action_id,
        "block_id": block_id,
        "value": value,
        "team": _team(TEAM_ID),
        "enterprise": None,
        "is_enterprise_install": False,
    }
    if view is not None:
        shown = full_view(view) if "state" not in view else dict(view)
        payload["container"] = {"type": "view", "view_id": shown["id"]}
        payload["view"] = shown
    else:
        ts = new_ts()
        payload["container"] = {
            "type": "message",
            "message_ts": ts,
            "channel_id": channel_id,
            "is_ephemeral": False,
        }
        payload["channel"] = {"id": channel_id, "name": DEFAULT_CHANNEL_NAME}
        payload["message"] = {"type": "message", "ts": ts, "user": BOT_USER_ID, "bot_id": BOT_ID}
    return payload
