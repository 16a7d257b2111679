"""Views for breakout rounds on Zoom: what the facilitator is told when a round goes to Zoom, the
line each room's people see, the pre-assignment CSV's message, the list to paste into Zoom's
chat, and who is where in `/session status`.

Zoom-only people have no Slack account: they are shown by the name Zoom gives them, never
mentioned.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.rooms import (
    MEETING_STARTED,
    RoomView,
    RoomWhereabouts,
    RoundView,
    ZoomNote,
    ZoomRoomStatus,
)
from bot.views.common import esc, mention, pack_lines
from bot.zoom.breakout import NO_EMAIL, OVER_LIMIT, SHARED_EMAIL, Preassignment
from storage.zoom.people import is_zoom_only
from storage.zoom.rooms import LIVE, PREASSIGN, ZoomRoundPlan

ICON = ":video_camera:"
NAME_MAX = 60
NAMES_SHOWN = 5  # per clause of a status line: "Ben, Cara and 3 more are in Room 3"
ROOMS_SHOWN = 12  # status lines for rooms; the rest are summed up in one line
UNPLACED_SHOWN = 20
# Each piece of the list to paste is one message: short enough to paste as one Zoom chat
# message (Zoom does not document its limit; 1,000 characters is well inside what it takes).
PASTE_PIECE_MAX = 1000
CHOOSE_ROOM = "Allow participants to choose room"

_WHY_UNPLACED = {
    NO_EMAIL: "the bot knows no email for them (Slack shares people's emails only with the "
    "`users:read.email` scope; Zoom-only people give theirs when they register)",
    SHARED_EMAIL: "their email is also someone else's, and Zoom places an email once",
    OVER_LIMIT: "Zoom pre-assigns at most 100 rooms and 1,000 people",
}


def person(user_id: str, names: Mapping[str, str]) -> str:
    """Someone in Slack text: a mention, or for a Zoom-only person the name Zoom gives them."""
    if is_zoom_only(user_id):
        return f"{esc(names.get(user_id) or 'someone in Zoom', NAME_MAX)} _(Zoom)_"
    return mention(user_id)


def _listed(user_ids: Sequence[str], names: Mapping[str, str], shown: int = NAMES_SHOWN) -> str:
    """People as a short list, the tail folded into "and N more"."""
    parts = [person(user, names) for user in user_ids[:shown]]
    if len(user_ids) > shown:
        parts.append(f"{len(user_ids) - shown} more")
    if len(parts) == 1:
        return parts[0]
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _people(count: int) -> str:
    return "1 person" if count == 1 else f"{count:,} people"


def _room_names(count: int) -> str:
    return "Room 1" if count == 1 else f"Room 1 … Room {count}"


# -- the round's start ------------------------------------------------------------------------


def render_zoom_started(note: ZoomNote) -> str:
    """What the facilitator is told a new round did in Zoom (in their answer to `/breakout`)."""
    names = _room_names(note.rooms)
    if note.how == LIVE:
        return (
            f"{ICON} *Zoom: the meeting is running, so Zoom cannot take a pre-assignment and no "
            "Zoom call can move people.* In Zoom, open *Breakout Rooms*, create "
            f"{note.rooms} rooms with *{CHOOSE_ROOM}*, rename them exactly *{names}* and open "
            "them. Everyone in Slack has been told their room's name; the list to paste into "
            "Zoom's chat, for the others, comes to you in a direct message."
        )
    if note.written:
        done = (
            f"the bot is writing these rooms ({names}) into the meeting as its pre-assigned "
            "breakout rooms — you'll get a direct message when Zoom has them"
        )
    else:
        done = (
            "the bot cannot write it into the meeting itself (it has no Zoom API credentials): "
            f"import the CSV in Zoom's meeting settings (Breakout Room → Pre-assign → Import "
            f"from CSV) to get {names}"
        )
    lines = [
        f"{ICON} *Zoom: the meeting has not started, so this round is its pre-assignment:* "
        f"{done}. The CSV in Zoom's pre-assign format comes to you in a direct message.",
        f"{_people(note.placed)} can be placed by email.",
    ]
    for reason, count in note.unplaced.items():
        lines.append(f"{_people(count)} cannot be placed: {_WHY_UNPLACED.get(reason, reason)}.")
    lines.append(
        "Zoom places people only when they join signed in to Zoom with that email; the host "
        "places anyone else in Zoom."
    )
    return "\n".join(lines)


def render_zoom_room_line(view: RoundView, room: RoomView) -> str | None:
    """The line a room's message and its people's notices carry in a round on Zoom."""
    if view.zoom is None:
        return None
    if view.zoom.how == PREASSIGN:
        return (
            f"{ICON} In Zoom this is the breakout room *“{room.name}”*: you're placed in it when "
            "the host opens the rooms, if you're signed in to Zoom with your email — otherwise "
            f"join “{room.name}” when the host lets you choose."
        )
    return (
        f"{ICON} In Zoom, join the breakout room *“{room.name}”* (Breakout Rooms → "
        f"{room.name} → Join)."
    )


# -- the pre-assignment -----------------------------------------------------------------------


def csv_filename(view: RoundView) -> str:
    """The CSV's file name."""
    return f"zoom-preassign-round-{view.round.number}.csv"


