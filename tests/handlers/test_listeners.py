"""Listeners through `app.dispatch()`: signed requests in, acks and Web API calls out."""

from __future__ import annotations

import pytest

from bot.standin import payloads
from bot.views.sessions import CHECK_IN_ACTION
from tests.e2e.conftest import CHANNEL, FACILITATOR, PARTICIPANT, all_text
from tests.handlers.conftest import InProcess
from tests.harness.dispatch import answer


def command(app: InProcess, name: str, text: str, *, user: str = FACILITATOR) -> dict[str, object]:
    body = payloads.slash_command(
        name,
        text,
        user_id=user,
        channel_id=CHANNEL,
        response_url=app.slack.response_url(f"{name}-{text[:8]}", channel=CHANNEL),
    )
    return answer(app.dispatcher.command(body))


@pytest.mark.parametrize("name", ["/session", "/poll", "/breakout", "/report", "/summary"])
def test_every_command_answers_help(in_process: InProcess, name: str) -> None:
    shown = all_text(command(in_process, name, "help"))
    assert name in shown
    assert in_process.slack.calls_to("chat.postMessage") == []


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("/session", "launch", "Unknown subcommand"),
        ("/poll", '"Only a question?"', "at least 2 options"),
        ("/poll", '"Q?" "Yes" "No" --time 5y', "--time"),
        ("/breakout", "many", "Unknown subcommand"),
        ("/session", 'start "' + "x" * 5000 + '"', "150"),
    ],
)
def test_mistakes_are_answered_privately_with_the_usage(
    in_process: InProcess, name: str, text: str, expected: str
) -> None:
    shown = all_text(command(in_process, name, text))
    assert expected in shown
    assert "Usage" in shown or "usage" in shown
    assert in_process.slack.calls_to("chat.postMessage") == []


def test_a_started_session_is_posted_by_the_sender_and_check_in_opens_a_form(
    in_process: InProcess,
) -> None:
    assert command(in_process, "/session", 'start "Durham listening session"') == {}
    posted = in_process.slack.wait_for("chat.postMessage")[0]
    assert "Durham listening session" in all_text(posted.args)
    session = in_process.services.sessions.active_session(CHANNEL)
    assert session is not None
    click = payloads.block_action(
        user_id=PARTICIPANT,
        channel_id=CHANNEL,
        action_id=CHECK_IN_ACTION,
        block_id="session_actions",
        value=str(session.id),
        message_ts=str(posted.response["ts"]),
    )
    assert answer(in_process.dispatcher.interactive(click)) == {}
    opened = in_process.slack.wait_for("views.open")[0]
    assert opened.args["trigger_id"] == click["trigger_id"]


def test_a_redelivered_start_changes_nothing(in_process: InProcess) -> None:
    body = payloads.slash_command(
        "/session",
        'start "Once"',
        user_id=FACILITATOR,
        channel_id=CHANNEL,
        response_url=in_process.slack.response_url("once", channel=CHANNEL),
    )
    for retry in (None, 1, 2, 3):
        assert in_process.dispatcher.command(body, retry_num=retry).status == 200
    assert in_process.services.outbox.wait_idle()
    posts = [c for c in in_process.slack.calls_to("chat.postMessage") if "Once" in all_text(c.args)]
    assert len(posts) == 1


def test_a_wrong_signature_is_refused_and_changes_nothing(in_process: InProcess) -> None:
    body = "command=%2Fsession&text=start+%22Forged%22&user_id=U0EVIL&channel_id=C0SESSION"
    response = in_process.dispatcher.post(
        body, "application/x-www-form-urlencoded", signature="v0=" + "0" * 64
    )
    assert response.status == 401
    assert in_process.services.sessions.active_session(CHANNEL) is None


@pytest.mark.parametrize(
    ("error", "told"), [("expired_trigger_id", "too old"), ("internal_error", "busy")]
)
def test_a_form_that_cannot_open_is_answered_at_once(
    in_process: InProcess, error: str, told: str
) -> None:
    assert command(in_process, "/session", 'start "Forms"') == {}
    posted = in_process.slack.wait_for("chat.postMessage")[0]
    session = in_process.services.sessions.active_session(CHANNEL)
    assert session is not None
    in_process.slack.fail_next("views.open", error=error)
    click = payloads.block_action(
        user_id=PARTICIPANT,
        channel_id=CHANNEL,
        action_id=CHECK_IN_ACTION,
        block_id="session_actions",
        value=str(session.id),
        message_ts=str(posted.response["ts"]),
        response_url=in_process.slack.response_url("check-in-click", channel=CHANNEL),
    )
    assert answer(in_process.dispatcher.interactive(click)) == {}
    [reply] = in_process.slack.wait_for("response_url")
    assert told in reply.args["text"]
    assert reply.args["response_type"] == "ephemeral"
    assert len(in_process.slack.calls_to("views.open")) == 1  # never retried: the trigger is dead


def test_a_form_waits_for_the_views_budget_or_says_slack_is_busy(in_process: InProcess) -> None:
    assert command(in_process, "/session", 'start "Busy"') == {}
    budgets = in_process.services.client.budgets  # type: ignore[attr-defined]
    budgets.rate_limited("views.open", 60)  # as after Slack's 429 with Retry-After: 60
    assert command(in_process, "/poll", "") == {}  # no text: the form
    [reply] = in_process.slack.wait_for("response_url", timeout=5)
    assert "busy" in reply.args["text"]
    assert in_process.slack.calls_to("views.open") == []
