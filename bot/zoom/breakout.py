"""Breakout rooms as Zoom takes them: the pre-assignment (REST body and CSV) and which Zoom room,
known only by its uuid, is which planned room.

Zoom pre-assigns by email, up to 100 rooms and 1,000 people, and only places people who sign in
to Zoom with that email (docs/zoom-api-notes.md §3). Nothing here knows about Slack or the
database: the room service hands in the rooms, the emails and where people are.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

PREASSIGN_ROOMS_MAX = 100
PREASSIGN_PEOPLE_MAX = 1000
# Zoom's limit on a breakout room's name is not documented; the bot's names ("Room 12") are far
# below any limit seen in Zoom's apps, and a longer name is cut to this.
ROOM_NAME_MAX = 32
CSV_HEADER = ("Pre-assign Room Name", "Email Address")
# What makes a spreadsheet read a cell as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@")

# Why someone could not be pre-assigned.
NO_EMAIL = "no email"
SHARED_EMAIL = "email shared"  # the same email as someone placed before them
OVER_LIMIT = "over Zoom's limit"


@dataclass(frozen=True)
class PlannedRoom:
    """A room of the bot's plan: its number, its name and who is in it."""

    number: int
    name: str
    user_ids: tuple[str, ...]


@dataclass(frozen=True)
class ZoomRoom:
    """A room as Zoom takes it: its name and its people's emails."""

    name: str
    emails: tuple[str, ...]


@dataclass(frozen=True)
class Preassignment:
    """The plan as Zoom can take it, and who it cannot place (user id -> why)."""

    rooms: tuple[ZoomRoom, ...]
    unplaced: Mapping[str, str] = field(default_factory=dict)

    @property
    def placed(self) -> int:
        """How many people Zoom is given to place."""
        return sum(len(room.emails) for room in self.rooms)

    def unplaced_by_reason(self) -> dict[str, int]:
        """How many could not be placed, by reason (in the order the reasons are defined)."""
        counts = Counter(self.unplaced.values())
        return {
            reason: counts[reason]
            for reason in (NO_EMAIL, SHARED_EMAIL, OVER_LIMIT)
            if counts[reason]
        }


def zoom_room_names(names: Sequence[str]) -> list[str]:
    """Room names Zoom can show: cut to ROOM_NAME_MAX and unique (a repeat gets " (2)")."""
    seen: set[str] = set()
    unique: list[str] = []
    for name in names:
        base = " ".join(name.split())[:ROOM_NAME_MAX] or "Room"
        candidate, copy = base, 1
        while candidate.casefold() in seen:
            copy += 1
            suffix = f" ({copy})"
            candidate = base[: ROOM_NAME_MAX - len(suffix)] + suffix
        seen.add(candidate.casefold())
        unique.append(candidate)
    return unique


def preassignment(rooms: Sequence[PlannedRoom], emails: Mapping[str, str]) -> Preassignment:
    """What Zoom can be given of a plan: each room's emails, within Zoom's limits.

    Args:
        rooms: the planned rooms, in order.
        emails: the email each person is known by (people without one cannot be placed).
    """
    names = zoom_room_names([room.name for room in rooms])
    unplaced: dict[str, str] = {}
    taken: set[str] = set()
    placed = 0
    zoom_rooms: list[ZoomRoom] = []
    for index, (room, name) in enumerate(zip(rooms, names, strict=True)):
        room_emails: list[str] = []
        for user_id in room.user_ids:
            email = (emails.get(user_id) or "").strip().lower()
            if index >= PREASSIGN_ROOMS_MAX or (email and placed >= PREASSIGN_PEOPLE_MAX):
                unplaced[user_id] = OVER_LIMIT
            elif not email:
                unplaced[user_id] = NO_EMAIL
            elif email in taken:
                unplaced[user_id] = SHARED_EMAIL
            else:
                taken.add(email)
                room_emails.append(email)
                placed += 1
        if index < PREASSIGN_ROOMS_MAX:
            zoom_rooms.append(ZoomRoom(name, tuple(room_emails)))
    return Preassignment(tuple(zoom_rooms), unplaced)


def preassign_body(plan: Preassignment) -> dict[str, object]:
    """The `PATCH /meetings/{id}` body that makes `plan` the meeting's pre-assignment."""
    rooms = [
        {"name": room.name, "participants": list(room.emails)}
        for room in plan.rooms[:PREASSIGN_ROOMS_MAX]
    ]
    return {"settings": {"breakout_room": {"enable": True, "rooms": rooms}}}


def _cell(value: str) -> str:
    """A CSV cell a spreadsheet will not run: one that starts like a formula is prefixed with
    a single quote (the facilitator may open the file before importing it)."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def preassign_csv(plan: Preassignment) -> str:
    """The plan in the CSV Zoom imports ("Pre-assign Room Name,Email Address"): one row per
    person, quoted where a value holds a comma, a quote or a line break, and no cell read as a
    formula."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for room in plan.rooms:
        for email in room.emails:
            writer.writerow((_cell(room.name), _cell(email)))
    return out.getvalue()


def match_rooms(
    planned: Mapping[str, int],
    whereabouts: Mapping[str, str | None],
    earlier: Mapping[str, int] | None = None,
) -> dict[str, int]:
    """Which planned room each Zoom breakout room is.

    A Zoom room (a uuid, no name) is the planned room holding most of the people in it who are
    in the plan; a tie goes to the lowest room number. A Zoom room with nobody from the plan in
    it keeps what it was matched to before.

    Args:
        planned: user id -> planned room number.
        whereabouts: user id -> the Zoom room uuid they are in (None: not in a room).
        earlier: the matches made before (uuid -> room number).

    Returns:
        uuid -> planned room number, for every Zoom room someone is in or that was matched.
    """
    counts: dict[str, Counter[int]] = {}
    for user_id, room_uuid in whereabouts.items():
        if room_uuid is None:
            continue
        tally = counts.setdefault(room_uuid, Counter())
        if user_id in planned:
            tally[planned[user_id]] += 1
    matches = dict(earlier or {})
    for room_uuid, tally in counts.items():
        if tally:
            matches[room_uuid] = min(tally, key=lambda number: (-tally[number], number))
    return matches
