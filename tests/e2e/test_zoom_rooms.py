"""Breakout rounds on Zoom, through the real app with the fake Slack and the fake Zoom.

Before the meeting starts a round is written into the meeting as its pre-assignment (the PATCH
the fake Zoom sees) and the facilitator gets Zoom's CSV; while the meeting runs the rooms are
announced by name, with the list to paste into Zoom's chat, and no PATCH; signed breakout
webhooks then show in `/session status` who is where. Zoom-only people are placed in rooms but
never sent anything in Slack.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest

from bot.runsheets import RunSheet, load_runsheet
from bot.runsheets.library import RunSheetLibrary
from bot.standin.zoom import FakeZoom, ZoomWebhookSender
from bot.views.zoom_rooms import CHOOSE_ROOM
from tests.e2e.conftest import FACILITATOR, RunningBot, ack_text, all_text, mrkdwn
from tests.e2e.rooms_helpers import (
    check_in,
    check_in_via_slack,
    members,
    outbox_sent,
    people,
    rounds,
)
from tests.e2e.zoom_helpers import MEETING_ID, WEBHOOK_SECRET, zoom_idle, zoom_overrides
from tests.harness.waiting import eventually

CHANNEL = "C0SESSION"
DM = "D" + FACILITATOR[1:]  # the fake Slack's direct message channel with the facilitator
DAN = 'Dan "the man", Jr.'  # a Zoom-only registrant: commas and quotes in the CSV's neighbours
EVE = "Eve <O'Hara> & co"  # a Zoom-only guest in the meeting, with no email


@pytest.fixture
def settings_overrides(fake_zoom: FakeZoom) -> dict[str, Any]:
    return zoom_overrides(fake_zoom)


def _webhooks(bot: RunningBot) -> ZoomWebhookSender:
    """Zoom's webhook requests, signed at the bot's (fixed) time."""
    return ZoomWebhookSender(
        bot.url + "/zoom/webhook", WEBHOOK_SECRET, wall_clock=lambda: bot.clock.now().timestamp()
    )


def _start_session(bot: RunningBot) -> None:
    response = bot.command("/session", f'start "Durham" --zoom {MEETING_ID}')
    assert response.status_code == 200
    assert response.text == ""
    zoom_idle(bot)  # looked up (and its registrants read)


def _slack_people(bot: RunningBot, count: int) -> list[str]:
    """People checked in through Slack's form: their emails are looked up as presence does."""
    users = people(count)
    for user in users:
        check_in_via_slack(bot, user)
    outbox_sent(bot)
    eventually(lambda: len(bot.slack.calls_to("users.info")) >= count, what="email look-ups")
    outbox_sent(bot)
    return users


def _email(user: str) -> str:
    return f"{user.lower()}@example.com"  # what the fake Slack's users.info gives


def _zoom_only_ids(bot: RunningBot, breakout_id: int) -> list[str]:
    return sorted(
        user for room in members(bot, breakout_id).values() for user in room if user[:5] == "zoom:"
    )


def _never_told_in_slack(bot: RunningBot, user_ids: list[str]) -> None:
    """No Slack call was addressed to these people, and none mentions them."""
    assert user_ids
    for call in bot.slack.calls:
        for key in ("channel", "user", "users", "channel_id"):
            assert call.args.get(key) not in user_ids, f"{call.method} sent to {call.args[key]}"
        text = all_text(call.args)
        for user in user_ids:
            assert f"<@{user}" not in text, f"{call.method} mentions {user}"


def _dm_texts(bot: RunningBot) -> list[str]:
    return [str(m.get("text", "")) for m in bot.slack.messages(DM)]


def _status(bot: RunningBot) -> list[str]:
    """Every line of `/session status` (bullets taken off)."""
    response = bot.command("/session", "status")
    assert response.status_code == 200
    return [
        line.removeprefix("• ") for text in mrkdwn(response.json()) for line in text.split("\n")
    ]


# -- before the meeting starts ------------------------------------------------------------------


