"""What the quote tests share: the organisers' channel, the command line, the quotes stored,
what both channels show, and the Withdraw buttons on thread posts."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from sqlmodel import select

from bot.cli import main
from bot.views.reports import WITHDRAW_QUOTE_ACTION
from storage.rooms import ReportQuote
from tests.e2e.conftest import CHANNEL, RunningBot, all_text

SUMMARY_CHANNEL = "C0SUMMARY"

FormQuote = tuple[str, str | None, str | None, bool]  # text, role, place, consent


def cli(*args: str) -> int:
    """`listening-bot …` in this process, with no .env."""
    return main(["--env-file", "/nonexistent/.env", *args])


def stored_quotes(bot: RunningBot) -> list[ReportQuote]:
    """Every quote row, oldest first."""
    with bot.services.db.read() as db:
        return list(db.exec(select(ReportQuote).order_by(ReportQuote.id)).all())  # type: ignore[arg-type]


def shown_in_channels(bot: RunningBot) -> str:
    """The final state of every message in both channels, thread posts included."""
    return all_text([bot.slack.messages(CHANNEL), bot.slack.messages(SUMMARY_CHANNEL)])


def summary_messages(bot: RunningBot, channel: str) -> list[dict[str, Any]]:
    """A channel's summary messages (interim and final), as they are now."""
    return [m for m in bot.slack.messages(channel) if "ummary of" in str(m.get("text"))]


def has_id(text: str, quote_id: int | None) -> bool:
    """Whether an output prints the quote id ("q17", not part of "q170")."""
    return re.search(rf"\bq{quote_id}\b", text) is not None


def withdraw_buttons(message: dict[str, Any]) -> dict[str, str]:
    """Quote text -> the value of the Withdraw button beside it, in a thread post."""
    found = {}
    for block in message.get("blocks", []):
        accessory = block.get("accessory") or {}
        if accessory.get("action_id") == WITHDRAW_QUOTE_ACTION:
            found[all_text(block)] = str(accessory["value"])
    return found


def button_in(messages: Iterable[dict[str, Any]], text: str) -> tuple[str, str]:
    """The first of `messages` with a Withdraw button beside `text`: its ts and the value."""
    for message in messages:
        for shown, value in withdraw_buttons(message).items():
            if text in shown:
                return str(message["ts"]), value
    raise AssertionError(f"no Withdraw button beside {text!r}")


def click_withdraw(bot: RunningBot, value: str, user: str, ts: str) -> str:
    """Press a Withdraw button as `user`; what they were told privately."""
    before = len(bot.slack.private_replies(user))
    response = bot.click(WITHDRAW_QUOTE_ACTION, value, user=user, message_ts=ts)
    assert response.status_code == 200
    return all_text(bot.slack.wait_for_private_replies(user, count=before + 1)[-1].args)
