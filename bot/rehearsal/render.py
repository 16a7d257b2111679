"""Block Kit as readable terminal text: what a person would see in Slack, not the JSON.

Pure functions over the plain dicts the bot sends (chat.postMessage, chat.update,
chat.postEphemeral, response_url, views.open). Conventions, kept everywhere:

- mrkdwn as `bot.rehearsal.text.mrkdwn_to_text` reads it; plain_text is shown as it is (the bot
  does not escape it, and Slack does not parse it).
- header: its text underlined with "═"; divider: a rule of "─"; context: "  · " lines.
- button: `[ Label ]`, `[▶ Label ]` for style=primary, `[! Label ]` for style=danger;
  select: `[ Placeholder ▾ ]` or `[ Initial option ▾ ]`; checkboxes: `[x]` / `[ ]` lines.
- text input: `[ value ]`, `[ (placeholder) ]` when empty, `[________]` with neither; a
  multi-line one in a box of "│" lines under its label.

Nothing here raises on odd input: a missing or mistyped key renders as nothing, an unknown
block or element as `[<type>]`. No line is longer than `width`; there are no colour codes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from itertools import zip_longest
from typing import Any

from bot.rehearsal.text import (
    Names,
    as_dict,
    as_list,
    as_str,
    default_name,
    epoch_text,
    fit,
    kind_of,
    mrkdwn_to_text,
    one_line,
    pack_inline,
    text_of,
    token_text,
    wrap,
)

__all__ = ["Names", "mrkdwn_to_text", "render_blocks", "render_message", "render_view"]

MIN_WIDTH = 20
RULE, HEADER_RULE = "─", "═"
CONTEXT_PREFIX, CONTEXT_HANG = "  · ", "    "
BOX = "  │ "
EMPTY_FIELD = "________"

# -- elements -----------------------------------------------------------------------------------

_SELECTS = {"static_select", "external_select", "users_select"}
_SELECTS |= {"conversations_select", "channels_select"}
_SELECTS |= {f"multi_{kind}" for kind in _SELECTS}
_TEXT_INPUTS = {"plain_text_input", "number_input", "email_text_input", "url_text_input"}
_PICKERS = {"datepicker": "initial_date", "timepicker": "initial_time"}


def _option_text(option: object, names: Names) -> str:
    return one_line(text_of(as_dict(option).get("text"), names))


def _chosen(element: Mapping[str, Any], names: Names) -> list[str]:
    """What a select shows as already chosen."""
    shown = [_option_text(o, names) for o in [element.get("initial_option")] if o]
    shown += [_option_text(o, names) for o in as_list(element.get("initial_options"))]
    for key in ("initial_user", "initial_users"):
        value = element.get(key)
        users = value if isinstance(value, list) else [value]
        shown += ["@" + names(u) for u in users if isinstance(u, str) and u]
    for key in ("initial_conversation", "initial_channel"):
        for plural in (key, key + "s"):
            value = element.get(plural)
            chats = value if isinstance(value, list) else [value]
            shown += ["#" + c for c in chats if isinstance(c, str) and c]
    return [text for text in shown if text]


def _inline(element: Mapping[str, Any], names: Names) -> str | None:
    """An element that fits on one line, or None when it needs lines of its own."""
    kind = kind_of(element)
    if kind == "button":
        label = one_line(text_of(element.get("text"), names))
        mark = {"primary": "▶ ", "danger": "! "}.get(as_str(element.get("style")), " ")
        link = " ↗" if element.get("url") else ""
        return f"[{mark}{label}{link} ]"
    if kind in _SELECTS:
        chosen = _chosen(element, names)
        shown = ", ".join(chosen) or _placeholder(element, names) or "Select…"
        return f"[ {shown} ▾ ]"
    if kind == "overflow":
        options = " | ".join(_option_text(o, names) for o in as_list(element.get("options")))
        return f"[ ⋯ {options} ]" if options else "[ ⋯ ]"
    if kind in _PICKERS or kind == "datetimepicker":
        value = one_line(as_str(element.get(_PICKERS.get(kind, "")))) or _epoch_or_empty(element)
        placeholder = _placeholder(element, names)
        if not value:
            value = f"({placeholder})" if placeholder else "Select…"
        return f"[ {value} ▾ ]"
    if kind == "image":
        return f"[image: {one_line(as_str(element.get('alt_text')))}]"
    if kind in _TEXT_INPUTS and not element.get("multiline"):
        value = one_line(as_str(element.get("initial_value")))
        placeholder = _placeholder(element, names)
        return f"[ {value} ]" if value else f"[ ({placeholder}) ]" if placeholder else "[________]"
    if kind == "file_input":
        return "[ Choose file ]"
    if kind in ("checkboxes", "radio_buttons", "rich_text_input") or kind in _TEXT_INPUTS:
        return None
    return f"[{kind}]"


def _placeholder(element: Mapping[str, Any], names: Names) -> str:
    return one_line(text_of(element.get("placeholder"), names))


def _epoch_or_empty(element: Mapping[str, Any]) -> str:
    value = element.get("initial_date_time")
    return epoch_text(str(value)) if isinstance(value, int) else ""


def _element_lines(element: Mapping[str, Any], names: Names, width: int) -> list[str]:
    """An element that needs lines of its own: choices, or a multi-line text box."""
    kind = kind_of(element)
    if kind in ("checkboxes", "radio_buttons"):
        chosen = {
            _option_text(o, names)
            for o in [element.get("initial_option"), *as_list(element.get("initial_options"))]
            if o
        }
        on, off = ("[x]", "[ ]") if kind == "checkboxes" else ("(•)", "( )")
        lines: list[str] = []
        for option in as_list(element.get("options")):
            text = _option_text(option, names)
            lines += wrap(text, width, f"  {on if text in chosen else off} ", "      ")
            if description := text_of(as_dict(option).get("description"), names):
                lines += wrap(description, width, "      ", "      ")
        return lines
    if kind == "rich_text_input":
        value = "\n".join(_rich_text(as_dict(element.get("initial_value")), names))
    else:
        value = as_str(element.get("initial_value"))
    if not value:
        placeholder = text_of(element.get("placeholder"), names)
        value = "\n".join(f"({line})" for line in placeholder.split("\n")) if placeholder else ""
    return wrap(value or EMPTY_FIELD, width, BOX, BOX)


def _element(element: object, names: Names, width: int, indent: str = "") -> list[str]:
    data = as_dict(element)
    inline = _inline(data, names)
    return [indent + inline] if inline is not None else _element_lines(data, names, width)


# -- rich text ----------------------------------------------------------------------------------


def _rich_inline(item: Mapping[str, Any], names: Names) -> str:
    kind = kind_of(item)
    style = as_dict(item.get("style"))
    if kind == "text":
        text = as_str(item.get("text"))
        return f"`{text}`" if style.get("code") and text.strip() else text
    if kind == "link":
        return token_text(f"{as_str(item.get('url'))}|{as_str(item.get('text'))}", names)
    if kind == "user":
        return "@" + names(as_str(item.get("user_id")))
    if kind == "channel":
        return "#" + as_str(item.get("channel_id"))
    if kind == "usergroup":
        return "@" + as_str(item.get("usergroup_id"))
    if kind == "broadcast":
        return "@" + as_str(item.get("range"))
    if kind == "emoji":
        return f":{as_str(item.get('name'))}:"
    if kind == "date":
        return as_str(item.get("fallback")) or epoch_text(str(item.get("timestamp")))
    if kind == "color":
        return as_str(item.get("value"))
    return f"[{kind}]"


def _rich_text(block: Mapping[str, Any], names: Names) -> list[str]:
    """A rich_text block (or a rich_text_input's value) as unwrapped lines."""
    lines: list[str] = []
    for part in as_list(block.get("elements")):
        data = as_dict(part)
        kind = kind_of(data)
        text = "".join(_rich_inline(as_dict(i), names) for i in as_list(data.get("elements")))
        if kind == "rich_text_section":
            lines += text.split("\n")
        elif kind == "rich_text_quote":
            lines += [f"> {line}" for line in text.split("\n")]
        elif kind == "rich_text_preformatted":
            lines += ["```", *text.split("\n"), "```"]
        elif kind == "rich_text_list":
            indent = data.get("indent")
            pad = "  " * (indent if isinstance(indent, int) and 0 <= indent < 10 else 0)
            ordered = data.get("style") == "ordered"
            for number, item in enumerate(as_list(data.get("elements")), start=1):
                body = " ".join(_rich_text({"elements": [item]}, names))
                lines.append(f"{pad}{f'{number}.' if ordered else '•'} {body}")
        else:
            lines.append(f"[{kind}]")
    return lines


# -- blocks -------------------------------------------------------------------------------------


def _header(block: Mapping[str, Any], names: Names, width: int) -> list[str]:
    lines = wrap(text_of(block.get("text"), names), width)
    return [*lines, HEADER_RULE * max((len(line) for line in lines), default=0)] if lines else []


def _fields(fields: list[Any], names: Names, width: int) -> list[str]:
    """Fields two to a row, as Slack lays them out."""
    column = (width - 2) // 2
    lines: list[str] = []
    texts = [text_of(field, names) for field in fields]
    for left, right in zip_longest(texts[::2], texts[1::2], fillvalue=""):
        pairs = zip_longest(wrap(left, column), wrap(right, column), fillvalue="")
        lines += [f"{a.ljust(column)}  {b}".rstrip() for a, b in pairs]
    return lines


def _section(block: Mapping[str, Any], names: Names, width: int) -> list[str]:
    lines = wrap(text_of(block.get("text"), names), width)
    lines += _fields(as_list(block.get("fields")), names, width)
    accessory = block.get("accessory")
    if accessory is None:
        return lines
    inline = _inline(as_dict(accessory), names)
    if inline is None:
        return lines + _element_lines(as_dict(accessory), names, width)
    if lines and len(lines[-1]) + 2 + len(inline) <= width:
        lines[-1] += "  " + inline
        return lines
    return [*lines, inline.rjust(width) if len(inline) < width else inline]


def _context(block: Mapping[str, Any], names: Names, width: int) -> list[str]:
    parts = [
        (_inline(as_dict(e), names) or "") if kind_of(e) == "image" else text_of(e, names)
        for e in as_list(block.get("elements"))
    ]
    text = "  ".join(part for part in parts if part)
    # Every line the bot wrote gets its own "·"; a wrapped one continues under it.
    return [
        wrapped
        for line in text.split("\n")
        for wrapped in wrap(line, width, CONTEXT_PREFIX, CONTEXT_HANG)
    ]


def _actions(block: Mapping[str, Any], names: Names, width: int) -> list[str]:
    lines: list[str] = []
    row: list[str] = []
    for element in as_list(block.get("elements")):
        inline = _inline(as_dict(element), names)
        if inline is not None:
            row.append(inline)
            continue
        lines += pack_inline(row, width)
        row = []
        lines += _element_lines(as_dict(element), names, width)
    return lines + pack_inline(row, width)


def _input(block: Mapping[str, Any], names: Names, width: int) -> list[str]:
    label = one_line(text_of(block.get("label"), names))
    if block.get("optional"):
        label += " (optional)"
    element = as_dict(block.get("element"))
    inline = _inline(element, names)
    if inline is not None and len(label) + 2 + len(inline) <= width:
        lines = [f"{label}: {inline}"]
    else:
        lines = [f"{label}:", *_element(element, names, width, indent="  ")]
    if hint := text_of(block.get("hint"), names):
        lines += wrap(hint, width, CONTEXT_PREFIX, CONTEXT_HANG)
    return lines


def _image(block: Mapping[str, Any], names: Names, width: int) -> list[str]:
    title = text_of(block.get("title"), names)
    return wrap(f"[image: {as_str(block.get('alt_text'))}]" + (f" {title}" if title else ""), width)


def _video(block: Mapping[str, Any], names: Names, width: int) -> list[str]:
    return wrap(f"[video: {text_of(block.get('title'), names)}]", width)


def _divider(block: Mapping[str, Any], names: Names, width: int) -> list[str]:
    return [RULE * width]


def _rich_text_block(block: Mapping[str, Any], names: Names, width: int) -> list[str]:
    return wrap("\n".join(_rich_text(block, names)), width)


_BLOCKS: dict[str, Callable[[Mapping[str, Any], Names, int], list[str]]] = {
    "header": _header,
    "section": _section,
    "context": _context,
    "divider": _divider,
    "actions": _actions,
    "input": _input,
    "image": _image,
    "video": _video,
    "rich_text": _rich_text_block,
}


def render_blocks(blocks: object, *, names: Names | None = None, width: int = 78) -> list[str]:
    """A list of blocks as lines of text; a JSON string of blocks is read first."""
    name_of = names or default_name
    width = max(width, MIN_WIDTH)
    if isinstance(blocks, str):
        try:
            blocks = json.loads(blocks)
        except ValueError:
            return ["[unreadable blocks]"]
    lines: list[str] = []
    for block in as_list(blocks):
        render = _BLOCKS.get(kind_of(block))
        if render is None:
            lines.append(f"[{kind_of(block)}]")
        else:
            lines += render(as_dict(block), name_of, width)
    return fit(lines, width)


# -- messages and views -------------------------------------------------------------------------


def render_message(
    message: Mapping[str, Any], *, names: Names | None = None, width: int = 78
) -> list[str]:
    """A message as a person sees it: its blocks when it has any, else its text."""
    data = as_dict(message)
    width = max(width, MIN_WIDTH)
    if data.get("delete_original"):
        return ["[the earlier message is deleted]"]
    blocks = data.get("blocks")
    if blocks and blocks != "[]":
        lines = render_blocks(blocks, names=names, width=width)
    else:
        lines = fit(wrap(mrkdwn_to_text(as_str(data.get("text")), names=names), width), width)
    for attachment in as_list(data.get("attachments")):
        extra = as_dict(attachment)
        if extra.get("blocks"):
            lines += render_blocks(extra.get("blocks"), names=names, width=width)
        elif text := as_str(extra.get("text")) or as_str(extra.get("fallback")):
            lines += fit(wrap(mrkdwn_to_text(text, names=names), width, "▍ ", "▍ "), width)
    return lines


def render_view(
    view: Mapping[str, Any], *, names: Names | None = None, width: int = 78
) -> list[str]:
    """A modal as a person sees it: title, blocks, and its Cancel and submit buttons."""
    data = as_dict(view)
    width = max(width, MIN_WIDTH)
    name_of = names or default_name
    lines = _header({"text": data.get("title")}, name_of, width)
    lines += render_blocks(data.get("blocks"), names=name_of, width=width)
    if data.get("type", "modal") == "modal":
        buttons = [f"[ {one_line(text_of(data.get('close'), name_of)) or 'Cancel'} ]"]
        if submit := one_line(text_of(data.get("submit"), name_of)):
            buttons.append(f"[▶ {submit} ]")
        lines += ["", *pack_inline(buttons, width)]
    return fit(lines, width)