def test_a_round_before_the_meeting_is_its_pre_assignment_with_the_csv(
    bot: RunningBot, fake_zoom: FakeZoom
) -> None:
    fake_zoom.add_meeting(MEETING_ID, topic="Durham listening", registration=True)
    fake_zoom.set_registrants(
        MEETING_ID,
        [
            {
                "id": "reg-dan",
                "email": "Dan@Example.org",
                "first_name": DAN,
                "custom_questions": [{"title": "Role", "value": "Member"}],
            }
        ],
    )
    _start_session(bot)
    users = _slack_people(bot, 3)
    check_in(bot, "U0NOMAIL")  # checked in, but Slack was never asked for their email

    answer = ack_text(bot.command("/breakout", "2 --seed 7"))
    assert "the meeting has not started, so this round is its pre-assignment" in answer
    assert "4 people can be placed by email" in answer
    assert "1 person cannot be placed: the bot knows no email for them" in answer
    zoom_idle(bot)
    outbox_sent(bot)

    breakout = rounds(bot)[-1]
    assert breakout.id is not None
    plan = members(bot, breakout.id)
    [dan] = _zoom_only_ids(bot, breakout.id)
    emails = {user: _email(user) for user in users} | {dan: "dan@example.org"}
    expected = [
        {
            "name": f"Room {number}",
            "participants": sorted(emails[user] for user in plan[number] if user in emails),
        }
        for number in sorted(plan)
    ]
    [patch] = [call for call in fake_zoom.calls if call.method == "PATCH"]
    assert patch.path == f"/meetings/{MEETING_ID}"
    assert patch.status in (200, 204)
    breakout_room = patch.body["settings"]["breakout_room"]
    assert breakout_room["enable"] is True
    rooms = [
        {**room, "participants": sorted(room["participants"])} for room in breakout_room["rooms"]
    ]
    assert rooms == expected
    assert (
        fake_zoom.meeting(MEETING_ID)["settings"]["breakout_room"]["rooms"]
        == (breakout_room["rooms"])
    )

    # The facilitator gets the CSV in a direct message, and then Zoom's answer.
    texts = _dm_texts(bot)
    [intro] = [text for text in texts if "as Zoom's pre-assignment" in text]
    assert "Not in it (1 person: the bot knows no email for them" in intro
    assert "<@U0NOMAIL>" in intro
    assert any("Zoom has the pre-assignment of breakout round 1" in text for text in texts)
    [shared] = [m for m in bot.slack.messages(DM) if m.get("subtype") == "file_share"]
    [file] = shared["files"]
    assert file["name"] == "zoom-preassign-round-1.csv"
    content = bot.slack.file_content(file["id"]).decode()
    assert content.startswith("Pre-assign Room Name,Email Address\r\n")
    rows = list(csv.reader(io.StringIO(content, newline="")))
    assert sorted(rows[1:]) == sorted(
        [f"Room {number}", emails[user]]
        for number, in_room in plan.items()
        for user in in_room
        if user in emails
    )

    # Each room's message names its Zoom room and Dan (by name); Slack people are told theirs.
    posted = all_text(bot.slack.messages(CHANNEL))
    assert "In Zoom this is the breakout room" in posted
    assert 'Dan \\"the man\\", Jr. _(Zoom)_' in posted
    told = {call.args.get("user") for call in bot.slack.calls_to("chat.postEphemeral")}
    assert {*users, "U0NOMAIL"} <= told
    _never_told_in_slack(bot, [dan])


def test_zoom_refusing_the_pre_assignment_is_said_plainly(
    bot: RunningBot, fake_zoom: FakeZoom
) -> None:
    fake_zoom.add_meeting(MEETING_ID, topic="Durham listening")
    _start_session(bot)
    _slack_people(bot, 2)
    fake_zoom.fail(
        "PATCH",
        f"/meetings/{MEETING_ID}",
        status=400,
        body={"code": 300, "message": "Invalid breakout room settings."},
    )
    ack_text(bot.command("/breakout", "1"))
    zoom_idle(bot)
    outbox_sent(bot)
    texts = _dm_texts(bot)
    assert any(
        "Zoom refused the pre-assignment of breakout round 1: Invalid breakout room settings."
        in text
        for text in texts
    ), texts
    assert any(m.get("subtype") == "file_share" for m in bot.slack.messages(DM))


# -- while the meeting runs ---------------------------------------------------------------------


