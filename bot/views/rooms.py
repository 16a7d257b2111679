"""Views for breakout rooms: room messages, thread notices, the report-back form and posts, help."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    CheckboxesElement,
    DividerBlock,
    InputBlock,
    Option,
    PlainTextInputElement,
    StaticMultiSelectElement,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.parsing import format_duration
from bot.rooms import (
    BREAKOUT_SPEC,
    BREAKOUT_USAGE,
    FIELD_KEY_POINTS,
    FIELD_NEW_THEMES,
    FIELD_ROOM,
    FIELD_SUMMARY,
    FIELD_THEMES,
    KEY_POINTS_MAX,
    MOVE_SPEC,
    NEW_THEMES_MAX,
    QUOTE_MAX,
    QUOTES_MAX,
    SUMMARY_MAX,
    THEMES_PER_REPORT,
    ReportContent,
    ReportForm,
    ReportSaved,
    RoomChange,
    RoomView,
    RoundEnded,
    RoundStarted,
    RoundView,
    quote_field,
)
from bot.views.common import (
    context,
    esc,
    mention,
    pack_lines,
    section,
    slack_date,
    split_mrkdwn,
    trim,
)
from storage.models import ATTRIBUTE_MAX
from storage.rooms import THEME_MAX

REPORT_ACTION = "breakout_report"
REPORT_CALLBACK = "breakout_report_form"
ROOM_ACTIONS_BLOCK = "breakout_room_actions"
CONSENT_YES = "consented"
# Input blocks are named after the form's fields (bot.rooms), so errors land on the right block.
INPUT_ACTION = "value"
MENTIONS_SHOWN = 100  # about 1,500 characters of mentions, well inside a section

_TIME_UP = "Time's up — please send your report-back"


def _people(user_ids: Sequence[str], facilitators: set[str] | None = None) -> str:
    """Mentions for a member list, the tail folded into "and N more"."""
    shown = [
        mention(user) + (" _(facilitator)_" if facilitators and user in facilitators else "")
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
    """How a room is called: Room 3."""
    return f"Room {room.number}"


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
            f"{_people(room.user_ids, facilitators)}"
        )
    ]
    if breakout.prompt:
        blocks.append(section(f"*Prompt:* {esc(breakout.prompt)}"))
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
    return text, [section("\n".join(lines))]


def render_your_room(view: RoundView, room: RoomView, user_id: str, link: str | None) -> str:
    """The private message telling a member their room."""
    others = [user for user in room.user_ids if user != user_id]
    where = f"<{link}|{room_name(room)}'s thread>" if link else f"{room_name(room)}'s thread"
    prompt = f"\n*Prompt:* {esc(view.round.prompt)}" if view.round.prompt else ""
    return (
        f":door: You're in *{room_name(room)}* for breakout round {view.round.number}, with "
        f"{_people(others)}. Chat in {where} until "
        f"{slack_date(view.round.ends_at, '{time}')}.{prompt}"
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
    if change.from_room is None:
        return f":wave: {mention(change.user_id)} joined this room (checked in late)."
    return f":wave: {mention(change.user_id)} moved here from {room_name(change.from_room)}."


def render_left_in_thread(change: RoomChange) -> str:
    """The old room's thread hears who moved away."""
    return f":arrow_right: {mention(change.user_id)} moved to {room_name(change.to_room)}."


def render_joined_privately(change: RoomChange, link: str | None) -> str:
    """The person who joined or was moved is told their room."""
    room = change.to_room
    where = f"<{link}|{room_name(room)}'s thread>" if link else f"{room_name(room)}'s thread"
    if change.moved_by:
        how = f"{mention(change.moved_by)} moved you to *{room_name(room)}*"
    else:
        how = f"A breakout round is running, so you've joined *{room_name(room)}*"
    others = [user for user in room.user_ids if user != change.user_id]
    return (
        f":door: {how} (breakout round {change.view.round.number}), with {_people(others)}. "
        f"Chat in {where} until {slack_date(change.view.round.ends_at, '{time}')}."
    )


def render_moved(change: RoomChange) -> tuple[str, list[Block]]:
    """The facilitator's confirmation of a move."""
    origin = f" from {room_name(change.from_room)}" if change.from_room else ""
    text = f"Moved {mention(change.user_id)}{origin} to {room_name(change.to_room)}."
    return text, [section(f":white_check_mark: {text}")]


# -- the report-back form ---------------------------------------------------------------------


def _text_input(
    block_id: str,
    label: str,
    *,
    max_length: int,
    initial: str | None = None,
    multiline: bool = False,
    optional: bool = True,
    placeholder: str | None = None,
    hint: str | None = None,
) -> InputBlock:
    return InputBlock(
        block_id=block_id,
        label=label,
        optional=optional,
        hint=hint,
        element=PlainTextInputElement(
            action_id=INPUT_ACTION,
            multiline=multiline,
            max_length=max_length,
            initial_value=initial or None,
            placeholder=placeholder,
        ),
    )


