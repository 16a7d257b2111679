"""Helpers for the breakout end-to-end tests: sessions with people checked in, rooms, forms."""

from __future__ import annotations

from typing import Any

import requests
from sqlmodel import select

from bot.rooms import FIELD_KEY_POINTS, FIELD_NEW_THEMES, FIELD_ROOM, FIELD_SUMMARY, quote_field
from bot.services import Services
from bot.sessions import CheckInAnswers
from bot.standin import payloads
from bot.views.reports import CONSENT_YES, INPUT_ACTION, REPORT_CALLBACK
from bot.views.rooms import REPORT_ACTION
from bot.views.sessions import CHECK_IN_CALLBACK
from bot.views.sessions import CONSENT_YES as CHECK_IN_CONSENT
from storage import outbox as outbox_store
from storage.models import ListeningSession
from storage.rooms import BreakoutRoom, BreakoutRound, ReportBack, RoomMember
from tests.e2e.conftest import CHANNEL, FACILITATOR, RunningBot, ack_text, all_text
from tests.harness.waiting import eventually

GROUPS = ["Unison", "GMB", "CLP"]


def start_session(bot: RunningBot, channel: str = CHANNEL) -> ListeningSession:
    """Start a session by command and return it once its message is posted."""
    assert bot.command("/session", 'start "Durham"', channel=channel).text == ""
    eventually(lambda: session_in(bot, channel) is not None, what="session stored")
    found = session_in(bot, channel)
    assert found is not None
    eventually(lambda: (session_in(bot, channel) or found).message_ts is not None)
    return found


def session_in(bot: RunningBot, channel: str) -> ListeningSession | None:
    """The channel's active session."""
    return bot.services.sessions.active_session(channel)


def check_in(
    bot: RunningBot,
    user: str,
    *,
    channel: str = CHANNEL,
    role: str = "Member",
    place: str | None = None,
    group: str | None = None,
) -> None:
    """Check someone in directly (set-up for tests about rooms, not about check-in)."""
    session = session_in(bot, channel)
    assert session is not None
    assert session.id is not None
    bot.services.sessions.check_in(
        session_id=session.id,
        user_id=user,
        answers=CheckInAnswers(role=role, place=place, group_name=group, consent_to_quote=False),
        delivery_key=None,
    )


def check_in_via_slack(bot: RunningBot, user: str, *, channel: str = CHANNEL) -> None:
    """Check someone in by submitting the check-in form over signed HTTP."""
    session = session_in(bot, channel)
    assert session is not None
    metadata = str(session.id)
    body = payloads.view_submission(
        user_id=user,
        view={"id": "V0CHECKIN", "blocks": [], "callback_id": CHECK_IN_CALLBACK},
        values={
            "role": {"role": payloads.static_select_value("Member", external=True)},
            "consent": {"consent": payloads.checkboxes_value([(CHECK_IN_CONSENT, "Quote me")])},
        },
        private_metadata=metadata,
        callback_id=CHECK_IN_CALLBACK,
    )
    assert bot.sender.submit_view(body).status_code == 200


def outbox_sent(bot: RunningBot, services: Services | None = None, timeout: float = 10.0) -> None:
    """Wait until the outbox has sent (or given up) everything due now.

    Posts that follow a committed change arrive from the outbox sender, after the request that
    made them; what waits for a retry later is not due, so it does not count.

    Args:
        bot: the bot under test.
        services: another process's services on the same database (after a restart).
        timeout: seconds.
    """
    running = services or bot.services

    assert running.outbox.wait_idle(timeout=timeout), "the outbox did not send what is due"


def send_retries(bot: RunningBot, *, at_most: int) -> None:
    """Move the clock to each retry the outbox has waiting and let it send, until none waits
    (each may wait behind the one before it: same target, in order)."""
    for _ in range(at_most):
        with bot.services.db.read() as db:
            due = outbox_store.next_retry(db, after=bot.clock.now())
        if due is None:
            return
        if due > bot.clock.now():
            bot.clock.advance(due - bot.clock.now())
        bot.services.outbox.wake()
        outbox_sent(bot)


def outbox_rows(bot: RunningBot, kind: str) -> list[outbox_store.OutboxRow]:
    """The outbox rows of one kind, oldest first."""
    with bot.services.db.read() as db:
        return [row for row in outbox_store.rows(db) if row.kind == kind]


def people(count: int, prefix: str = "U0P") -> list[str]:
    """User ids U0P01, U0P02, …"""
    return [f"{prefix}{i:02d}" for i in range(1, count + 1)]


def rounds(bot: RunningBot) -> list[BreakoutRound]:
    """Every round, oldest first."""
    with bot.services.db.read() as db:
        return list(db.exec(select(BreakoutRound).order_by(BreakoutRound.id)).all())  # type: ignore[arg-type]


def rooms_of(bot: RunningBot, round_id: int) -> list[BreakoutRoom]:
    """A round's rooms by number."""
    with bot.services.db.read() as db:
        return list(
            db.exec(
                select(BreakoutRoom)
                .where(BreakoutRoom.round_id == round_id)
                .order_by(BreakoutRoom.number)  # type: ignore[arg-type]
            ).all()
        )


