"""YAML read into plain Python data, remembering the line of every key and list item.

Built from PyYAML's node tree rather than `safe_load`, for two reasons: errors found later (by
the models) can name the line they are about, and YAML 1.1's guesses are not ours to make —
`Yes`, `No`, `on` and `off` would become booleans and `1:30` a number of seconds, so a poll
with options [Yes, No, Not sure] would lose two of them. Here only `true`/`false` are booleans
and plain whole numbers are ints; every other plain value is text.

Refused, with their line: tabs, anchors and aliases (a value written once and used twice is
hard to read in a sheet people copy and edit), explicit tags, several documents and a key
given twice in one mapping.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import yaml

Path = tuple[str | int, ...]

_INT = re.compile(r"[-+]?[0-9]+")
_TRUE = frozenset({"true", "True", "TRUE"})
_FALSE = frozenset({"false", "False", "FALSE"})
_STANDARD_TAGS = "tag:yaml.org,2002:"
_NULL = frozenset({"", "~", "null", "Null", "NULL"})


class _Loader(yaml.SafeLoader):
    """A SafeLoader that guesses no types: every plain scalar composes as a string node."""

    yaml_implicit_resolvers: dict[Any, Any] = {}  # noqa: RUF012 (PyYAML's class attribute)


@dataclass(frozen=True)
class Located:
    """Data read from YAML and the line (from 1) of each key or list item, by its path."""

    data: Any
    lines: dict[Path, int] = field(default_factory=dict)

    def line_of(self, path: Path) -> int:
        """The line of `path`, or of the nearest enclosing key or item that has one."""
        for end in range(len(path), -1, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return 1


class _Mark(Protocol):
    line: int


def _line(mark: _Mark | None) -> int:
    return mark.line + 1 if mark is not None else 1


def _syntax_problem(error: yaml.MarkedYAMLError) -> str:
    mark = error.problem_mark or error.context_mark
    where = f"line {_line(mark)}, column {mark.column + 1}" if mark else "line 1"
    problem = error.problem or "this is not valid YAML"
    if error.context and error.context_mark:
        return (
            f"{where}: {problem} ({error.context} that began on line {_line(error.context_mark)})"
        )
    return f"{where}: {problem}"


def _tab_problems(text: str) -> list[str]:
    return [
        f"line {number}: a tab — indent with spaces"
        for number, line in enumerate(text.splitlines(), start=1)
        if "\t" in line
    ]


def _check_events(events: Iterator[yaml.Event], problems: list[str]) -> None:
    """Add anchors, aliases, tags and extra documents to `problems`, in the order they appear."""
    documents = 0
    for event in events:
        line = _line(event.start_mark)
        if isinstance(event, yaml.DocumentStartEvent):
            documents += 1
            if documents == 2:
                problems.append(
                    f"line {line}: a second document (---) — a file holds one run sheet"
                )
        elif isinstance(event, yaml.AliasEvent):
            problems.append(
                f"line {line}: an alias (*{event.anchor}) — write the value out again; "
                "run sheets do not use anchors or aliases"
            )
        elif isinstance(event, yaml.NodeEvent):
            if event.anchor is not None:
                problems.append(
                    f"line {line}: an anchor (&{event.anchor}) — run sheets do not use anchors "
                    "or aliases"
                )
            tag = getattr(event, "tag", None)
            if tag is not None and tag != "!":  # "!" is what a quoted scalar carries
                shown = str(tag).replace(_STANDARD_TAGS, "!!")
                problems.append(
                    f"line {line}: a tag ({shown}) — leave types to the run sheet; put text in "
                    "quotes if it must stay text"
                )


def _scalar(node: yaml.ScalarNode) -> Any:
    value = str(node.value)
    if node.style is not None:  # quoted or a block scalar: always text
        return value
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    if value in _NULL:
        return None
    if _INT.fullmatch(value):
        return int(value)
    return value


def _storable(text: str) -> bool:
    """Whether text can be stored and posted: valid UTF-8, no NUL characters."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class _Builder:
    def __init__(self) -> None:
        self.lines: dict[Path, int] = {}
        self.problems: list[str] = []

    def build(self, node: yaml.Node, path: Path) -> Any:
        if isinstance(node, yaml.ScalarNode):
            value = _scalar(node)
            if isinstance(value, str) and not _storable(value):
                # "\0" or "\ud800" escapes: text no database column or Slack message holds.
                self.problems.append(
                    f"line {_line(node.start_mark)}: this text has a NUL character or a lone "
                    "surrogate escape (like \\ud800); remove it"
                )
            return value
        if isinstance(node, yaml.SequenceNode):
            items = []
            for index, item in enumerate(node.value):
                self.lines[(*path, index)] = _line(item.start_mark)
                items.append(self.build(item, (*path, index)))
            return items
        assert isinstance(node, yaml.MappingNode)
        mapping: dict[str, Any] = {}
        for key_node, value_node in node.value:
            line = _line(key_node.start_mark)
            if not isinstance(key_node, yaml.ScalarNode):
                self.problems.append(f"line {line}: a key must be a plain word, like name:")
                continue
            key = str(key_node.value)
            if key in mapping:
                self.problems.append(
                    f"line {line}: “{key}” is given twice here (first on line "
                    f"{self.lines[(*path, key)]}) — give each key once"
                )
                continue
            self.lines[(*path, key)] = line
            mapping[key] = self.build(value_node, (*path, key))
        return mapping


