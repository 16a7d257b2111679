"""Sessions end to end: signed requests to the real app in HTTP mode, fake Slack recording calls."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from bot.standin import Call, payloads
from bot.views.sessions import CHECK_IN_ACTION, CHECK_IN_CALLBACK, CONSENT_YES
from storage import outbox
from storage.models import Delivery, ListeningSession, Participant
from tests.e2e.conftest import (
    CHANNEL,
    FACILITATOR,
    PARTICIPANT,
    RunningBot,
    ack_text,
    all_text,
    mrkdwn,
)
from tests.harness.waiting import eventually

START = '/session start "Durham listening session" --area Durham --group CLP'


def _sessions(bot: RunningBot) -> list[ListeningSession]:
    with bot.services.db.read() as db:
        return list(db.exec(select(ListeningSession)).all())


def _participants(bot: RunningBot) -> list[Participant]:
    with bot.services.db.read() as db:
        return list(db.exec(select(Participant)).all())


def _start(bot: RunningBot, text: str = START.removeprefix("/session ")) -> Call:
    response = bot.command("/session", text)
    assert response.status_code == 200
    assert response.text == ""  # the facilitator sees the posted session message, not an echo
    return bot.slack.wait_for("chat.postMessage")[0]


def _check_in_button(post: Call) -> dict[str, Any]:
    for block in post.args["blocks"]:
        for element in block.get("elements", []):
            if element.get("action_id") == CHECK_IN_ACTION:
                return dict(element)
    raise AssertionError("no Check in button in the session message")


def _values(role: str, place: str | None, group: str | None, consent: bool) -> dict[str, Any]:
    return {
        "role": {"role": payloads.static_select_value(role, role, external=True)},
        "place": {"place": payloads.plain_text_value(place)},
        "group": {"group": payloads.plain_text_value(group)},
        "consent": {
            "consent": payloads.checkboxes_value([(CONSENT_YES, "Quote me")] if consent else [])
        },
    }


def _open_and_submit(
    bot: RunningBot,
    *,
    user: str,
    role: str,
    place: str | None,
    group: str | None,
    consent: bool,
    retries: int = 0,
) -> dict[str, Any]:
    post = bot.slack.calls_to("chat.postMessage")[0]
    button = _check_in_button(post)
    before = len(bot.slack.calls_to("views.open"))
    assert bot.click(CHECK_IN_ACTION, button["value"], user=user).status_code == 200
    opened = bot.slack.wait_for("views.open", count=before + 1)[-1]
    view = opened.args["view"]
    body = payloads.view_submission(
        user_id=user,
        view=view,
        values=_values(role, place, group, consent),
        private_metadata=view.get("private_metadata"),
        callback_id=view.get("callback_id"),
    )
    response = bot.sender.submit_view(body)
    for attempt in range(1, retries + 1):
        again = bot.sender.submit_view(body, retry_num=attempt)
        assert again.status_code == 200
    assert response.status_code == 200, response.text
    return dict(view)


def test_start_check_in_status_end(bot: RunningBot) -> None:
    # start: the session message with the Check in button goes to the channel
    post = _start(bot)
    assert post.args["channel"] == CHANNEL
    assert "Durham listening session" in all_text(post.args["blocks"])
    assert "*Area:* Durham" in all_text(post.args["blocks"])
    [session] = _sessions(bot)
    assert (session.title, session.area, session.group_type) == (
        "Durham listening session",
        "Durham",
        "CLP",
    )
    assert session.started_by == FACILITATOR
    # the ts is stored once the post is back
    eventually(lambda: _sessions(bot)[0].message_ts is not None, what="message ts stored")
    assert _sessions(bot)[0].message_ts == bot.slack.messages(CHANNEL)[0]["ts"]

    # check in: the button opens the form, pre-filled from the session
    view = _open_and_submit(
        bot, user=PARTICIPANT, role="Member", place="Durham", group="CLP", consent=True
    )
    assert view["callback_id"] == CHECK_IN_CALLBACK
    assert view["title"]["text"] == "Check in"
    opened = bot.slack.last("views.open")
    assert opened.args["trigger_id"]
    rendered = all_text(view["blocks"])
    assert '"initial_value": "Durham"' in rendered
    assert '"initial_value": "CLP"' in rendered
    confirmation = bot.slack.wait_for("chat.postEphemeral")[0]
    assert confirmation.args["user"] == PARTICIPANT
    assert "checked in as Member, Durham, CLP" in confirmation.args["text"]
    assert "quoted as “Member, Durham”" in confirmation.args["text"]
    [person] = _participants(bot)
    assert (person.user_id, person.role, person.place, person.group_name) == (
        PARTICIPANT,
        "Member",
        "Durham",
        "CLP",
    )
    assert person.consent_to_quote is True

    # checking in again updates the same record, and the form shows the last answers
    view = _open_and_submit(
        bot, user=PARTICIPANT, role="Councillor", place="Sunderland", group=None, consent=False
    )
    assert "Councillor" not in all_text(view)  # the form opened with the *previous* answers
    assert '"value": "Member"' in all_text(view["blocks"])
    bot.slack.wait_for("chat.postEphemeral", count=2)
    [person] = _participants(bot)
    assert (person.role, person.place, person.group_name, person.consent_to_quote) == (
        "Councillor",
        "Sunderland",
        None,
        False,
    )
    assert "updated" in bot.slack.last("chat.postEphemeral").args["text"]
    _open_and_submit(bot, user="U0PART2", role="Member", place=None, group="CLP", consent=False)

    # status: ephemeral counts by role and group
    status = ack_text(bot.command("/session", "status", user=PARTICIPANT))
    assert "*Checked in:* 2" in status
    assert "• Councillor — 1" in status
    assert "• Member — 1" in status
    assert "• CLP — 1" in status
    assert "• Not given — 1" in status

    # end: the session message loses its button, and the end is announced
    assert bot.command("/session", "end").text == ""
    update = bot.slack.wait_for("chat.update")[0]
    assert update.args["ts"] == _sessions(bot)[0].message_ts
    assert CHECK_IN_ACTION not in all_text(update.args["blocks"])
    [ended] = bot.slack.wait_for(
        "chat.postMessage", predicate=lambda c: "has ended" in str(c.args.get("text"))
    )
    assert "*Checked in:* 2" in all_text(ended.args["blocks"])
    # In the channel, roles of fewer than REPORT_MIN_GROUP (5) people are not shown.
    assert "• Councillor — fewer than 5" in all_text(ended.args["blocks"])
    assert "• Member — fewer than 5" in all_text(ended.args["blocks"])
    assert "Groups of fewer than 5 people are not shown." in all_text(ended.args["blocks"])
    [session] = _sessions(bot)
    assert session.ended_at == bot.clock.now()
    assert session.ended_by == FACILITATOR


def test_role_suggestions_offer_the_typed_role_and_matches(bot: RunningBot) -> None:
    _start(bot)
    body = payloads.block_suggestion(
        user_id=PARTICIPANT, action_id="role", block_id="role", value="union"
    )
    response = bot.sender.suggest(body)
    assert response.status_code == 200
    options = [option["value"] for option in response.json()["options"]]
    assert options[0] == "union"
    assert "Trade union member" in options
    empty = bot.sender.suggest(
        payloads.block_suggestion(user_id=PARTICIPANT, action_id="role", block_id="role", value="")
    )
    assert [o["value"] for o in empty.json()["options"]][:3] == [
        "Member",
        "Trade union member",
        "Councillor",
    ]


def test_second_start_explains_what_is_running(bot: RunningBot) -> None:
    _start(bot)
    reply = ack_text(bot.command("/session", 'start "Another"', user="U0OTHER"))
    assert "“Durham listening session” is already running" in reply
    assert "/session end" in reply
    assert len(_sessions(bot)) == 1


def test_session_can_start_again_after_it_ends(bot: RunningBot) -> None:
    _start(bot)
    bot.command("/session", "end")
    bot.slack.wait_for("chat.postMessage", count=2)
    assert bot.command("/session", 'start "Next week"').text == ""
    bot.slack.wait_for("chat.postMessage", count=3)
    assert [s.title for s in _sessions(bot)] == ["Durham listening session", "Next week"]


@pytest.mark.parametrize("settings_overrides", [{"FACILITATORS": "U0BOSS"}])
def test_only_facilitators_control_a_session(bot: RunningBot) -> None:
    refused = ack_text(bot.command("/session", 'start "Mine"', user=PARTICIPANT))
    assert "Only facilitators can start" in refused
    assert _sessions(bot) == []
    assert bot.command("/session", 'start "Theirs"', user="U0BOSS").text == ""
    bot.slack.wait_for("chat.postMessage")
    refused = ack_text(bot.command("/session", "end", user=PARTICIPANT))
    assert "only the facilitators of “Theirs”" in refused
    assert _sessions(bot)[0].ended_at is None
    assert "*Checked in:* 0" in ack_text(bot.command("/session", "status", user=PARTICIPANT))


def test_the_starter_is_a_facilitator_without_being_listed(bot: RunningBot) -> None:
    _start(bot)
    refused = ack_text(bot.command("/session", "end", user=PARTICIPANT))
    assert "only the facilitators" in refused
    assert bot.command("/session", "end", user=FACILITATOR).text == ""
    bot.slack.wait_for("chat.postMessage", count=2)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "/session start | status | end | help"),
        ("help", "Start* (facilitators)"),
        ("start help", "Start* (facilitators)"),
        ("launch", "Unknown subcommand “launch”"),
        ('start "Durham" --colour red', "--colour"),
        ('start "Durham --area Durham', "quote"),
        ('start ""', "title is empty"),
        ("start", "Missing the title"),
        ('start "Durham" --zoom banana', "--zoom takes a meeting ID"),
        ('start "Durham" --area', "--area"),
        ("status please", "Unexpected"),
        ("end now", "Unexpected"),
    ],
)
def test_bad_input_gets_a_clear_ephemeral_message(
    bot: RunningBot, text: str, expected: str
) -> None:
    response = bot.command("/session", text)
    reply = ack_text(response)
    assert expected in reply
    assert response.json().get("response_type", "ephemeral") == "ephemeral"
    assert _sessions(bot) == []
    assert bot.slack.calls_to("chat.postMessage") == []


def test_usage_errors_show_the_usage_and_an_example(bot: RunningBot) -> None:
    reply = ack_text(bot.command("/session", 'start "Durham" --colour red'))
    assert "Usage:" in reply
    assert "Example:" in reply
    assert "/session start" in reply


def test_a_huge_title_is_refused_and_nothing_is_written(bot: RunningBot) -> None:
    reply = ack_text(bot.command("/session", f'start "{"x" * 5000}"'))
    assert "5,000" in reply
    assert "150" in reply
    assert _sessions(bot) == []


def test_hostile_text_is_escaped_everywhere_it_is_posted(bot: RunningBot) -> None:
    text = (
        'start "<!channel> meeting" --area "<https://evil.example|click> & co" --group "<@U0BOSS>"'
    )
    # Slack escapes & < > in command text before sending it
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    post = _start(bot, escaped)
    [session] = _sessions(bot)
    assert session.title == "<!channel> meeting"
    assert session.area == "<https://evil.example|click> & co"
    posted = [post.args["text"], *mrkdwn(post.args["blocks"])]
    for raw in ("<!channel>", "<https://evil", "<@U0BOSS>"):
        assert not [text for text in posted if raw in text]
    assert "&lt;!channel&gt; meeting" in post.args["text"]
    assert any("&lt;https://evil.example|click&gt; &amp; co" in text for text in posted)
    status = bot.command("/session", "status").json()
    shown = [status["text"], *mrkdwn(status["blocks"])]
    assert not [text for text in shown if "<!channel>" in text]
    assert any("&lt;!channel&gt; meeting" in text for text in shown)


def test_raw_mentions_in_a_title_do_not_ping(bot: RunningBot) -> None:
    # With should_escape, Slack sends a typed @channel as <!channel>.
    _start(bot, 'start "<!channel> please join" --area Durham')
    post = bot.slack.last("chat.postMessage")
    assert not [t for t in [post.args["text"], *mrkdwn(post.args["blocks"])] if "<!channel>" in t]


def test_emoji_and_right_to_left_text_are_kept(bot: RunningBot) -> None:
    title = "جلسة الاستماع 🎤 שלום"
    post = _start(bot, f'start "{title}" --area "Küstenstraße 🏖️"')
    assert _sessions(bot)[0].title == title
    assert title in all_text(post.args["blocks"])


def test_curly_quotes_and_em_dash_flags_work(bot: RunningBot) -> None:
    _start(bot, "start “Durham session” —area Durham")
    [session] = _sessions(bot)
    assert (session.title, session.area) == ("Durham session", "Durham")


def test_zoom_join_url_is_stored_as_a_meeting_id(bot: RunningBot) -> None:
    _start(bot, 'start "Durham" --zoom https://us02web.zoom.us/j/81234567890?pwd=abc')
    assert _sessions(bot)[0].zoom_meeting_id == "81234567890"


@pytest.mark.parametrize("text", ["status", "end"])
def test_commands_in_a_channel_with_no_session(bot: RunningBot, text: str) -> None:
    reply = ack_text(bot.command("/session", text))
    assert "There is no session running in this channel" in reply
    assert '`/session start \\"&lt;title&gt;\\"`' in reply  # the fix, with <title> escaped


def test_redelivered_start_changes_nothing(bot: RunningBot) -> None:
    body = bot.command_payload("/session", 'start "Durham"')
    assert bot.command("/session", "", payload=body).status_code == 200
    for attempt in (1, 2, 3):
        response = bot.command("/session", "", payload=body, retry_num=attempt)
        assert response.status_code == 200
        assert response.text == ""  # not "already running": a retry is not a second start
    bot.slack.wait_for("chat.postMessage")
    assert len(_sessions(bot)) == 1
    assert len(bot.slack.calls_to("chat.postMessage")) == 1


def test_redelivered_check_in_counts_once(bot: RunningBot) -> None:
    _start(bot)
    _open_and_submit(
        bot, user=PARTICIPANT, role="Member", place=None, group=None, consent=False, retries=3
    )
    bot.slack.wait_for("chat.postEphemeral")
    assert len(_participants(bot)) == 1
    assert len(bot.slack.calls_to("chat.postEphemeral")) == 1


def test_check_in_needs_a_role(bot: RunningBot) -> None:
    post = _start(bot)
    view = {"callback_id": CHECK_IN_CALLBACK, "private_metadata": _check_in_button(post)["value"]}
    body = payloads.view_submission(
        user_id=PARTICIPANT,
        view={"id": "V1", "blocks": [], **view},
        values={"place": {"place": payloads.plain_text_value("Durham")}},
        private_metadata=view["private_metadata"],
        callback_id=CHECK_IN_CALLBACK,
    )
    response = bot.sender.submit_view(body)
    assert response.json() == {
        "response_action": "errors",
        "errors": {"role": "Please give your role."},
    }
    assert _participants(bot) == []


def test_check_in_after_the_end_is_refused(bot: RunningBot) -> None:
    post = _start(bot)
    bot.command("/session", "end")
    bot.slack.wait_for("chat.postMessage", count=2)
    bot.click(CHECK_IN_ACTION, _check_in_button(post)["value"])
    opened = bot.slack.wait_for("views.open")[0]
    assert "check-in is closed" in all_text(opened.args["view"])
    assert _participants(bot) == []


@pytest.mark.parametrize("value", ["not-a-number", "99999", "1; DROP TABLE participant", "-1"])
def test_tampered_check_in_buttons_are_refused(bot: RunningBot, value: str) -> None:
    _start(bot)
    bot.click(CHECK_IN_ACTION, value)
    opened = bot.slack.wait_for("views.open")[0]
    assert "Check in" in all_text(opened.args["view"]["title"])
    assert opened.args["view"].get("callback_id") != CHECK_IN_CALLBACK
    assert _participants(bot) == []


def test_unsigned_and_forged_requests_are_rejected(bot: RunningBot) -> None:
    body = bot.command_payload("/session", 'start "Forged"')
    assert bot.sender.command(body, signature="missing").status_code == 401
    assert bot.sender.command(body, signature="wrong").status_code == 401
    stale = int(time.time()) - 6 * 60
    assert bot.sender.command(body, timestamp=stale).status_code == 401
    assert _sessions(bot) == []
    assert bot.slack.calls_to("chat.postMessage") == []
    with bot.services.db.read() as db:
        assert db.exec(select(Delivery)).all() == []


def _outbox_attempts(bot: RunningBot) -> int:
    with bot.services.db.read() as db:
        return sum(row.attempts for row in outbox.rows(db))


def test_rate_limited_post_is_retried_after_retry_after(bot: RunningBot) -> None:
    bot.slack.fail_next("chat.postMessage", status=429, retry_after=1)
    _start(bot)
    bot.slack.wait_for("chat.postMessage", timeout=10)
    eventually(lambda: _outbox_attempts(bot) == 1, what="the 429 counted")
    bot.clock.advance(timedelta(seconds=1))  # the sender waits Retry-After by the bot's clock
    bot.services.outbox.wake()
    posts = bot.slack.wait_for("chat.postMessage", count=2, timeout=10)
    assert [call.failed for call in posts] == [True, False]
    eventually(lambda: _sessions(bot)[0].message_ts is not None, what="message ts stored")


@pytest.mark.parametrize("error", ["invalid_auth", "channel_not_found"])
def test_a_failed_post_undoes_the_start_and_says_why(bot: RunningBot, error: str) -> None:
    bot.slack.fail_next("chat.postMessage", error=error)
    assert bot.command("/session", 'start "Durham"').status_code == 200
    reply = bot.slack.wait_for("response_url")[0]
    assert error in reply.args["text"]
    assert "was not started" in reply.args["text"]
    assert _sessions(bot) == []
    # and the facilitator can simply try again
    assert bot.command("/session", 'start "Durham"').text == ""
    bot.slack.wait_for("chat.postMessage", count=2)
    assert len(_sessions(bot)) == 1


def test_healthz_reports_the_database(bot: RunningBot) -> None:
    import requests

    response = requests.get(f"{bot.url}/healthz", timeout=5)
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


def test_a_check_in_confirmation_slack_delays_past_five_minutes_is_dropped(
    bot: RunningBot,
) -> None:
    _start(bot)
    bot.slack.fail_next("chat.postEphemeral", status=200, error="service_unavailable")
    _open_and_submit(bot, user=PARTICIPANT, role="Member", place=None, group=None, consent=False)
    bot.slack.wait_for("chat.postEphemeral", predicate=lambda c: c.failed)
    [person] = _participants(bot)  # the check-in itself counted
    assert person.role == "Member"
    eventually(lambda: _confirmation(bot).attempts == 1, what="the failure counted")
    # "Click Check in again to change it" read much later misleads: it is not sent
    bot.clock.advance(timedelta(minutes=5, seconds=1))
    bot.services.outbox.wake()
    eventually(lambda: _confirmation(bot).failed == "expired", what="dropped")
    assert bot.services.outbox.wait_idle()
    assert [c.failed for c in bot.slack.calls_to("chat.postEphemeral")] == [True]


def _confirmation(bot: RunningBot) -> outbox.OutboxRow:
    with bot.services.db.read() as db:
        [row] = [r for r in outbox.rows(db) if r.kind == "session.checked_in"]
    return row


def test_without_zoom_credentials_a_zoom_session_says_it_runs_in_slack_only(
    bot: RunningBot,
) -> None:
    _start(bot, 'start "Durham" --zoom 81234567890')
    eventually(lambda: len(bot.slack.messages(CHANNEL)) >= 2, what="the Zoom line")
    post = all_text(bot.slack.messages(CHANNEL)[1])
    assert "Zoom is not connected" in post
    assert "ZOOM_CLIENT_ID" in post
    status = ack_text(bot.command("/session", "status"))
    assert "Slack only" in status
