"""Who is in the Zoom meeting, and where, through the real app over HTTP: signed Zoom webhooks
change `/session status`; bad, old, replayed, foreign and malformed webhooks change nothing;
Slack people are matched to Zoom people by the email users.info gives; 300 people joining."""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select

from bot.clock import FixedClock
from bot.standin import FakeSlack
from bot.standin.routing import HOLD_TIMEOUT
from bot.standin.zoom import FakeZoom, ZoomWebhookSender
from bot.standin.zoom.state import iso
from bot.standin.zoom.webhooks import webhook_body
from bot.zoom.presence_effects import SLACK_EMAILS
from bot.zoom_polls.service import RESULTS, results_key
from storage import outbox
from storage.zoom.meetings import ZoomTask
from storage.zoom.people import ZoomEventSeen, ZoomPerson
from tests.e2e.conftest import (
    FACILITATOR,
    PARTICIPANT,
    RunningBot,
    ack_text,
    bot_settings,
    running_bot,
)
from tests.e2e.rooms_helpers import check_in_via_slack, outbox_sent
from tests.e2e.zoom_helpers import MEETING_ID, WEBHOOK_SECRET, zoom_idle, zoom_overrides
from tests.harness.waiting import eventually


@pytest.fixture
def settings_overrides(fake_zoom: FakeZoom) -> dict[str, Any]:
    return zoom_overrides(fake_zoom)


@pytest.fixture
def meeting(bot: RunningBot, fake_zoom: FakeZoom) -> dict[str, Any]:
    """A session running with a Zoom meeting that has started (looked up, and announced)."""
    fake_zoom.add_meeting(MEETING_ID, topic="Durham listening")
    fake_zoom.start_meeting(MEETING_ID)
    response = bot.command("/session", f'start "Durham" --zoom {MEETING_ID}')
    assert response.status_code == 200
    assert response.text == ""
    zoom_idle(bot)
    found = fake_zoom.meeting(MEETING_ID)
    assert webhooks(bot).meeting_started(found, start_time=bot.clock.now()).status_code == 200
    zoom_idle(bot)
    return found


def webhooks(bot: RunningBot) -> ZoomWebhookSender:
    """Zoom's webhook requests, signed at the bot's (fixed) time."""
    return ZoomWebhookSender(
        bot.url + "/zoom/webhook", WEBHOOK_SECRET, wall_clock=lambda: bot.clock.now().timestamp()
    )


def status(bot: RunningBot) -> str:
    return ack_text(bot.command("/session", "status"))


def zoom_line(bot: RunningBot) -> str:
    [line] = [part for part in status(bot).split("\\n") if "*Zoom presence:* " in part]
    return line


def people_line(bot: RunningBot) -> str:
    [line] = [part for part in status(bot).split("\\n") if "*People:* " in part]
    return line


def zoom_rows(bot: RunningBot) -> int:
    with bot.services.db.read() as db:
        return len(db.exec(select(ZoomPerson)).all())


def test_joins_leaves_and_breakout_rooms_show_in_session_status(
    bot: RunningBot, meeting: dict[str, Any]
) -> None:
    zoom, t = webhooks(bot), bot.clock.now()
    assert "none yet — nobody seen" in zoom_line(bot)
    for who in ("ada", "bob", "cat"):
        assert (
            zoom.participant_joined(meeting, f"uuid-{who}", who.title(), "", t).status_code == 200
        )
    assert ":* 3 in the meeting now — from Zoom's webhooks" in zoom_line(bot)
    moved = t + timedelta(minutes=3)
    zoom.participant_left(meeting, "uuid-ada", "Ada", "", moved, leave_reason="to breakout room")
    zoom.participant_joined_breakout_room(meeting, "room-1==", "uuid-ada", "Ada", "", moved)
    zoom.participant_joined_breakout_room(meeting, "room-2==", "uuid-bob", "Bob", "", moved)
    assert ":* 3 in the meeting now (2 in breakout rooms)" in zoom_line(bot)
    back = t + timedelta(minutes=20)
    zoom.participant_left_breakout_room(meeting, "room-1==", "uuid-ada", "Ada", "", back)
    zoom.participant_joined(meeting, "uuid-ada", "Ada", "", back)
    zoom.participant_left(meeting, "uuid-cat", "Cat", "", back)
    assert ":* 2 in the meeting now (1 in breakout rooms)" in zoom_line(bot)
    # Guests, with no ids or emails, are Zoom-only participants, checked in by being there.
    assert "; 3 Zoom-only" in people_line(bot)


