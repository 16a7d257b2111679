"""Who and where: the stand-in's people and channels, and the Web API methods that read them.

A rehearsal registers its simulated people with add_user (real name, display name, email);
tests mostly rely on users.info making up a plausible person for an id nobody registered.
"""

from __future__ import annotations

import copy
import unicodedata
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from bot.standin.state import StandInState
from bot.standin.workspace import BOT_USER_ID, TEAM_ID

# A Web API method: the stand-in and the call's arguments -> Slack's JSON answer.
DirectoryMethod = Callable[["Directory", dict[str, Any]], dict[str, Any]]


def _normalized(text: str) -> str:
    """Slack's *_normalized profile fields: the text with its accents taken off."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _page(items: list[Any], args: dict[str, Any], default_limit: int) -> tuple[list[Any], str]:
    """One page of a cursor-paginated list (the cursor is the index of the next item)."""
    start = int(args.get("cursor") or 0)
    limit = int(args.get("limit") or default_limit)
    next_cursor = str(start + limit) if start + limit < len(items) else ""
    return items[start : start + limit], next_cursor


class Directory(StandInState):
    """Channels and users: registration, and the users.* / conversations.* methods on them."""

    # -- registration --------------------------------------------------------------

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
    ) -> dict[str, Any]:
        """Register (or replace) a person for users.info, users.list and users.lookupByEmail.

        Args:
            user_id: the Slack id, e.g. "U0ADA".
            name: the handle (default: the id in lower case).
            real_name: the full name (default: the handle, title-cased).
            display_name: what Slack shows in messages (default: the handle; "" is kept).
            is_bot: whether the user is a bot.
            tz: the user's time zone.
            email: the profile's email (default: <handle>@example.com).

        Returns:
            The user object, as users.info answers it.
        """
        name = name or user_id.lower()
        real_name = real_name or name.title()
        display_name = display_name if display_name is not None else name
        user = {
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
                "display_name": display_name,
                "real_name_normalized": _normalized(real_name),
                "display_name_normalized": _normalized(display_name),
                "email": email or f"{name}@example.com",
                "team": TEAM_ID,
            },
        }
        with self._cond:
            self._users[user_id] = user
            return copy.deepcopy(user)

    def user(self, user_id: str) -> dict[str, Any] | None:
        """The registered user object for an id (None when nobody registered it)."""
        with self._cond:
            found = self._users.get(user_id)
            return None if found is None else copy.deepcopy(found)

    # -- users.* (called with self._cond held) ------------------------------------------

    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        """users.info, fabricating a user for unknown ids."""
        user_id = args.get("user")
        if not isinstance(user_id, str) or not user_id:
            return {"ok": False, "error": "user_not_found"}
        if user_id not in self._users:
            self.add_user(user_id)
        return {"ok": True, "user": copy.deepcopy(self._users[user_id])}

    def _users_lookup_by_email(self, args: dict[str, Any]) -> dict[str, Any]:
        """users.lookupByEmail: only registered people (Slack matches emails case-blind)."""
        email = str(args.get("email") or "").strip().lower()
        if not email:
            return {"ok": False, "error": "invalid_arguments"}
        for user in self._users.values():
            if str(user["profile"].get("email", "")).lower() == email:
                return {"ok": True, "user": copy.deepcopy(user)}
        return {"ok": False, "error": "users_not_found"}

    def _users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        """users.list: registered people in registration order, with cursor pagination."""
        page, next_cursor = _page(list(self._users.values()), args, len(self._users) or 1)
        return {
            "ok": True,
            "members": copy.deepcopy(page),
            "cache_ts": 1700000000,
            "response_metadata": {"next_cursor": next_cursor},
        }

    def _users_profile_get(self, args: dict[str, Any]) -> dict[str, Any]:
        """users.profile.get for a user (fabricated like users.info when unknown)."""
        user_id = args.get("user")
        if not isinstance(user_id, str) or not user_id:
            return {"ok": False, "error": "user_not_found"}
        if user_id not in self._users:
            self.add_user(user_id)
        return {"ok": True, "profile": copy.deepcopy(self._users[user_id]["profile"])}

    # -- conversations.* (called with self._cond held) --------------------------------------

    def _channel_for(self, args: dict[str, Any]) -> str | None:
        """Resolve the channel arg; user ids map to a DM channel like Slack does."""
        channel = args.get("channel")
        if not isinstance(channel, str) or not channel:
            return None
        if channel[0] in "UW":
            return "D" + channel[1:]
        return channel

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
        page, next_cursor = _page(members, args, 100)
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

    _DIRECTORY_METHODS: ClassVar[dict[str, DirectoryMethod]] = {
        "users.info": _users_info,
        "users.lookupByEmail": _users_lookup_by_email,
        "users.list": _users_list,
        "users.profile.get": _users_profile_get,
        "conversations.info": _conversations_info,
        "conversations.members": _conversations_members,
        "conversations.open": _conversations_open,
    }