def _theme_option(theme_id: int | None, name: str) -> Option:
    return Option(value=str(theme_id), text=trim(name, THEME_MAX))


def _consent_option() -> Option:
    return Option(
        value=CONSENT_YES,
        text="The speaker agreed to be quoted",
        description="Attributed by role and place only, never by name.",
    )


def _quote_blocks(index: int, latest: ReportContent | None) -> list[Block]:
    quote = latest.quotes[index - 1] if latest and len(latest.quotes) >= index else None
    consent = _consent_option()
    return [
        _text_input(
            quote_field("text", index),
            f"Quote {index}",
            max_length=QUOTE_MAX,
            initial=quote.text if quote else None,
            multiline=True,
            placeholder="What someone said, in their words",
        ),
        _text_input(
            quote_field("role", index),
            f"Quote {index}: speaker's role",
            max_length=ATTRIBUTE_MAX,
            initial=quote.speaker_role if quote else None,
            placeholder="e.g. Member",
        ),
        _text_input(
            quote_field("place", index),
            f"Quote {index}: speaker's place",
            max_length=ATTRIBUTE_MAX,
            initial=quote.speaker_place if quote else None,
            placeholder="e.g. Stoke on Trent",
        ),
        InputBlock(
            block_id=quote_field("consent", index),
            label=f"Quote {index}: consent",
            optional=True,
            element=CheckboxesElement(
                action_id=INPUT_ACTION,
                options=[consent],
                initial_options=[consent] if quote and quote.consent else None,
            ),
        ),
    ]


def render_report_form(form: ReportForm) -> View:
    """The report-back modal, pre-filled with the room's latest version when there is one."""
    view, room, latest = form.view, form.room, form.latest
    # A facilitator picks the room below, so the heading names only the round.
    intro = "" if form.facilitator else f"*{room_name(room)}* · "
    intro += f"breakout round {view.round.number}"
    if view.round.prompt:
        intro += f"\n*Prompt:* {esc(view.round.prompt, 500)}"
    blocks: list[Block] = [section(intro)]
    if form.facilitator:
        options = [
            Option(value=str(r.room.id), text=f"{room_name(r)} ({len(r.members)} people)")
            for r in view.rooms
        ]
        current = next(o for o, r in zip(options, view.rooms, strict=True) if r is room)
        blocks.append(
            InputBlock(
                block_id=FIELD_ROOM,
                label="Room",
                hint="As a facilitator you can report for any room.",
                element=StaticSelectElement(
                    action_id=INPUT_ACTION, options=options, initial_option=current
                ),
            )
        )
    if latest:
        blocks.append(
            context(
                f"Editing version {latest.report.version} by {mention(latest.report.submitted_by)}."
                " Every version is kept; the newest counts."
            )
        )
    blocks.append(
        _text_input(
            FIELD_SUMMARY,
            "Summary",
            max_length=SUMMARY_MAX,
            initial=latest.report.summary if latest else None,
            multiline=True,
            optional=False,
            placeholder="What did your room talk about? What did people agree on?",
        )
    )
    blocks.append(
        _text_input(
            FIELD_KEY_POINTS,
            "Key points",
            max_length=KEY_POINTS_MAX,
            initial="\n".join(latest.key_points) if latest else None,
            multiline=True,
            hint="One per line.",
        )
    )
    blocks.append(DividerBlock())
    blocks.append(
        section(
            f"*Quotes* (up to {QUOTES_MAX}). Only quote people who agreed; quotes are attributed "
            "by role and place, like “Member, Stoke on Trent”."
        )
    )
    for index in range(1, QUOTES_MAX + 1):
        blocks.extend(_quote_blocks(index, latest))
    blocks.append(DividerBlock())
    # Slack shows at most 100 options; the newest themes are the likeliest to be wanted.
    themes = form.themes[-100:]
    if themes:
        chosen_ids = {t.id for t in latest.themes} if latest else set()
        options = [_theme_option(t.id, t.name) for t in themes]
        initial = [o for o, t in zip(options, themes, strict=True) if t.id in chosen_ids]
        blocks.append(
            InputBlock(
                block_id=FIELD_THEMES,
                label="Themes",
                optional=True,
                hint="Themes other rooms in this session have used.",
                element=StaticMultiSelectElement(
                    action_id=INPUT_ACTION,
                    placeholder="Pick themes",
                    options=options,
                    initial_options=initial or None,
                    max_selected_items=THEMES_PER_REPORT,
                ),
            )
        )
    blocks.append(
        _text_input(
            FIELD_NEW_THEMES,
            "New themes" if themes else "Themes",
            max_length=NEW_THEMES_MAX,
            placeholder="e.g. Housing, Buses, Local jobs",
            hint=f"Separate themes with commas; each up to {THEME_MAX} characters.",
        )
    )
    return View(
        type="modal",
        callback_id=REPORT_CALLBACK,
        private_metadata=str(room.room.id),
        title="Report back",
        submit="Update" if latest else "Send",
        close="Cancel",
        blocks=blocks,
    )


