"""The Slack app manifest."""

from __future__ import annotations

import yaml

from bot.manifest import BOT_SCOPES, render_manifest
from bot.sessions import START_SPEC


def test_socket_mode_manifest_has_every_command_and_interactivity() -> None:
    manifest = yaml.safe_load(render_manifest())
    commands = {c["command"]: c for c in manifest["features"]["slash_commands"]}
    assert set(commands) == {"/session", "/poll", "/breakout", "/next", "/report", "/summary"}
    for command in commands.values():
        assert command["should_escape"] is True
        assert 0 < len(command["description"]) <= 2000
        assert 0 < len(command["usage_hint"]) <= 1000
        assert "url" not in command
    assert "--area" in commands["/session"]["usage_hint"]
    assert "--runsheet" in commands["/session"]["usage_hint"]
    assert "skip" in commands["/next"]["usage_hint"]
    # Run sheet controls are direct messages from the bot: its Messages tab must be on.
    app_home = manifest["features"]["app_home"]
    assert app_home["messages_tab_enabled"] is True
    assert START_SPEC.name.split()[0] == "/session"
    settings = manifest["settings"]
    assert settings["socket_mode_enabled"] is True
    assert settings["interactivity"] == {"is_enabled": True}
    assert manifest["oauth_config"]["scopes"]["bot"] == list(BOT_SCOPES)
    assert "commands" in BOT_SCOPES
    # Zoom people are matched to Slack people by the email users.info gives with this scope.
    assert {"users:read", "users:read.email"} <= set(BOT_SCOPES)
    assert len(manifest["display_information"]["name"]) <= 35


def test_http_manifest_points_everything_at_the_request_url() -> None:
    url = "https://bot.example.org/slack/events"
    manifest = yaml.safe_load(render_manifest(url))
    assert all(c["url"] == url for c in manifest["features"]["slash_commands"])
    assert manifest["settings"]["interactivity"]["request_url"] == url
    assert manifest["settings"]["interactivity"]["message_menu_options_url"] == url
    assert manifest["settings"]["socket_mode_enabled"] is False
