"""Polls end to end: signed requests to the real app over HTTP; the fake Slack checks Block Kit."""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import inspect, text
from sqlmodel import select

from bot.polls import (
    FORGET_HISTORY_JOB_ID,
    FORGET_HISTORY_RETRY,
    LIVE_UPDATE_INTERVAL,
    POLL_LIVE,
    close_job_id,
)
from bot.polls.jobs import EARLY_RETRY
from bot.slack.kinds import Pace
from bot.standin import Call, payloads
from bot.views.poll_forms import (
    BALLOT_BLOCK,
    BALLOT_CALLBACK,
    BALLOT_INPUT,
    DURATION_BLOCK,
    DURATION_INPUT,
    FORM_CALLBACK,
    KEY_BLOCK,
    KEY_INPUT,
    OPTIONS_BLOCK,
    OPTIONS_INPUT,
    QUESTION_BLOCK,
    QUESTION_INPUT,
    SWITCH_HIDE,
    SWITCH_MULTI,
    SWITCHES_BLOCK,
    SWITCHES_INPUT,
)
from bot.views.polls import (
    BALLOT_ACTION,
    CHECK_IN_BLOCK,
    RESULTS_ACTION,
    RESULTS_BLOCK,
    VOTE_ACTION_PREFIX,
)
from bot.views.sessions import CHECK_IN_ACTION, CHECK_IN_CALLBACK
from handlers.middleware import delivery_key
from storage import outbox
from storage.models import Participant
from storage.polls import Poll, PollOption, PollVote, PollVoter
from tests.e2e.conftest import CHANNEL, FACILITATOR, PARTICIPANT, RunningBot
from tests.e2e.conftest import ack_text as _ack_text
from tests.e2e.conftest import all_text as _all_text
from tests.e2e.conftest import mrkdwn as _mrkdwn
from tests.harness.waiting import eventually
from tests.storage.history import sqlite_commits

POLL = '"Should the party back the strike?" "Agree" "Disagree" "Not sure"'


# ---------------------------------------------------------------------------
# helpers


def _start_session(bot: RunningBot) -> None:
    assert bot.command("/session", 'start "Durham listening session"').text == ""
    bot.slack.wait_for("chat.postMessage")


def _is_poll_post(call: Call) -> bool:
    return str(call.args.get("text", "")).startswith("Poll: ")


def _launch(bot: RunningBot, text: str = POLL, *, session: bool = True) -> dict[str, Any]:
    """Start a session (unless there is one) and launch a poll; returns its channel message."""
    if session:
        _start_session(bot)
    before = len([c for c in bot.slack.calls_to("chat.postMessage") if _is_poll_post(c)])
    response = bot.command("/poll", text)
    assert response.status_code == 200
    assert response.text == "", response.text  # the channel sees the poll; no echo
    bot.slack.wait_for("chat.postMessage", count=before + 1, predicate=_is_poll_post)
    ts = bot.slack.calls_to("chat.postMessage")[-1].response["ts"]
    eventually(lambda: _poll(bot).message_ts == ts, what="the poll's message ts stored")
    return _message(bot, ts)


def _message(bot: RunningBot, ts: str) -> dict[str, Any]:
    return next(m for m in bot.slack.messages(CHANNEL) if m["ts"] == ts)


def _polls(bot: RunningBot) -> list[Poll]:
    with bot.services.db.read() as db:
        return list(db.exec(select(Poll).order_by(Poll.id)).all())  # type: ignore[arg-type]


def _poll(bot: RunningBot) -> Poll:
    return _polls(bot)[-1]