def render_notice(title: str, message: str) -> View:
    """A modal that only explains (why the form cannot open)."""
    return View(type="modal", title=trim(title, 24), close="Close", blocks=[section(message)])


# -- posted report-backs ------------------------------------------------------------------------


def _quote_line(text: str, role: str | None, place: str | None) -> str:
    who = ", ".join(esc(v) for v in (role, place) if v)
    lines = f"“{esc(text)}”".split("\n")
    quoted = "\n".join(f"> {line}" if line else ">" for line in lines)
    return f"{quoted}\n> — {who}"


def render_report_in_thread(saved: ReportSaved) -> tuple[str, list[Block]]:
    """The full report-back, posted in the room's thread."""
    content = saved.content
    report = content.report
    edited = f" (version {report.version})" if report.version > 1 else ""
    head = (
        f":memo: *{room_name(saved.room)} report-back*{edited} from {mention(report.submitted_by)}"
    )
    blocks: list[Block] = [section(head)]
    blocks.extend(section(p) for p in split_mrkdwn(f"*Summary*\n{esc(report.summary)}"))
    if content.key_points:
        lines = ["*Key points*", *(f"• {esc(point)}" for point in content.key_points)]
        blocks.extend(section(p) for p in pack_lines(lines))
    shared = [q for q in content.quotes if q.consent]
    for quote in shared:
        blocks.extend(
            section(p)
            for p in split_mrkdwn(_quote_line(quote.text, quote.speaker_role, quote.speaker_place))
        )
    kept = len(content.quotes) - len(shared)
    notes = []
    if content.themes:
        notes.append("Themes: " + " · ".join(esc(t.name) for t in content.themes))
    if kept:
        notes.append(
            f"{kept} more {'quote is' if kept == 1 else 'quotes are'} kept private: the speaker "
            "did not agree to be quoted."
        )
    if notes:
        blocks.append(context(" · ".join(notes)))
    text = f"{room_name(saved.room)} report-back{edited}: {esc(report.summary, 200)}"
    return text, blocks


def render_report_in_channel(saved: ReportSaved, link: str | None) -> tuple[str, list[Block]]:
    """The compact channel post for a room's report-back (updated when it is edited)."""
    content = saved.content
    report = content.report
    edited = f" (updated, version {report.version})" if report.version > 1 else ""
    where = f"<{link}|in the room's thread>" if link else "in the room's thread"
    shared = sum(1 for q in content.quotes if q.consent)
    facts = [
        f"{len(content.key_points)} key point{'s' if len(content.key_points) != 1 else ''}",
        f"{shared} quote{'s' if shared != 1 else ''}",
    ]
    if content.themes:
        facts.append("themes: " + ", ".join(esc(t.name, 40) for t in content.themes[:5]))
    text = f"{room_name(saved.room)} reported back{edited}: {esc(report.summary, 200)}"
    return text, [
        section(
            f":memo: *{room_name(saved.room)}* reported back{edited}: {esc(report.summary, 300)}"
        ),
        context(f"{' · '.join(facts)} · full report {where}"),
    ]


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
    ]


def render_report_help() -> list[Block]:
    """What `/report` does."""
    return [
        section(
            "*`/report` — send your breakout room's report-back*\n"
            "Opens a form for your room: a summary (required), key points (one per line), up to "
            f"{QUOTES_MAX} quotes with the speaker's role and place and their consent, and "
            "themes (pick the session's or add new ones)."
        ),
        context(
            "You can edit it until the session ends: every version is kept and the newest "
            "counts. Facilitators can report for any room."
        ),
    ]


def form_block_ids(view: dict[str, object]) -> set[str]:
    """The block ids of a submitted view (errors may only name these)."""
    blocks = view.get("blocks")
    if not isinstance(blocks, list):
        return set()
    return {str(b.get("block_id")) for b in blocks if isinstance(b, dict) and b.get("block_id")}


def error_blocks(errors: dict[str, str], present: set[str]) -> dict[str, str]:
    """Form errors by block id; an error for a block the form does not show goes on the summary."""
    placed: dict[str, str] = {}
    for field_name, message in errors.items():
        block = field_name if field_name in present else FIELD_SUMMARY
        placed[block] = f"{placed[block]} {message}" if block in placed else message
    return {block: trim(message, 2000) for block, message in placed.items()}
