"""The privacy notice where people first give data: the session message's one-click check-in,
the check-in form, and the confirmation of a vote by someone who has not checked in."""

from __future__ import annotations

from typing import Any

import pytest

from bot.standin import payloads
from bot.views.sessions import CHECK_IN_CALLBACK, DETAILS_ACTION
from tests.e2e.conftest import CHANNEL, PARTICIPANT, RunningBot, all_text
from tests.e2e.rooms_helpers import check_in, start_session
from tests.e2e.test_polls import POLL, _buttons, _is_poll_post, _vote

URL = "https://example.org/listening-privacy"
NOTICE = {
    "PRIVACY_NOTICE_URL": URL,
    "PRIVACY_NOTICE_TEXT": "Questions: privacy@example.org",
    "DATA_RETENTION_DAYS": 30,
}
pytestmark = pytest.mark.parametrize("settings_overrides", [NOTICE])


def _session_message(bot: RunningBot) -> dict[str, Any]:
    [message] = [m for m in bot.slack.messages(CHANNEL) if "Listening session" in m["text"]]
    return message


def _poll_message(bot: RunningBot) -> dict[str, Any]:
    assert bot.command("/poll", POLL).text == ""
    [post] = bot.slack.wait_for("chat.postMessage", predicate=_is_poll_post)
    return next(m for m in bot.slack.messages(CHANNEL) if m["ts"] == post.response["ts"])


def test_the_session_message_and_the_check_in_form_show_the_notice(bot: RunningBot) -> None:
    start_session(bot)
    shown = all_text(_session_message(bot)["blocks"])
    assert f"<{URL}|Privacy notice>" in shown
    assert "kept for 30 days after the session" in shown
    assert "Questions: privacy@example.org" in shown

    message = _session_message(bot)
    [(block_id, button)] = payloads.message_buttons(message, action_prefix=DETAILS_ACTION)
    body = payloads.button_click(message, block_id, button, user_id=PARTICIPANT, channel_id=CHANNEL)
    assert bot.sender.action(body).status_code == 200
    [opened] = bot.slack.wait_for("views.open")
    assert opened.args["view"]["callback_id"] == CHECK_IN_CALLBACK
    assert f"<{URL}|Privacy notice>" in all_text(opened.args["view"]["blocks"])


def test_a_voter_who_has_not_checked_in_is_shown_it_with_the_confirmation(
    bot: RunningBot,
) -> None:
    start_session(bot)
    check_in(bot, "U0CHECKED")
    message = _poll_message(bot)
    assert _buttons(message)
    _vote(bot, message, 0, PARTICIPANT)
    _vote(bot, message, 1, "U0CHECKED")
    [unchecked] = bot.slack.wait_for_private_replies(PARTICIPANT)
    [checked] = bot.slack.wait_for_private_replies("U0CHECKED")
    assert f"<{URL}|Privacy notice>" in all_text(unchecked.args)
    assert "haven't checked in" in all_text(unchecked.args)
    # Someone who checked in saw it there: their confirmation is just the confirmation.
    assert "Privacy" not in all_text(checked.args)