def test_a_slack_person_is_matched_by_the_email_slack_gives(
    bot: RunningBot, meeting: dict[str, Any]
) -> None:
    zoom, t = webhooks(bot), bot.clock.now()
    # The fake Slack's users.info gives <handle>@example.com; Zoom's case differs.
    email = f"{PARTICIPANT.lower()}@Example.COM"
    zoom.participant_joined(meeting, "uuid-part", "Part One", email.upper(), t)
    assert ":* 0 checked in on Slack, 0 of them also in Zoom (matched by email); 1 Zoom-only" in (
        people_line(bot)
    )
    check_in_via_slack(bot, PARTICIPANT)
    [lookup] = bot.slack.wait_for("users.info")
    assert lookup.args["user"] == PARTICIPANT
    outbox_sent(bot)
    eventually(
        lambda: (
            ":* 1 checked in on Slack, 1 of them also in Zoom (matched by email); 0 Zoom-only"
            in people_line(bot)
        ),
        what="the match",
    )
    assert ":* 1 in the meeting now" in zoom_line(bot)


def test_a_bad_or_old_signature_is_refused_and_changes_nothing(
    bot: RunningBot, meeting: dict[str, Any]
) -> None:
    good = webhooks(bot)
    wrong = ZoomWebhookSender(
        bot.url + "/zoom/webhook", "not-the-secret", wall_clock=lambda: bot.clock.now().timestamp()
    )
    t = bot.clock.now()
    assert wrong.participant_joined(meeting, "uuid-ada", "Ada", "", t).status_code == 401
    old = ZoomWebhookSender(
        bot.url + "/zoom/webhook",
        WEBHOOK_SECRET,
        wall_clock=lambda: bot.clock.now().timestamp() - 600,
    )
    assert old.participant_joined(meeting, "uuid-ada", "Ada", "", t).status_code == 401
    assert zoom_rows(bot) == 0
    assert good.participant_joined(meeting, "uuid-ada", "Ada", "", t).status_code == 200
    assert zoom_rows(bot) == 1


def test_a_replayed_webhook_changes_nothing(bot: RunningBot, meeting: dict[str, Any]) -> None:
    zoom, t = webhooks(bot), bot.clock.now()
    body = webhook_body(
        "meeting.participant_left",
        {**_object(meeting), "participant": _person("uuid-ada", leave_time=iso(t))},
        event_ts_ms=int(t.timestamp() * 1000),
    )
    join = webhook_body(
        "meeting.participant_joined",
        {
            **_object(meeting),
            "participant": _person("uuid-ada", join_time=iso(t - timedelta(minutes=9))),
        },
        event_ts_ms=int(t.timestamp() * 1000) - 1,
    )
    stamp = int(t.timestamp())
    assert zoom.post(join, timestamp=stamp).status_code == 200
    assert zoom.post(body, timestamp=stamp).status_code == 200
    assert "none yet" not in zoom_line(bot)
    assert ":* 0 in the meeting now" in zoom_line(bot)
    with bot.services.db.read() as db:
        seen = len(db.exec(select(ZoomEventSeen)).all())
    # Zoom's retry (or an attacker replaying a captured request, freshly signed): the same body.
    bot.clock.advance(timedelta(minutes=25))
    assert zoom.post(join, timestamp=int(bot.clock.now().timestamp())).status_code == 200
    assert ":* 0 in the meeting now" in zoom_line(bot)
    with bot.services.db.read() as db:
        assert len(db.exec(select(ZoomEventSeen)).all()) == seen


def test_a_webhook_for_a_meeting_no_session_uses_is_ignored(
    bot: RunningBot, meeting: dict[str, Any]
) -> None:
    other = {**meeting, "id": 99988877766, "uuid": "someone-elses=="}
    zoom = webhooks(bot)
    assert (
        zoom.participant_joined(other, "uuid-x", "X", "x@example.org", bot.clock.now()).status_code
        == 200
    )
    assert zoom.meeting_started(other).status_code == 200
    assert zoom_rows(bot) == 0
    assert "none yet — nobody seen" in zoom_line(bot)


