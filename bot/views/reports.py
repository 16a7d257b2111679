"""Views for report-backs: the form (building it and reading it back), the posted report-backs
and `/report` help."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ButtonElement,
    CheckboxesElement,
    ConfirmObject,
    DividerBlock,
    InputBlock,
    Option,
    PlainTextInputElement,
    StaticMultiSelectElement,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.rooms import (
    FIELD_KEY_POINTS,
    FIELD_NEW_THEMES,
    FIELD_ROOM,
    FIELD_SUMMARY,
    FIELD_THEMES,
    KEY_POINTS_MAX,
    NEW_THEMES_MAX,
    QUOTE_MAX,
    QUOTES_MAX,
    SUMMARY_MAX,
    THEME_MAX,
    THEMES_PER_REPORT,
    QuoteAnswer,
    QuoteWithdrawn,
    ReportAnswers,
    ReportContent,
    ReportForm,
    ReportSaved,
    quote_field,
    quote_label,
)
from bot.views.common import (
    context,
    esc,
    input_state,
    mention,
    pack_lines,
    parse_id,
    section,
    split_mrkdwn,
    trim,
)
from bot.views.rooms import room_name
from storage.models import ATTRIBUTE_MAX
from storage.rooms import ReportQuote

REPORT_CALLBACK = "breakout_report_form"
CONSENT_YES = "consented"
WITHDRAW_QUOTE_ACTION = "report_quote_withdraw"
# Input blocks are named after the form's fields (bot.rooms), so errors land on the right block.
INPUT_ACTION = "value"
# In the form's private_metadata, between the room's id and the pre-filled quotes' ids.
_METADATA_SEP = ":"


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


def _offered(latest: ReportContent | None) -> list[ReportQuote]:
    """The earlier version's quotes the form offers again, one a slot."""
    # A withdrawn quote is not offered again: the next version would bring it back.
    kept = [q for q in latest.quotes if q.withdrawn_at is None] if latest else []
    return kept[:QUOTES_MAX]


def _form_metadata(room_id: int | None, offered: list[ReportQuote]) -> str:
    """The room's id, then (when quotes are pre-filled) the id of each slot's quote: "12" or
    "12:40,41", so the new version's quotes record what they were copied from."""
    if not offered:
        return str(room_id)
    return f"{room_id}{_METADATA_SEP}{','.join(str(q.id) for q in offered)}"


def form_room_id(view: dict[str, Any]) -> int | None:
    """The room a submitted report-back form was opened for; None if it was tampered with."""
    room, _, _ = str(view.get("private_metadata") or "").partition(_METADATA_SEP)
    return parse_id(room)


def _copied_from(view: dict[str, Any]) -> list[int | None]:
    """The pre-filled quotes' ids, by slot (from the form's metadata)."""
    _, _, ids = str(view.get("private_metadata") or "").partition(_METADATA_SEP)
    return [parse_id(part) for part in ids.split(",")] if ids else []


def _quote_blocks(index: int, offered: list[ReportQuote]) -> list[Block]:
    quote = offered[index - 1] if len(offered) >= index else None
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
    offered = _offered(latest)
    for index in range(1, QUOTES_MAX + 1):
        blocks.extend(_quote_blocks(index, offered))
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
        private_metadata=_form_metadata(room.room.id, offered),
        title="Report back",
        submit="Update" if latest else "Send",
        close="Cancel",
        blocks=blocks,
    )


def _value(values: dict[str, Any], block: str) -> dict[str, Any]:
    return input_state(values, block, INPUT_ACTION)


def read_report(view: dict[str, Any]) -> ReportAnswers:
    """The answers in a submitted report-back form."""
    values = view.get("state", {}).get("values", {})
    copied = _copied_from(view)
    quotes = []
    for index in range(1, QUOTES_MAX + 1):
        consent = _value(values, quote_field("consent", index)).get("selected_options") or []
        quotes.append(
            QuoteAnswer(
                text=_value(values, quote_field("text", index)).get("value"),
                role=_value(values, quote_field("role", index)).get("value"),
                place=_value(values, quote_field("place", index)).get("value"),
                consent=any(option.get("value") == CONSENT_YES for option in consent),
                copied_from=copied[index - 1] if len(copied) >= index else None,
            )
        )
    room = _value(values, FIELD_ROOM).get("selected_option") or {}
    themes = _value(values, FIELD_THEMES).get("selected_options") or []
    return ReportAnswers(
        summary=_value(values, FIELD_SUMMARY).get("value"),
        key_points=_value(values, FIELD_KEY_POINTS).get("value"),
        quotes=tuple(quotes),
        theme_ids=tuple(str(option.get("value")) for option in themes),
        new_themes=_value(values, FIELD_NEW_THEMES).get("value"),
        room_id=room.get("value") if room else None,
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
    shared = [q for q in content.quotes if q.shown]
    for quote in shared:
        parts = [
            section(p)
            for p in split_mrkdwn(_quote_line(quote.text, quote.speaker_role, quote.speaker_place))
        ]
        parts[0].accessory = _withdraw_button(quote.id or 0)
        blocks.extend(parts)
    kept = sum(1 for q in content.quotes if not q.consent and q.withdrawn_at is None)
    withdrawn = sum(1 for q in content.quotes if q.withdrawn_at is not None)
    notes = []
    if content.themes:
        notes.append("Themes: " + " · ".join(esc(t.name) for t in content.themes))
    if kept:
        notes.append(
            f"{kept} more {'quote is' if kept == 1 else 'quotes are'} kept private: the speaker "
            "did not agree to be quoted."
        )
    if withdrawn:
        notes.append(f"{withdrawn} {'quote was' if withdrawn == 1 else 'quotes were'} withdrawn.")
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
    shared = sum(1 for q in content.quotes if q.shown)
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


def _withdraw_button(quote_id: int) -> ButtonElement:
    """The button beside a posted quote: its facilitators or reporter withdraw it."""
    return ButtonElement(
        action_id=WITHDRAW_QUOTE_ACTION,
        text="Withdraw",
        value=str(quote_id),
        confirm=ConfirmObject(
            title="Withdraw this quote?",
            text=(
                "It is removed from this post, the summaries and every export and report, and "
                "its text is deleted. Only the session's facilitators and the room's reporter "
                "can do this; it cannot be undone."
            ),
            confirm="Withdraw",
            deny="Keep it",
        ),
    )


def render_quote_withdrawn(withdrawn: QuoteWithdrawn) -> str:
    """The private answer to whoever withdrew a quote."""
    copies = (
        f" (in all {withdrawn.versions} versions of the report-back)"
        if withdrawn.versions > 1
        else ""
    )
    return (
        f"Quote {quote_label(withdrawn.quote_id)} from Room {withdrawn.room_number} (breakout "
        f"round {withdrawn.round_number}) is withdrawn{copies} and its text deleted. The posts "
        "that showed it are being edited to drop it; later summaries, exports and reports "
        "leave it out."
    )


# -- help ---------------------------------------------------------------------------------------


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
