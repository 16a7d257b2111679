"""The Slack app manifest, generated from the commands the bot really has."""

from __future__ import annotations

from typing import Any

import yaml

APP_NAME = "listening-bot"

# (command, description, usage hint) for every slash command in DESIGN.md.
SLASH_COMMANDS: tuple[tuple[str, str, str], ...] = (
    (
        "/session",
        "Start, check or end a listening session",
        'start "<title>" [--area "<place>"] [--group "<group type>"] [--zoom <id or URL>] '
        "[--runsheet <name>] | status | end | help",
    ),
    (
        "/poll",
        "Launch a timed poll, or close the newest one",
        '"<question>" "<option>" "<option>" … [--time 2m] [--multi] [--anonymous] '
        "[--hide-results] [--key <id>] [--zoom] | close | help",
    ),
    (
        "/breakout",
        "Split the people present into breakout rooms",
        "<rooms> | --size <people per room> [--time 15m] [--mode random|mix:<attr>|group:<attr>] "
        '[--prompt "<question>"] [--seed N] | end | move @someone <room> | help',
    ),
    ("/next", "Run (or skip) the next step of the session's run sheet", "[skip | help]"),
    ("/report", "Send your breakout room's report-back", "[help]"),
    ("/summary", "Post an interim summary of this session", "[help]"),
)

# Only what the bot calls: slash commands, posting (also in public channels it has not
# joined, so facilitators need not invite it first), uploading charts, and reading checked-in
# people's emails (users.info) to match them to the people in the Zoom meeting.
BOT_SCOPES: tuple[str, ...] = (
    "commands",
    "chat:write",
    "chat:write.public",
    "files:write",
    "users:read",
    "users:read.email",
)


def build_manifest(request_url: str | None = None) -> dict[str, Any]:
    """The manifest as a dict.

    Args:
        request_url: the public https URL of `/slack/events` for HTTP mode; None for Socket Mode.
    """
    commands: list[dict[str, Any]] = []
    for command, description, hint in SLASH_COMMANDS:
        entry: dict[str, Any] = {
            "command": command,
            "description": description,
            "usage_hint": hint,
            # Slack then sends @mentions as <@U…> ids and escapes & < > for us to undo.
            "should_escape": True,
        }
        if request_url:
            entry["url"] = request_url
        commands.append(entry)
    interactivity: dict[str, Any] = {"is_enabled": True}
    if request_url:
        interactivity["request_url"] = request_url
        interactivity["message_menu_options_url"] = request_url
    return {
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {
            "name": APP_NAME,
            "description": "Runs live listening sessions: check-in, timed polls, breakout "
            "rooms, report-backs and summaries.",
            "background_color": "#1d3557",
        },
        "features": {
            "bot_user": {"display_name": APP_NAME, "always_online": True},
            # Facilitators' run sheet controls come as direct messages from the bot (posted
            # with chat:write); people read them there but need not type to the bot.
            "app_home": {
                "home_tab_enabled": False,
                "messages_tab_enabled": True,
                "messages_tab_read_only_enabled": True,
            },
            "slash_commands": commands,
        },
        "oauth_config": {"scopes": {"bot": list(BOT_SCOPES)}},
        "settings": {
            "interactivity": interactivity,
            "org_deploy_enabled": False,
            "socket_mode_enabled": request_url is None,
            "token_rotation_enabled": False,
        },
    }


def render_manifest(request_url: str | None = None) -> str:
    """The manifest as YAML, ready to paste into https://api.slack.com/apps → From a manifest."""
    return yaml.safe_dump(build_manifest(request_url), sort_keys=False, allow_unicode=True)