def test_malformed_json_is_refused(bot: RunningBot, meeting: dict[str, Any]) -> None:
    zoom = webhooks(bot)
    stamp = int(bot.clock.now().timestamp())
    assert (
        zoom.post(b'{"event": "meeting.participant_joined", ', timestamp=stamp).status_code == 400
    )
    assert zoom.post(b'"just a string"', timestamp=stamp).status_code == 400
    # An event whose object is not what Zoom sends: answered, and nothing recorded.
    odd = json.dumps({"event": "meeting.participant_joined", "payload": {"object": [1]}}).encode()
    assert zoom.post(odd, timestamp=stamp).status_code == 200
    assert zoom_rows(bot) == 0


def _email_lookup_sent(bot: RunningBot) -> bool:
    with bot.services.db.read() as db:
        [row] = [r for r in outbox.rows(db) if r.kind == SLACK_EMAILS]
    return row.sent_at is not None


def test_300_participants_joining_are_all_counted_while_slack_is_held(
    bot: RunningBot, meeting: dict[str, Any]
) -> None:
    # Zoom wants an answer within 3 seconds, so a webhook's answer waits on nothing but the
    # database: not on Slack. A Slack call the bot owes is held in flight (a checked-in Slack
    # person's users.info) through the whole burst, and every webhook is still answered.
    # (How fast they are answered is bench/zoom.py's to print; the sender's timeout, 10 s, is
    # only a safety net, though short of how long the fake Slack holds an answer.)
    held = bot.slack.hold_next("users.info")
    check_in_via_slack(bot, PARTICIPANT)
    bot.slack.wait_for("users.info", timeout=10)
    zoom, t = webhooks(bot), bot.clock.now()
    assert zoom.timeout < HOLD_TIMEOUT

    def join(number: int) -> int:
        return zoom.participant_joined(
            meeting, f"uuid-{number}", f"Person {number}", f"p{number}@example.org", t
        ).status_code

    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(join, range(300)))
        assert answers == [200] * 300
        assert not _email_lookup_sent(bot)  # Slack's answer had not come back meanwhile
        assert ":* 300 in the meeting now" in zoom_line(bot)
    finally:
        held.set()
    eventually(lambda: _email_lookup_sent(bot), timeout=10, what="the held users.info answered")
    assert ":* 300 in the meeting now" in zoom_line(bot)
    assert ":* 1 checked in on Slack, 0 of them also in Zoom (matched by email); 300 Zoom-only" in (
        people_line(bot)
    )


def _object(meeting: dict[str, Any]) -> dict[str, Any]:
    return {"id": str(meeting["id"]), "uuid": meeting["uuid"], "topic": meeting["topic"]}


def _person(uuid: str, **times: str) -> dict[str, Any]:
    return {
        "user_id": "16000001",
        "user_name": "Ada",
        "participant_uuid": uuid,
        "email": "",
        **times,
    }


def test_the_endpoint_answers_zoom_url_validation(bot: RunningBot, meeting: dict[str, Any]) -> None:
    answer = webhooks(bot).url_validation("qgg8vlvZRS6UYooatFL8Aw")
    assert answer.status_code == 200
    assert answer.json()["plainToken"] == "qgg8vlvZRS6UYooatFL8Aw"


@pytest.fixture
def socket_mode_bot(
    fake_slack: FakeSlack,
    migrated_sqlite_url: str,
    clock: FixedClock,
    settings_overrides: dict[str, Any],
) -> Iterator[RunningBot]:
    """The real app built for Socket Mode (no webhook reaches it: it polls Zoom's live
    participants), its slash commands still sent over loopback HTTP."""
    settings = bot_settings(fake_slack, migrated_sqlite_url, **settings_overrides)
    with running_bot(settings, fake_slack, clock, socket_mode=True) as running:
        yield running


def live(
    who: str, joined: datetime, *, room: str = "", left: datetime | None = None
) -> dict[str, Any]:
    """A row of GET /metrics/meetings/{id}/participants?type=live."""
    return {
        "id": "",
        "user_id": str(zlib.crc32(f"{who}/{room}".encode())),
        "participant_uuid": f"uuid-{who}",
        "user_name": who.title(),
        "email": "",
        "join_time": iso(joined),
        "leave_time": iso(left) if left else "",
        "status": "in_meeting",
        "bo_mtg_id": room,
    }


