"""Report-backs end to end: the form, versions, who may report, limits and hostile text."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select

from bot.rooms import (
    FIELD_KEY_POINTS,
    FIELD_NEW_THEMES,
    FIELD_ROOM,
    FIELD_SUMMARY,
    FIELD_THEMES,
    quote_field,
)
from bot.views.reports import REPORT_CALLBACK
from bot.views.rooms import REPORT_ACTION, ROOM_ACTIONS_BLOCK
from storage.rooms import ReportQuote, ReportTheme, SessionTheme
from tests.e2e.conftest import (
    CHANNEL,
    FACILITATOR,
    RunningBot,
    ack_text,
    all_text,
    mrkdwn,
)
from tests.e2e.rooms_helpers import (
    breakout,
    check_in,
    form_values,
    members,
    open_report,
    people,
    report_body,
    reports,
    room_messages,
    rooms_of,
    start_round,
    start_session,
    submit_report,
    thread,
)
from tests.harness.waiting import eventually


def _setup(bot: RunningBot, count: int = 4, rooms: int = 2) -> dict[int, set[str]]:
    start_session(bot)
    for user in people(count):
        check_in(bot, user, place="Durham")
    breakout_round = start_round(bot, f"{rooms} --seed 4", rooms=rooms)
    assert breakout_round.id is not None
    return members(bot, breakout_round.id)


def _member_of(by_room: dict[int, set[str]], number: int) -> str:
    return sorted(by_room[number])[0]


def _room(bot: RunningBot, number: int) -> Any:
    return rooms_of(bot, 1)[number - 1]


def _errors(response: Any) -> dict[str, str]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["response_action"] == "errors", body
    return dict(body["errors"])


def _quotes(bot: RunningBot) -> list[ReportQuote]:
    with bot.services.db.read() as db:
        return list(db.exec(select(ReportQuote)).all())


def _themes(bot: RunningBot) -> list[SessionTheme]:
    with bot.services.db.read() as db:
        return list(db.exec(select(SessionTheme).order_by(SessionTheme.id)).all())  # type: ignore[arg-type]


def test_report_back_is_saved_posted_and_every_version_kept(bot: RunningBot) -> None:
    by_room = _setup(bot)
    reporter = _member_of(by_room, 1)
    view = open_report(bot, reporter)
    assert view["callback_id"] == REPORT_CALLBACK
    assert view["private_metadata"] == str(_room(bot, 1).id)
    assert "*Room 1*" in all_text(view["blocks"])
    assert FIELD_ROOM not in all_text(view["blocks"])  # only facilitators pick a room
    values = form_values(
        "We want better buses.",
        key_points="• Buses every 15 minutes\n\n- Cheaper fares",
        quotes=[
            ("The last bus is at 7pm.", "Member", "Durham", True),
            ("I can't get to work.", "Trade union member", None, False),
        ],
        new_themes="Transport, housing; Transport",
    )
    response = submit_report(bot, reporter, view, values)
    assert response.status_code == 200
    assert response.text == ""  # the form closes: the report-back is saved

    [saved] = reports(bot)
    assert (saved.version, saved.submitted_by, saved.summary) == (
        1,
        reporter,
        "We want better buses.",
    )
    assert saved.key_points == "Buses every 15 minutes\nCheaper fares"
    quotes = sorted(_quotes(bot), key=lambda q: q.position)
    assert [(q.text, q.speaker_role, q.speaker_place, q.consent) for q in quotes] == [
        ("The last bus is at 7pm.", "Member", "Durham", True),
        ("I can't get to work.", "Trade union member", None, False),
    ]
    assert [t.name for t in _themes(bot)] == ["Transport", "housing"]

    # in the room's thread in full (only consented quotes), compactly in the channel
    room = _room(bot, 1)
    eventually(lambda: len(thread(bot, room.message_ts)) == 1, what="report in the thread")
    posted = all_text(thread(bot, room.message_ts)[0]["blocks"])
    assert "We want better buses." in posted
    assert "• Buses every 15 minutes" in posted
    assert "“The last bus is at 7pm.”" in posted
    assert "— Member, Durham" in posted
    assert "I can't get to work" not in posted
    assert "1 more quote is kept private" in posted
    assert "Themes: Transport · housing" in posted
    eventually(lambda: _room(bot, 1).report_ts is not None, what="compact post stored")
    compact = next(m for m in bot.slack.messages(CHANNEL) if m["ts"] == _room(bot, 1).report_ts)
    assert "*Room 1* reported back" in all_text(compact["blocks"])
    assert "2 key points · 1 quote · themes: Transport, housing" in all_text(compact["blocks"])

    # editing: the form opens with the latest version; a new version is added
    view = open_report(bot, reporter)
    shown = all_text(view["blocks"])
    assert "Editing version 1" in shown
    assert "We want better buses." in shown
    assert view["submit"]["text"] == "Update"
    updates = len(bot.slack.calls_to("chat.update"))
    edited = form_values("We want better and cheaper buses.", theme_ids=[str(_themes(bot)[0].id)])
    assert submit_report(bot, reporter, view, edited).text == ""
    versions = reports(bot)
    assert [(r.version, r.summary) for r in versions] == [
        (1, "We want better buses."),
        (2, "We want better and cheaper buses."),
    ]
    eventually(lambda: len(thread(bot, room.message_ts)) == 2)
    assert "version 2" in thread(bot, room.message_ts)[1]["text"]
    # the compact channel post is updated in place rather than posted again
    update = bot.slack.wait_for("chat.update", count=updates + 1)[-1]
    assert update.args["ts"] == _room(bot, 1).report_ts
    assert "updated, version 2" in all_text(update.args["blocks"])
    assert [c.args.get("blocks") for c in bot.slack.calls_to("chat.postMessage")].count(
        update.args["blocks"]
    ) == 0
    status = ack_text(bot.command("/session", "status"))
    assert "1 of 2 reported back" in status


def test_the_report_back_button_opens_the_form_for_that_room(bot: RunningBot) -> None:
    by_room = _setup(bot)
    member = _member_of(by_room, 2)
    room = _room(bot, 2)
    bot.click(REPORT_ACTION, str(room.id), user=member, block_id=ROOM_ACTIONS_BLOCK)
    view = bot.slack.wait_for("views.open")[0].args["view"]
    assert view["callback_id"] == REPORT_CALLBACK
    assert view["private_metadata"] == str(room.id)
    assert "*Room 2*" in all_text(view["blocks"])


def test_someone_else_s_button_explains_and_opens_no_form(bot: RunningBot) -> None:
    by_room = _setup(bot)
    outsider = _member_of(by_room, 1)
    bot.click(REPORT_ACTION, str(_room(bot, 2).id), user=outsider, block_id=ROOM_ACTIONS_BLOCK)
    view = bot.slack.wait_for("views.open")[0].args["view"]
    assert view.get("callback_id") != REPORT_CALLBACK
    assert "Only people in Room 2 can report back for it" in all_text(view)
    assert "You are in Room 1" in all_text(view)


@pytest.mark.parametrize("value", ["not-a-number", "99999", "-1", "1; DROP TABLE report_back"])
def test_tampered_report_buttons_open_no_form(bot: RunningBot, value: str) -> None:
    _setup(bot)
    bot.click(REPORT_ACTION, value, user=FACILITATOR, block_id=ROOM_ACTIONS_BLOCK)
    view = bot.slack.wait_for("views.open")[0].args["view"]
    assert view.get("callback_id") != REPORT_CALLBACK


def test_a_person_not_in_the_room_cannot_submit_for_it(bot: RunningBot) -> None:
    by_room = _setup(bot)
    outsider = _member_of(by_room, 1)
    view = open_report(bot, outsider)
    # a forged form for room 2
    errors = _errors(
        bot.sender.submit_view(
            report_body(outsider, view, form_values("Not ours"), str(_room(bot, 2).id))
        )
    )
    assert "Only people in Room 2 can report for it" in errors[FIELD_SUMMARY]
    assert reports(bot) == []


def test_someone_moved_away_can_no_longer_report_for_their_old_room(bot: RunningBot) -> None:
    by_room = _setup(bot)
    person = _member_of(by_room, 1)
    view = open_report(bot, person)
    assert "Moved" in ack_text(breakout(bot, f"move <@{person}> 2"))
    errors = _errors(submit_report(bot, person, view, form_values("Old room")))
    assert "You are in Room 2 now" in errors[FIELD_SUMMARY]


def test_facilitators_may_report_for_any_room(bot: RunningBot) -> None:
    _setup(bot)
    view = open_report(bot, FACILITATOR)  # not in any room
    blocks = view["blocks"]
    [picker] = [b for b in blocks if b.get("block_id") == FIELD_ROOM]
    options = [o["value"] for o in picker["element"]["options"]]
    assert options == [str(_room(bot, 1).id), str(_room(bot, 2).id)]
    values = form_values("Room two said this", room_id=str(_room(bot, 2).id))
    assert submit_report(bot, FACILITATOR, view, values).text == ""
    [saved] = reports(bot)
    assert saved.room_id == _room(bot, 2).id
    # a room from another round is refused
    errors = _errors(submit_report(bot, FACILITATOR, view, form_values("x", room_id="777")))
    assert errors[FIELD_ROOM] == "Pick a room from the list."


def test_report_needs_a_session_a_round_and_a_room(bot: RunningBot) -> None:
    assert "There is no session running" in ack_text(bot.command("/report", ""))
    start_session(bot)
    for user in people(4):
        check_in(bot, user)
    assert "no breakout rooms in this session yet" in ack_text(bot.command("/report", ""))
    start_round(bot, "2", rooms=2)
    refused = ack_text(bot.command("/report", "", user="U0NOTHERE"))
    assert "You are not in a room in breakout round 1" in refused
    assert bot.slack.calls_to("views.open") == []


@pytest.mark.parametrize("text", ["help", " HELP "])
def test_report_help(bot: RunningBot, text: str) -> None:
    assert "send your breakout room's report-back" in ack_text(bot.command("/report", text))


def test_report_takes_no_arguments(bot: RunningBot) -> None:
    assert "Unexpected" in ack_text(bot.command("/report", "room 2"))


@pytest.mark.parametrize(
    ("values", "field", "expected"),
    [
        (form_values(None), FIELD_SUMMARY, "Please write a short summary"),
        (form_values("   \n  "), FIELD_SUMMARY, "Please write a short summary"),
        (form_values("x" * 3001), FIELD_SUMMARY, "3,001 characters long; the limit is 3,000"),
        (
            form_values("ok", key_points="y" * 3001),
            FIELD_KEY_POINTS,
            "the limit is 3,000",
        ),
        (
            form_values("ok", key_points="\n".join(f"point {i}" for i in range(31))),
            FIELD_KEY_POINTS,
            "At most 30 key points",
        ),
        (
            form_values("ok", quotes=[("q" * 1001, "Member", None, True)]),
            quote_field("text", 1),
            "the limit is 1,000",
        ),
        (
            form_values("ok", quotes=[("Said this", None, "Durham", True)]),
            quote_field("role", 1),
            "Give the speaker's role",
        ),
        (
            form_values("ok", quotes=[("Said this", "r" * 81, None, True)]),
            quote_field("role", 1),
            "the limit is 80",
        ),
        (
            form_values("ok", quotes=[("Said this", "Member", "p" * 81, True)]),
            quote_field("place", 1),
            "the limit is 80",
        ),
        (
            form_values("ok", quotes=[("", "Member", "Durham", True)]),
            quote_field("text", 1),
            "Add the quote, or clear",
        ),
        (
            form_values("ok", new_themes="t" * 76),
            FIELD_NEW_THEMES,
            "75 characters at most",
        ),
        (
            form_values("ok", new_themes="t" * 501),
            FIELD_NEW_THEMES,
            "the limit is 500",
        ),
        (
            form_values("ok", new_themes=",".join(f"theme {i}" for i in range(11))),
            FIELD_NEW_THEMES,
            "At most 10 themes",
        ),
    ],
)
def test_bad_report_backs_get_errors_on_the_right_field(
    bot: RunningBot, values: dict[str, Any], field: str, expected: str
) -> None:
    by_room = _setup(bot)
    reporter = _member_of(by_room, 1)
    view = open_report(bot, reporter)
    errors = _errors(submit_report(bot, reporter, view, values))
    assert expected in errors[field], errors
    assert all(len(message) <= 2000 for message in errors.values())
    assert reports(bot) == []
    assert _themes(bot) == []


def test_a_theme_that_is_not_offered_is_refused(bot: RunningBot) -> None:
    by_room = _setup(bot)
    reporter = _member_of(by_room, 1)
    assert (
        submit_report(
            bot, reporter, open_report(bot, reporter), form_values("ok", new_themes="Housing")
        ).text
        == ""
    )
    view = open_report(bot, reporter)
    assert FIELD_THEMES in all_text(view["blocks"])
    errors = _errors(submit_report(bot, reporter, view, form_values("ok", theme_ids=["9999"])))
    assert "Pick themes from the list" in errors[FIELD_THEMES]
    assert len(reports(bot)) == 1


def test_themes_added_by_one_room_are_offered_to_the_next(bot: RunningBot) -> None:
    by_room = _setup(bot)
    first, second = _member_of(by_room, 1), _member_of(by_room, 2)
    view = open_report(bot, first)
    values = form_values("ok", new_themes="Housing, Buses")
    assert submit_report(bot, first, view, values).text == ""
    view = open_report(bot, second)
    [picker] = [b for b in view["blocks"] if b.get("block_id") == FIELD_THEMES]
    offered = {o["text"]["text"]: o["value"] for o in picker["element"]["options"]}
    assert set(offered) == {"Housing", "Buses"}
    values = form_values("ours", theme_ids=[offered["Buses"]], new_themes="buses, Jobs")
    assert submit_report(bot, second, view, values).text == ""
    assert [t.name for t in _themes(bot)] == ["Housing", "Buses", "Jobs"]
    with bot.services.db.read() as db:
        links = db.exec(select(ReportTheme)).all()
    latest = reports(bot)[-1]
    assert sorted(link.theme_id for link in links if link.report_id == latest.id) == sorted(
        [int(offered["Buses"]), _themes(bot)[2].id or 0]
    )


def test_the_same_submission_delivered_twice_is_one_version(bot: RunningBot) -> None:
    by_room = _setup(bot)
    reporter = _member_of(by_room, 1)
    view = open_report(bot, reporter)
    body = report_body(reporter, view, form_values("Once only", new_themes="Housing"))
    assert bot.sender.submit_view(body).text == ""
    for attempt in (1, 2, 3):
        again = bot.sender.submit_view(body, retry_num=attempt)
        assert again.status_code == 200
        assert again.text == ""
    room = _room(bot, 1)
    eventually(lambda: len(thread(bot, room.message_ts)) == 1)
    assert len(reports(bot)) == 1
    assert len(_themes(bot)) == 1
    assert len(thread(bot, room.message_ts)) == 1


def test_hostile_text_in_every_field_is_escaped(bot: RunningBot) -> None:
    by_room = _setup(bot)
    reporter = _member_of(by_room, 1)
    hostile = "<!channel> <https://evil.example|click> & <@U0BOSS>"
    view = open_report(bot, reporter)
    values = form_values(
        hostile,
        key_points=hostile,
        quotes=[(hostile, hostile[:80], hostile[:80], True)],
        new_themes="<!here> & co",
    )
    assert submit_report(bot, reporter, view, values).text == ""
    [saved] = reports(bot)
    assert saved.summary == hostile  # stored as typed
    room = _room(bot, 1)
    eventually(lambda: _room(bot, 1).report_ts is not None)
    posts = [*thread(bot, room.message_ts)]
    posts += [m for m in bot.slack.messages(CHANNEL) if m["ts"] == _room(bot, 1).report_ts]
    shown = [t for m in posts for t in [m["text"], *mrkdwn(m["blocks"])]]
    for raw in ("<!channel>", "<https://evil", "<@U0BOSS>", "<!here>"):
        assert not [text for text in shown if raw in text], raw
    assert any("&lt;!channel&gt;" in text for text in shown)
    assert any("&lt;!here&gt; &amp; co" in text for text in shown)
    # and the form shows it back as plain text, unchanged
    view = open_report(bot, reporter)
    assert hostile in [
        b.get("element", {}).get("initial_value")
        for b in view["blocks"]
        if b.get("block_id") == FIELD_SUMMARY
    ]


def test_report_backs_close_when_the_session_ends(bot: RunningBot) -> None:
    by_room = _setup(bot)
    reporter = _member_of(by_room, 1)
    view = open_report(bot, reporter)
    assert bot.command("/session", "end").text == ""
    eventually(lambda: bot.services.sessions.active_session(CHANNEL) is None)
    errors = _errors(submit_report(bot, reporter, view, form_values("Too late")))
    assert "report-backs are closed" in errors[FIELD_SUMMARY]
    bot.click(REPORT_ACTION, str(_room(bot, 1).id), user=reporter, block_id=ROOM_ACTIONS_BLOCK)
    notice = bot.slack.wait_for("views.open", count=2)[-1].args["view"]
    assert "report-backs are closed" in all_text(notice)
    assert reports(bot) == []


def test_reports_stay_open_after_the_round_ends(bot: RunningBot) -> None:
    by_room = _setup(bot)
    reporter = _member_of(by_room, 2)
    assert "ended" in ack_text(breakout(bot, "end"))
    view = open_report(bot, reporter)
    assert submit_report(bot, reporter, view, form_values("After time")).text == ""
    assert [r.summary for r in reports(bot)] == ["After time"]


def test_a_long_report_is_split_within_slack_limits(bot: RunningBot) -> None:
    by_room = _setup(bot)
    reporter = _member_of(by_room, 1)
    view = open_report(bot, reporter)
    summary = ("& " * 1500).strip()  # 2,999 characters that grow to over 7,000 when escaped
    values = form_values(
        summary,
        key_points="\n".join("k" * 90 for _ in range(30)),
        quotes=[("<" * 1000, "Member", "Durham", True)] * 5,
    )
    assert submit_report(bot, reporter, view, values).text == ""
    room = _room(bot, 1)
    eventually(lambda: len(thread(bot, room.message_ts)) == 1)
    # FakeSlack rejects any Block Kit violation; all of the summary is still there
    posted = thread(bot, room.message_ts)[0]["blocks"]
    assert "".join(mrkdwn(posted)).count("&amp;") == 1500
    assert len(room_messages(bot)) == 2
