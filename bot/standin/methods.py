"""The Web API methods the stand-in answers: chat.*, conversations history, views, files, apps.

Each method is a function of the call's arguments, run with the fake's lock held, that
changes the stored workspace and returns Slack's JSON answer. The people and channel methods
live in directory.py.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, ClassVar

from bot.standin.blockkit import validate_blocks, validate_view
from bot.standin.directory import Directory
from bot.standin.workspace import (
    APP_ID,
    BOT_ID,
    BOT_NAME,
    BOT_USER_ID,
    TEAM_DOMAIN,
    TEAM_ID,
    TEAM_NAME,
)

MAX_MESSAGE_TEXT = 40000
_MESSAGE_METHODS = frozenset(
    {"chat.postMessage", "chat.update", "chat.postEphemeral", "chat.scheduleMessage"}
)
_VIEW_METHODS = frozenset({"views.open", "views.update", "views.push", "views.publish"})


class WebApiMethods(Directory):
    """The Web API methods; `_method` validates a call's Block Kit and answers it."""

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

    _METHODS: ClassVar[dict[str, Callable[[WebApiMethods, dict[str, Any]], dict[str, Any]]]] = {
        **Directory._DIRECTORY_METHODS,
        "auth.test": _auth_test,
        "chat.postMessage": _chat_post_message,
        "chat.update": _chat_update,
        "chat.delete": _chat_delete,
        "chat.postEphemeral": _chat_post_ephemeral,
        "chat.scheduleMessage": _chat_schedule_message,
        "chat.getPermalink": _chat_get_permalink,
        "conversations.history": _conversations_history,
        "conversations.replies": _conversations_replies,
        "views.open": _views_open,
        "views.push": _views_push,
        "views.update": _views_update,
        "views.publish": _views_publish,
        "files.getUploadURLExternal": _files_get_upload_url,
        "files.completeUploadExternal": _files_complete_upload,
        "apps.connections.open": _apps_connections_open,
    }