def test_in_socket_mode_live_participants_are_polled_while_the_session_runs(
    socket_mode_bot: RunningBot, fake_zoom: FakeZoom
) -> None:
    bot, t = socket_mode_bot, socket_mode_bot.clock.now()
    fake_zoom.add_meeting(MEETING_ID, topic="Durham")
    fake_zoom.set_live_participants(
        MEETING_ID, [live("ada", t), live("bob", t), live("bob", t, room="room==")]
    )
    assert bot.command("/session", f'start "Durham" --zoom {MEETING_ID}').text == ""
    zoom_idle(bot)
    assert ":* 2 in the meeting now (1 in breakout rooms) — from Zoom's live participant list" in (
        zoom_line(bot)
    )
    # ZOOM_METRICS_SECONDS later: Ada has left, Bob is back in the main room.
    gone = t + timedelta(seconds=20)
    fake_zoom.set_live_participants(MEETING_ID, [live("ada", t, left=gone), live("bob", t)])
    bot.clock.advance(timedelta(seconds=30))
    zoom_idle(bot)
    assert ":* 1 in the meeting now — from Zoom's live participant list" in zoom_line(bot)
    polls = len([c for c in fake_zoom.calls if "/metrics/" in c.path])
    assert bot.command("/session", "end").status_code == 200
    bot.clock.advance(timedelta(seconds=30))
    zoom_idle(bot)
    bot.clock.advance(timedelta(seconds=30))
    zoom_idle(bot)
    assert len([c for c in fake_zoom.calls if "/metrics/" in c.path]) == polls


def test_in_socket_mode_below_business_the_facilitator_is_told_once(
    socket_mode_bot: RunningBot, fake_zoom: FakeZoom
) -> None:
    bot = socket_mode_bot
    fake_zoom.plan = "pro"
    fake_zoom.add_meeting(MEETING_ID, topic="Durham")
    assert bot.command("/session", f'start "Durham" --zoom {MEETING_ID}').text == ""
    zoom_idle(bot)
    bot.clock.advance(timedelta(minutes=5))
    zoom_idle(bot)
    told = [m for m in bot.slack.calls_to("chat.postMessage") if m.args["channel"] == FACILITATOR]
    assert len(told) == 1
    assert "Zoom Business" in told[0].args["text"]
    assert "presence:* unknown — live participants need a Zoom Business plan" in zoom_line(bot)


def test_registrants_answers_are_their_check_in_in_every_breakdown(
    bot: RunningBot, fake_zoom: FakeZoom
) -> None:
    fake_zoom.add_meeting(MEETING_ID, topic="Durham", registration=True)
    fake_zoom.set_registrants(
        MEETING_ID,
        [
            {
                "id": f"reg-{n}",
                "email": f"member{n}@example.org",
                "first_name": f"Member {n}",
                "custom_questions": [
                    {"title": "Role", "value": "Trade union member"},
                    {"title": "place", "value": "Stoke on Trent"},
                ],
            }
            for n in range(3)
        ],
    )
    assert bot.command("/session", f'start "Durham" --zoom {MEETING_ID}').text == ""
    zoom_idle(bot)
    shown = status(bot)
    assert "Trade union member" in shown
    assert "; 3 Zoom-only" in people_line(bot)
    assert [
        c.query.get("page_size") for c in fake_zoom.calls if c.path.endswith("/registrants")
    ] == ["300"]


def test_the_meeting_ending_fetches_the_zoom_polls_answers(
    bot: RunningBot, meeting: dict[str, Any], fake_zoom: FakeZoom
) -> None:
    assert bot.command("/poll", '"Agree?" "Yes" "No" --zoom').status_code == 200
    zoom_idle(bot)
    assert len(fake_zoom.polls(MEETING_ID)) == 1
    ended = webhooks(bot).meeting_ended(meeting, end_time=bot.clock.now() + timedelta(minutes=1))
    assert ended.status_code == 200
    with bot.services.db.read() as db:
        keys = [task.key for task in db.exec(select(ZoomTask).where(ZoomTask.kind == RESULTS))]
    assert keys == [results_key(1, "meeting-ended", meeting["uuid"])]
