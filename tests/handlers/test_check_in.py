"""One-click check-in through `app.dispatch()`: the session message's role picker, "Quote me",
"Change details" and "Other…", with what each click records and answers."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlmodel import select

from bot.slack.kinds import REPLACED
from bot.standin import Call, payloads
from bot.views.sessions import (
    CONSENT_TOGGLE_ACTION,
    DETAILS_ACTION,
    LEGACY_CHECK_IN_ACTION,
    OTHER,
    PLACE_PICK_ACTION,
    ROLE_PICK_ACTION,
)
from storage import outbox
from storage.models import Participant
from tests.e2e.conftest import CHANNEL, FACILITATOR, PARTICIPANT, all_text
from tests.handlers.conftest import InProcess
from tests.harness.dispatch import answer
from tests.harness.waiting import eventually


def _start(app: InProcess, text: str = 'start "Durham" --area Durham') -> dict[str, Any]:
    body = payloads.slash_command(
        "/session",
        text,
        user_id=FACILITATOR,
        channel_id=CHANNEL,
        response_url=app.slack.response_url(uuid.uuid4().hex, channel=CHANNEL),
    )
    assert answer(app.dispatcher.command(body)) == {}
    posted = app.slack.wait_for("chat.postMessage")[0]
    return {**posted.args, "ts": posted.response["ts"]}


def _url(app: InProcess, user: str = PARTICIPANT) -> str:
    return app.slack.response_url(uuid.uuid4().hex, channel=CHANNEL, user=user)


def _pick(
    app: InProcess,
    message: dict[str, Any],
    value: str,
    *,
    action_id: str = ROLE_PICK_ACTION,
    user: str = PARTICIPANT,
) -> dict[str, Any]:
    [(block_id, select)] = payloads.message_selects(message, action_prefix=action_id)
    click = payloads.select_click(
        message, block_id, select, value, user_id=user, channel_id=CHANNEL, response_url=_url(app)
    )
    assert answer(app.dispatcher.interactive(click)) == {}
    return click


def _press(
    app: InProcess, message: dict[str, Any], action_id: str, *, user: str = PARTICIPANT
) -> dict[str, Any]:
    [(block_id, button)] = payloads.message_buttons(message, action_prefix=action_id)
    click = payloads.button_click(message, block_id, button, user_id=user, channel_id=CHANNEL)
    click["response_url"] = _url(app, user)
    assert answer(app.dispatcher.interactive(click)) == {}
    return click


def _people(app: InProcess) -> list[Participant]:
    with app.services.db.read() as db:
        return list(db.exec(select(Participant)).all())


def _replies(app: InProcess, user: str = PARTICIPANT) -> list[Call]:
    assert app.services.outbox.wait_idle()
    return app.slack.private_replies(user)


def test_the_session_message_offers_one_click_check_in(in_process: InProcess) -> None:
    message = _start(in_process)
    session = in_process.services.sessions.active_session(CHANNEL)
    assert session is not None
    [actions] = [b for b in message["blocks"] if b["type"] == "actions"]
    assert actions["block_id"] == f"check_in:{session.id}"
    ids = [e["action_id"] for e in actions["elements"]]
    # --area was given: no place picker
    assert ids == [ROLE_PICK_ACTION, CONSENT_TOGGLE_ACTION, DETAILS_ACTION]
    [role] = [e for e in actions["elements"] if e["action_id"] == ROLE_PICK_ACTION]
    assert role["type"] == "static_select"
    values = [o["value"] for o in role["options"]]
    assert values[0] == "Member"
    assert values[-1] == OTHER
    assert role["options"][-1]["text"]["text"] == "Other…"
    buttons = {e["action_id"]: e for e in actions["elements"] if e["type"] == "button"}
    assert buttons[CONSENT_TOGGLE_ACTION]["text"]["text"] == "Quote me"
    assert buttons[DETAILS_ACTION]["text"]["text"] == "Change details"
    assert {b["value"] for b in buttons.values()} == {str(session.id)}


def test_a_session_without_an_area_offers_the_tours_places(in_process: InProcess) -> None:
    _start(in_process, 'start "Stoke" --area "Stoke on Trent"')
    body = payloads.slash_command("/session", "end", user_id=FACILITATOR, channel_id=CHANNEL)
    body["response_url"] = in_process.slack.response_url("end", channel=CHANNEL)
    answer(in_process.dispatcher.command(body))
    assert in_process.services.outbox.wait_idle()
    body = payloads.slash_command("/session", 'start "National"', user_id=FACILITATOR)
    body.update(channel_id=CHANNEL, response_url=in_process.slack.response_url("n"))
    answer(in_process.dispatcher.command(body))
    [posted] = in_process.slack.wait_for(
        "chat.postMessage", predicate=lambda c: c.args.get("text") == "Listening session: National"
    )
    message = {**posted.args, "ts": posted.response["ts"]}
    [(_, places)] = payloads.message_selects(message, action_prefix=PLACE_PICK_ACTION)
    assert [o["value"] for o in places["options"]] == ["Stoke on Trent", OTHER]
    _pick(in_process, message, "Stoke on Trent", action_id=PLACE_PICK_ACTION)
    [noted] = _replies(in_process)
    assert "not checked in yet" in noted.args["text"]
    assert "Stoke on Trent" in noted.args["text"]
    _pick(in_process, message, "Member")
    [person] = [p for p in _people(in_process) if p.checked_in_at is not None]
    assert (person.role, person.place) == ("Member", "Stoke on Trent")


def test_one_pick_checks_in_and_answers_through_the_clicks_response_url(
    in_process: InProcess,
) -> None:
    message = _start(in_process)
    click = _pick(in_process, message, "Member")
    [person] = _people(in_process)
    assert (person.role, person.place, person.consent_to_quote) == ("Member", "Durham", False)
    [reply] = _replies(in_process)
    assert reply.method == "response_url"
    assert reply.path == click["response_url"].removeprefix(in_process.slack.base_url)
    assert reply.args["response_type"] == "ephemeral"
    assert reply.args["replace_original"] is False
    text = reply.args["text"]
    assert "You're checked in as Member, Durham." in text
    assert "Quotes: not quoted." in text
    assert "Change details" in text
    assert in_process.slack.calls_to("views.open") == []  # no form for a common role


def test_five_clicks_in_a_second_give_one_check_in_and_one_reply(in_process: InProcess) -> None:
    message = _start(in_process)
    for _ in range(5):
        _pick(in_process, message, "Member")
    assert len(_people(in_process)) == 1
    assert len(_replies(in_process)) == 1


def test_a_redelivered_pick_counts_once(in_process: InProcess) -> None:
    message = _start(in_process)
    [(block_id, select)] = payloads.message_selects(message, action_prefix=ROLE_PICK_ACTION)
    click = payloads.select_click(
        message, block_id, select, "Member", user_id=PARTICIPANT, channel_id=CHANNEL
    )
    click["response_url"] = _url(in_process)
    for retry in (None, 1, 2, 3):
        assert in_process.dispatcher.interactive(click, retry_num=retry).status == 200
    assert len(_people(in_process)) == 1
    assert len(_replies(in_process)) == 1


def test_another_role_later_updates_the_check_in_and_says_so(in_process: InProcess) -> None:
    message = _start(in_process)
    _pick(in_process, message, "Member")
    assert len(_replies(in_process)) == 1
    _pick(in_process, message, "Councillor")
    [person] = _people(in_process)
    assert person.role == "Councillor"
    replies = _replies(in_process)
    assert len(replies) == 2
    assert (
        "Check-in updated: you're now checked in as Councillor, Durham."
        in (replies[-1].args["text"])
    )


def test_quote_me_takes_its_own_click(in_process: InProcess) -> None:
    message = _start(in_process)
    _pick(in_process, message, "Member")
    assert len(_replies(in_process)) == 1
    _press(in_process, message, CONSENT_TOGGLE_ACTION)
    [person] = _people(in_process)
    assert person.consent_to_quote is True
    replies = _replies(in_process)
    assert len(replies) == 2
    assert "quoted as “Member, Durham”" in replies[-1].args["text"]
    _press(in_process, message, CONSENT_TOGGLE_ACTION)
    [person] = _people(in_process)
    assert person.consent_to_quote is False


@pytest.mark.parametrize("how", ["other", "details", "legacy"])
def test_other_change_details_and_old_buttons_open_the_form(
    in_process: InProcess, how: str
) -> None:
    message = _start(in_process)
    _pick(in_process, message, "Member")  # a check-in the form is pre-filled from
    if how == "other":
        click = _pick(in_process, message, OTHER)
    elif how == "details":
        click = _press(in_process, message, DETAILS_ACTION)
    else:
        session = in_process.services.sessions.active_session(CHANNEL)
        assert session is not None
        click = payloads.block_action(
            user_id=PARTICIPANT,
            channel_id=CHANNEL,
            action_id=LEGACY_CHECK_IN_ACTION,
            block_id="session_actions",
            value=str(session.id),
            message_ts=message["ts"],
        )
        assert answer(in_process.dispatcher.interactive(click)) == {}
    [opened] = in_process.slack.wait_for("views.open")
    assert opened.args["trigger_id"] == click["trigger_id"]
    view = opened.args["view"]
    assert view["callback_id"] == "session_check_in_form"
    assert '"value": "Member"' in all_text(view["blocks"])
    assert '"initial_value": "Durham"' in all_text(view["blocks"])
    assert [p.role for p in _people(in_process)] == ["Member"]  # opening changes nothing


def test_a_form_that_cannot_open_from_other_is_answered_in_one_line(
    in_process: InProcess,
) -> None:
    message = _start(in_process)
    in_process.slack.fail_next("views.open", error="expired_trigger_id")
    _pick(in_process, message, OTHER)
    [reply] = in_process.slack.wait_for(
        "response_url", predicate=lambda c: "too old" in str(c.args)
    )
    assert "\n" not in reply.args["text"]
    assert len(in_process.slack.calls_to("views.open")) == 1  # never retried


def test_a_click_after_the_end_gets_one_line_and_records_nothing(in_process: InProcess) -> None:
    message = _start(in_process)
    body = payloads.slash_command("/session", "end", user_id=FACILITATOR, channel_id=CHANNEL)
    body["response_url"] = in_process.slack.response_url("end", channel=CHANNEL)
    assert answer(in_process.dispatcher.command(body)) == {}
    _pick(in_process, message, "Member")
    [reply] = in_process.slack.wait_for(
        "response_url", predicate=lambda c: "check-in is closed" in str(c.args.get("text"))
    )
    assert "\n" not in reply.args["text"]
    assert reply.args["response_type"] == "ephemeral"
    assert _people(in_process) == []


def _select_body(
    app: InProcess, message: dict[str, Any], *, block_id: str, value: Any
) -> dict[str, Any]:
    [(_, select)] = payloads.message_selects(message, action_prefix=ROLE_PICK_ACTION)
    click = payloads.select_click(
        message, block_id, select, "Member", user_id=PARTICIPANT, channel_id=CHANNEL
    )
    click["actions"][0]["selected_option"] = {"text": payloads.plain_text("x"), "value": value}
    click["response_url"] = _url(app)
    return click


@pytest.mark.parametrize(
    ("block_id", "value", "told"),
    [
        (None, "<!channel> Boss", "not one this session offers"),  # hostile option value
        (None, "Member\u202e", "not one this session offers"),  # unknown option value
        (None, "x" * 100_000, "not one this session offers"),  # huge value
        (None, None, "not one this session offers"),  # no value at all
        ("session_actions", "Member", "not from a listening session"),  # no session id
        ("check_in:12abc", "Member", "not from a listening session"),  # malformed session id
        ("check_in:" + "9" * 40, "Member", "not from a listening session"),  # huge session id
        ("check_in:99999", "Member", "no longer exists"),  # a session that is not there
    ],
)
def test_bad_clicks_are_refused_with_a_clear_line_and_nothing_is_lost(
    in_process: InProcess, block_id: str | None, value: Any, told: str
) -> None:
    message = _start(in_process)
    _pick(in_process, message, "Councillor", user="U0OTHER")  # someone already checked in
    session = in_process.services.sessions.active_session(CHANNEL)
    assert session is not None
    click = _select_body(
        in_process, message, block_id=block_id or f"check_in:{session.id}", value=value
    )
    assert answer(in_process.dispatcher.interactive(click)) == {}
    [reply] = in_process.slack.wait_for(
        "response_url", predicate=lambda c: told in str(c.args.get("text"))
    )
    assert reply.args["text"].startswith(":no_entry_sign:")
    assert "\n" not in reply.args["text"]
    assert "<!channel>" not in reply.args["text"]
    assert [(p.user_id, p.role) for p in _people(in_process)] == [("U0OTHER", "Councillor")]


def test_a_first_check_in_from_the_message_runs_the_check_in_hooks(
    in_process: InProcess,
) -> None:
    checked: list[tuple[str, bool]] = []
    in_process.services.on_check_in.append(
        lambda c: checked.append((c.participant.user_id, c.first_time))
    )
    message = _start(in_process)
    _pick(in_process, message, "Member", user="U0LATE")
    # The hooks run after the ack, each after the ones registered before it.
    eventually(lambda: len(checked) == 1, what="the check-in hooks")
    _pick(in_process, message, "Member", user="U0LATE")  # changes nothing: no hook
    _pick(in_process, message, "Member", user="U0NEXT")
    eventually(lambda: len(checked) >= 2, what="the next check-in's hooks")
    assert checked == [("U0LATE", True), ("U0NEXT", True)]


def test_replies_queued_behind_a_newer_one_for_the_same_person_are_not_sent(
    in_process: InProcess,
) -> None:
    message = _start(in_process)
    _pick(in_process, message, "Member")
    [first] = in_process.slack.wait_for_private_replies(PARTICIPANT)
    assert "You're checked in as Member, Durham." in first.args["text"]
    in_process.services.outbox.stop(grace=0)  # the clicks queue while nothing is sent
    for _ in range(3):
        _press(in_process, message, CONSENT_TOGGLE_ACTION)
    in_process.services.outbox.start()
    # each would say the check-in as it is when sent: only the newest goes
    assert in_process.services.outbox.wait_idle()
    replies = in_process.slack.private_replies(PARTICIPANT)
    assert len(replies) == 2
    assert "quoted as “Member, Durham”" in replies[-1].args["text"]  # switched three times
    assert [row.failed for row in _reply_rows(in_process)] == [None, REPLACED, REPLACED, None]


def _reply_rows(app: InProcess) -> list[outbox.OutboxRow]:
    with app.services.db.read() as db:
        return [row for row in outbox.rows(db) if row.kind == "session.checked_in"]