def members(bot: RunningBot, round_id: int) -> dict[int, set[str]]:
    """Room number -> user ids."""
    numbers = {room.id: room.number for room in rooms_of(bot, round_id)}
    with bot.services.db.read() as db:
        rows = db.exec(select(RoomMember).where(RoomMember.round_id == round_id)).all()
    found: dict[int, set[str]] = {number: set() for number in numbers.values()}
    for row in rows:
        found[numbers[row.room_id]].add(row.user_id)
    return found


def reports(bot: RunningBot) -> list[ReportBack]:
    """Every report-back version, oldest first."""
    with bot.services.db.read() as db:
        return list(db.exec(select(ReportBack).order_by(ReportBack.id)).all())  # type: ignore[arg-type]


def room_messages(bot: RunningBot, channel: str = CHANNEL) -> list[dict[str, Any]]:
    """Top-level messages with a Report back button (the room messages), oldest first."""
    return [
        m
        for m in bot.slack.messages(channel)
        if "thread_ts" not in m and REPORT_ACTION in all_text(m.get("blocks", []))
    ]


def thread(bot: RunningBot, ts: str, channel: str = CHANNEL) -> list[dict[str, Any]]:
    """Replies in a message's thread, oldest first."""
    return [m for m in bot.slack.messages(channel) if m.get("thread_ts") == ts]


def thread_texts(bot: RunningBot, round_id: int, channel: str = CHANNEL) -> dict[int, list[str]]:
    """Room number -> the texts in its thread, oldest first."""
    return {
        room.number: [m["text"] for m in thread(bot, room.message_ts or "", channel)]
        for room in rooms_of(bot, round_id)
    }


def breakout(bot: RunningBot, text: str, **kwargs: Any) -> requests.Response:
    """Type `/breakout <text>`."""
    return bot.command("/breakout", text, **kwargs)


def start_round(
    bot: RunningBot, text: str, rooms: int, *, user: str = FACILITATOR
) -> BreakoutRound:
    """Start a round (as `user`) and wait until its room messages are posted and stored."""
    before = len(rounds(bot))
    reply = ack_text(breakout(bot, text, user=user))
    assert "started" in reply, reply
    eventually(lambda: len(rounds(bot)) == before + 1, what="round stored")
    started = rounds(bot)[-1]
    assert started.id is not None
    round_id = started.id
    eventually(
        lambda: (
            all(r.message_ts for r in rooms_of(bot, round_id))
            and len(rooms_of(bot, round_id)) == rooms
        ),
        what="room messages stored",
    )
    return started


def form_values(
    summary: str | None,
    *,
    key_points: str | None = None,
    quotes: list[tuple[str, str | None, str | None, bool]] | None = None,
    theme_ids: list[str] | None = None,
    new_themes: str | None = None,
    room_id: str | None = None,
) -> dict[str, Any]:
    """state.values for the report-back form."""
    values: dict[str, Any] = {
        FIELD_SUMMARY: {INPUT_ACTION: payloads.plain_text_value(summary)},
        FIELD_KEY_POINTS: {INPUT_ACTION: payloads.plain_text_value(key_points)},
        FIELD_NEW_THEMES: {INPUT_ACTION: payloads.plain_text_value(new_themes)},
    }
    for index, (text, role, place, consent) in enumerate(quotes or [], start=1):
        values[quote_field("text", index)] = {INPUT_ACTION: payloads.plain_text_value(text)}
        values[quote_field("role", index)] = {INPUT_ACTION: payloads.plain_text_value(role)}
        values[quote_field("place", index)] = {INPUT_ACTION: payloads.plain_text_value(place)}
        values[quote_field("consent", index)] = {
            INPUT_ACTION: payloads.checkboxes_value([(CONSENT_YES, "Agreed")] if consent else [])
        }
    if theme_ids is not None:
        values["report_themes"] = {
            INPUT_ACTION: {
                "type": "multi_static_select",
                "selected_options": [payloads.option(t) for t in theme_ids],
            }
        }
    if room_id is not None:
        values[FIELD_ROOM] = {INPUT_ACTION: payloads.static_select_value(room_id)}
    return values


def open_report(bot: RunningBot, user: str) -> dict[str, Any]:
    """Type `/report` as user and return the view that opened."""
    before = len(bot.slack.calls_to("views.open"))
    response = bot.command("/report", "", user=user)
    assert response.status_code == 200
    assert response.text == "", response.text
    return dict(bot.slack.wait_for("views.open", count=before + 1)[-1].args["view"])


def report_body(
    user: str, view: dict[str, Any], values: dict[str, Any], private_metadata: str | None = None
) -> dict[str, Any]:
    """A view_submission of the report-back form."""
    return payloads.view_submission(
        user_id=user,
        view={"id": "V0REPORT", **view},
        values=values,
        private_metadata=private_metadata or view.get("private_metadata"),
        callback_id=REPORT_CALLBACK,
    )


def submit_report(
    bot: RunningBot, user: str, view: dict[str, Any], values: dict[str, Any]
) -> requests.Response:
    """Submit the report-back form as user."""
    return bot.sender.submit_view(report_body(user, view, values))
