"""Breakout rooms as Zoom takes them: the pre-assignment body and CSV, and room matching."""

from __future__ import annotations

import csv
import io

from bot.zoom.breakout import (
    CSV_HEADER,
    NO_EMAIL,
    OVER_LIMIT,
    PREASSIGN_PEOPLE_MAX,
    PREASSIGN_ROOMS_MAX,
    ROOM_NAME_MAX,
    SHARED_EMAIL,
    PlannedRoom,
    Preassignment,
    ZoomRoom,
    match_rooms,
    preassign_body,
    preassign_csv,
    preassignment,
    zoom_room_names,
)


def _rooms(*members: tuple[str, ...]) -> list[PlannedRoom]:
    return [PlannedRoom(number, f"Room {number}", users) for number, users in enumerate(members, 1)]


# -- matching Zoom rooms to planned rooms -------------------------------------------------------


def test_a_zoom_room_is_the_planned_room_holding_most_of_its_people() -> None:
    planned = {"A": 1, "B": 1, "C": 2, "D": 2, "E": 2}
    where = {"A": "zx", "B": "zx", "C": "zx", "D": "zy", "E": "zy"}
    assert match_rooms(planned, where) == {"zx": 1, "zy": 2}


def test_a_tie_goes_to_the_lowest_room_number() -> None:
    planned = {"A": 3, "B": 2, "C": 5, "D": 2, "E": 5}
    assert match_rooms(planned, {"A": "z", "B": "z", "C": "z", "D": "z", "E": "z"}) == {"z": 2}
    assert match_rooms({"A": 4, "B": 1}, {"A": "z", "B": "z"}) == {"z": 1}


def test_people_outside_the_plan_and_in_no_room_do_not_count() -> None:
    planned = {"A": 2}
    where = {"A": "z", "X": "z", "Y": "z", "B": None, "Q": "other"}
    assert match_rooms(planned, where) == {"z": 2}  # "other" holds nobody from the plan


def test_a_room_with_nobody_from_the_plan_keeps_its_earlier_match() -> None:
    earlier = {"z": 3, "gone": 1}
    assert match_rooms({"A": 3}, {"X": "z"}, earlier) == {"z": 3, "gone": 1}
    # ... and a room whose people now say otherwise is matched anew.
    assert match_rooms({"A": 2, "B": 2}, {"A": "z", "B": "z"}, earlier) == {"z": 2, "gone": 1}


# -- the pre-assignment -------------------------------------------------------------------------


def test_people_are_placed_by_email_and_those_without_one_are_counted() -> None:
    plan = preassignment(
        _rooms(("U1", "U2"), ("zoom:abc", "U3")),
        {"U1": " Ana@Example.org ", "zoom:abc": "dan@example.org", "U3": ""},
    )
    assert plan.rooms == (
        ZoomRoom("Room 1", ("ana@example.org",)),
        ZoomRoom("Room 2", ("dan@example.org",)),
    )
    assert plan.placed == 2
    assert plan.unplaced == {"U2": NO_EMAIL, "U3": NO_EMAIL}
    assert plan.unplaced_by_reason() == {NO_EMAIL: 2}


def test_an_email_is_placed_once() -> None:
    plan = preassignment(_rooms(("U1",), ("U2",)), {"U1": "same@x.org", "U2": "SAME@x.org"})
    assert plan.rooms[1] == ZoomRoom("Room 2", ())
    assert plan.unplaced == {"U2": SHARED_EMAIL}


def test_the_body_never_holds_more_than_zooms_100_rooms() -> None:
    rooms = _rooms(*[(f"U{n}",) for n in range(1, 106)])
    plan = preassignment(rooms, {f"U{n}": f"u{n}@x.org" for n in range(1, 106)})
    body = preassign_body(plan)
    breakout = body["settings"]["breakout_room"]  # type: ignore[index]
    assert breakout["enable"] is True
    assert len(breakout["rooms"]) == PREASSIGN_ROOMS_MAX
    assert breakout["rooms"][0] == {"name": "Room 1", "participants": ["u1@x.org"]}
    assert breakout["rooms"][-1]["name"] == "Room 100"
    assert plan.unplaced == {f"U{n}": OVER_LIMIT for n in range(101, 106)}
    # A body made by hand with more rooms is cut too.
    many = Preassignment(tuple(ZoomRoom(f"R{n}", ()) for n in range(150)))
    assert len(preassign_body(many)["settings"]["breakout_room"]["rooms"]) == 100  # type: ignore[index]


