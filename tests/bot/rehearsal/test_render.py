"""The bot's own messages and modals, rendered as text a person can read in a terminal."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from slack_sdk.models.blocks import Block

from bot.polls import PollState, VoteRecorded
from bot.rehearsal.render import render_message, render_view
from bot.report.model import PollRow, Result, Share, TourAttendance
from bot.rooms.results import ReportContent, ReportForm, ReportSaved, RoomView, RoundView
from bot.sessions.results import CheckInChoices, CheckInForm, SessionStatus, SessionView
from bot.standin import validate_blocks, validate_view
from bot.summaries.model import PollSummary, RoomSummary, SessionSummary
from bot.views.common import as_dicts
from bot.views.poll_forms import render_ballot_form, render_poll_form
from bot.views.polls import render_poll_message, render_vote_confirmation
from bot.views.reports import render_report_form, render_report_in_thread
from bot.views.rooms import render_breakout_help, render_room_message, render_your_room
from bot.views.sessions import (
    render_check_in_form,
    render_session_help,
    render_session_message,
    render_status,
)
from bot.views.summary import render_summary
from storage.models import ListeningSession
from storage.polls import Poll, Tally
from storage.repository import Attendance
from storage.rooms import (
    BreakoutRoom,
    BreakoutRound,
    ReportBack,
    ReportQuote,
    RoomMember,
    SessionTheme,
)

NOW = datetime(2031, 11, 21, 18, 30, tzinfo=UTC)
PEOPLE = {"U1": "Ann", "U2": "Bob", "U3": "Cy", "U0FAC": "Fay"}
# What must never reach a reader: JSON, unrendered mentions/dates/links, escapes.
NOISE = re.compile(r'[{}]|"type"|<[@#!]|<https?:|&(?:lt|gt|amp);|\ue000')


def _name(user_id: str) -> str:
    return PEOPLE.get(user_id, user_id)


def _message(text: str, blocks: list[Block]) -> dict[str, Any]:
    payload = {"text": text, "blocks": as_dicts(blocks)}
    assert validate_blocks(payload["blocks"]) == []
    return payload


def _seen(lines: list[str], width: int = 78) -> str:
    """The rendered lines as one text, after checking they are clean and fit the width."""
    assert lines, "nothing rendered"
    for line in lines:
        assert len(line) <= width, line
        assert "\n" not in line
        assert NOISE.search(line) is None, line
    return "\n".join(lines)


def _flat(seen: str) -> str:
    """The text with its wrapping undone, for phrases that may fall across a line end."""
    return " ".join(seen.split())


def _poll(options: tuple[str, ...], counts: tuple[int, ...], **flags: Any) -> PollState:
    closed = flags.pop("closed", False)
    poll = Poll(
        id=7,
        session_id=1,
        channel_id="C1",
        key="strike-support",
        question="Should the party back the <strike> & the union?",
        option_count=len(options),
        multi=flags.get("multi", False),
        anonymous=flags.get("anonymous", False),
        hide_results=False,
        created_by="U0FAC",
        created_at=NOW,
        closes_at=NOW + timedelta(minutes=2),
        closed_at=NOW + timedelta(minutes=2) if closed else None,
        close_reason="command" if closed else None,
        closed_by="U0FAC" if closed else None,
        message_ts="1.2",
    )
    return PollState(poll, options, Tally(counts, sum(counts)))


def _session(**fields: Any) -> ListeningSession:
    return ListeningSession(
        id=3,
        channel_id="C1",
        title="Durham & District listening session",
        area="Durham",
        group_type="CLP",
        started_by="U0FAC",
        started_at=NOW,
        **fields,
    )


ATTENDANCE = Attendance(
    checked_in=12,
    by_role=[("Member", 10), ("Councillor", 2)],
    by_group=[("CLP", 12)],
    not_checked_in=3,
)


def _round() -> tuple[RoundView, RoomView]:
    breakout = BreakoutRound(
        id=5,
        session_id=3,
        number=1,
        mode="random",
        seed=42,
        prompt="What should we <fix> first?",
        started_by="U0FAC",
        started_at=NOW,
        ends_at=NOW + timedelta(minutes=15),
        warn_at=NOW + timedelta(minutes=13),
    )
    rooms = []
    for number, users in ((1, ["U1", "U0FAC"]), (2, ["U2", "U3"])):
        room = BreakoutRoom(id=10 + number, round_id=5, number=number)
        members = [
            RoomMember(
                round_id=5,
                room_id=10 + number,
                user_id=user,
                facilitator=user == "U0FAC",
                joined_at=NOW,
                joined_how="assigned",
            )
            for user in users
        ]
        rooms.append(RoomView(room, members, reported=False))
    return RoundView(_session(), breakout, rooms), rooms[0]


# -- polls --------------------------------------------------------------------------------------


def test_an_open_poll_shows_the_question_options_buttons_and_tally() -> None:
    text, blocks = render_poll_message(_poll(("Yes", "No", "Not sure"), (4, 5, 1)))
    seen = _seen(render_message(_message(text, blocks), names=_name))
    assert "Poll: Should the party back the <strike> & the union?" in seen
    for number, option in enumerate(("Yes", "No", "Not sure"), start=1):
        assert f"\n{number}. {option}\n" in seen
        assert f"[ {number}. {option} ]" in seen
    assert "`████░░░░░░` 40% (4)" in seen
    assert "[ 1. Yes ]  [ 2. No ]  [ 3. Not sure ]" in seen  # one row, as in Slack
    assert "Closes 21 Nov 2031 18:32 UTC · 10 voted" in seen
    assert "[ Results (facilitators) ]" in seen


def test_many_options_wrap_their_buttons_within_the_width() -> None:
    options = tuple(f"Option number {n}" for n in range(1, 11))
    text, blocks = render_poll_message(_poll(options, (1,) * 10))
    lines = render_message(_message(text, blocks), width=50)
    _seen(lines, width=50)
    buttons = [line for line in lines if line.startswith("[ ")]
    assert len(buttons) >= 5
    assert sum(line.count("[ ") for line in buttons) == 11  # 10 options and Results


def test_a_closed_poll_shows_its_final_figures_and_who_closed_it() -> None:
    text, blocks = render_poll_message(_poll(("Yes", "No"), (3, 1), closed=True))
    seen = _seen(render_message(_message(text, blocks), names=_name))
    assert seen.startswith(":lock: Poll closed: Should the party back")
    assert "`████████░░` 75% · 3 of 4 who voted" in seen
    assert "Closed by @Fay 21 Nov 2031 18:32 UTC · 4 voted · key `strike-support`" in seen
    assert "[ " not in seen  # no buttons once closed


def test_an_anonymous_multi_choice_poll_has_one_primary_vote_button() -> None:
    text, blocks = render_poll_message(_poll(("A", "B"), (0, 0), anonymous=True, multi=True))
    seen = _seen(render_message(_message(text, blocks)))
    assert "[▶ Vote ]" in seen
    assert "nobody has voted yet" in seen


def test_the_vote_confirmation_offers_check_in() -> None:
    result = VoteRecorded(
        poll_id=7,
        session_id=3,
        channel_id="C1",
        chosen=("Yes",),
        multi=False,
        anonymous=False,
        closes_at=NOW + timedelta(minutes=2),
        checked_in=False,
    )
    text, blocks = render_vote_confirmation(result)
    seen = _seen(render_message(_message(text, blocks)))
    assert "You voted: Yes. You can change it until 21 Nov 2031 18:32 UTC." in _flat(seen)
    assert "[▶ Check in ]" in seen


def test_the_ballot_and_the_poll_form_show_their_fields() -> None:
    ballot = render_ballot_form(_poll(("Buses", "Housing"), (0, 0), anonymous=True, multi=True))
    seen = _seen(render_view(ballot.to_dict()))
    assert seen.startswith("Anonymous vote\n══════════════\n")
    assert "Choose all that apply:\n  [ ] Buses\n  [ ] Housing" in seen
    assert seen.endswith("[ Cancel ]  [▶ Vote ]")
    form = render_poll_form("C1").to_dict()
    assert validate_view(form) == []
    seen = _seen(render_view(form))
    assert "Question:\n  │ (e.g. Should the party back the strike?)" in seen
    assert "Options, one per line:\n  │ (Yes)\n  │ (No)\n  │ (Not sure)" in seen
    assert "How long it runs: [ 2m ]" in seen
    assert "  [ ] Anonymous\n      Choices are never linked to people" in seen
    assert "Key (optional): [ (e.g. strike-support) ]" in seen


# -- sessions -----------------------------------------------------------------------------------


def test_the_session_message_shows_its_header_check_in_row_and_attendance() -> None:
    choices = CheckInChoices(roles=("Member", "Councillor"), places=("Durham", "Stoke"))
    text, blocks = render_session_message(SessionView(_session(), ATTENDANCE), choices)
    seen = _seen(render_message(_message(text, blocks), names=_name))
    title = "Durham & District listening session"
    assert seen.startswith(f"{title}\n{'═' * len(title)}\n")
    assert "Area: Durham   Group: CLP" in seen
    assert "[ Check in as… ▾ ]  [ Where you are… ▾ ]  [ Quote me ]  [ Change details ]" in seen
    assert "  · Started by @Fay 21 Nov 2031 18:30 UTC · 12 checked in" in seen


def test_an_ended_session_message_has_no_controls() -> None:
    text, blocks = render_session_message(SessionView(_session(ended_at=NOW), ATTENDANCE))
    seen = _seen(render_message(_message(text, blocks)))
    assert "  · Ended 21 Nov 2031 18:30 UTC · 12 people checked in" in seen
    assert "[" not in seen


def test_status_lists_attendance_and_facilitators_by_name() -> None:
    status = SessionStatus(SessionView(_session(), ATTENDANCE), ["Poll: Buses?"], ["U0FAC"], True)
    text, blocks = render_status(status)
    seen = _seen(render_message(_message(text, blocks), names=_name))
    assert "By role\n• Member — 10\n• Councillor — 2" in seen
    assert "\n" + "─" * 78 + "\n" in seen
    assert "  · Facilitators: @Fay. You are one of them." in seen


def test_the_check_in_form_shows_each_field_as_filled_in() -> None:
    form = CheckInForm(_session(), "Member", "Durham", None, consent_to_quote=True, returning=True)
    view = render_check_in_form(form).to_dict()
    assert validate_view(view) == []
    seen = _seen(render_view(view))
    assert seen.startswith("Check in\n════════\nDurham & District listening session\n")
    assert "Your role: [ Member ▾ ]\n  · Pick one, or type your own and choose it." in seen
    assert "Where you are (optional): [ Durham ]" in seen
    assert "Group (optional): [________]" in seen
    assert "  [x] Quote me, attributed by role and place" in seen
    assert seen.endswith("\n\n[ Cancel ]  [▶ Update ]")


def test_a_first_check_in_form_shows_placeholders() -> None:
    form = CheckInForm(_session(), None, None, None, consent_to_quote=False, returning=False)
    seen = _seen(render_view(render_check_in_form(form).to_dict()))
    assert "Your role: [ e.g. Member ▾ ]" in seen
    assert "Where you are (optional): [ (Town or city) ]" in seen
    assert "  [ ] Quote me" in seen
    assert seen.endswith("[▶ Check in ]")


@pytest.mark.parametrize("help_blocks", [render_session_help, render_breakout_help])
def test_help_shows_usage_placeholders_unescaped(help_blocks: Any) -> None:
    seen = _seen(render_message({"blocks": as_dicts(help_blocks())}))
    assert re.search(r"<[a-z][a-z ]*>", seen), seen  # e.g. "<title>", "<rooms>"


# -- rooms --------------------------------------------------------------------------------------


def test_a_room_message_names_its_members_prompt_and_report_button() -> None:
    view, room = _round()
    text, blocks = render_room_message(view, room)
    seen = _seen(render_message(_message(text, blocks), names=_name))
    assert ":door: Room 1 · breakout round 1\n@Ann, @Fay (facilitator)" in seen
    assert "Prompt: What should we <fix> first?" in seen
    assert "[▶ Report back ]" in seen
    assert "  · Ends 21 Nov 2031 18:45 UTC (15m round) · Chat in this message's thread" in seen


def test_a_private_room_note_shows_the_link_label_not_the_url() -> None:
    view, room = _round()
    link = "https://acme.slack.com/archives/C1/p1953225000000100"
    seen = _seen(render_message({"text": render_your_room(view, room, "U1", link)}, names=_name))
    assert "Chat in Room 1's thread until 21 Nov 2031 18:45 UTC." in _flat(seen)
    assert "with @Fay (facilitator)" not in seen  # facilitators are only marked in the room
    assert "with @Fay" in seen
    assert "https://" not in seen


def test_the_report_form_for_a_facilitator_shows_the_room_menu_and_last_version() -> None:
    view, room = _round()
    report = ReportBack(
        id=1,
        room_id=11,
        version=2,
        submitted_by="U1",
        submitted_at=NOW,
        summary="Buses first.\nThen housing.",
        key_points="",
    )
    quote = ReportQuote(
        report_id=1,
        position=1,
        text="Buses!",
        speaker_role="Member",
        speaker_place="Durham",
        consent=True,
    )
    theme = SessionTheme(id=4, session_id=3, name="Transport", name_key="transport", created_at=NOW)
    latest = ReportContent(report, [quote], [theme])
    form = render_report_form(ReportForm(view, room, True, [theme], latest)).to_dict()
    assert validate_view(form) == []
    seen = _seen(render_view(form, names=_name))
    assert "Room: [ Room 1 (2 people) ▾ ]" in seen
    assert "  · Editing version 2 by @Ann." in seen
    assert "Summary:\n  │ Buses first.\n  │ Then housing." in seen
    assert "Quote 1 (optional):\n  │ Buses!\nQuote 1: speaker's role (optional): [ Member ]" in seen
    assert "Quote 2 (optional):\n  │ (What someone said, in their words)" in seen
    assert "  [x] The speaker agreed to be quoted" in seen
    assert "Themes (optional): [ Transport ▾ ]" in seen
    saved = ReportSaved(view, room, latest)
    seen = _seen(render_message(_message(*render_report_in_thread(saved)), names=_name))
    assert "Room 1 report-back (version 2) from @Ann" in seen
    assert "> “Buses!”\n> — Member, Durham" in seen


# -- summaries ----------------------------------------------------------------------------------


def test_a_summary_shows_its_header_polls_rooms_and_quotes() -> None:
    row = PollRow(
        id=7,
        session_id=3,
        key="k",
        question="Back the strike?",
        options=("Yes", "No"),
        multi=False,
        anonymous=False,
    )
    result = Result(name="all", n=10, shares=(Share("Yes", 8, 80), Share("No", 2, 20)))
    summary = SessionSummary(
        session=_session(),
        interim=False,
        at=NOW,
        attendance=TourAttendance(1, 12, 12, (("Member", 12),), (("CLP", 12),)),
        polls=(PollSummary(row, result),),
        rooms=(RoomSummary(1, 2, "We want buses & trams.", ("More buses",), 2),),
        quotes=(("Fix the buses", "Member, Durham"),),
        themes=(("Transport", 2),),
    )
    seen = "\n".join(
        _seen(render_message(_message(text, blocks), width=72), width=72)
        for text, blocks in render_summary(summary)
    )
    title = "Summary: Durham & District listening session"
    assert seen.startswith(f"{title}\n{'═' * len(title)}\n  · ")
    assert "`████████░░` 80% Yes (8)" in seen
    assert "Round 1 · Room 2 (edited, 2 versions)\nWe want buses & trams.\n• More buses" in seen
    assert "> “Fix the buses” — Member, Durham" in seen
    assert "─" * 72 in seen
