"""One-click check-in end to end: signed clicks on the posted session message over HTTP, against
the fake Slack with Slack's rate limits (any 429 fails the test)."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlmodel import select

from bot.standin import payloads
from bot.views.sessions import (
    CHECK_IN_CALLBACK,
    CONSENT_TOGGLE_ACTION,
    CONSENT_YES,
    DETAILS_ACTION,
    ROLE_PICK_ACTION,
)
from storage.models import Participant
from tests.e2e.conftest import CHANNEL, PARTICIPANT, RunningBot, all_text
from tests.e2e.rooms_helpers import check_in, members, people, start_round, start_session
from tests.harness.waiting import eventually


def _message(bot: RunningBot) -> dict[str, Any]:
    """The session message as it is in the channel."""
    [message] = [m for m in bot.slack.messages(CHANNEL) if "Listening session" in m["text"]]
    return message


def _pick_body(bot: RunningBot, role: str, user: str) -> dict[str, Any]:
    message = _message(bot)
    [(block_id, select)] = payloads.message_selects(message, action_prefix=ROLE_PICK_ACTION)
    return payloads.select_click(
        message,
        block_id,
        select,
        role,
        user_id=user,
        channel_id=CHANNEL,
        response_url=bot.slack.response_url(uuid.uuid4().hex, channel=CHANNEL, user=user),
    )


def _press(bot: RunningBot, action_id: str, user: str = PARTICIPANT) -> dict[str, Any]:
    message = _message(bot)
    [(block_id, button)] = payloads.message_buttons(message, action_prefix=action_id)
    body = payloads.button_click(message, block_id, button, user_id=user, channel_id=CHANNEL)
    body["response_url"] = bot.slack.response_url(uuid.uuid4().hex, channel=CHANNEL, user=user)
    assert bot.sender.action(body).status_code == 200
    return body


def _checked_in(bot: RunningBot) -> list[Participant]:
    with bot.services.db.read() as db:
        found = db.exec(select(Participant).where(Participant.checked_in_at.is_not(None)))  # type: ignore[union-attr]
        return list(found.all())


def test_pick_quote_me_and_change_details(bot: RunningBot) -> None:
    start_session(bot)
    assert bot.sender.action(_pick_body(bot, "Member", PARTICIPANT)).status_code == 200
    [reply] = bot.slack.wait_for_private_replies(PARTICIPANT)
    assert reply.method == "response_url"
    assert "You're checked in as Member." in reply.args["text"]
    assert "Quotes: not quoted." in reply.args["text"]

    _press(bot, CONSENT_TOGGLE_ACTION)
    replies = bot.slack.wait_for_private_replies(PARTICIPANT, count=2)
    assert "quoted as “Member”" in replies[-1].args["text"]

    # "Change details" opens today's form, pre-filled; submitting it updates the check-in
    click = _press(bot, DETAILS_ACTION)
    [opened] = bot.slack.wait_for("views.open")
    assert opened.args["trigger_id"] == click["trigger_id"]
    view = opened.args["view"]
    assert view["callback_id"] == CHECK_IN_CALLBACK
    assert '"value": "Member"' in all_text(view["blocks"])
    body = payloads.view_submission(
        user_id=PARTICIPANT,
        view=view,
        values={
            "role": {"role": payloads.static_select_value("Organiser", external=True)},
            "place": {"place": payloads.plain_text_value("Chester-le-Street")},
            "group": {"group": payloads.plain_text_value(None)},
            "consent": {"consent": payloads.checkboxes_value([(CONSENT_YES, "Quote me")])},
        },
    )
    assert bot.sender.submit_view(body).status_code == 200
    replies = bot.slack.wait_for_private_replies(PARTICIPANT, count=3)
    assert "now checked in as Organiser, Chester-le-Street" in replies[-1].args["text"]
    [person] = _checked_in(bot)
    assert (person.role, person.place, person.consent_to_quote) == (
        "Organiser",
        "Chester-le-Street",
        True,
    )


def test_a_crowd_clicking_five_times_each_gets_one_check_in_and_one_reply_each(
    bot: RunningBot,
) -> None:
    start_session(bot)
    crowd = people(40, prefix="U0CROWD")
    clicks = [_pick_body(bot, "Member", user) for user in crowd for _ in range(5)]

    def send(body: dict[str, Any]) -> int:
        return bot.sender.action(body).status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        assert set(pool.map(send, clicks)) == {200}
    assert sorted(p.user_id for p in _checked_in(bot)) == sorted(crowd)
    bot.slack.wait_for_private_replies(count=len(crowd), timeout=20)
    assert bot.services.outbox.wait_idle()
    replies = bot.slack.private_replies()
    assert len(replies) == len(crowd)
    assert {r.method for r in replies} == {"response_url"}  # no method tier spent on them
    assert bot.slack.calls_to("chat.postEphemeral") == []


def test_a_late_arrival_checking_in_from_the_message_joins_a_room(bot: RunningBot) -> None:
    start_session(bot)
    for user in people(4):
        check_in(bot, user)
    breakout_round = start_round(bot, "2", rooms=2)
    assert breakout_round.id is not None
    round_id = breakout_round.id
    assert bot.sender.action(_pick_body(bot, "Member", "U0LATE")).status_code == 200
    eventually(
        lambda: "U0LATE" in set().union(*members(bot, round_id).values()),
        what="the late arrival joined a room",
    )
    assert sum(len(m) for m in members(bot, round_id).values()) == 5
