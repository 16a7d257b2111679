"""Erasure and retention with the real app running: every channel post that named an erased
person (room messages, thread notes, report-backs, session and poll messages) is edited in
Slack, also when Slack was down at first; and `serve` purges old sessions daily when
DATA_RETENTION_DAYS is set."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from apscheduler.triggers.interval import IntervalTrigger
from sqlmodel import func, select

from bot.cli import main
from bot.privacy.retention import Retention
from bot.services import PURGE_AFTER_START
from storage import outbox as outbox_store
from storage.models import Participant
from storage.privacy import SessionPurge, is_erased
from tests.e2e.conftest import FACILITATOR, RunningBot, all_text
from tests.e2e.erasure_helpers import (
    GONE,
    Posted,
    channel_messages,
    leave_mentions_everywhere,
    mentions,
    message,
)
from tests.e2e.rooms_helpers import (
    check_in,
    outbox_sent,
    people,
    room_messages,
    send_retries,
    start_round,
    start_session,
)
from tests.harness.tour_data import generate_tour
from tests.harness.waiting import eventually

RETENTION_DAYS = 30


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """This module's bot keeps people's identities for 30 days."""
    return {"DATA_RETENTION_DAYS": RETENTION_DAYS}


def test_forget_edits_the_room_message_that_listed_them(
    bot: RunningBot, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    start_session(bot)
    users = people(6)
    for user in users:
        check_in(bot, user, place="Durham")
    check_in(bot, FACILITATOR, role="Organiser")
    start_round(bot, "2 --time 10m --seed 5", rooms=2)
    eventually(lambda: len(room_messages(bot)) == 2, what="two room messages")
    gone = users[0]
    [listed] = [m for m in room_messages(bot) if f"<@{gone}>" in all_text(m["blocks"])]

    monkeypatch.setenv("DATABASE_URL", bot.services.db.url)
    assert main(["--env-file", "/nonexistent/.env", "person", "forget", gone]) == 0
    assert "1 posted message will drop the mention" in capsys.readouterr().out

    def edited() -> dict[str, Any]:
        return next(m for m in room_messages(bot) if m["ts"] == listed["ts"])

    # The running bot sends the edit the CLI queued: the room's message, without them.
    eventually(lambda: f"<@{gone}>" not in all_text(edited()["blocks"]), what="mention dropped")
    text = all_text(edited()["blocks"])
    others = [user for user in users[1:] if f"<@{user}>" in all_text(listed["blocks"])]
    assert others
    assert all(f"<@{user}>" in text for user in others)
    assert all(gone not in all_text(m.get("blocks", [])) for m in room_messages(bot))


ERASED = "someone (erased)"
# The posts naming GONE: their room's message, three thread notes, the report-back's thread
# post, the open session's message, the other session's "has ended" and the closed poll.
EDITS = 8


def _forget(who: str) -> None:
    assert main(["--env-file", "/nonexistent/.env", "person", "forget", who]) == 0


def _reads_erased(bot: RunningBot, posted: Posted) -> None:
    """No channel message names GONE any more; each that did reads "someone (erased)"."""
    assert mentions(bot) == []
    assert GONE not in all_text(channel_messages(bot))
    session_message = all_text(message(bot, posted.session_message))
    assert f"Started by {ERASED}" in session_message
    assert "check_in_role" in session_message  # still open: its check-in row is kept
    assert f"Ended by {ERASED}" in all_text(message(bot, posted.ended))
    assert f"Closed by {ERASED}" in all_text(message(bot, posted.poll))
    assert f"report-back* from {ERASED}" in all_text(message(bot, posted.report))
    notes = sorted(message(bot, ts)["text"] for ts in posted.notes)
    assert notes[0].startswith(f":arrow_right: {ERASED} moved to Room ")
    assert notes[1] == f":wave: {ERASED} joined this room (checked in late)."
    assert notes[2].startswith(f":wave: {ERASED} moved here from Room ")


def test_forget_edits_every_channel_post_that_named_them(
    bot: RunningBot, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    posted = leave_mentions_everywhere(bot)
    updates = len(bot.slack.calls_to("chat.update"))
    uploads = len(bot.slack.calls_to("files.completeUploadExternal"))
    monkeypatch.setenv("DATABASE_URL", bot.services.db.url)
    _forget(GONE)
    assert f"{EDITS} posted messages will drop the mention" in capsys.readouterr().out

    eventually(lambda: mentions(bot) == [], what="every mention dropped")
    outbox_sent(bot)
    _reads_erased(bot, posted)
    # Edited in place: one chat.update each, nothing posted again (no second chart).
    assert len(bot.slack.calls_to("chat.update")) == updates + EDITS
    assert len(bot.slack.calls_to("files.completeUploadExternal")) == uploads


def test_a_forget_while_slack_is_down_catches_up(
    bot: RunningBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    posted = leave_mentions_everywhere(bot)
    bot.slack.fail_next("chat.update", status=500, times=100)
    monkeypatch.setenv("DATABASE_URL", bot.services.db.url)
    _forget(GONE)
    bot.services.outbox.wake()
    bot.slack.wait_for("chat.update", predicate=lambda call: call.failed)
    outbox_sent(bot)
    # The erasure is committed; the posts still name them until Slack is back.
    assert mentions(bot)
    with bot.services.db.read() as db:
        waiting = [r for r in outbox_store.rows(db) if ":erase:" in r.key and r.sent_at is None]
    assert len(waiting) == EDITS
    bot.slack.clear_failures("chat.update")
    send_retries(bot, at_most=3 * EDITS)
    eventually(lambda: mentions(bot) == [], what="every mention dropped")
    _reads_erased(bot, posted)


def test_posts_slack_no_longer_lets_the_bot_edit_are_left_not_retried(
    bot: RunningBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    leave_mentions_everywhere(bot)
    updates = len(bot.slack.calls_to("chat.update"))
    # Deleted or too old: every edit is refused for good.
    bot.slack.fail_next("chat.update", error="message_not_found", times=EDITS)
    monkeypatch.setenv("DATABASE_URL", bot.services.db.url)
    _forget(GONE)
    bot.services.outbox.wake()
    eventually(lambda: len(bot.slack.calls_to("chat.update")) == updates + EDITS, what="tried")
    outbox_sent(bot)
    with bot.services.db.read() as db:
        assert outbox_store.next_retry(db, after=bot.clock.now()) is None
        erasing = [r for r in outbox_store.rows(db) if ":erase:" in r.key]
    assert len(erasing) == EDITS
    assert all(r.sent_at is not None or r.failed is not None for r in erasing)
    bot.clock.advance(timedelta(minutes=10))
    bot.services.outbox.wake()
    outbox_sent(bot)
    assert len(bot.slack.calls_to("chat.update")) == updates + EDITS  # each tried once


def test_serve_purges_old_sessions_daily(bot: RunningBot) -> None:
    services = bot.services
    retention = services.retention
    assert retention is not None
    assert retention.days == RETENTION_DAYS
    daily = services.deadlines.scheduler.get_job("purge")
    assert isinstance(daily.trigger, IntervalTrigger)
    assert daily.trigger.interval == timedelta(days=1)
    assert services.deadlines.scheduler.get_job("purge-at-start") is not None

    # Two sessions a week apart: 35 and 28 days before the bot's clock.
    now = bot.clock.now()
    generate_tour(
        services.db, sessions=2, people=8, polls=2, report_backs=2, start=now - timedelta(days=35)
    )
    with services.db.read() as s:
        assert s.exec(select(func.count()).select_from(SessionPurge)).one() == 0
    daily.func()  # what the scheduler runs each day
    with services.db.read() as s:
        purged = s.exec(select(SessionPurge.session_id)).all()
        left = s.exec(select(Participant.user_id)).all()
    assert len(purged) == 1
    # The older session's eight people are tokens now; the newer one's keep their ids.
    assert sum(1 for user in left if is_erased(user)) == 8
    assert sum(1 for user in left if not is_erased(user)) == 8
    # Run again the same day: nothing more is old enough; three days on, the second session is.
    assert retention.purge_due().sessions == 0
    bot.clock.advance(timedelta(days=3))
    assert retention.purge_due().sessions == 1
    # ... and once soon after start, not a day later.
    assert timedelta(0) < PURGE_AFTER_START <= timedelta(minutes=5)


def test_the_daily_purge_ends_a_session_nobody_ended_then_purges_it(bot: RunningBot) -> None:
    """A facilitator forgot `/session end`: once due, and 2 days after it started, the bot ends
    it as `/session end` would (its open poll closed, "has ended" posted) and purges it."""
    services = bot.services
    session = start_session(bot)
    users = people(3)
    for user in users:
        check_in(bot, user, place="Durham")
    assert bot.command("/poll", '"Buses?" "More" "Fewer" --time 30m').text == ""
    outbox_sent(bot)
    # Kept for a day: a day and a half on, it is due but may still be running (a conference).
    retention = Retention(
        services.db,
        bot.clock,
        1,
        min_group=5,
        end_abandoned=services.ending.end_abandoned,
    )
    bot.clock.advance(timedelta(hours=36))
    waited = retention.purge_due()
    assert (waited.ended_by_bot, waited.sessions, waited.left_running) == ((), 0, (session.id,))

    # A day on: ended as /session end would, then purged the day after (what the end sends,
    # such as the facilitators' controls or Zoom's answers, goes first).
    bot.clock.advance(timedelta(days=1))
    done = retention.purge_due()
    assert (done.ended_by_bot, done.sessions, done.left_running) == ((session.id,), 0, ())
    assert done.left_settling == (session.id,)
    outbox_sent(bot)
    bot.clock.advance(timedelta(days=1))
    assert retention.purge_due().sessions == 1
    posted = all_text(channel_messages(bot))
    assert "Ended by the bot: nobody had ended it" in posted
    # Its poll, open when the bot ended it (its deadline passed while nobody ran the bot's
    # deadlines here), closed by the end as `/session end` closes it.
    assert "Closed at its deadline" in posted
    with services.db.read() as s:
        left = s.exec(select(Participant.user_id)).all()
    assert left
    assert all(is_erased(user) for user in left)
    assert retention.purge_due().ended_by_bot == ()  # nothing more to end
