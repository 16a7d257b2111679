"""Block Kit checked as Slack's Web API checks it: slack_sdk models plus the limits they miss.

validate_blocks and validate_view return Slack-style error strings (with a json-pointer), so a
stand-in answer reads like Slack's own ``invalid_blocks`` / ``invalid_arguments`` errors.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100

_TEXT_TYPES = frozenset({"plain_text", "mrkdwn"})
# Keys whose value Slack only accepts as a plain_text object, never a bare string or mrkdwn.
_PLAIN_TEXT_KEYS = frozenset({"placeholder", "label", "hint", "title", "submit", "close"})
_TEXT_LIMITS = {"placeholder": 150, "label": 2000, "hint": 2000}
_ELEMENT_LIMITS = {"actions": 25, "context": 10}
_OPTION_LIST_LIMITS = {
    "static_select": 100,
    "multi_static_select": 100,
    "overflow": 5,
    "radio_buttons": 10,
    "checkboxes": 10,
}
_OPTION_KEYS = frozenset({"options", "initial_options", "selected_options"})


def validate_blocks(
    blocks: Any, *, pointer: str = "/blocks", max_blocks: int = MAX_MESSAGE_BLOCKS
) -> list[str]:
    """Return Slack-style error strings for a blocks array (empty when valid)."""
    if not isinstance(blocks, list):
        return [f"must be an array [json-pointer:{pointer}]"]
    errors: list[str] = []
    if len(blocks) > max_blocks:
        errors.append(f"must be less than {max_blocks + 1} items [json-pointer:{pointer}]")
    seen_block_ids: set[str] = set()
    for index, raw in enumerate(blocks):
        ptr = f"{pointer}/{index}"
        if not isinstance(raw, dict):
            errors.append(f"must be an object [json-pointer:{ptr}]")
            continue
        block_id = raw.get("block_id")
        if isinstance(block_id, str):
            # Slack rejects repeated block_ids because state.values is keyed by them.
            if block_id in seen_block_ids:
                errors.append(f"duplicate block_id {block_id!r} [json-pointer:{ptr}/block_id]")
            seen_block_ids.add(block_id)
        errors.extend(_validate_block(raw, ptr))
    return errors


def _validate_block(raw: dict[str, Any], ptr: str) -> list[str]:
    """Validate one block with slack_sdk.models plus the limits the models do not enforce."""
    errors: list[str] = []
    _walk(raw, ptr, None, errors)
    try:
        parsed = Block.parse(raw)
    except Exception as exc:  # models raise TypeError/KeyError/ValueError on malformed input
        return [*errors, f"invalid block ({type(exc).__name__}: {exc}) [json-pointer:{ptr}]"]
    if parsed is None:
        return [*errors, f"unsupported block type {raw.get('type')!r} [json-pointer:{ptr}]"]
    try:
        parsed.validate_json()
        rendered = parsed.to_dict()
    except SlackObjectFormationError as exc:
        # Our own walk reports the same limits with a precise pointer; avoid doubling them.
        return errors or [f"{exc} [json-pointer:{ptr}]"]
    except Exception as exc:  # nested element parsing can fail lazily
        return [*errors, f"invalid block ({type(exc).__name__}: {exc}) [json-pointer:{ptr}]"]
    # The models silently drop properties they do not know; Slack rejects them instead.
    errors.extend(_dropped_keys(raw, rendered, ptr))
    return errors


def _dropped_keys(raw: Any, rendered: Any, ptr: str) -> list[str]:
    """List raw keys that vanished in the model round trip (unknown/misspelt properties)."""
    if isinstance(raw, dict) and isinstance(rendered, dict):
        errors: list[str] = []
        for key, value in raw.items():
            if value is None or (isinstance(value, list | dict | str) and len(value) == 0):
                continue  # the models omit empty values, which Slack tolerates
            if key not in rendered:
                errors.append(f"unknown property {key!r} [json-pointer:{ptr}/{key}]")
            else:
                errors.extend(_dropped_keys(value, rendered[key], f"{ptr}/{key}"))
        return errors
    if isinstance(raw, list) and isinstance(rendered, list) and len(raw) == len(rendered):
        return [
            error
            for index, (r, o) in enumerate(zip(raw, rendered, strict=True))
            for error in _dropped_keys(r, o, f"{ptr}/{index}")
        ]
    return []


def _text_of(obj: Any) -> str | None:
    """Return the text of a text object, or None when it is not one."""
    if (
        isinstance(obj, dict)
        and obj.get("type") in _TEXT_TYPES
        and isinstance(obj.get("text"), str)
    ):
        text: str = obj["text"]
        return text
    return None


def _check_len(obj: Any, limit: int, ptr: str, errors: list[str]) -> None:
    """Append an error when a text object's text is longer than limit."""
    text = _text_of(obj)
    if text is not None and len(text) > limit:
        errors.append(f"must be less than {limit + 1} characters [json-pointer:{ptr}/text]")


