"""`/session start --zoom`: the meeting looked up and shown, or a clear line and Slack only;
Zoom failing: one warning to the facilitators, one notice when it is back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.standin.zoom import FakeZoom
from bot.zoom.health import FAILURES_BEFORE_WARNING
from storage.zoom.meetings import ERROR_MAX
from tests.e2e.conftest import FACILITATOR, RunningBot, ack_text, all_text
from tests.e2e.zoom_helpers import MEETING_ID, zoom_overrides
from tests.harness.waiting import eventually

STARTS = datetime(2026, 12, 2, 18, 30, tzinfo=UTC)


@pytest.fixture
def settings_overrides(fake_zoom: FakeZoom) -> dict[str, Any]:
    return zoom_overrides(fake_zoom)


def _start(bot: RunningBot, zoom: str) -> None:
    response = bot.command("/session", f'start "Durham" --zoom {zoom}')
    assert response.status_code == 200
    assert response.text == "", response.text


def _zoom_post(bot: RunningBot) -> str:
    eventually(lambda: len(bot.slack.messages("C0SESSION")) >= 2, timeout=15, what="zoom post")
    return all_text(bot.slack.messages("C0SESSION")[1])


@pytest.mark.parametrize(
    "typed",
    [
        "https://us02web.zoom.us/j/81234567890?pwd=Xyz.1",
        "812 3456 7890",
        "<https://labour.zoom.us/j/81234567890?pwd=abc>",
    ],
)
def test_the_meeting_is_looked_up_and_its_topic_and_start_shown(
    bot: RunningBot, fake_zoom: FakeZoom, typed: str
) -> None:
    fake_zoom.add_meeting(MEETING_ID, topic="Durham listening <session>", start_time=STARTS)
    _start(bot, typed)
    post = _zoom_post(bot)
    assert "812 3456 7890" in post
    assert "Durham listening &lt;session&gt;" in post
    assert str(int(STARTS.timestamp())) in post  # a <!date^…> everyone reads in their own zone
    [lookup] = [c for c in fake_zoom.calls if c.path.endswith(f"/meetings/{MEETING_ID}")]
    assert lookup.method == "GET"
    status = ack_text(bot.command("/session", "status"))
    assert "Durham listening" in status
    assert "not started yet" in status


def test_an_unknown_meeting_is_said_plainly_and_the_session_runs_in_slack(
    bot: RunningBot, fake_zoom: FakeZoom
) -> None:
    _start(bot, "81234567890")
    post = _zoom_post(bot)
    assert "Zoom has no meeting 812 3456 7890" in post
    assert "Slack only" in post
    assert bot.services.sessions.get(1) is not None  # the session runs
    status = ack_text(bot.command("/session", "status"))
    assert "Slack only" in status


def test_a_meeting_the_account_cannot_see(bot: RunningBot, fake_zoom: FakeZoom) -> None:
    no_permission = {"code": 200, "message": "No permission."}
    fake_zoom.fail("GET", f"/meetings/{MEETING_ID}", status=400, body=no_permission)
    _start(bot, MEETING_ID)
    post = _zoom_post(bot)
    assert "cannot see meeting 812 3456 7890" in post
    assert "No permission" in post


def test_a_lookup_zoom_refuses_is_said_plainly_even_with_long_words(
    bot: RunningBot, fake_zoom: FakeZoom
) -> None:
    invalid = {"code": 300, "message": "Invalid meeting id. " + "x" * 600}
    fake_zoom.fail("GET", f"/meetings/{MEETING_ID}", status=400, body=invalid)
    _start(bot, MEETING_ID)
    post = _zoom_post(bot)
    assert "Zoom refused to look up meeting 812 3456 7890" in post
    assert "Invalid meeting id" in post
    assert "Slack only" in post
    meeting = bot.services.zoom_meetings.meeting(1)
    assert meeting is not None
    assert meeting.problem is not None
    assert len(meeting.problem) <= ERROR_MAX


def test_zoom_failing_warns_the_facilitators_once_and_says_when_it_is_back(
    bot: RunningBot, fake_zoom: FakeZoom
) -> None:
    fake_zoom.add_meeting(MEETING_ID, topic="Durham")
    worker, health = bot.services.zoom_worker, bot.services.zoom_health
    assert worker is not None
    assert health is not None
    worker.api.max_attempts = 1  # the client's own retries are tested in tests/bot/zoom
    # The lookup fails twice (Zoom "keeps failing"), then Zoom answers again.
    fake_zoom.fail("GET", f"/meetings/{MEETING_ID}", status=503, times=FAILURES_BEFORE_WARNING)
    _start(bot, MEETING_ID)

    def later(condition: bool) -> bool:
        # Past the worker's backoff: its thread tries again at its next look.
        bot.clock.advance(timedelta(minutes=1))
        return condition

    eventually(
        lambda: later(any("Zoom is not answering" in all_text(e) for e in bot.slack.ephemerals())),
        timeout=30,
        what="the warning",
    )
    eventually(
        lambda: later(any("answering again" in all_text(e) for e in bot.slack.ephemerals())),
        timeout=30,
        what="the back notice",
    )
    told = [all_text(call.args) for call in bot.slack.private_replies(FACILITATOR)]
    assert len([t for t in told if "Zoom is not answering" in t]) == 1
    assert len([t for t in told if "answering again" in t]) == 1
    assert "Durham" in _zoom_post(bot)  # the lookup went through once Zoom was back


def _looked_up(bot: RunningBot) -> None:
    eventually(
        lambda: (m := bot.services.zoom_meetings.meeting(1)) is not None and m.looked_up_at,
        timeout=15,
        what="the lookup",
    )


def test_the_token_endpoint_failing_is_retried_until_it_answers(
    bot: RunningBot, fake_zoom: FakeZoom
) -> None:
    fake_zoom.add_meeting(MEETING_ID, topic="Durham")
    worker = bot.services.zoom_worker
    assert worker is not None
    worker.api.max_attempts = 1
    fake_zoom.fail("POST", "/oauth/token", status=500, times=1)
    _start(bot, MEETING_ID)

    def later(condition: bool) -> bool:
        bot.clock.advance(timedelta(minutes=1))  # past the worker's backoff
        return condition

    # The session's own post says "Durham" too: wait for the Zoom meeting's post.
    eventually(lambda: later(len(bot.slack.messages("C0SESSION")) >= 2), timeout=30)
    assert "Durham" in _zoom_post(bot)
    assert fake_zoom.token_requests == 2  # the failed one, then the one that worked


def test_a_token_expiring_mid_session_is_renewed_once(bot: RunningBot, fake_zoom: FakeZoom) -> None:
    fake_zoom.add_meeting(MEETING_ID, topic="Durham")
    _start(bot, MEETING_ID)
    _looked_up(bot)
    assert bot.services.zoom_worker is not None
    assert bot.services.zoom_worker.wait_idle(10)
    tokens, before = fake_zoom.token_requests, len(fake_zoom.calls)
    fake_zoom.expire_tokens()
    reply = bot.command("/poll", '"Build more homes?" "Yes" "No" --zoom')
    assert reply.status_code == 200
    eventually(lambda: fake_zoom.polls(MEETING_ID), timeout=15, what="the Zoom poll")
    assert fake_zoom.token_requests == tokens + 1
    after = fake_zoom.calls[before:]
    # The create task first lists the meeting's polls (a lost create is adopted, not redone).
    polls = [(c.method, c.status) for c in after if c.path.endswith("/polls")]
    assert polls == [("GET", 401), ("GET", 200), ("POST", 201)]


@pytest.mark.parametrize(
    "headers",
    [
        {"X-RateLimit-Reset": "1"},
        {"Retry-After": "1"},
        {},
    ],
    ids=["x-ratelimit-reset", "retry-after", "no-header"],
)
def test_a_429_storm_is_waited_out(
    bot: RunningBot, fake_zoom: FakeZoom, headers: dict[str, str]
) -> None:
    fake_zoom.add_meeting(MEETING_ID, topic="Durham under load")
    fake_zoom.fail("GET", f"/meetings/{MEETING_ID}", status=429, headers=headers, times=2)
    _start(bot, MEETING_ID)
    assert "Durham under load" in _zoom_post(bot)
    statuses = [c.status for c in fake_zoom.calls if c.path.endswith(MEETING_ID)]
    assert statuses == [429, 429, 200]
    assert bot.services.zoom_health is not None
    assert not bot.services.zoom_health.down