def test_no_more_than_zooms_1000_people_are_placed() -> None:
    users = tuple(f"U{n}" for n in range(PREASSIGN_PEOPLE_MAX + 3))
    plan = preassignment(
        _rooms(users[:600], users[600:]), {user: f"{user}@x.org" for user in users}
    )
    assert plan.placed == PREASSIGN_PEOPLE_MAX
    assert plan.unplaced_by_reason() == {OVER_LIMIT: 3}


def test_room_names_are_unique_and_short() -> None:
    long = "A very long room name that Zoom might not show in full"
    names = zoom_room_names(["Room 1", "room 1", long, long, "  spaced   out  ", ""])
    assert names[:2] == ["Room 1", "room 1 (2)"]
    assert all(len(name) <= ROOM_NAME_MAX for name in names)
    assert names[2] != names[3]
    assert names[3].endswith(" (2)")
    assert names[4:] == ["spaced out", "Room"]
    assert len({name.casefold() for name in names}) == len(names)


def test_the_body_uses_the_unique_names() -> None:
    plan = preassignment(
        [PlannedRoom(1, "Same", ("U1",)), PlannedRoom(2, "Same", ("U2",))],
        {"U1": "a@x.org", "U2": "b@x.org"},
    )
    rooms = preassign_body(plan)["settings"]["breakout_room"]["rooms"]  # type: ignore[index]
    assert [room["name"] for room in rooms] == ["Same", "Same (2)"]


# -- the CSV ------------------------------------------------------------------------------------


def test_the_csv_has_zooms_header_and_one_row_per_person() -> None:
    plan = preassignment(
        _rooms(("U1", "U2"), ("U3",)), {"U1": "a@x.org", "U2": "b@x.org", "U3": "c@x.org"}
    )
    assert preassign_csv(plan) == (
        "Pre-assign Room Name,Email Address\r\n"
        "Room 1,a@x.org\r\n"
        "Room 1,b@x.org\r\n"
        "Room 2,c@x.org\r\n"
    )


def test_names_with_commas_quotes_and_line_breaks_are_quoted() -> None:
    plan = Preassignment(
        (
            ZoomRoom('Ana, Ben & "Cara"', ('"odd,local"@x.org',)),
            ZoomRoom("Two\nlines", ("d@x.org",)),
        )
    )
    text = preassign_csv(plan)
    assert text.splitlines()[1] == '"Ana, Ben & ""Cara""","""odd,local""@x.org"'
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows == [
        list(CSV_HEADER),
        ['Ana, Ben & "Cara"', '"odd,local"@x.org'],
        ["Two\nlines", "d@x.org"],
    ]


def test_cells_a_spreadsheet_would_run_as_formulas_start_with_a_quote() -> None:
    plan = Preassignment(
        (
            ZoomRoom('=HYPERLINK("http://x")', ("+1@x.org", "-2@x.org")),
            ZoomRoom("@SUM(A1)", ("e@x.org",)),
            ZoomRoom("Room 3", ("a=b@x.org",)),  # only a cell's first character counts
        )
    )
    rows = list(csv.reader(io.StringIO(preassign_csv(plan), newline="")))
    assert rows[1:] == [
        ['\'=HYPERLINK("http://x")', "'+1@x.org"],
        ['\'=HYPERLINK("http://x")', "'-2@x.org"],
        ["'@SUM(A1)", "e@x.org"],
        ["Room 3", "a=b@x.org"],
    ]


def test_a_csv_with_nobody_placed_is_just_the_header() -> None:
    plan = preassignment(_rooms(("U1",)), {})
    assert preassign_csv(plan) == "Pre-assign Room Name,Email Address\r\n"
