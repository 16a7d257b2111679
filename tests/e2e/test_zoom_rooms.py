"""Breakout rounds on Zoom, through the real app with the fake Slack and the fake Zoom.

Before the meeting starts a round is written into the meeting as its pre-assignment (the PATCH
the fake Zoom sees) and the facilitator gets Zoom's CSV; while the meeting runs the rooms are
announced by name, with the list to paste into Zoom's chat; the breakout webhooks then show in
`/session status` who is where. Zoom-only people are placed but never sent anything in Slack.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest

from bot.standin.zoom import FakeZoom
from storage.models import Participant
from storage.zoom.people import SlackEmail, ZoomPerson
from tests.e2e.conftest import FACILITATOR, RunningBot, ack_text, all_text
from tests.e2e.rooms_helpers import check_in, members, outbox_sent, people, rounds
from tests.e2e.zoom_helpers import MEETING_ID, zoom_idle, zoom_overrides
from tests.harness.waiting import eventually

DM = "D" + FACILITATOR[1:]  # the fake Slack's direct message channel with the facilitator
ZOOM_ONLY = "zoom:0123456789abcdef0123"


@pytest.fixture
def settings_overrides(fake_zoom: FakeZoom) -> dict[str, Any]:
    return zoom_overrides(fake_zoom)


def _start_session(bot: RunningBot) -> int:
    response = bot.command("/session", f'start "Durham" --zoom {MEETING_ID}')
    assert response.status_code == 200, response.text
    eventually(lambda: bot.services.sessions.active_session("C0SESSION") is not None)
    session = bot.services.sessions.active_session("C0SESSION")
    assert session is not None
    assert session.id is not None
    zoom_idle(bot)  # the meeting is looked up
    return session.id


def _slack_emails(bot: RunningBot, emails: dict[str, str]) -> None:
    """What the Slack email look-ups found (set up here: they are the presence part's)."""
    with bot.services.db.transaction() as db:
        for user, email in emails.items():
            db.add(SlackEmail(user_id=user, email=email, looked_up_at=bot.clock.now()))


def _zoom_registrant(bot: RunningBot, session_id: int, *, name: str, email: str) -> None:
    """A Zoom-only person checked in from their registration (the presence part's import)."""
    now = bot.clock.now()
    with bot.services.db.transaction() as db:
        db.add(
            Participant(
                session_id=session_id,
                user_id=ZOOM_ONLY,
                role="Member",
                checked_in_at=now,
                updated_at=now,
            )
        )
        db.add(
            ZoomPerson(
                session_id=session_id,
                identity="registrant:r1",
                user_id=ZOOM_ONLY,
                name=name,
                email=email,
                registrant_id="r1",
                updated_at=now,
            )
        )


def _never_told_in_slack(bot: RunningBot, user_id: str) -> None:
    """No Slack call was addressed to `user_id` (as channel or user)."""
    for call in bot.slack.calls:
        for key in ("channel", "user", "users", "channel_id"):
            assert call.args.get(key) != user_id, f"{call.method} sent to {user_id}"


def test_a_round_before_the_meeting_is_its_pre_assignment_with_the_csv(
    bot: RunningBot, fake_zoom: FakeZoom
) -> None:
    fake_zoom.add_meeting(MEETING_ID, topic="Durham listening")
    session_id = _start_session(bot)
    users = people(4)
    for user in users:
        check_in(bot, user)
    # Three Slack people share an email; the fourth does not. Dan is only in Zoom.
    _slack_emails(bot, {users[0]: "P1@x.org", users[1]: "p2@x.org", users[2]: "p3@x.org"})
    _zoom_registrant(bot, session_id, name='Dan "the man", Jr.', email="dan@x.org")

    answer = ack_text(bot.command("/breakout", "2 --seed 7"))
    assert "the meeting has not started, so this round is its pre-assignment" in answer
    assert "4 people can be placed by email" in answer
    assert "1 person cannot be placed: the bot knows no email for them" in answer
    zoom_idle(bot)
    outbox_sent(bot)

    breakout = rounds(bot)[-1]
    assert breakout.id is not None
    plan = members(bot, breakout.id)
    emails = {users[0]: "p1@x.org", users[1]: "p2@x.org", users[2]: "p3@x.org"}
    emails[ZOOM_ONLY] = "dan@x.org"
    expected = [
        {
            "name": f"Room {number}",
            "participants": sorted(emails[user] for user in plan[number] if user in emails),
        }
        for number in sorted(plan)
    ]
    [patch] = [c for c in fake_zoom.calls if c.method == "PATCH"]
    assert patch.path.endswith(f"/meetings/{MEETING_ID}")
    assert patch.status in (200, 204)
    rooms = patch.body["settings"]["breakout_room"]["rooms"]
    assert patch.body["settings"]["breakout_room"]["enable"] is True
    assert [{**room, "participants": sorted(room["participants"])} for room in rooms] == expected
    assert fake_zoom.meeting(MEETING_ID)["settings"]["breakout_room"]["rooms"] == rooms

    # The facilitator gets the CSV in a direct message, and then Zoom's answer.
    texts = [m.get("text", "") for m in bot.slack.messages(DM)]
    assert any("as Zoom's pre-assignment" in text for text in texts), texts
    assert any("Zoom has the pre-assignment of breakout round 1" in text for text in texts)
    [shared] = [m for m in bot.slack.messages(DM) if m.get("subtype") == "file_share"]
    [file] = shared["files"]
    assert file["name"] == "zoom-preassign-round-1.csv"
    content = bot.slack.file_content(file["id"]).decode()
    rows = list(csv.reader(io.StringIO(content, newline="")))
    assert rows[0] == ["Pre-assign Room Name", "Email Address"]
    assert sorted(rows[1:]) == sorted(
        [f"Room {number}", emails[user]]
        for number, users_in in plan.items()
        for user in users_in
        if user in emails
    )

    # Each room's message and its members' notices say the Zoom room; Dan is named, not told.
    posted = all_text(bot.slack.messages("C0SESSION"))
    assert "In Zoom this is the breakout room" in posted
    assert "Dan \\\"the man\\\", Jr. _(Zoom)_" in posted
    assert f"<@{ZOOM_ONLY}>" not in posted
    told = {call.args.get("user") for call in bot.slack.calls_to("chat.postEphemeral")}
    assert set(users) <= told
    _never_told_in_slack(bot, ZOOM_ONLY)
    assert json.dumps(bot.slack.calls_to("chat.postMessage")[-1].args).count(ZOOM_ONLY) == 0
