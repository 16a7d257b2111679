"""Views for breakout rooms: room messages, thread notices, private notes and `/breakout` help.

The report-back form and the posted report-backs are in `bot.views.reports`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement

from bot.parsing import format_duration
from bot.rooms import (
    BREAKOUT_SPEC,
    BREAKOUT_USAGE,
    MOVE_SPEC,
    RoomChange,
    RoomView,
    RoundEnded,
    RoundStarted,
    RoundView,
)
from bot.views.common import context, esc, mention, section, slack_date
from bot.views.zoom_rooms import person, render_zoom_room_line, render_zoom_started

REPORT_ACTION = "breakout_report"
ROOM_ACTIONS_BLOCK = "breakout_room_actions"
MENTIONS_SHOWN = 100  # about 1,500 characters of mentions, well inside a section

_TIME_UP = "Time's up — please send your report-back"


def _people(
    user_ids: Sequence[str],
    facilitators: set[str] | None = None,
    names: Mapping[str, str] | None = None,
) -> str:
    """Mentions for a member list (Zoom-only people by their Zoom name), the tail folded into
    "and N more"."""
    shown = [
        person(user, names or {})
        + (" _(facilitator)_" if facilitators and user in facilitators else "")
        for user in user_ids[:MENTIONS_SHOWN]
    ]
    if len(user_ids) > MENTIONS_SHOWN:
        shown.append(f"and {len(user_ids) - MENTIONS_SHOWN} more")
    return ", ".join(shown) if shown else "_nobody yet_"


def _report_button(room: RoomView, text: str = "Report back") -> ActionsBlock:
    return ActionsBlock(
        block_id=ROOM_ACTIONS_BLOCK,
        elements=[
            ButtonElement(
                text=text, action_id=REPORT_ACTION, value=str(room.room.id), style="primary"
            )
        ],
    )


def room_name(room: RoomView) -> str:
    """How a room is called: Room 3 (in Zoom too)."""
    return room.name


def render_room_message(view: RoundView, room: RoomView) -> tuple[str, list[Block]]:
    """A room's channel message: members, prompt, deadline and the Report back button.

    Returns:
        The notification text and the blocks.
    """
    breakout = view.round
    facilitators = {m.user_id for m in room.members if m.facilitator}
    blocks: list[Block] = [
        section(
            f":door: *{room_name(room)}* · breakout round {breakout.number}\n"
            f"{_people(room.user_ids, facilitators, view.names)}"
        )
    ]
    if breakout.prompt:
        blocks.append(section(f"*Prompt:* {esc(breakout.prompt)}"))
    if zoom_line := render_zoom_room_line(view, room):
        blocks.append(section(zoom_line))
    length = format_duration(breakout.ends_at - breakout.started_at)
    if breakout.ended_at is None:
        timing = f"Ends {slack_date(breakout.ends_at, '{time}')} ({length} round)"
    else:
        timing = f"Round ended {slack_date(breakout.ended_at, '{time}')}"
    blocks.append(_report_button(room))
    blocks.append(
        context(
            f"{timing} · Chat in this message's thread · When you're done, one of you presses "
            "*Report back* (or types `/report`)."
        )
    )
    text = f"{room_name(room)}: {len(room.members)} people — chat in this thread"
    return text, blocks


def render_round_started(started: RoundStarted) -> tuple[str, list[Block]]:
    """The facilitator's private confirmation of a new round."""
    view = started.view
    breakout = view.round
    sizes = sorted({len(room.members) for room in view.rooms}, reverse=True)
    size_text = " or ".join(str(size) for size in sizes)
    rooms = "1 room" if len(view.rooms) == 1 else f"{len(view.rooms)} rooms"
    text = (
        f"Breakout round {breakout.number} started: {view.people} people in {rooms} of {size_text}."
    )
    lines = [
        f":white_check_mark: *{text}*",
        f"Mode `{breakout.mode}` · seed `{breakout.seed}` (add `--seed {breakout.seed}` to get "
        "the same rooms again) · ends "
        f"{slack_date(breakout.ends_at, '{time}')}, with a warning "
        f"{slack_date(breakout.warn_at, '{time}')}.",
        "`/breakout move @someone &lt;room&gt;` moves someone; `/breakout end` ends the round now.",
    ]
    if started.note:
        lines.append(f":information_source: {esc(started.note)}")
    blocks: list[Block] = [section("\n".join(lines))]
    if started.zoom is not None:
        blocks.append(section(render_zoom_started(started.zoom)))
    return text, blocks


def render_your_room(view: RoundView, room: RoomView, user_id: str, link: str | None) -> str:
    """The private message telling a member their room."""
    others = [user for user in room.user_ids if user != user_id]
    where = f"<{link}|{room_name(room)}'s thread>" if link else f"{room_name(room)}'s thread"
    prompt = f"\n*Prompt:* {esc(view.round.prompt)}" if view.round.prompt else ""
    zoom_line = render_zoom_room_line(view, room)
    zoom = f"\n{zoom_line}" if zoom_line else ""
    return (
        f":door: You're in *{room_name(room)}* for breakout round {view.round.number}, with "
        f"{_people(others, names=view.names)}. Chat in {where} until "
        f"{slack_date(view.round.ends_at, '{time}')}.{prompt}{zoom}"
    )


