"""Breakout rounds end to end: signed requests to the real app, fake Slack, a hand-moved clock."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from bot.rooms import REMINDER_AFTER, end_job_id, remind_job_id, warn_job_id
from bot.views.rooms import REPORT_ACTION, ROOM_ACTIONS_BLOCK
from storage.rooms import BreakoutRound
from tests.e2e.conftest import (
    FACILITATOR,
    PARTICIPANT,
    RunningBot,
    ack_text,
    all_text,
    mrkdwn,
)
from tests.e2e.rooms_helpers import (
    GROUPS,
    breakout,
    check_in,
    check_in_via_slack,
    form_values,
    members,
    open_report,
    outbox_sent,
    people,
    room_messages,
    rooms_of,
    rounds,
    start_round,
    start_session,
    submit_report,
    thread,
    thread_texts,
)
from tests.harness.waiting import eventually

PROMPT = "What would make the biggest difference where you live?"


def _setup(bot: RunningBot, count: int = 7) -> list[str]:
    start_session(bot)
    users = people(count)
    for index, user in enumerate(users):
        check_in(bot, user, group=GROUPS[index % len(GROUPS)], place="Durham")
    return users


def _round(bot: RunningBot) -> BreakoutRound:
    found = rounds(bot)[-1]
    assert found.id is not None
    return found


def test_breakout_posts_a_message_per_room_and_tells_each_member(bot: RunningBot) -> None:
    users = _setup(bot)
    check_in(bot, FACILITATOR, role="Organiser")
    response = breakout(bot, f'3 --time 10m --mode mix:group --prompt "{PROMPT}" --seed 42')
    reply = ack_text(response)
    assert "Breakout round 1 started: 8 people in 3 rooms of 3 or 2" in reply
    assert "--seed 42" in reply
    assert response.json().get("response_type", "ephemeral") == "ephemeral"

    breakout_round = _round(bot)
    assert (breakout_round.mode, breakout_round.seed, breakout_round.prompt) == (
        "mix:group",
        42,
        PROMPT,
    )
    assert breakout_round.ends_at == bot.clock.now() + timedelta(minutes=10)
    assert breakout_round.warn_at == breakout_round.ends_at - timedelta(minutes=2)
    assert breakout_round.id is not None
    eventually(lambda: len(room_messages(bot)) == 3, what="three room messages")
    by_room = members(bot, breakout_round.id)
    assert sorted(len(m) for m in by_room.values()) == [2, 3, 3]
    assert set().union(*by_room.values()) == {*users, FACILITATOR}

    round_id = breakout_round.id
    # the ts is stored when Slack's answer is back, just after the post the fake recorded
    eventually(
        lambda: all(room.message_ts for room in rooms_of(bot, round_id)), what="room ts stored"
    )
    stored = {room.number: room for room in rooms_of(bot, round_id)}
    for message in room_messages(bot):
        text = all_text(message["blocks"])
        number = int(re.search(r"\*Room (\d)\*", text).group(1))  # type: ignore[union-attr]
        assert stored[number].message_ts == message["ts"]
        for user in by_room[number]:
            assert f"<@{user}>" in text
        assert PROMPT in text
        assert f"<!date^{int(breakout_round.ends_at.timestamp())}^" in text
        [actions] = [b for b in message["blocks"] if b.get("block_id") == ROOM_ACTIONS_BLOCK]
        assert actions["elements"][0]["action_id"] == REPORT_ACTION
        assert actions["elements"][0]["value"] == str(stored[number].id)
    # the facilitator is marked in their room
    assert "_(facilitator)_" in all_text([m["blocks"] for m in room_messages(bot)])

    told = bot.slack.wait_for("chat.postEphemeral", count=8)
    by_user = {call.args["user"]: call.args["text"] for call in told}
    assert set(by_user) == {*users, FACILITATOR}
    for number, room_members in by_room.items():
        for user in room_members:
            assert f"*Room {number}*" in by_user[user]
            assert "/archives/" in by_user[user]  # a link to the room's thread
            others = room_members - {user}
            assert all(f"<@{other}>" in by_user[user] for other in others)


def test_mix_mode_spreads_each_group_over_the_rooms(bot: RunningBot) -> None:
    start_session(bot)
    for index, user in enumerate(people(12)):
        check_in(bot, user, group=GROUPS[index % 3])
    breakout_round = start_round(bot, "4 --mode mix:group --seed 3", rooms=4)
    assert breakout_round.id is not None
    groups = {user: GROUPS[index % 3] for index, user in enumerate(people(12))}
    for room in members(bot, breakout_round.id).values():
        assert len({groups[user] for user in room}) == 3


def test_group_mode_keeps_alike_people_together(bot: RunningBot) -> None:
    start_session(bot)
    for index, user in enumerate(people(9)):
        check_in(bot, user, group=GROUPS[index % 3])
    breakout_round = start_round(bot, "3 --mode group:group --seed 3", rooms=3)
    assert breakout_round.id is not None
    groups = {user: GROUPS[index % 3] for index, user in enumerate(people(9))}
    for room in members(bot, breakout_round.id).values():
        assert len({groups[user] for user in room}) == 1


def test_size_makes_rooms_of_at_most_that_many(bot: RunningBot) -> None:
    _setup(bot, 10)
    breakout_round = start_round(bot, "--size 4 --seed 1", rooms=3)
    assert breakout_round.id is not None
    assert sorted(len(m) for m in members(bot, breakout_round.id).values()) == [3, 3, 4]


def test_the_same_seed_gives_the_same_rooms(bot: RunningBot) -> None:
    rooms_seen = []
    for channel in ("C0FIRST", "C0SECOND"):
        start_session(bot, channel)
        for index, user in enumerate(people(9)):
            check_in(bot, user, channel=channel, group=GROUPS[index % 3])
        assert "started" in ack_text(breakout(bot, "3 --mode mix:group --seed 99", channel=channel))
        breakout_round = _round(bot)
        assert breakout_round.id is not None
        rooms_seen.append(members(bot, breakout_round.id))
    assert rooms_seen[0] == rooms_seen[1]


def test_a_later_round_avoids_pairs_from_the_first(bot: RunningBot) -> None:
    _setup(bot, 9)
    first = start_round(bot, "3 --seed 5", rooms=3)
    assert breakout(bot, "end").status_code == 200
    second = start_round(bot, "3 --seed 5", rooms=3)
    assert first.id is not None
    assert second.id is not None
    assert second.number == 2
    met = {
        frozenset((a, b))
        for room in members(bot, first.id).values()
        for a in room
        for b in room
        if a != b
    }
    for room in members(bot, second.id).values():
        pairs = {frozenset((a, b)) for a in room for b in room if a != b}
        assert not pairs & met


def test_timers_warn_then_end_then_remind_once(bot: RunningBot) -> None:
    _setup(bot, 6)
    breakout_round = start_round(bot, "3 --time 15m --seed 1", rooms=3)
    assert breakout_round.id is not None
    round_id = breakout_round.id
    pending = bot.services.deadlines.pending()
    assert pending[warn_job_id(round_id)] == breakout_round.warn_at
    assert pending[end_job_id(round_id)] == breakout_round.ends_at
    rooms = thread_texts(bot, round_id)
    assert all(texts == [] for texts in rooms.values())

    # nothing is due yet: a sweep changes nothing
    bot.services.rooms.recover()
    assert all(texts == [] for texts in thread_texts(bot, round_id).values())

    # 2 minutes before the end: the warning, once, in every room's thread
    bot.clock.advance(timedelta(minutes=13))
    bot.services.rooms.recover()
    bot.services.rooms.warn(round_id)  # the job firing late as well changes nothing
    outbox_sent(bot)
    for texts in thread_texts(bot, round_id).values():
        assert len(texts) == 1
        assert "2m left" in texts[0]

    # room 1 reports back before the end
    room_one = rooms_of(bot, round_id)[0]
    [reporter] = sorted(members(bot, round_id)[1])[:1]
    view = open_report(bot, reporter)
    assert submit_report(bot, reporter, view, form_values("We agreed on buses")).text == ""
    eventually(lambda: len(thread(bot, room_one.message_ts or "")) == 2)

    # the end: time's up in every thread, once
    bot.clock.advance(timedelta(minutes=2))
    bot.services.rooms.recover()
    bot.services.rooms.expire(round_id)  # the job racing the sweep: still once
    outbox_sent(bot)
    ended = _round(bot)
    assert ended.ended_at == bot.clock.now()
    assert ended.end_reason == "time"
    at_end = thread_texts(bot, round_id)
    assert "your report-back is in" in at_end[1][-1]
    for number in (2, 3):
        assert [t for t in at_end[number] if "Time's up" in t] == [
            ":alarm_clock: Time's up — please send your report-back."
        ]
    pending = bot.services.deadlines.pending()
    assert warn_job_id(round_id) not in pending
    assert end_job_id(round_id) not in pending
    assert ended.ended_at is not None
    assert pending[remind_job_id(round_id)] == ended.ended_at + REMINDER_AFTER

    # the reminder: only rooms without a report-back, once
    bot.clock.advance(REMINDER_AFTER)
    bot.services.rooms.recover()
    bot.services.rooms.remind(round_id)
    bot.services.rooms.recover()
    outbox_sent(bot)
    reminded = thread_texts(bot, round_id)
    assert not [t for t in reminded[1] if "Reminder" in t]
    for number in (2, 3):
        assert len([t for t in reminded[number] if "Reminder" in t]) == 1
    assert all(room.reminded_at is not None for room in rooms_of(bot, round_id)[1:])
    assert rooms_of(bot, round_id)[0].reminded_at is None


def test_a_short_round_warns_at_80_percent(bot: RunningBot) -> None:
    _setup(bot, 4)
    breakout_round = start_round(bot, "2 --time 5m", rooms=2)
    assert breakout_round.warn_at == breakout_round.started_at + timedelta(minutes=4)


def test_breakout_end_ends_the_round_now(bot: RunningBot) -> None:
    _setup(bot, 4)
    breakout_round = start_round(bot, "2", rooms=2)
    assert breakout_round.id is not None
    reply = ack_text(breakout(bot, "end"))
    assert "Breakout round 1 ended" in reply
    ended = _round(bot)
    assert (ended.ended_at, ended.ended_by, ended.end_reason) == (
        bot.clock.now(),
        FACILITATOR,
        "facilitator",
    )
    eventually(
        lambda: all(
            any("Time's up" in t for t in texts)
            for texts in thread_texts(bot, breakout_round.id or 0).values()
        ),
        what="time's up in every thread",
    )
    assert "No breakout round is running" in ack_text(breakout(bot, "end"))
    # the end job is gone, so the old deadline passing changes nothing
    bot.clock.advance(timedelta(minutes=20))
    bot.services.rooms.recover()
    outbox_sent(bot)
    for texts in thread_texts(bot, breakout_round.id).values():
        assert len([t for t in texts if "Time's up" in t]) == 1


def test_ending_the_session_ends_the_round(bot: RunningBot) -> None:
    _setup(bot, 4)
    breakout_round = start_round(bot, "2", rooms=2)
    assert breakout_round.id is not None
    assert bot.command("/session", "end").text == ""
    eventually(lambda: _round(bot).ended_at is not None, what="round ended with the session")
    assert _round(bot).end_reason == "session"
    eventually(
        lambda: all(
            any("session has ended" in t for t in texts)
            for texts in thread_texts(bot, breakout_round.id or 0).values()
        )
    )
    # no reminders after the session: report-backs are closed
    assert remind_job_id(breakout_round.id) not in bot.services.deadlines.pending()


def test_a_second_breakout_while_one_runs_is_explained(bot: RunningBot) -> None:
    _setup(bot, 4)
    start_round(bot, "2", rooms=2)
    reply = ack_text(breakout(bot, "2"))
    assert "Breakout round 1 is still running" in reply
    assert "/breakout end" in reply
    assert len(rounds(bot)) == 1


def test_status_shows_the_running_round(bot: RunningBot) -> None:
    _setup(bot, 4)
    start_round(bot, "2 --time 10m", rooms=2)
    status = ack_text(bot.command("/session", "status"))
    assert "Breakout round 1: 4 people in 2 rooms (random), 0 of 2 reported back" in status
    assert "ends in 10m" in status


def test_a_late_arrival_joins_the_smallest_room_and_is_told(bot: RunningBot) -> None:
    _setup(bot, 5)
    breakout_round = start_round(bot, "2 --seed 1", rooms=2)
    assert breakout_round.id is not None
    round_id = breakout_round.id
    before = members(bot, round_id)
    smallest = min(before, key=lambda number: (len(before[number]), number))
    told_before = len(bot.slack.calls_to("chat.postEphemeral"))

    check_in_via_slack(bot, "U0LATE")
    eventually(lambda: "U0LATE" in set().union(*members(bot, round_id).values()))
    assert "U0LATE" in members(bot, round_id)[smallest]
    told = bot.slack.wait_for(
        "chat.postEphemeral",
        count=2,
        predicate=lambda c: c.args["user"] == "U0LATE",
    )
    assert any(f"you've joined *Room {smallest}*" in c.args["text"] for c in told)
    room = rooms_of(bot, round_id)[smallest - 1]
    eventually(lambda: any("U0LATE" in m["text"] for m in thread(bot, room.message_ts or "")))
    eventually(
        lambda: (
            "<@U0LATE>"
            in all_text(next(m for m in room_messages(bot) if m["ts"] == room.message_ts)["blocks"])
        ),
        what="the room message lists the late arrival",
    )
    # checking in again (an update) does not move them
    check_in_via_slack(bot, "U0LATE")
    eventually(lambda: len(bot.slack.calls_to("chat.postEphemeral")) >= told_before + 3)
    assert sum(len(m) for m in members(bot, round_id).values()) == 6


def test_checking_in_after_the_round_ended_joins_nothing(bot: RunningBot) -> None:
    _setup(bot, 4)
    breakout_round = start_round(bot, "2", rooms=2)
    breakout(bot, "end")
    check_in_via_slack(bot, "U0LATE")
    eventually(
        lambda: any(c.args["user"] == "U0LATE" for c in bot.slack.calls_to("chat.postEphemeral"))
    )
    assert breakout_round.id is not None
    assert "U0LATE" not in set().union(*members(bot, breakout_round.id).values())


def test_move_puts_someone_in_another_room(bot: RunningBot) -> None:
    _setup(bot, 6)
    breakout_round = start_round(bot, "3 --seed 2", rooms=3)
    assert breakout_round.id is not None
    round_id = breakout_round.id
    before = members(bot, round_id)
    source = next(n for n, m in before.items() if "U0P01" in m)
    target = next(n for n in before if n != source)
    reply = ack_text(breakout(bot, f"move <@U0P01|p1> {target}"))
    assert f"Moved <@U0P01> from Room {source} to Room {target}" in reply
    after = members(bot, round_id)
    assert "U0P01" in after[target]
    assert "U0P01" not in after[source]
    rooms = {room.number: room for room in rooms_of(bot, round_id)}
    eventually(
        lambda: any(
            f"moved here from Room {source}" in m["text"]
            for m in thread(bot, rooms[target].message_ts or "")
        )
    )
    eventually(
        lambda: any(
            f"moved to Room {target}" in m["text"]
            for m in thread(bot, rooms[source].message_ts or "")
        )
    )
    told = bot.slack.wait_for(
        "chat.postEphemeral",
        predicate=lambda c: c.args["user"] == "U0P01" and "moved you" in c.args["text"],
    )
    assert f"*Room {target}*" in told[0].args["text"]
    # the plain <@U…> form works too
    back = ack_text(breakout(bot, f"move <@U0P01> {source}"))
    assert f"to Room {source}" in back


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("move <@U0NOBODY|x> 1", "is not in any room of round 1"),
        ("move <@U0P01|p1> 9", "There is no Room 9"),
        ("move <@U0P01|p1> 0", "There is no Room 0"),
        ("move @someone 1", "is not a mention"),
        ("move <@U0P01|p1> two", "is not a room number"),
        ("move <@U0P01|p1>", "Missing the room number."),
        ("move", "Missing the person and the room number."),
    ],
)
def test_bad_moves_are_explained(bot: RunningBot, text: str, expected: str) -> None:
    _setup(bot, 4)
    breakout_round = start_round(bot, "2 --seed 1", rooms=2)
    assert breakout_round.id is not None
    before = members(bot, breakout_round.id)
    reply = ack_text(breakout(bot, text))
    assert expected in reply, reply
    assert members(bot, breakout_round.id) == before


def test_moving_without_a_round_is_explained(bot: RunningBot) -> None:
    _setup(bot, 4)
    assert "No breakout round is running" in ack_text(breakout(bot, "move <@U0P01> 1"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", "The number of rooms must be at least 1; got 0."),
        ("9", "9 rooms is more than the 4 people checked in"),
        ("--size 0", "--size must be between 2 and 1,000; got 0."),
        ("--size 1", "--size must be between 2 and 1,000; got 1."),
        ("--size 9", "--size 9 is more than the 4 people checked in"),
        ("2 --size 2", "not both"),
        ("--time 10m", "Say how many rooms"),
        ("2 --mode mix:colour", "Unknown attribute “colour”"),
        ("2 --mode group:", "needs a value right after the colon"),
        ("2 --mode shuffle", "Unknown value “shuffle” for --mode"),
        ("2 --time 5", "add a unit, like 5s or 5m"),
        ("2 --time 10s", "between 1m and 3h"),
        ("2 --seed -1", "--seed"),
        ("two", "Unknown subcommand “two”"),
        ("-3", "is not a number of rooms"),
        ("2 3", "Unexpected"),
        ("101", "At most 100 rooms"),
        ('2 --prompt "' + "x" * 600 + '"', "the limit is 500"),
        ("end now", "Unexpected"),
    ],
)
def test_bad_breakout_input_gets_a_clear_ephemeral_message(
    bot: RunningBot, text: str, expected: str
) -> None:
    _setup(bot, 4)
    response = breakout(bot, text)
    reply = ack_text(response)
    assert expected in reply, reply
    assert response.json().get("response_type", "ephemeral") == "ephemeral"
    assert rounds(bot) == []
    assert room_messages(bot) == []


def test_usage_errors_show_usage_and_an_example(bot: RunningBot) -> None:
    _setup(bot, 4)
    reply = ack_text(breakout(bot, "0"))
    assert "Usage:" in reply
    assert "Example:" in reply


def test_breakout_with_nobody_checked_in_is_explained(bot: RunningBot) -> None:
    start_session(bot)
    reply = ack_text(breakout(bot, "3"))
    assert "Nobody has checked in yet" in reply
    assert rounds(bot) == []


def test_breakout_needs_a_session_and_a_facilitator(bot: RunningBot) -> None:
    assert "There is no session running" in ack_text(breakout(bot, "2"))
    _setup(bot, 4)
    for text in ("2", "end", "move <@U0P01> 1"):
        assert "only the facilitators" in ack_text(breakout(bot, text, user=PARTICIPANT))
    assert rounds(bot) == []


@pytest.mark.parametrize("text", ["", "help", "end help", "5 help"])
def test_breakout_help(bot: RunningBot, text: str) -> None:
    response = breakout(bot, text)
    reply = ack_text(response)
    assert "split the people checked in into rooms" in reply
    assert "/breakout move @someone" in reply
    # placeholders are escaped, or Slack would read <rooms> as a link
    shown = mrkdwn(response.json()["blocks"])
    assert any("&lt;rooms&gt;" in text for text in shown)
    assert not [text for text in shown if "<rooms>" in text or "<room number>" in text]


def test_a_redelivered_breakout_starts_one_round(bot: RunningBot) -> None:
    _setup(bot, 4)
    body = bot.command_payload("/breakout", "2 --seed 1")
    assert "started" in ack_text(bot.command("/breakout", "", payload=body))
    for attempt in (1, 2, 3):
        again = bot.command("/breakout", "", payload=body, retry_num=attempt)
        assert again.status_code == 200
        assert "still running" not in again.text
    eventually(lambda: len(room_messages(bot)) == 2)
    assert len(rounds(bot)) == 1


def test_the_bot_not_in_the_channel_undoes_the_round(bot: RunningBot) -> None:
    _setup(bot, 4)
    bot.slack.fail_next("chat.postMessage", error="not_in_channel")
    assert "started" in ack_text(breakout(bot, "2"))
    reply = bot.slack.wait_for("response_url")[0]
    assert "not_in_channel" in reply.args["text"]
    eventually(lambda: rounds(bot) == [], what="the round undone")
    assert bot.services.deadlines.pending().keys().isdisjoint({"breakout-end:1"})
    start_round(bot, "2", rooms=2)  # and trying again works


def test_hostile_prompt_is_escaped(bot: RunningBot) -> None:
    _setup(bot, 4)
    hostile = "<!channel> <https://evil.example|click> & <@U0BOSS>"
    escaped = hostile.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    start_round(bot, f'2 --prompt "{escaped}"', rooms=2)
    assert _round(bot).prompt == hostile
    shown = [t for m in room_messages(bot) for t in [m["text"], *mrkdwn(m["blocks"])]]
    shown += [c.args["text"] for c in bot.slack.wait_for("chat.postEphemeral", count=4)]
    for raw in ("<!channel>", "<https://evil", "<@U0BOSS>"):
        assert not [text for text in shown if raw in text]
    assert any("&lt;!channel&gt;" in text for text in shown)