def test_a_round_mid_meeting_names_the_rooms_and_status_shows_who_is_where(
    bot: RunningBot, fake_zoom: FakeZoom
) -> None:
    fake_zoom.add_meeting(MEETING_ID, topic="Durham listening")
    fake_zoom.start_meeting(MEETING_ID)
    _start_session(bot)
    meeting = fake_zoom.meeting(MEETING_ID)
    zoom, t = _webhooks(bot), bot.clock.now()
    assert zoom.meeting_started(meeting, start_time=t).status_code == 200
    users = _slack_people(bot, 3)
    # The Slack people are in Zoom too (matched by email), with their Zoom names; Eve is a guest.
    for number, user in enumerate(users, start=1):
        joined = zoom.participant_joined(
            meeting, f"uuid-{user}", f"Zoomer {number}", _email(user), t
        )
        assert joined.status_code == 200
    assert zoom.participant_joined(meeting, "uuid-eve", EVE, "", t).status_code == 200
    fake_calls = len(fake_zoom.calls)

    answer = ack_text(bot.command("/breakout", "2 --seed 3"))
    assert "the meeting is running, so Zoom cannot take a pre-assignment" in answer
    assert CHOOSE_ROOM in answer
    assert "rename them exactly *Room 1 … Room 2*" in answer
    zoom_idle(bot)
    outbox_sent(bot)
    assert [call for call in fake_zoom.calls[fake_calls:] if call.method == "PATCH"] == []

    breakout = rounds(bot)[-1]
    assert breakout.id is not None
    plan = members(bot, breakout.id)
    [eve] = _zoom_only_ids(bot, breakout.id)
    assert {*users, eve} == plan[1] | plan[2]
    zoom_names = {user: f"Zoomer {number}" for number, user in enumerate(users, start=1)}
    zoom_names[eve] = "Eve &lt;O'Hara&gt; &amp; co"

    # Everyone in Slack is told to join their room by name; the facilitator gets the list.
    for user in users:
        room = next(number for number, in_room in plan.items() if user in in_room)
        [notice] = [
            call
            for call in bot.slack.calls_to("chat.postEphemeral")
            if call.args.get("user") == user and "You're in" in str(call.args.get("text"))
        ]
        assert f"In Zoom, join the breakout room *“Room {room}”*" in notice.args["text"]
    texts = _dm_texts(bot)
    [intro] = [text for text in texts if "the meeting is running, so people choose" in text]
    assert CHOOSE_ROOM in intro
    [listed] = [text for text in texts if text.startswith("Breakout round 1: join your room")]
    for number, in_room in plan.items():
        [line] = [line for line in listed.splitlines() if line.startswith(f"Room {number} — ")]
        assert sorted(line.removeprefix(f"Room {number} — ").split(", ")) == sorted(
            zoom_names[user] for user in in_room
        )
    _never_told_in_slack(bot, [eve])

    # Zoom's breakout rooms (uuids, no names): "zr-a" holds Room 1's people and one of Room 2's.
    in_one, in_two = sorted(plan[1]), sorted(plan[2])
    moved = t + timedelta(minutes=2)
    into_a = [*in_one, in_two[0]]
    for user in into_a:
        uuid = "uuid-eve" if user == eve else f"uuid-{user}"
        name = EVE if user == eve else zoom_names[user]
        email = "" if user == eve else _email(user)
        answered = zoom.participant_joined_breakout_room(
            meeting, "zr-a==", uuid, name, email, moved
        )
        assert answered.status_code == 200
    lines = _status(bot)
    assert "*Zoom rooms* (breakout round 1), against the plan:" in lines
    [room_1] = [line for line in lines if line.startswith("*Room 1*:")]
    [room_2] = [line for line in lines if line.startswith("*Room 2*:")]
    assert room_1 == "*Room 1*: 2 of 2 planned here"

    def shown(user: str) -> str:
        return "Eve &lt;O'Hara&gt; &amp; co _(Zoom)_" if user == eve else f"<@{user}>"

    assert room_2 == (
        f"*Room 2*: 0 of 2 planned here; {shown(in_two[0])} is in Room 1; "
        f"{shown(in_two[1])} not in a room"
    )


def test_a_run_sheet_round_before_the_meeting_says_what_it_did_in_zoom(
    bot: RunningBot, fake_zoom: FakeZoom
) -> None:
    text = "name: zoom-tour\nsteps:\n  - breakout: What would bring people back?\n    rooms: 2\n"
    sheet = load_runsheet(text)
    assert isinstance(sheet, RunSheet), sheet
    RunSheetLibrary(bot.services.db, bot.clock).add(sheet, text)
    fake_zoom.add_meeting(MEETING_ID, topic="Durham listening")
    started = bot.command("/session", f'start "Durham" --zoom {MEETING_ID} --runsheet zoom-tour')
    assert started.text == ""
    zoom_idle(bot)
    users = _slack_people(bot, 4)

    answer = ack_text(bot.command("/next", ""))
    assert "Step 1" in answer
    assert "the meeting has not started, so this round is its pre-assignment" in answer
    zoom_idle(bot)
    [patch] = [c for c in fake_zoom.calls if c.method == "PATCH"]
    rooms = patch.body["settings"]["breakout_room"]["rooms"]
    assert [room["name"] for room in rooms] == ["Room 1", "Room 2"]
    placed = sorted(email for room in rooms for email in room["participants"])
    assert placed == sorted(_email(user) for user in users)
