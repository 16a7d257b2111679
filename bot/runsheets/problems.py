"""Pydantic's validation errors as lines people can act on: where, which field, what is allowed.

`line 12: step 3 (poll): options: a poll needs at least 2 options; you gave only one …`
"""

from __future__ import annotations

import difflib
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from bot.runsheets.model import KINDS, STEP_KIND_ERROR, STEP_MODELS, RunSheet, step_kind
from bot.runsheets.yaml_source import Located, Path

# What to write when a required field is left out.
_MISSING_HINTS = {
    "name": "give the sheet a name of lower-case letters, digits and dashes, like "
    "name: labour-listening-tour",
    "steps": "list the agenda under steps:, one - talk:, - poll:, - breakout: or - note: each",
    "key": "every poll in a run sheet needs a key (letters, digits, dashes), like "
    "key: union-roots, so the tour report puts its answers together across sessions",
    "options": "list 2 to 20 options, like options: [Agree, Disagree, Not sure]",
}
_LIST_EXAMPLES = {
    "options": "like [Agree, Disagree, Not sure]",
    "steps": "each step on a line starting with - (like - talk: Welcome)",
}
_KIND_LIST = ", ".join(KINDS)


def _shown(value: Any) -> str:
    """A value as the person wrote it, for "… not <this>"."""
    if value is None:
        return "nothing (the value is empty)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"the number {value}"
    if isinstance(value, str):
        return f"“{value[:40]}”" + ("…" if len(value) > 40 else "")
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping (key: value lines)"
    return type(value).__name__


def _model_at(kind: str | None, field_path: Path) -> type[BaseModel] | None:
    """The model whose fields are at `field_path` (inside a step of `kind`, or the sheet)."""
    if kind is not None:
        return STEP_MODELS.get(kind) if not field_path else None
    return RunSheet if not field_path else None


def _unknown_field(name: str, model: type[BaseModel] | None) -> str:
    if model is None:
        return f"unknown field “{name}”"
    allowed = list(model.model_fields)
    close = difflib.get_close_matches(name, allowed, n=1)
    guess = f" (did you mean {close[0]}?)" if close else ""
    return f"unknown field “{name}”{guess} — allowed: {', '.join(allowed)}"


def _wrong_kind(value: Any) -> str:
    base = f"a step needs exactly one of {_KIND_LIST}"
    if not isinstance(value, dict):
        return f"{base}, like - talk: Welcome; this one is {_shown(value)}"
    present = [kind for kind in KINDS if kind in value]
    if present:
        return f"{base}; this one has {' and '.join(present)}"
    keys = ", ".join(str(key) for key in value) or "none"
    return f"{base}; this one has none (its keys: {keys})"


def _field_label(field_path: Path) -> str:
    """('options', 0) -> "options: item 1"."""
    parts = [f"item {part + 1}" if isinstance(part, int) else part for part in field_path]
    return ": ".join(parts)


def _message(error: ErrorDetails, kind: str | None, field_path: Path) -> str:
    kind_of = error["type"]
    value = error.get("input")
    if kind_of == "extra_forbidden":
        return _unknown_field(str(field_path[-1]), _model_at(kind, field_path[:-1]))
    label = _field_label(field_path)
    prefix = f"{label}: " if label else ""
    if kind_of == STEP_KIND_ERROR:
        return _wrong_kind(value)
    if kind_of == "missing":
        hint = _MISSING_HINTS.get(str(field_path[-1]), "it is required")
        return f"{label} is missing — {hint}"
    if kind_of == "value_error":
        return prefix + error["msg"].removeprefix("Value error, ")
    if kind_of == "string_type":
        if value is None:
            return f"{label or 'the value'} is empty"
        quote = " — put it in quotes to keep it as text" if isinstance(value, int) else ""
        return f"{prefix}text is wanted here, not {_shown(value)}{quote}"
    if kind_of == "bool_type":
        return f"{prefix}true or false is wanted here, not {_shown(value)}"
    if kind_of == "int_type":
        return f"{prefix}a whole number is wanted here, not {_shown(value)}"
    if kind_of == "list_type":
        example = _LIST_EXAMPLES.get(str(field_path[-1]) if field_path else "", "like [a, b]")
        return f"{prefix}a list is wanted here, {example}; not {_shown(value)}"
    if kind_of in ("model_type", "model_attributes_type", "dict_type"):
        return f"{prefix}a mapping (key: value lines) is wanted here, not {_shown(value)}"
    return prefix + error["msg"]


def describe(error: ValidationError, source: Located) -> list[tuple[int, str]]:
    """Each of pydantic's errors as (line, text), in the order of the file."""
    described: list[tuple[int, str]] = []
    for details in error.errors():
        loc: Path = tuple(details["loc"])
        where = ""
        kind: str | None = None
        data_path, field_path = loc, loc
        if len(loc) >= 2 and loc[0] == "steps" and isinstance(loc[1], int):
            # Pydantic puts the union's tag after the index: ('steps', 2, 'poll', 'options').
            tagged = len(loc) >= 3 and loc[2] in KINDS
            field_path = loc[3:] if tagged else loc[2:]
            data_path = (*loc[:2], *field_path)
            steps = source.data.get("steps") if isinstance(source.data, dict) else None
            raw = steps[loc[1]] if isinstance(steps, list) and loc[1] < len(steps) else None
            kind = str(loc[2]) if tagged else step_kind(raw)
            where = f"step {loc[1] + 1}" + (f" ({kind})" if kind else "") + ": "
        line = source.line_of(data_path)
        described.append((line, f"line {line}: {where}{_message(details, kind, field_path)}"))
    described.sort(key=lambda item: item[0])
    return described