def _buttons(message: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(block_id, button) for every vote button, in order."""
    return [
        (block_id, button)
        for block_id, button in payloads.message_buttons(message)
        if button["action_id"].startswith(VOTE_ACTION_PREFIX)
        or button["action_id"] == BALLOT_ACTION
    ]


def _click_body(
    message: dict[str, Any], index: int, user: str, *, channel: str = CHANNEL
) -> dict[str, Any]:
    block_id, button = _buttons(message)[index]
    return payloads.button_click(message, block_id, button, user_id=user, channel_id=channel)


def _vote(bot: RunningBot, message: dict[str, Any], index: int, user: str = PARTICIPANT) -> None:
    response = bot.sender.action(_click_body(message, index, user))
    assert response.status_code == 200
    assert response.text == ""


def _ephemerals_for(bot: RunningBot, user: str) -> list[Call]:
    """What `user` was told privately (through their click's response_url, or ephemeral)."""
    return bot.slack.private_replies(user)


def _wait_ephemeral(bot: RunningBot, user: str, count: int = 1) -> Call:
    return bot.slack.wait_for_private_replies(user, count=count)[count - 1]


def _votes(bot: RunningBot) -> list[tuple[str, int]]:
    with bot.services.db.read() as db:
        rows = db.exec(select(PollVote.user_id, PollVote.option_index)).all()
    return sorted((user, index) for user, index in rows)


def _uploads(bot: RunningBot) -> list[Call]:
    return [c for c in bot.slack.calls_to("files.completeUploadExternal") if not c.failed]


def _final_updates(bot: RunningBot, ts: str) -> list[Call]:
    return [
        c
        for c in bot.slack.calls_to("chat.update")
        if c.args.get("ts") == ts and str(c.args.get("text", "")).startswith("Poll closed")
    ]


def _fast_live_updates(bot: RunningBot) -> None:
    """Tests that are not about coalescing need not wait two seconds for a tally."""
    bot.services.outbox.kinds[POLL_LIVE].pace = Pace(interval=0.05)


def _outbox_row(bot: RunningBot, key: str) -> outbox.OutboxRow:
    with bot.services.db.read() as db:
        return next(row for row in outbox.rows(db) if row.key == key)


# ---------------------------------------------------------------------------
# the whole flow


def test_launch_vote_change_close_and_announce(bot: RunningBot) -> None:
    _fast_live_updates(bot)
    message = _launch(bot, POLL + " --time 5m --key Strike-Support")
    blocks = message["blocks"]
    shown = _all_text(blocks)
    assert "Should the party back the strike?" in shown
    assert [b["text"]["text"] for _, b in _buttons(message)] == [
        "1. Agree",
        "2. Disagree",
        "3. Not sure",
    ]
    assert "Everyone in this channel can vote" in shown
    assert re.search(r"Closes <!date\^\d+\^\{date_short_pretty\} at \{time\}\|", shown)
    poll = _poll(bot)
    assert poll.key == "strike-support"
    assert poll.closes_at == bot.clock.now() + timedelta(minutes=5)
    assert bot.services.deadlines.pending()[close_job_id(poll.id or 0)] == poll.closes_at

    _vote(bot, message, 0)
    confirmation = _wait_ephemeral(bot, PARTICIPANT)
    assert re.fullmatch(
        r":white_check_mark: You voted: \*Agree\*\. You can change it until "
        r"<!date\^\d+\^\{time\}\|[^>]+>\.",
        confirmation.args["text"],
    )
    # Through the click's own response_url (no method tier limits it), leaving the poll as it is.
    assert confirmation.method == "response_url"
    assert confirmation.args["replace_original"] is False
    assert _votes(bot) == [(PARTICIPANT, 0)]

    _vote(bot, message, 1)  # single choice: another click changes the vote
    assert "You voted: *Disagree*" in _wait_ephemeral(bot, PARTICIPANT, 2).args["text"]
    assert _votes(bot) == [(PARTICIPANT, 1)]
    _vote(bot, message, 1, user="U0PART2")
    _wait_ephemeral(bot, "U0PART2")

    def live_shows_two_votes() -> bool:
        return "*2* voted" in _all_text(_message(bot, message["ts"])["blocks"])

    eventually(live_shows_two_votes, what="the live tally")
    live = _all_text(_message(bot, message["ts"])["blocks"])
    assert "100% (2)" in live

    assert bot.command("/poll", "close").text == ""
    bot.slack.wait_for("files.completeUploadExternal")
    final = _message(bot, message["ts"])
    final_text = _all_text(final["blocks"])
    assert "Poll closed" in final_text
    assert "2 of 2 who voted" in final_text
    assert "0 of 2 who voted" in final_text
    assert "██████████" in final_text
    assert f"Closed by <@{FACILITATOR}>" in final_text
    assert not _buttons(final)
    [upload] = _uploads(bot)
    assert upload.args["thread_ts"] == message["ts"]
    assert upload.args["channel_id"] == CHANNEL
    file_id = upload.args["files"][0]["id"]
    assert bot.slack.file_content(file_id).startswith(b"\x89PNG")
    eventually(lambda: _poll(bot).announced_at is not None, what="the poll marked announced")
    closed = _poll(bot)
    assert closed.closed_at == bot.clock.now()
    assert close_job_id(closed.id or 0) not in bot.services.deadlines.pending()

    # a late click is refused with the closing time, and nothing changes
    _vote(bot, message, 0, user="U0LATE")
    refusal = _wait_ephemeral(bot, "U0LATE")
    assert "This poll closed at <!date^" in refusal.args["text"]
    assert "not counted" in refusal.args["text"]
    assert _votes(bot) == [(PARTICIPANT, 1), ("U0PART2", 1)]


def test_multi_choice_clicks_toggle(bot: RunningBot) -> None:
    message = _launch(bot, POLL + " --multi")
    for count, index in enumerate((0, 2, 0), start=1):
        _vote(bot, message, index)
        _wait_ephemeral(bot, PARTICIPANT, count)
    replies = [c.args["text"] for c in _ephemerals_for(bot, PARTICIPANT)]
    assert "Your choices: *Agree*." in replies[0]
    assert "Your choices: *Agree*, *Not sure*." in replies[1]
    assert "Your choices: *Not sure*." in replies[2]
    assert _votes(bot) == [(PARTICIPANT, 2)]
    _vote(bot, message, 2)
    assert "took back all your choices" in _wait_ephemeral(bot, PARTICIPANT, 4).args["text"]
    assert _votes(bot) == []


def test_voters_who_have_not_checked_in_are_added_and_invited(bot: RunningBot) -> None:
    message = _launch(bot)
    _vote(bot, message, 0, user="U0NEWBIE")
    reply = _wait_ephemeral(bot, "U0NEWBIE")
    [invite] = [b for b in reply.args["blocks"] if b.get("block_id") == CHECK_IN_BLOCK]
    button = invite["elements"][0]
    assert button["action_id"] == CHECK_IN_ACTION
    assert "haven't checked in" in _all_text(reply.args["blocks"])
    with bot.services.db.read() as db:
        [person] = db.exec(select(Participant)).all()
    assert (person.user_id, person.checked_in_at, person.role) == ("U0NEWBIE", None, None)
    assert str(person.session_id) == button["value"]
    # the invitation's button opens the ordinary check-in form
    bot.click(CHECK_IN_ACTION, button["value"], user="U0NEWBIE", block_id=CHECK_IN_BLOCK)
    opened = bot.slack.wait_for("views.open")[0]
    assert opened.args["view"]["callback_id"] == CHECK_IN_CALLBACK


def test_checked_in_voters_are_not_invited_again(bot: RunningBot) -> None:
    message = _launch(bot)
    with bot.services.db.transaction() as db:
        db.add(
            Participant(
                session_id=_poll(bot).session_id,
                user_id=PARTICIPANT,
                role="Member",
                checked_in_at=bot.clock.now(),
                updated_at=bot.clock.now(),
            )
        )
    _vote(bot, message, 0)
    reply = _wait_ephemeral(bot, PARTICIPANT)
    assert "You voted: *Agree*" in reply.args["text"]
    assert CHECK_IN_ACTION not in _all_text(reply.args)


def test_the_same_click_delivered_four_times_counts_once(bot: RunningBot) -> None:
    message = _launch(bot, POLL + " --multi")
    body = _click_body(message, 1, PARTICIPANT)
    assert bot.sender.action(body).status_code == 200
    for attempt in (1, 2, 3):
        assert bot.sender.action(body, retry_num=attempt).status_code == 200
    _wait_ephemeral(bot, PARTICIPANT)
    # A multiple-choice click toggles: counted twice it would have cancelled itself out.
    assert _votes(bot) == [(PARTICIPANT, 1)]
    with bot.services.db.read() as db:
        keys = db.exec(text("SELECT key FROM delivery")).all()  # type: ignore[call-overload]
    assert [k for (k,) in keys].count(delivery_key(body)) == 1  # the click, recorded once
    _vote(bot, message, 0)  # a new click is a new delivery
    _wait_ephemeral(bot, PARTICIPANT, 2)
    assert len(_ephemerals_for(bot, PARTICIPANT)) == 2
    assert _votes(bot) == [(PARTICIPANT, 0), (PARTICIPANT, 1)]


def test_retries_racing_each_other_still_count_once(bot: RunningBot) -> None:
    message = _launch(bot, POLL + " --multi")
    bodies = [_click_body(message, 0, f"U0RACE{n}") for n in range(10)]

    def deliver(body_and_retry: tuple[dict[str, Any], int | None]) -> int:
        body, retry = body_and_retry
        return bot.sender.action(body, retry_num=retry).status_code

    deliveries = [(body, retry) for body in bodies for retry in (None, 1, 2, 3)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        assert set(pool.map(deliver, deliveries)) == {200}
    bot.slack.wait_for_private_replies(count=10)
    assert _votes(bot) == sorted((f"U0RACE{n}", 0) for n in range(10))
    assert bot.services.outbox.wait_idle()
    assert len(bot.slack.private_replies()) == 10


def test_many_voters_at_once_are_all_counted(bot: RunningBot) -> None:
    message = _launch(bot)
    users = [f"U0CROWD{n:03d}" for n in range(60)]

    def vote(numbered: tuple[int, str]) -> int:
        number, user = numbered
        return bot.sender.action(_click_body(message, number % 3, user)).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        assert set(pool.map(vote, enumerate(users))) == {200}
    bot.slack.wait_for_private_replies(count=len(users), timeout=20)
    assert _votes(bot) == sorted((user, n % 3) for n, user in enumerate(users))
    with bot.services.db.read() as db:
        people = db.exec(select(Participant.user_id)).all()
    assert sorted(people) == users


# ---------------------------------------------------------------------------
# deadlines and closing


def test_a_vote_after_the_deadline_is_refused_before_the_job_runs(bot: RunningBot) -> None:
    message = _launch(bot, POLL + " --time 30s")
    closes_at = _poll(bot).closes_at
    bot.clock.advance(timedelta(seconds=30))
    _vote(bot, message, 0)
    refusal = _wait_ephemeral(bot, PARTICIPANT)
    assert f"<!date^{int(closes_at.timestamp())}^{{time}}" in refusal.args["text"]
    assert _votes(bot) == []
    assert _poll(bot).closed_at is None  # nothing has closed it yet: the stored deadline decided


def test_the_deadline_closes_and_announces_exactly_once(bot: RunningBot) -> None:
    message = _launch(bot, POLL + " --time 1m")
    _vote(bot, message, 2)
    _wait_ephemeral(bot, PARTICIPANT)
    poll = _poll(bot)
    assert poll.id is not None
    bot.services.polls.close_at_deadline(poll.id)  # too early by the bot's clock: nothing happens
    assert _poll(bot).closed_at is None
    # It tries again just after the deadline (not at once, over and over).
    assert bot.services.deadlines.pending()[close_job_id(poll.id)] == poll.closes_at + EARLY_RETRY

    bot.clock.advance(timedelta(minutes=2))
    polls = bot.services.polls
    # The job, the start-up sweep and a late /poll close all race to close it.
    racers = [
        lambda: bot.services.polls.close_at_deadline(poll.id or 0),
        lambda: bot.services.polls.close_at_deadline(poll.id or 0),
        polls.close_overdue,
        polls.recover,
    ]
    threads = [threading.Thread(target=racer) for racer in racers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    bot.command("/poll", "close")
    bot.slack.wait_for("files.completeUploadExternal")
    assert bot.services.outbox.wait_idle()
    closed = _poll(bot)
    assert closed.closed_at == poll.closes_at  # closed as of its deadline, not when noticed
    assert closed.close_reason == "deadline"
    assert len(_final_updates(bot, message["ts"])) == 1
    assert len(_uploads(bot)) == 1
    final = _all_text(_message(bot, message["ts"])["blocks"])
    assert "Closed at its deadline" in final
    assert "1 of 1 who voted" in final


def test_ending_the_session_closes_its_polls(bot: RunningBot) -> None:
    message = _launch(bot, POLL + " --time 1h")
    _vote(bot, message, 1)
    _wait_ephemeral(bot, PARTICIPANT)
    assert bot.command("/session", "end").text == ""
    bot.slack.wait_for("files.completeUploadExternal")
    poll = _poll(bot)
    assert poll.close_reason == "session_end"
    assert "Closed when the session ended" in _all_text(_message(bot, message["ts"])["blocks"])
    ended = bot.slack.wait_for(
        "chat.postMessage", predicate=lambda c: "has ended" in str(c.args.get("text"))
    )
    assert ended
    # the results come before the end-of-session post
    methods = [c.method for c in bot.slack.calls]
    assert methods.index("files.completeUploadExternal") < max(
        i for i, c in enumerate(bot.slack.calls) if "has ended" in str(c.args.get("text"))
    )
    assert close_job_id(poll.id or 0) not in bot.services.deadlines.pending()


def test_close_takes_the_newest_open_poll(bot: RunningBot) -> None:
    _launch(bot, '"First?" "a" "b"')
    _launch(bot, '"Second?" "a" "b"', session=False)
    bot.command("/poll", "close")
    bot.slack.wait_for("files.completeUploadExternal")
    first, second = _polls(bot)
    assert (first.closed_at, second.closed_at is not None) == (None, True)
    bot.command("/poll", "close")
    bot.slack.wait_for("files.completeUploadExternal", count=2)
    assert _polls(bot)[0].closed_at is not None


def test_close_redelivered_is_announced_once(bot: RunningBot) -> None:
    _launch(bot)
    body = bot.command_payload("/poll", "close")
    for retry in (None, 1, 2, 3):
        assert bot.command("/poll", "", payload=body, retry_num=retry).text == ""
    bot.slack.wait_for("files.completeUploadExternal")
    assert len(_uploads(bot)) == 1


def test_a_failed_announcement_is_retried_with_backoff_and_posted_once(bot: RunningBot) -> None:
    message = _launch(bot)
    key = f"poll:{_poll(bot).id}:final"
    # Slack's answer when it has trouble of its own: not a refusal, so the sender tries again.
    bot.slack.fail_next("chat.update", error="internal_error", times=3)
    assert bot.command("/poll", "close").text == ""
    for tries in (1, 2, 3):
        eventually(lambda: _outbox_row(bot, key).attempts == tries, what=f"try {tries}")  # noqa: B023
        row = _outbox_row(bot, key)
        assert (row.sent_at, row.last_error) == (None, "internal_error")
        assert _poll(bot).announced_at is None
        assert _uploads(bot) == []
        bot.clock.advance(row.due_at - bot.clock.now())  # the sender's backoff has passed
        bot.services.outbox.wake()
    bot.slack.wait_for("files.completeUploadExternal")
    eventually(lambda: _poll(bot).announced_at is not None, what="the poll marked announced")
    assert [c.failed for c in _final_updates(bot, message["ts"])] == [True, True, True, False]
    # What a restart does later changes nothing: the results are out, once.
    bot.services.polls.recover()
    assert bot.services.outbox.wait_idle()
    assert len(_final_updates(bot, message["ts"])) == 4
    assert len(_uploads(bot)) == 1
    assert _outbox_row(bot, key).failed is None


def test_a_failed_chart_is_retried_without_editing_the_message_again(bot: RunningBot) -> None:
    message = _launch(bot)
    key = f"poll:{_poll(bot).id}:final"
    bot.slack.fail_next("files.getUploadURLExternal", error="internal_error")
    bot.command("/poll", "close")
    eventually(lambda: _outbox_row(bot, key).attempts == 1, what="the failed upload")
    assert len(_final_updates(bot, message["ts"])) == 1
    bot.clock.advance(_outbox_row(bot, key).due_at - bot.clock.now())
    bot.services.outbox.wake()
    bot.slack.wait_for("files.completeUploadExternal")
    eventually(lambda: _poll(bot).announced_at is not None, what="the poll marked announced")
    assert len(_final_updates(bot, message["ts"])) == 1  # the edit was done: not redone
    assert len(_uploads(bot)) == 1


def test_results_queued_before_a_stop_are_posted_by_the_next_start(bot: RunningBot) -> None:
    message = _launch(bot)
    bot.services.outbox.stop(grace=1)  # as if the bot stopped right after the close
    bot.command("/poll", "close")
    poll = _poll(bot)
    assert (poll.closed_at is not None, poll.announced_at) == (True, None)
    assert _final_updates(bot, message["ts"]) == []
    bot.services.polls.recover()  # what the next start does: the queued results stay queued
    bot.services.outbox.start()
    bot.slack.wait_for("files.completeUploadExternal")
    eventually(lambda: _poll(bot).announced_at is not None, what="the poll marked announced")
    bot.services.polls.recover()
    assert bot.services.outbox.wait_idle()
    assert len(_uploads(bot)) == 1
    assert len(_final_updates(bot, message["ts"])) == 1
    assert "Poll closed" in _all_text(_message(bot, message["ts"])["blocks"])


def test_a_deleted_poll_message_gets_its_results_posted_anew(bot: RunningBot) -> None:
    message = _launch(bot)
    bot.services.client.chat_delete(channel=CHANNEL, ts=message["ts"])
    bot.command("/poll", "close")
    bot.slack.wait_for("files.completeUploadExternal")
    [final] = [m for m in bot.slack.messages(CHANNEL) if "Poll closed" in m.get("text", "")]
    assert _poll(bot).message_ts == final["ts"]
    assert _uploads(bot)[0].args["thread_ts"] == final["ts"]


# ---------------------------------------------------------------------------
# live tallies


def test_live_updates_are_coalesced_under_a_burst(bot: RunningBot) -> None:
    message = _launch(bot)
    pace = bot.services.outbox.kinds[POLL_LIVE].pace
    assert pace is not None
    assert pace.interval == LIVE_UPDATE_INTERVAL == 2.0
    assert bot.services.outbox.wait_idle()  # nothing else is on its way to chat.update

    def edits() -> list[Call]:
        return [c for c in bot.slack.calls_to("chat.update") if c.args["ts"] == message["ts"]]

    # The first vote's tally goes out, and Slack is slow to answer it: the whole burst comes
    # in meanwhile, however fast or slow the machine (an edit of one message at a time).
    held = bot.slack.hold_next("chat.update")
    try:
        assert bot.sender.action(_click_body(message, 0, "U0BURST00")).status_code == 200
        bot.slack.wait_for("chat.update", predicate=lambda c: c.args["ts"] == message["ts"])
        users = [f"U0BURST{n:02d}" for n in range(1, 40)]
        with ThreadPoolExecutor(max_workers=10) as pool:
            answers = list(pool.map(lambda u: bot.sender.action(_click_body(message, 0, u)), users))
        assert [a.status_code for a in answers] == [200] * len(users)
    finally:
        held.set()

    def shows_everyone() -> bool:
        return "*40* voted" in _all_text(_message(bot, message["ts"])["blocks"])

    # The 39 votes of the burst are one more edit, when the pace allows (a safety net here).
    eventually(shows_everyone, timeout=10, what="the final live tally")
    assert bot.services.outbox.wait_idle()
    assert [_voters_shown(c) for c in edits()] == [1, 40]


def _voters_shown(call: Call) -> int:
    """How many voters a poll message (live or final) says it counts."""
    shown = _all_text(call.args.get("blocks", []))
    if "nobody has voted yet" in shown:
        return 0
    found = re.search(r"\*(\d+)\* voted", shown) or re.search(r"· (\d+) voted", shown)
    assert found, shown
    return int(found.group(1))


def test_edits_of_one_message_go_out_in_commit_order_and_end_with_the_results(
    bot: RunningBot,
) -> None:
    _fast_live_updates(bot)
    message = _launch(bot)
    bot.slack.slow("chat.update", 0.02)  # each edit takes a while: later ones queue behind it
    users = [f"U0ORDER{n:02d}" for n in range(80)]

    def vote(user: str) -> None:
        _vote(bot, message, 0, user=user)

    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(vote, user) for user in users]
        eventually(lambda: len(_votes(bot)) >= 30, timeout=10, what="some of the votes")
        assert bot.command("/poll", "close").text == ""  # while votes still come
        for future in futures:
            future.result(timeout=20)
    bot.slack.wait_for("files.completeUploadExternal", timeout=10)
    assert bot.services.outbox.wait_idle()
    bot.slack.slow("chat.update", 0)
    edits = [c for c in bot.slack.calls_to("chat.update") if c.args["ts"] == message["ts"]]
    finals = [i for i, c in enumerate(edits) if str(c.args["text"]).startswith("Poll closed")]
    # The final edit comes last: no live tally after it, though votes were still queuing some.
    assert finals == [len(edits) - 1]
    assert len(edits) >= 2
    shown = [_voters_shown(c) for c in edits]
    assert shown == sorted(shown)  # no edit shows fewer votes than one before it
    assert shown[-1] == len({user for user, _ in _votes(bot)})
    with bot.services.db.read() as db:
        assert not [r for r in outbox.rows(db) if r.kind == POLL_LIVE and r.sent_at is None]


def test_a_vote_before_the_poll_message_is_known_still_reaches_the_tally(
    bot: RunningBot,
) -> None:
    _fast_live_updates(bot)
    _start_session(bot)
    release = bot.slack.hold_next("chat.postMessage")  # people see the poll; the bot waits
    try:
        assert bot.command("/poll", POLL).text == ""
        [post] = bot.slack.wait_for("chat.postMessage", predicate=_is_poll_post)
        message = _message(bot, post.response["ts"])
        _vote(bot, message, 1)
        assert "You voted: *Disagree*" in _wait_ephemeral(bot, PARTICIPANT).args["text"]
        assert _poll(bot).message_ts is None
    finally:
        release.set()
    eventually(
        lambda: "*1* voted" in _all_text(_message(bot, message["ts"])["blocks"]),
        what="the vote on the poll message",
    )


def test_a_rate_limited_update_is_retried(bot: RunningBot) -> None:
    _fast_live_updates(bot)
    message = _launch(bot)
    bot.slack.fail_next("chat.update", status=429, retry_after=1)
    _vote(bot, message, 0)
    bot.slack.wait_for("chat.update", predicate=lambda c: c.status == 429)

    def tally_retried() -> list[outbox.OutboxRow]:
        with bot.services.db.read() as db:
            return [r for r in outbox.rows(db) if r.kind == POLL_LIVE and r.attempts]

    eventually(lambda: bool(tally_retried()), what="the 429 counted")
    # The sender waits Slack's Retry-After (at least), by the bot's clock.
    bot.clock.advance(max(r.due_at for r in tally_retried()) - bot.clock.now())
    bot.services.outbox.wake()
    eventually(
        lambda: "*1* voted" in _all_text(_message(bot, message["ts"])["blocks"]),
        timeout=6,
        what="the update after the 429",
    )
    assert [c.status for c in bot.slack.calls_to("chat.update")][:2] == [429, 200]


def test_hidden_results_are_for_facilitators_only(bot: RunningBot) -> None:
    _fast_live_updates(bot)
    message = _launch(bot, POLL + " --hide-results")
    assert "hidden until the poll closes" in _all_text(message["blocks"])
    _vote(bot, message, 0)
    _wait_ephemeral(bot, PARTICIPANT)
    eventually(lambda: "*1* voted" in _all_text(_message(bot, message["ts"])["blocks"]))
    live = _all_text(_message(bot, message["ts"])["blocks"])
    assert "100%" not in live
    assert "(1)" not in live
    results_button = next(b for b in message["blocks"] if b.get("block_id") == RESULTS_BLOCK)[
        "elements"
    ][0]

    def ask(user: str) -> Call:
        seen = len(_ephemerals_for(bot, user))
        bot.click(
            RESULTS_ACTION,
            results_button["value"],
            user=user,
            block_id=RESULTS_BLOCK,
            message_ts=message["ts"],
        )
        return _wait_ephemeral(bot, user, seen + 1)

    shown = _all_text(ask(FACILITATOR).args["blocks"])
    assert "Results so far" in shown
    assert "1 of 1 who voted" in shown
    refused = _all_text(ask("U0NOSY").args["blocks"])
    assert "Only the session's facilitators" in refused
    assert "1 of 1" not in refused


def test_session_status_lists_open_polls(bot: RunningBot) -> None:
    message = _launch(bot)
    _vote(bot, message, 0)
    _wait_ephemeral(bot, PARTICIPANT)
    status = _ack_text(bot.command("/session", "status"))
    assert "Poll “Should the party back the strike?” — 1 voted, closes <!date^" in status


# ---------------------------------------------------------------------------
# anonymous polls


def _table_columns(bot: RunningBot, table: str) -> set[str]:
    return {column["name"] for column in inspect(bot.services.db.engine).get_columns(table)}


def test_anonymous_votes_leave_no_link_between_people_and_choices(bot: RunningBot) -> None:
    _fast_live_updates(bot)
    message = _launch(bot, POLL + " --anonymous")
    assert "*Anonymous:*" in _all_text(message["blocks"])
    choices = {"U0ANON1": 0, "U0ANON2": 2, "U0ANON3": 0}
    for user, index in choices.items():
        _vote(bot, message, index, user=user)
        reply = _wait_ephemeral(bot, user)
        assert "Your vote is anonymous" in reply.args["text"]
        assert "can't be changed" in reply.args["text"]
    _vote(bot, message, 1, user="U0ANON1")  # a change of mind is refused
    assert "already voted" in _wait_ephemeral(bot, "U0ANON1", 2).args["text"]
    bot.command("/poll", "close")
    bot.slack.wait_for("files.completeUploadExternal")
    final = _all_text(_message(bot, message["ts"])["blocks"])
    assert "2 of 3 who voted" in final  # Agree
    assert "1 of 3 who voted" in final  # Not sure

    # Inspect the database the way someone with a copy of it would.
    poll_id = _poll(bot).id
    with bot.services.db.read() as db:
        voters = db.exec(select(PollVoter).where(PollVoter.poll_id == poll_id)).all()
        votes = db.exec(select(PollVote).where(PollVote.poll_id == poll_id)).all()
        counters = db.exec(
            select(PollOption.option_index, PollOption.anonymous_count).where(
                PollOption.poll_id == poll_id
            )
        ).all()
    assert sorted(v.user_id for v in voters) == sorted(choices)  # who voted: yes
    assert votes == []  # what each chose: nowhere
    assert sorted(counters) == [(0, 2), (1, 0), (2, 1)]  # only how many chose what
    # Who-voted rows carry no choice, no time and no sequence; choices carry no person.
    assert _table_columns(bot, "poll_voter") == {"poll_id", "user_id"}
    assert _table_columns(bot, "poll_option") == {
        "poll_id",
        "option_index",
        "text",
        "anonymous_count",
    }
    with bot.services.db.read() as db:
        tables = inspect(bot.services.db.engine).get_table_names()
        for table in tables:
            columns = _table_columns(bot, table)
            rows = db.exec(text(f'SELECT * FROM "{table}"')).all()  # type: ignore[call-overload]
            flat = [str(value) for row in rows for value in row]
            if any(user in flat for user in choices):
                # Any table that names an anonymous voter says nothing about options.
                assert not {"option_index", "anonymous_count", "choice"} & columns, table


def _anonymous_poll_with_three_votes(bot: RunningBot) -> tuple[dict[str, Any], dict[str, int]]:
    _fast_live_updates(bot)
    message = _launch(bot, POLL + " --anonymous")
    choices = {"U0ANON1": 0, "U0ANON2": 2, "U0ANON3": 1}
    for user, index in choices.items():
        _vote(bot, message, index, user=user)
        _wait_ephemeral(bot, user)
    return message, choices


def _anonymous_tally_in(poll_id: int | None) -> Callable[[sqlite3.Connection], Any]:
    """Reads who voted and the counters from a copy of the database files."""

    def read(connection: sqlite3.Connection) -> tuple[frozenset[str], tuple[int, ...]]:
        voters = connection.execute("SELECT user_id FROM poll_voter WHERE poll_id = ?", (poll_id,))
        counts = connection.execute(
            "SELECT anonymous_count FROM poll_option WHERE poll_id = ? ORDER BY option_index",
            (poll_id,),
        )
        return frozenset(u for (u,) in voters), tuple(c for (c,) in counts)

    return read


def test_a_copy_of_the_database_files_cannot_replay_anonymous_votes(
    bot: RunningBot, sqlite_url: str
) -> None:
    choices = _anonymous_poll_with_three_votes(bot)[1]
    read = _anonymous_tally_in(_poll(bot).id)
    db_file = Path(sqlite_url.removeprefix("sqlite:///"))
    # While the poll is open the log still holds each vote's commit (the documented limit).
    assert len(sqlite_commits(db_file, read)) > 2
    bot.command("/poll", "close")
    bot.slack.wait_for("files.completeUploadExternal")
    final = [(frozenset(choices), (1, 1, 1))]
    eventually(
        lambda: sqlite_commits(db_file, read) == final,
        what="the log of anonymous votes to be dropped",
    )


def _database_bytes(sqlite_url: str) -> bytes:
    db_file = Path(sqlite_url.removeprefix("sqlite:///"))
    wal = Path(f"{db_file}-wal")
    return db_file.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def test_an_anonymous_polls_confirmations_leave_no_voter_next_to_a_choice(
    bot: RunningBot, sqlite_url: str
) -> None:
    _message, choices = _anonymous_poll_with_three_votes(bot)
    assert bot.services.outbox.wait_idle()

    def traces() -> list[str]:
        """Where the files still hold an anonymous voter next to an option: the confirmation
        rows name both (their target `user:<id>`, their args `"chosen"`)."""
        data = _database_bytes(sqlite_url)
        found = [user for user in choices if f"user:{user}".encode() in data]
        return found + (['"chosen"'] if b'"chosen"' in data else [])

    # While the poll is open the log still holds the sent (and deleted) confirmations: the
    # same documented limit as for the votes themselves.
    assert traces()
    bot.command("/poll", "close")
    bot.slack.wait_for("files.completeUploadExternal")
    assert bot.services.outbox.wait_idle()
    with bot.services.db.read() as db:
        rows = outbox.rows(db)
    assert rows
    for row in rows:
        for column, value in row.model_dump().items():
            assert not [user for user in choices if user in str(value)], (row.key, column)
    eventually(lambda: traces() == [], what="the files to forget the confirmations")


def test_a_busy_database_forgets_anonymous_history_a_little_later(
    bot: RunningBot, sqlite_url: str
) -> None:
    choices = _anonymous_poll_with_three_votes(bot)[1]
    read = _anonymous_tally_in(_poll(bot).id)
    db_file = Path(sqlite_url.removeprefix("sqlite:///"))
    reader = sqlite3.connect(db_file, isolation_level=None)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM poll").fetchone()  # an old snapshot, held open
        bot.command("/poll", "close")
        bot.slack.wait_for("files.completeUploadExternal", timeout=10)
        eventually(
            lambda: FORGET_HISTORY_JOB_ID in bot.services.deadlines.pending(),
            what="the retry to be scheduled",
        )
        pending = bot.services.deadlines.pending()
        assert pending[FORGET_HISTORY_JOB_ID] == bot.clock.now() + FORGET_HISTORY_RETRY
    finally:
        reader.close()
    assert len(sqlite_commits(db_file, read)) > 1  # not yet
    bot.services.polls.forget_anonymous_history()  # the job, when its time comes
    assert FORGET_HISTORY_JOB_ID not in bot.services.deadlines.pending()
    assert sqlite_commits(db_file, read) == [(frozenset(choices), (1, 1, 1))]


def test_anonymous_multiple_choice_uses_a_one_time_ballot(bot: RunningBot) -> None:
    message = _launch(bot, POLL + " --anonymous --multi")
    [(block_id, button)] = _buttons(message)
    assert button["action_id"] == BALLOT_ACTION

    def open_ballot(user: str) -> None:
        bot.click(
            BALLOT_ACTION, button["value"], user=user, block_id=block_id, message_ts=message["ts"]
        )

    open_ballot(PARTICIPANT)
    view = bot.slack.wait_for("views.open")[0].args["view"]
    assert view["callback_id"] == BALLOT_CALLBACK
    options = _all_text(view["blocks"])
    assert "Agree" in options
    assert "Not sure" in options

    def submit(chosen: list[tuple[str, str]], retry: int | None = None) -> requests.Response:
        body = payloads.view_submission(
            user_id=PARTICIPANT,
            view=view,
            values={BALLOT_BLOCK: {BALLOT_INPUT: payloads.checkboxes_value(chosen)}},
            private_metadata=view["private_metadata"],
            callback_id=BALLOT_CALLBACK,
        )
        return bot.sender.submit_view(body, retry_num=retry)

    assert submit([("0", "Agree"), ("2", "Not sure")]).text == ""
    reply = _wait_ephemeral(bot, PARTICIPANT)
    assert "You voted: *Agree*, *Not sure*" in reply.args["text"]
    second = submit([("1", "Disagree")])
    assert second.json()["errors"][BALLOT_BLOCK].startswith("You have already voted")
    assert submit([("5", "Tampered")]).json()["response_action"] == "errors"
    open_ballot(PARTICIPANT)  # the button now just says so
    assert "already voted" in _wait_ephemeral(bot, PARTICIPANT, 2).args["text"]
    state = bot.services.polls.state(_poll(bot).id or 0)
    assert state is not None
    assert (state.tally.counts, state.tally.voters) == ((1, 0, 1), 1)


# ---------------------------------------------------------------------------
# the form


def _form_values(
    question: str, options: str, duration: str = "2m", switches: tuple[str, ...] = (), key: str = ""
) -> dict[str, Any]:
    return {
        QUESTION_BLOCK: {QUESTION_INPUT: payloads.plain_text_value(question)},
        OPTIONS_BLOCK: {OPTIONS_INPUT: payloads.plain_text_value(options)},
        DURATION_BLOCK: {DURATION_INPUT: payloads.plain_text_value(duration)},
        SWITCHES_BLOCK: {SWITCHES_INPUT: payloads.checkboxes_value(list(switches))},
        KEY_BLOCK: {KEY_INPUT: payloads.plain_text_value(key or None)},
    }


def test_poll_with_no_arguments_opens_a_form(bot: RunningBot) -> None:
    _start_session(bot)
    assert bot.command("/poll", "").text == ""
    view = bot.slack.wait_for("views.open")[0].args["view"]
    assert view["callback_id"] == FORM_CALLBACK
    assert view["private_metadata"] == CHANNEL

    def submit(values: dict[str, Any]) -> requests.Response:
        return bot.sender.submit_view(
            payloads.view_submission(
                user_id=FACILITATOR,
                view=view,
                values=values,
                private_metadata=CHANNEL,
                callback_id=FORM_CALLBACK,
            )
        )

    problems = {
        OPTIONS_BLOCK: _form_values("Lunch?", "Pizza"),
        DURATION_BLOCK: _form_values("Lunch?", "Pizza\nSalad", duration="3d"),
        QUESTION_BLOCK: _form_values("  ", "Pizza\nSalad"),
        KEY_BLOCK: _form_values("Lunch?", "Pizza\nSalad", key="!!!"),
    }
    for block, values in problems.items():
        answer = submit(values).json()
        assert answer["response_action"] == "errors"
        assert list(answer["errors"]) == [block]
    assert _polls(bot) == []

    ok = _form_values(
        "Lunch?", "Pizza\n\n  Salad  \nSoup", "45s", (SWITCH_MULTI, SWITCH_HIDE), key="Lunch 1"
    )
    assert submit(ok).text == ""
    bot.slack.wait_for("chat.postMessage", count=2)
    poll = _poll(bot)
    assert (poll.question, poll.multi, poll.hide_results, poll.anonymous, poll.key) == (
        "Lunch?",
        True,
        True,
        False,
        "lunch-1",
    )
    assert poll.closes_at == bot.clock.now() + timedelta(seconds=45)
    assert bot.services.polls.state(poll.id or 0).options == ("Pizza", "Salad", "Soup")  # type: ignore[union-attr]


def test_the_form_is_only_for_facilitators_in_a_session(bot: RunningBot) -> None:
    reply = _ack_text(bot.command("/poll", ""))
    assert "There is no session running in this channel" in reply
    assert bot.slack.calls_to("views.open") == []


# ---------------------------------------------------------------------------
# bad input


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("--time 2m", "Missing the question and at least 2 options"),
        ('""  "a" "b"', "The question is empty"),
        ('"Lunch?" "Pizza"', "Missing 1 more option"),
        (
            '"Lunch?" ' + " ".join(f'"o{n}"' for n in range(21)),
            "at most 20 options; you gave 21",
        ),
        ('"Lunch?" "Pizza" "pizza "', "“pizza” is given twice"),
        (f'"{"x" * 3001}" "a" "b"', "The question is 3,001 characters long; the limit is 3,000"),
        ('"Lunch?" "a" "' + "o" * 301 + '"', "Option 2 is 301 characters long; the limit is 300"),
        ('"Lunch?" "a" "b" --time 0s', "--time must be between 10s and 24h; got 0s"),
        ('"Lunch?" "a" "b" --time 3d', "Unrecognised duration “3d” for --time"),
        ('"Lunch?" "a" "b" --time banana', "Unrecognised duration “banana” for --time"),
        ('"Lunch?" "a" "b" --colour red', "Unknown flag “--colour”"),
        ('"Lunch?" "a" "b" --mutli', "Did you mean --multi?"),
        ('"Lunch?" "a" "b" --key "!!!"', "--key needs letters or digits"),
        ("Lunch? Pizza Salad", "Put the question and each option in double quotes"),
        ("close now", "Unexpected"),
    ],
)
def test_bad_input_gets_a_clear_ephemeral_message(
    bot: RunningBot, text: str, expected: str
) -> None:
    _start_session(bot)
    response = bot.command("/poll", text)
    reply = _ack_text(response)
    assert expected in reply, reply
    assert "Usage:" in reply
    assert "Example:" in reply
    assert response.json().get("response_type", "ephemeral") == "ephemeral"
    assert _polls(bot) == []
    assert len(bot.slack.calls_to("chat.postMessage")) == 1  # only the session's


@pytest.mark.parametrize("text", ["help", "close help", "HELP"])
def test_help_shows_everything(bot: RunningBot, text: str) -> None:
    reply = _ack_text(bot.command("/poll", text))
    for part in ("--time", "--multi", "--anonymous", "--hide-results", "--key", "/poll close"):
        assert part in reply


def test_poll_outside_a_session_is_refused(bot: RunningBot) -> None:
    reply = _ack_text(bot.command("/poll", POLL))
    assert "There is no session running in this channel" in reply
    assert _polls(bot) == []


def test_close_with_nothing_open(bot: RunningBot) -> None:
    _start_session(bot)
    assert "There is no open poll in this channel to close" in _ack_text(
        bot.command("/poll", "close")
    )


@pytest.mark.parametrize("settings_overrides", [{"FACILITATORS": FACILITATOR}])
def test_only_facilitators_launch_and_close_polls(bot: RunningBot) -> None:
    _launch(bot)
    refused = _ack_text(bot.command("/poll", POLL, user=PARTICIPANT))
    assert "only the facilitators of “Durham listening session”" in refused
    refused = _ack_text(bot.command("/poll", "close", user=PARTICIPANT))
    assert "only the facilitators" in refused
    assert "only the facilitators" in _ack_text(bot.command("/poll", "", user=PARTICIPANT))
    assert len(_polls(bot)) == 1
    assert _poll(bot).closed_at is None


def test_long_options_are_shortened_on_buttons_and_shown_in_full(bot: RunningBot) -> None:
    long = "We should " + "really " * 30 + "do it"
    message = _launch(bot, f'"What now?" "{long}" "Nothing"')
    [first, second] = [button["text"]["text"] for _, button in _buttons(message)]
    assert len(first) == 75
    assert first.endswith("…")
    assert first.startswith("1. We should really")
    assert second == "2. Nothing"
    assert any(long in text for text in _mrkdwn(message["blocks"]))


def test_twenty_options_fit_in_several_rows(bot: RunningBot) -> None:
    options = " ".join(f'"Option number {n} {"x" * 280}"' for n in range(20))
    message = _launch(bot, f'"{"Which? " * 400}" {options}')
    rows = {block_id for block_id, _ in _buttons(message)}
    assert len(_buttons(message)) == 20
    assert len(rows) == 4
    assert len(message["blocks"]) <= 50
    bot.command("/poll", "close")
    bot.slack.wait_for("files.completeUploadExternal")  # the final message fits too


def test_hostile_text_is_escaped_everywhere_it_is_posted(bot: RunningBot) -> None:
    _fast_live_updates(bot)
    raw = '"<!channel> & <@U0BOSS> vote" "<https://evil.example|click>" "*bold* & co"'
    escaped = raw.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    message = _launch(bot, escaped)
    poll = _poll(bot)
    assert poll.question == "<!channel> & <@U0BOSS> vote"
    _vote(bot, message, 0)
    reply = _wait_ephemeral(bot, PARTICIPANT)
    bot.command("/poll", "close")
    bot.slack.wait_for("files.completeUploadExternal")
    status_blocks = bot.services.polls.state(poll.id or 0)
    assert status_blocks is not None
    posted: list[str] = []
    for call in bot.slack.calls:
        if call.method in ("chat.postMessage", "chat.update", "chat.postEphemeral"):
            posted.append(str(call.args.get("text", "")))
            posted.extend(_mrkdwn(call.args.get("blocks", [])))
        if call.method == "files.completeUploadExternal":
            posted.append(str(call.args.get("initial_comment", "")))
    for danger in ("<!channel>", "<@U0BOSS>", "<https://evil"):
        assert not [t for t in posted if danger in t], danger
    assert any("&lt;!channel&gt; &amp; &lt;@U0BOSS&gt; vote" in t for t in posted)
    assert "&lt;https://evil.example|click&gt;" in reply.args["text"]


@pytest.mark.parametrize(
    "value", ["not-a-poll", "999999:0", "{poll}:7", "{poll}:-1", "1; DROP TABLE poll", ""]
)
def test_tampered_and_unknown_votes_are_refused(bot: RunningBot, value: str) -> None:
    message = _launch(bot)
    block_id, button = _buttons(message)[0]
    body = payloads.block_action(
        user_id=PARTICIPANT,
        channel_id=CHANNEL,
        action_id=button["action_id"],
        block_id=block_id,
        value=value.format(poll=_poll(bot).id),
        message_ts=message["ts"],
    )
    assert bot.sender.action(body).status_code == 200
    reply = _wait_ephemeral(bot, PARTICIPANT)
    assert "nothing was recorded" in reply.args["text"]
    assert _votes(bot) == []


def test_a_vote_on_a_deleted_poll_is_refused(bot: RunningBot) -> None:
    message = _launch(bot)
    with bot.services.db.transaction() as db:
        db.exec(text("DELETE FROM poll"))  # type: ignore[call-overload]
    _vote(bot, message, 0)
    assert "That poll no longer exists" in _wait_ephemeral(bot, PARTICIPANT).args["text"]
    assert _votes(bot) == []


def test_a_button_copied_to_another_channel_is_refused(bot: RunningBot) -> None:
    message = _launch(bot)
    body = _click_body(message, 0, PARTICIPANT, channel="C0ELSEWHERE")
    assert bot.sender.action(body).status_code == 200
    assert "not from a poll I know" in _wait_ephemeral(bot, PARTICIPANT).args["text"]
    assert _votes(bot) == []


def test_a_poll_the_bot_cannot_post_is_undone(bot: RunningBot) -> None:
    _start_session(bot)
    bot.slack.fail_next("chat.postMessage", error="not_in_channel")
    assert bot.command("/poll", POLL).text == ""
    told = bot.slack.wait_for("response_url")[0]
    assert "not_in_channel" in told.args["text"]
    assert _polls(bot) == []
    assert not [j for j in bot.services.deadlines.pending() if j.startswith("poll-close-")]


def test_a_poll_launched_again_after_a_refusal_is_posted(bot: RunningBot) -> None:
    _start_session(bot)
    bot.slack.fail_next("chat.postMessage", error="not_in_channel")
    assert bot.command("/poll", POLL).text == ""
    bot.slack.wait_for("response_url")
    eventually(lambda: _polls(bot) == [], what="the refused poll undone")
    # Invited now; the new poll may get the refused one's id: its effects still go out.
    message = _launch(bot, session=False)
    bot.command("/poll", "close")
    bot.slack.wait_for("files.completeUploadExternal")
    assert len(_final_updates(bot, message["ts"])) == 1


def test_a_poll_from_the_form_the_bot_cannot_post_is_undone_and_told_directly(
    bot: RunningBot,
) -> None:
    _start_session(bot)
    assert bot.command("/poll", "").text == ""
    view = bot.slack.wait_for("views.open")[0].args["view"]
    bot.slack.fail_next("chat.postMessage", error="not_in_channel")
    submitted = bot.sender.submit_view(
        payloads.view_submission(
            user_id=FACILITATOR,
            view=view,
            values=_form_values("Lunch?", "Pizza\nSalad"),
            private_metadata=CHANNEL,
            callback_id=FORM_CALLBACK,
        )
    )
    assert submitted.text == ""
    # A form has no response_url: the facilitator gets a direct message.
    [told] = bot.slack.wait_for(
        "chat.postMessage", predicate=lambda c: c.args.get("channel") == FACILITATOR
    )
    assert "not_in_channel" in told.args["text"]
    assert "it was not launched" in told.args["text"]
    assert _polls(bot) == []
    assert not [j for j in bot.services.deadlines.pending() if j.startswith("poll-close-")]


def test_a_redelivered_launch_posts_one_poll(bot: RunningBot) -> None:
    _start_session(bot)
    body = bot.command_payload("/poll", POLL)
    for retry in (None, 1, 2, 3):
        assert bot.command("/poll", "", payload=body, retry_num=retry).text == ""
    bot.slack.wait_for("chat.postMessage", count=2)
    assert len(_polls(bot)) == 1
    assert len([c for c in bot.slack.calls_to("chat.postMessage") if _is_poll_post(c)]) == 1


def test_keys_are_derived_from_the_question_when_not_given(bot: RunningBot) -> None:
    _launch(bot, '"Should the NHS be fully funded — now?" "Yes" "No"')
    assert _poll(bot).key == "should-the-nhs-be-fully-funded-now"