def render_warning(view: RoundView) -> str:
    """The warning posted in every room's thread before the end."""
    left = format_duration(view.round.ends_at - (view.round.warned_at or view.round.warn_at))
    return (
        f":hourglass_flowing_sand: About {left} left (the round ends "
        f"{slack_date(view.round.ends_at, '{time}')}). Time to agree what to report back."
    )


def render_round_end_in_thread(ended: RoundEnded, room: RoomView) -> tuple[str, list[Block]]:
    """What a room's thread is told when the round ends."""
    if ended.reason == "session":
        text = ":checkered_flag: The session has ended, so this room is closed. Thank you!"
        return text, [section(text)]
    if room.reported:
        text = (
            ":alarm_clock: Time's up. Thanks — your report-back is in; you can still edit it "
            "until the session ends."
        )
        return text, [section(text), _report_button(room, "Edit report-back")]
    text = f":alarm_clock: {_TIME_UP}."
    return text, [
        section(f":alarm_clock: *{_TIME_UP}.* One of you presses the button, or types `/report`."),
        _report_button(room),
    ]


def render_round_ended(ended: RoundEnded) -> tuple[str, list[Block]]:
    """The facilitator's private confirmation of `/breakout end`."""
    view = ended.view
    text = (
        f"Breakout round {view.round.number} ended; {view.reported} of {len(view.rooms)} rooms "
        "have reported back so far."
    )
    return text, [
        section(
            f":checkered_flag: {text} Each room was asked for its report-back; rooms that still "
            "have not reported get one reminder in a few minutes."
        )
    ]


def render_reminder(room: RoomView) -> tuple[str, list[Block]]:
    """The one reminder for a room that has not reported back."""
    text = f":bell: Reminder: {room_name(room)} has not sent its report-back yet."
    return text, [
        section(f"{text} Press *Report back* or type `/report` — it takes a minute."),
        _report_button(room),
    ]


def render_outside_thread(room: RoomView, text: str) -> str:
    """A thread notice posted in the channel instead, naming its room."""
    return f"*{room_name(room)}:* {text}"


def render_joined_in_thread(change: RoomChange) -> str:
    """The room's thread hears who joined."""
    who = person(change.user_id, change.view.names)
    if change.from_room is None:
        return f":wave: {who} joined this room (checked in late)."
    return f":wave: {who} moved here from {room_name(change.from_room)}."


def render_left_in_thread(change: RoomChange) -> str:
    """The old room's thread hears who moved away."""
    who = person(change.user_id, change.view.names)
    return f":arrow_right: {who} moved to {room_name(change.to_room)}."


def render_joined_privately(change: RoomChange, link: str | None) -> str:
    """The person who joined or was moved is told their room."""
    room = change.to_room
    where = f"<{link}|{room_name(room)}'s thread>" if link else f"{room_name(room)}'s thread"
    if change.moved_by:
        how = f"{mention(change.moved_by)} moved you to *{room_name(room)}*"
    else:
        how = f"A breakout round is running, so you've joined *{room_name(room)}*"
    others = [user for user in room.user_ids if user != change.user_id]
    zoom_line = render_zoom_room_line(change.view, room)
    zoom = f"\n{zoom_line}" if zoom_line else ""
    return (
        f":door: {how} (breakout round {change.view.round.number}), with "
        f"{_people(others, names=change.view.names)}. Chat in {where} until "
        f"{slack_date(change.view.round.ends_at, '{time}')}.{zoom}"
    )


def render_moved(change: RoomChange) -> tuple[str, list[Block]]:
    """The facilitator's confirmation of a move."""
    origin = f" from {room_name(change.from_room)}" if change.from_room else ""
    text = (
        f"Moved {person(change.user_id, change.view.names)}{origin} to {room_name(change.to_room)}."
    )
    return text, [section(f":white_check_mark: {text}")]


# -- help ---------------------------------------------------------------------------------------


def render_breakout_help() -> list[Block]:
    """Everything `/breakout` does, with examples."""
    return [
        section(f"*`/breakout` — split the people checked in into rooms*\n`{esc(BREAKOUT_USAGE)}`"),
        section(
            f"*Start a round* (facilitators): `{esc(BREAKOUT_SPEC.usage)}`\n"
            f"Example: `{esc(BREAKOUT_SPEC.example)}`\n"
            "• `/breakout 5` makes 5 rooms; `/breakout --size 4` makes rooms of 4 or fewer.\n"
            "• `--mode random` (default), `mix:role|place|group` (each room as varied as "
            "possible) or `group:role|place|group` (alike people together).\n"
            "• `--time` defaults to 15m; a warning comes 2 minutes before the end.\n"
            "• `--seed N` gives the same rooms again for the same people."
        ),
        section(
            f"*Move someone* (facilitators): `{esc(MOVE_SPEC.usage)}`, "
            f"e.g. `{esc(MOVE_SPEC.example)}`\n"
            "*End the round now* (facilitators): `/breakout end`"
        ),
        context(
            "Everyone checked in is placed; people checking in later join the smallest room. "
            "Rooms avoid repeating pairs from earlier rounds. Each room reports back with "
            "`/report` or its *Report back* button."
        ),
        context(
            "With a Zoom meeting (`/session start … --zoom`), the people in the meeting are "
            "placed too. Before the meeting starts, the rooms become its pre-assigned breakout "
            "rooms (and you get Zoom's CSV); while it runs, Zoom cannot move people, so the "
            "rooms are named for people to choose and you get the list to paste into Zoom's chat."
        ),
    ]