def _walk(node: Any, ptr: str, key: str | None, errors: list[str]) -> None:
    """Recursively check text objects and element limits the slack_sdk models miss."""
    if isinstance(node, list):
        for index, item in enumerate(node):
            _walk(item, f"{ptr}/{index}", key, errors)
        return
    if not isinstance(node, dict):
        return
    kind = node.get("type")
    if kind in _TEXT_TYPES:
        text = node.get("text")
        if not isinstance(text, str) or not text:
            errors.append(f"must be more than 0 characters [json-pointer:{ptr}/text]")
        if key in _PLAIN_TEXT_KEYS and kind != "plain_text":
            errors.append(f"must be a plain_text object [json-pointer:{ptr}]")
        if key in _TEXT_LIMITS:
            _check_len(node, _TEXT_LIMITS[key], ptr, errors)
        return
    if kind == "rich_text":
        return  # rich text has its own grammar ("text" elements are strings); the model checks it
    for text_key in _PLAIN_TEXT_KEYS:
        if isinstance(node.get(text_key), str):
            errors.append(f"must be a text object [json-pointer:{ptr}/{text_key}]")
    if kind == "section":
        if isinstance(node.get("text"), str):
            errors.append(f"must be a text object [json-pointer:{ptr}/text]")
        _check_len(node.get("text"), 3000, ptr + "/text", errors)
        for index, item in enumerate(node.get("fields") or []):
            _check_len(item, 2000, f"{ptr}/fields/{index}", errors)
    elif kind == "header":
        text_obj = node.get("text")
        if not isinstance(text_obj, dict) or text_obj.get("type") != "plain_text":
            errors.append(f"must be a plain_text object [json-pointer:{ptr}/text]")
        _check_len(text_obj, 150, ptr + "/text", errors)
    elif kind == "button":
        text_obj = node.get("text")
        if not isinstance(text_obj, dict) or text_obj.get("type") != "plain_text":
            errors.append(f"must be a plain_text object [json-pointer:{ptr}/text]")
        _check_len(text_obj, 75, ptr + "/text", errors)
        value = node.get("value")
        if isinstance(value, str) and len(value) > 2000:
            errors.append(f"must be less than 2001 characters [json-pointer:{ptr}/value]")
    if isinstance(kind, str) and kind in _ELEMENT_LIMITS:
        limit = _ELEMENT_LIMITS[kind]
        if len(node.get("elements") or []) > limit:
            errors.append(f"must be less than {limit + 1} items [json-pointer:{ptr}/elements]")
    if isinstance(kind, str) and kind in _OPTION_LIST_LIMITS:
        limit = _OPTION_LIST_LIMITS[kind]
        if len(node.get("options") or []) > limit:
            errors.append(f"must be less than {limit + 1} items [json-pointer:{ptr}/options]")
    action_id = node.get("action_id")
    if isinstance(action_id, str) and len(action_id) > 255:
        errors.append(f"must be less than 256 characters [json-pointer:{ptr}/action_id]")
    for child_key, child in node.items():
        if child_key in _OPTION_KEYS and isinstance(child, list):
            for index, option in enumerate(child):
                _check_option(option, f"{ptr}/{child_key}/{index}", errors)
        elif child_key == "initial_option":
            _check_option(child, f"{ptr}/{child_key}", errors)
        _walk(child, f"{ptr}/{child_key}", child_key, errors)


def _check_option(option: Any, ptr: str, errors: list[str]) -> None:
    """Check the option-object limits (text 75, value 150)."""
    if not isinstance(option, dict):
        return
    _check_len(option.get("text"), 75, ptr + "/text", errors)
    value = option.get("value")
    if isinstance(value, str) and len(value) > 150:
        errors.append(f"must be less than 151 characters [json-pointer:{ptr}/value]")


def validate_view(view: Any, *, pointer: str = "/view") -> list[str]:
    """Return Slack-style error strings for a modal or home tab view (empty when valid)."""
    if not isinstance(view, dict):
        return [f"must be an object [json-pointer:{pointer}]"]
    kind = view.get("type")
    if kind not in ("modal", "home"):
        return [f"must be 'modal' or 'home' [json-pointer:{pointer}/type]"]
    errors: list[str] = []
    blocks = view.get("blocks")
    errors.extend(validate_blocks(blocks, pointer=f"{pointer}/blocks", max_blocks=MAX_VIEW_BLOCKS))
    for text_key in ("title", "submit", "close"):
        value = view.get(text_key)
        if value is None:
            continue
        if not isinstance(value, dict) or value.get("type") != "plain_text":
            errors.append(f"must be a plain_text object [json-pointer:{pointer}/{text_key}]")
        else:
            _walk(value, f"{pointer}/{text_key}", text_key, errors)
            _check_len(value, 24, f"{pointer}/{text_key}", errors)
    if kind == "modal":
        if view.get("title") is None:
            errors.append(f"missing required field: title [json-pointer:{pointer}]")
        has_input = isinstance(blocks, list) and any(
            isinstance(b, dict) and b.get("type") == "input" for b in blocks
        )
        if has_input and view.get("submit") is None:
            errors.append(f"submit is required when input blocks are present [{pointer}]")
    unknown = set(view) - View(type=str(kind)).attributes
    errors.extend(f"unknown property {k!r} [json-pointer:{pointer}/{k}]" for k in sorted(unknown))
    if not errors:
        try:
            View(**view).validate_json()
        except SlackObjectFormationError as exc:
            errors.append(f"{exc} [json-pointer:{pointer}]")
        except Exception as exc:  # constructor TypeErrors for malformed views
            errors.append(f"invalid view ({type(exc).__name__}: {exc}) [json-pointer:{pointer}]")
    return errors