def render_csv_message(view: RoundView, plan: Preassignment) -> str:
    """The direct message the pre-assignment CSV comes with."""
    rooms = len(plan.rooms)
    lines = [
        f"{ICON} *Breakout round {view.round.number} as Zoom's pre-assignment:* {rooms} "
        f"{'room' if rooms == 1 else 'rooms'} ({_room_names(rooms)}), "
        f"{_people(plan.placed)} by email. To use it yourself: Zoom web portal → the meeting → "
        "Edit → Breakout Room pre-assign → *Import from CSV*."
    ]
    for reason, count in plan.unplaced_by_reason().items():
        who = [user for user, why in plan.unplaced.items() if why == reason]
        lines.append(
            f"Not in it ({_people(count)}: {_WHY_UNPLACED.get(reason, reason)}): "
            f"{_listed(who, view.names, UNPLACED_SHOWN)}."
        )
    return "\n".join(lines)


def render_preassign_written(view: RoundView, plan: ZoomRoundPlan) -> str:
    """The facilitator's direct message once Zoom has answered the pre-assignment."""
    number = view.round.number
    if plan.problem is None:
        return (
            f"{ICON} Zoom has the pre-assignment of breakout round {number}: "
            f"{len(view.rooms)} rooms, {_people(plan.placed)} placed by email. When the meeting "
            "runs, open the breakout rooms in Zoom and people signed in with those emails go "
            "to their rooms."
        )
    if plan.problem == MEETING_STARTED:
        return (
            f"{ICON} The meeting started before Zoom had the pre-assignment of breakout round "
            f"{number}, so people choose their own room in Zoom: how to set the rooms up, and "
            "the list to paste into Zoom's chat, follow."
        )
    return (
        f":warning: Zoom refused the pre-assignment of breakout round {number}: "
        f"{esc(plan.problem, 300)}. Import the CSV you were sent in Zoom instead, or, once the "
        f"meeting runs, create rooms named exactly {_room_names(len(view.rooms))} with "
        f"*{CHOOSE_ROOM}*."
    )


# -- the list to paste into Zoom's chat -------------------------------------------------------


def _paste_name(user_id: str, names: Mapping[str, str]) -> str:
    """Someone as Zoom's chat should read them: the name Zoom shows, else their Slack name (a
    mention, which copies out of Slack as "@Name")."""
    name = names.get(user_id)
    if name:
        return esc(name, NAME_MAX)
    return "someone in Zoom" if is_zoom_only(user_id) else mention(user_id)


def render_paste_intro(view: RoundView) -> str:
    """What the facilitator is told with the list to paste into Zoom's chat."""
    rooms = len(view.rooms)
    return (
        f"{ICON} *Breakout round {view.round.number} in Zoom:* the meeting is running, so people "
        f"choose their own room. In Zoom: *Breakout Rooms* → create {rooms} "
        f"{'room' if rooms == 1 else 'rooms'} → *{CHOOSE_ROOM}* → rename them exactly "
        f"*{_room_names(rooms)}* → *Open All Rooms*. Then paste the message"
        f"{'' if rooms <= 1 else 's'} below into Zoom's chat (to Everyone), so the people who "
        "are not in Slack know their room too."
    )


def render_paste_list(view: RoundView) -> list[str]:
    """Who is in which room, as plain lines for Zoom's chat ("Room 1 — Ana, Ben"), in pieces
    of at most PASTE_PIECE_MAX characters (a room's line is never split unless it alone is
    longer)."""
    lines = [f"Breakout round {view.round.number}: join your room in Zoom"]
    for room in view.rooms:
        members = ", ".join(_paste_name(user, view.names) for user in room.user_ids)
        lines.append(f"{room.name} — {members or 'nobody yet'}")
    return pack_lines(lines, PASTE_PIECE_MAX)


# -- who is where, in /session status ---------------------------------------------------------


def _room_line(where: RoomWhereabouts, names: Mapping[str, str]) -> str:
    parts = [f"*{where.room.name}*: {len(where.here)} of {len(where.room.members)} planned here"]
    by_room: dict[int | None, list[str]] = {}
    for user, number in where.elsewhere:
        by_room.setdefault(number, []).append(user)
    for number, users in sorted(by_room.items(), key=lambda item: (item[0] is None, item[0] or 0)):
        verb = "is" if len(users) == 1 else "are"
        place = f"Room {number}" if number is not None else "a Zoom room of no planned room"
        parts.append(f"{_listed(users, names)} {verb} in {place}")
    if where.not_in_room:
        parts.append(f"{_listed(where.not_in_room, names)} not in a room")
    if where.visitors:
        parts.append(f"also here, not in the plan: {_listed(where.visitors, names)}")
    if where.not_in_zoom:
        parts.append(f"{len(where.not_in_zoom)} not in Zoom")
    return "; ".join(parts)


def zoom_room_status_lines(status: ZoomRoomStatus | None) -> list[str]:
    """`/session status` lines while a round runs on Zoom: who is where against the plan."""
    if status is None:
        return []
    rooms = status.rooms
    # Rooms as planned say least: with many rooms they are summed up after the others.
    shown = sorted(rooms, key=lambda where: (where.as_planned, where.room.number))[:ROOMS_SHOWN]
    shown.sort(key=lambda where: where.room.number)
    lines = [f"*Zoom rooms* (breakout round {status.view.round.number}), against the plan:"]
    lines.extend(_room_line(where, status.view.names) for where in shown)
    numbers = {where.room.number for where in shown}
    rest = [where for where in rooms if where.room.number not in numbers]
    if rest:
        off = sum(1 for where in rest if not where.as_planned)
        lines.append(
            f"{len(rest)} more rooms: "
            + (f"{off} of them not as planned." if off else "everyone in Zoom is where planned.")
        )
    for users in status.unmatched:
        lines.append(f"A Zoom room with nobody from the plan: {_listed(users, status.view.names)}.")
    return lines