MAX_FLOW_DEPTH = 32  # a run sheet needs two or three; PyYAML is quadratic in deep nesting


def _nesting_problems(text: str) -> list[str]:
    """Refuse [ and { nested deeper than any run sheet needs, before PyYAML's pure-Python
    parser spends minutes on them (10,000 "[" took half a minute)."""
    depth, quote = 0, ""
    for number, line in enumerate(text.splitlines(), start=1):
        for char in line:
            if quote:
                quote = "" if char == quote else quote
            elif char in "'\"":
                quote = char
            elif char == "#":
                break
            elif char in "[{":
                depth += 1
                if depth > MAX_FLOW_DEPTH:
                    return [
                        f"line {number}: lists or mappings nested more than "
                        f"{MAX_FLOW_DEPTH} deep — a run sheet needs two or three"
                    ]
            elif char in "]}":
                depth = max(0, depth - 1)
        quote = ""  # a quoted flow scalar spanning lines is rare; stay conservative
    return []


def read_yaml(text: str) -> Located | list[str]:
    """The data in `text` with its lines, or the problems that stop it being read (each a line)."""
    if problems := _tab_problems(text) or _nesting_problems(text):
        return problems
    try:
        # Events first: once composed, an alias is the very node its anchor named.
        _check_events(yaml.parse(text, Loader=_Loader), problems)
        if problems:
            return problems
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as error:
        return [*problems, _syntax_problem(error)]
    except yaml.reader.ReaderError as error:
        line = text[: error.position].count("\n") + 1
        return [
            f"line {line}: a control character (#x{error.character:04x}) — a run sheet holds "
            "printable text only"
        ]
    except yaml.YAMLError as error:
        return [f"line 1: this is not valid YAML ({error})"]
    except RecursionError:
        return ["line 1: the file nests lists or mappings too deeply to read"]
    if root is None or (isinstance(root, yaml.ScalarNode) and _scalar(root) is None):
        return ["line 1: the file is empty — a run sheet starts with name: and steps:"]
    if not isinstance(root, yaml.MappingNode):
        shown = "a list" if isinstance(root, yaml.SequenceNode) else "a single value"
        return [
            f"line {_line(root.start_mark)}: a run sheet is a mapping with name:, title: and "
            f"steps:, not {shown}"
        ]
    builder = _Builder()
    try:
        data = builder.build(root, ())
    except RecursionError:
        return ["line 1: the file nests lists or mappings too deeply to read"]
    if builder.problems:
        return builder.problems
    return Located(data, {(): _line(root.start_mark), **builder.lines})
