"""A facilitator who left mentions in every kind of channel post, for the erasure tests: they
started two sessions (one still open), launched and closed a poll, started a round, joined it
late, moved themselves to another room, reported back for it, and ended the first session."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlmodel import select

from bot.standin import payloads
from bot.views.sessions import ROLE_PICK_ACTION
from storage.models import ListeningSession
from storage.polls import Poll
from tests.e2e.conftest import CHANNEL, RunningBot, ack_text, all_text
from tests.e2e.rooms_helpers import (
    check_in,
    form_values,
    members,
    open_report,
    outbox_sent,
    people,
    reports,
    rooms_of,
    session_in,
    start_round,
    submit_report,
    thread,
)
from tests.harness.waiting import eventually

GONE = "U0GONE01"  # the facilitator to be forgotten
OTHER_CHANNEL = "C0OTHER"
REPORT_SUMMARY = "Buses every hour are not enough."


@dataclass(frozen=True)
class Posted:
    """The ts of each channel post that names GONE."""

    session_message: str  # the open session's message in OTHER_CHANNEL ("Started by")
    ended: str  # the first session's "has ended" ("Ended by")
    poll: str  # the closed poll's message ("Closed by")
    report: str  # the report-back's post in its room's thread ("report-back from")
    notes: tuple[str, ...]  # "joined this room", "moved to", "moved here from"


def channel_messages(bot: RunningBot) -> list[dict[str, Any]]:
    """Every message, top-level or in a thread, of both channels, as it is now."""
    return [m for channel in (CHANNEL, OTHER_CHANNEL) for m in bot.slack.messages(channel)]


def mentions(bot: RunningBot, user: str = GONE) -> list[dict[str, Any]]:
    """The channel messages that mention `user`."""
    return [m for m in channel_messages(bot) if f"<@{user}>" in all_text(m)]


def message(bot: RunningBot, ts: str) -> dict[str, Any]:
    """A channel message by ts, as it is now."""
    return next(m for m in channel_messages(bot) if m["ts"] == ts)


def _session_message(bot: RunningBot, channel: str) -> dict[str, Any]:
    [found] = [m for m in bot.slack.messages(channel) if "Listening session" in m["text"]]
    return found


def _start(bot: RunningBot, channel: str) -> ListeningSession:
    assert bot.command("/session", 'start "Durham"', user=GONE, channel=channel).text == ""
    eventually(
        lambda: getattr(session_in(bot, channel), "message_ts", None) is not None,
        what="the session's message posted",
    )
    found = session_in(bot, channel)
    assert found is not None
    return found


def _poll(bot: RunningBot) -> Poll:
    assert bot.command("/poll", '"Buses?" "More" "Fewer" --time 5m', user=GONE).text == ""
    assert bot.command("/poll", "close", user=GONE).status_code == 200

    def closed() -> Poll | None:
        with bot.services.db.read() as db:
            poll = db.exec(select(Poll)).first()
        return poll if poll is not None and poll.announced_at is not None else None

    eventually(lambda: closed() is not None, what="the poll's results announced")
    found = closed()
    assert found is not None
    assert found.message_ts
    return found


def _late_check_in(bot: RunningBot) -> None:
    """GONE picks a role on the session message while the round runs: they join a room."""
    session_message = _session_message(bot, CHANNEL)
    [(block_id, select)] = payloads.message_selects(session_message, action_prefix=ROLE_PICK_ACTION)
    body = payloads.select_click(
        session_message,
        block_id,
        select,
        "Councillor",
        user_id=GONE,
        channel_id=CHANNEL,
        response_url=bot.slack.response_url(uuid.uuid4().hex, channel=CHANNEL, user=GONE),
    )
    assert bot.sender.action(body).status_code == 200


def leave_mentions_everywhere(bot: RunningBot) -> Posted:
    """Run the sessions (see the module docstring); returns where GONE is mentioned."""
    _start(bot, CHANNEL)
    for user in people(4):
        check_in(bot, user, place="Durham")
    poll = _poll(bot)
    started = start_round(bot, "2 --time 10m --seed 5", rooms=2, user=GONE)
    assert started.id is not None
    round_id = started.id
    _late_check_in(bot)
    eventually(lambda: any(GONE in m for m in members(bot, round_id).values()), what="joined")
    joined = next(n for n, m in members(bot, round_id).items() if GONE in m)
    other = 2 if joined == 1 else 1
    assert "Moved" in ack_text(bot.command("/breakout", f"move <@{GONE}> {other}", user=GONE))
    outbox_sent(bot)
    view = open_report(bot, GONE)
    assert submit_report(bot, GONE, view, form_values(REPORT_SUMMARY)).text == ""
    eventually(lambda: bool(reports(bot)) and bool(reports(bot)[-1].thread_ts), what="report")
    assert bot.command("/session", "end", user=GONE).text == ""
    eventually(lambda: _ended_ts(bot, started.session_id) is not None, what="'has ended' posted")
    _start(bot, OTHER_CHANNEL)
    outbox_sent(bot)
    notes = [
        m["ts"]
        for room in rooms_of(bot, round_id)
        for m in thread(bot, room.message_ts or "")
        if f"<@{GONE}> joined" in m["text"] or f"<@{GONE}> moved" in m["text"]
    ]
    report_ts = reports(bot)[-1].thread_ts
    assert report_ts is not None
    posted = Posted(
        session_message=_session_message(bot, OTHER_CHANNEL)["ts"],
        ended=_ended_ts(bot, started.session_id) or "",
        poll=poll.message_ts or "",
        report=report_ts,
        notes=tuple(notes),
    )
    # Before: each of them names GONE (and nothing else in the channels does).
    named = {m["ts"] for m in mentions(bot)}
    assert len(posted.notes) == 3
    assert named >= {posted.session_message, posted.ended, posted.poll, posted.report, *notes}
    return posted


def _ended_ts(bot: RunningBot, session_id: int) -> str | None:
    with bot.services.db.read() as db:
        session = db.get(ListeningSession, session_id)
    return session.ended_ts if session else None
