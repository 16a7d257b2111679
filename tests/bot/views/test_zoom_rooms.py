"""Views of rounds on Zoom: Slack says plainly what happened in Zoom, room names match Zoom's,
Zoom-only people are named (never mentioned), and every message keeps within Slack's limits."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

from slack_sdk.models.blocks import Block

from bot.rooms import RoomView, RoomWhereabouts, RoundStarted, RoundView, ZoomNote, ZoomRoomStatus
from bot.standin import validate_blocks
from bot.views.common import as_dicts
from bot.views.rooms import render_room_message, render_round_started, render_your_room
from bot.views.zoom_rooms import (
    CHOOSE_ROOM,
    PASTE_PIECE_MAX,
    ROOMS_SHOWN,
    render_csv_message,
    render_paste_intro,
    render_paste_list,
    render_preassign_written,
    render_zoom_started,
    zoom_room_status_lines,
)
from bot.zoom.breakout import NO_EMAIL, OVER_LIMIT, PlannedRoom, preassignment
from storage.models import ListeningSession
from storage.rooms import BreakoutRoom, BreakoutRound, RoomMember
from storage.zoom.rooms import LIVE, PREASSIGN, ZoomRoundPlan

NOW = datetime(2031, 11, 21, 18, 30, tzinfo=UTC)


def _view(
    rooms: list[list[str]], *, how: str | None = LIVE, names: Mapping[str, str] | None = None
) -> RoundView:
    session = ListeningSession(
        id=1, channel_id="C1", title="Durham", started_by="UF", started_at=NOW
    )
    breakout = BreakoutRound(
        id=7,
        session_id=1,
        number=2,
        mode="random",
        seed=1,
        started_by="UF",
        started_at=NOW,
        ends_at=NOW + timedelta(minutes=15),
        warn_at=NOW + timedelta(minutes=13),
    )
    views = []
    for number, users in enumerate(rooms, start=1):
        room = BreakoutRoom(id=100 + number, round_id=7, number=number)
        members = [
            RoomMember(
                id=1000 * number + index,
                round_id=7,
                room_id=100 + number,
                user_id=user,
                joined_at=NOW,
                joined_how="assigned",
            )
            for index, user in enumerate(users)
        ]
        views.append(RoomView(room, members, reported=False))
    plan = (
        None
        if how is None
        else ZoomRoundPlan(
            round_id=7, session_id=1, meeting_id="81234567890", how=how, created_at=NOW
        )
    )
    return RoundView(session, breakout, views, zoom=plan, names=dict(names or {}))


def _valid(blocks: Sequence[Block]) -> None:
    assert validate_blocks(as_dicts(blocks)) == []


# -- the facilitator's answer -------------------------------------------------------------------


def test_the_answer_says_the_round_is_the_meetings_pre_assignment() -> None:
    view = _view([["U1"], ["U2"], ["U3"]], how=PREASSIGN)
    note = ZoomNote(how=PREASSIGN, rooms=3, placed=2, unplaced={NO_EMAIL: 1}, written=True)
    _, blocks = render_round_started(RoundStarted(view, zoom=note))
    _valid(blocks)
    zoom = str(blocks[-1].text.text)  # type: ignore[attr-defined]
    assert "the meeting has not started, so this round is its pre-assignment" in zoom
    assert "Room 1 … Room 3" in zoom
    assert "2 people can be placed by email" in zoom
    assert "1 person cannot be placed: the bot knows no email for them" in zoom
    assert "CSV" in zoom
    assert "Zoom API credentials" not in zoom
    without = render_zoom_started(
        ZoomNote(how=PREASSIGN, rooms=1, placed=0, unplaced={OVER_LIMIT: 4}, written=False)
    )
    assert "no Zoom API credentials" in without
    assert "Import from CSV" in without
    assert "4 people cannot be placed: Zoom pre-assigns at most 100 rooms" in without


def test_the_answer_says_the_meeting_runs_and_how_to_open_the_rooms() -> None:
    view = _view([["U1"], ["U2"]])
    _, blocks = render_round_started(RoundStarted(view, zoom=ZoomNote(how=LIVE, rooms=2)))
    _valid(blocks)
    zoom = str(blocks[-1].text.text)  # type: ignore[attr-defined]
    assert "the meeting is running, so Zoom cannot take a pre-assignment" in zoom
    assert CHOOSE_ROOM in zoom
    assert "rename them exactly *Room 1 … Room 2*" in zoom
    # A Slack-only round says nothing of Zoom.
    _, plain = render_round_started(RoundStarted(_view([["U1"]], how=None)))
    assert "Zoom" not in str(as_dicts(plain))


# -- what the rooms' people see -----------------------------------------------------------------


def test_room_messages_and_notices_name_the_zoom_room() -> None:
    view = _view([["U1", "zoom:dan"], ["U2"]], names={"zoom:dan": "Dan <&> O'Neil"})
    _, blocks = render_room_message(view, view.rooms[0])
    _valid(blocks)
    shown = str(as_dicts(blocks))
    assert "join the breakout room *“Room 1”*" in shown
    assert "Dan &lt;&amp;&gt; O'Neil _(Zoom)_" in shown
    assert "<@zoom:dan>" not in shown
    notice = render_your_room(view, view.rooms[0], "U1", None)
    assert "join the breakout room *“Room 1”*" in notice
    assert "Dan &lt;&amp;&gt; O'Neil _(Zoom)_" in notice
    pre = _view([["U1"]], how=PREASSIGN)
    assert "you're placed in it when the host opens the rooms" in render_your_room(
        pre, pre.rooms[0], "U1", None
    )
    slack_only = _view([["U1"]], how=None)
    assert "Zoom" not in render_your_room(slack_only, slack_only.rooms[0], "U1", None)


# -- the CSV's message and Zoom's answer --------------------------------------------------------


def test_the_csv_message_lists_who_is_not_in_it_and_why() -> None:
    view = _view([["U1", "U2"], ["zoom:dan"]], how=PREASSIGN, names={"zoom:dan": "Dan"})
    plan = preassignment(
        [PlannedRoom(1, "Room 1", ("U1", "U2")), PlannedRoom(2, "Room 2", ("zoom:dan",))],
        {"U1": "a@x.org"},
    )
    text = render_csv_message(view, plan)
    assert "2 rooms (Room 1 … Room 2), 1 person by email" in text
    assert "Not in it (2 people: the bot knows no email for them" in text
    assert "<@U2> and Dan _(Zoom)_" in text


def test_zooms_answer_is_said_plainly() -> None:
    view = _view([["U1"]], how=PREASSIGN)
    plan = view.zoom
    assert plan is not None
    plan.placed, plan.written_at = 1, NOW
    assert "Zoom has the pre-assignment of breakout round 2" in render_preassign_written(view, plan)
    plan.problem = "Meeting <id> not found"
    refused = render_preassign_written(view, plan)
    assert "Zoom refused the pre-assignment of breakout round 2: Meeting &lt;id&gt;" in refused
    assert CHOOSE_ROOM in refused


# -- the list to paste into Zoom's chat ---------------------------------------------------------


def test_the_paste_list_names_everyone_in_pieces_of_whole_rooms() -> None:
    rooms = [[f"U{r}x{n}" for n in range(12)] + [f"zoom:{r}"] for r in range(1, 31)]
    names = {f"zoom:{r}": f"Zoe, the {r}th" for r in range(1, 31)} | {"U1x0": "Ana Zoom"}
    view = _view(rooms, names=names)
    pieces = render_paste_list(view)
    assert len(pieces) > 1
    assert all(len(piece) <= PASTE_PIECE_MAX for piece in pieces)
    lines = "\n".join(pieces).splitlines()
    assert lines[0] == "Breakout round 2: join your room in Zoom"
    assert len(lines) == 31  # one whole line per room: no room is split across pieces
    assert lines[1].startswith("Room 1 — Ana Zoom, <@U1x1>, ")
    assert lines[1].endswith(", Zoe, the 1th")
    assert lines[30].startswith("Room 30 — ")
    intro = render_paste_intro(view)
    assert CHOOSE_ROOM in intro
    assert "rename them exactly *Room 1 … Room 30*" in intro


def test_an_unknown_zoom_only_person_is_still_in_the_list() -> None:
    view = _view([["zoom:anon"]])
    assert render_paste_list(view) == [
        "Breakout round 2: join your room in Zoom\nRoom 1 — someone in Zoom"
    ]


# -- who is where -------------------------------------------------------------------------------


def _where(view: RoundView, number: int, **parts: object) -> RoomWhereabouts:
    values: dict[str, object] = {
        "here": [],
        "elsewhere": [],
        "not_in_room": [],
        "not_in_zoom": [],
        "visitors": [],
    }
    values.update(parts)
    return RoomWhereabouts(room=view.rooms[number - 1], **values)  # type: ignore[arg-type]


def test_status_lines_say_who_is_where() -> None:
    view = _view([["U1", "U2"], ["U3", "U4", "U5", "zoom:cara", "U6"]], names={"zoom:cara": "Cara"})
    status = ZoomRoomStatus(
        view,
        [
            _where(view, 1, here=["U1", "U2"]),
            _where(
                view,
                2,
                here=["U3", "U4"],
                elsewhere=[("U5", 1), ("U6", None)],
                not_in_room=["zoom:cara"],
                visitors=["zoom:eve"],
            ),
        ],
        [["zoom:lost"]],
    )
    lines = zoom_room_status_lines(status)
    assert lines == [
        "*Zoom rooms* (breakout round 2), against the plan:",
        "*Room 1*: 2 of 2 planned here",
        "*Room 2*: 2 of 5 planned here; <@U5> is in Room 1; <@U6> is in a Zoom room of no "
        "planned room; Cara _(Zoom)_ not in a room; also here, not in the plan: someone in "
        "Zoom _(Zoom)_",
        "A Zoom room with nobody from the plan: someone in Zoom _(Zoom)_.",
    ]
    assert zoom_room_status_lines(None) == []


def test_many_rooms_show_those_off_plan_first_and_sum_up_the_rest() -> None:
    view = _view([[f"U{n}"] for n in range(1, 41)])
    wheres = [_where(view, n, here=[f"U{n}"]) for n in range(1, 41)]
    wheres[29] = _where(view, 30, not_in_zoom=["U30"])
    wheres[34] = _where(view, 35, not_in_room=["U35"])
    lines = zoom_room_status_lines(ZoomRoomStatus(view, wheres, []))
    assert len(lines) == 1 + ROOMS_SHOWN + 1
    assert "*Room 35*: 0 of 1 planned here; <@U35> not in a room" in lines
    assert lines[-1] == "28 more rooms: everyone in Zoom is where planned."
    assert [line.split("*")[1] for line in lines[1:-1]][-1] == "Room 35"
