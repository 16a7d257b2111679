"""The one workspace the stand-in plays: its team, the app and the bot user the app acts as."""

from __future__ import annotations

TEAM_ID = "T0001"
TEAM_DOMAIN = "fake-workspace"
TEAM_NAME = "Fake Workspace"
APP_ID = "A0001"
BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"
BOT_NAME = "listening-bot"
