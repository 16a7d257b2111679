"""Reading a run sheet from YAML: the sheet, or every problem with it as one line each."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from bot.runsheets.model import SEEN_KEYS, RunSheet
from bot.runsheets.problems import describe
from bot.runsheets.yaml_source import read_yaml

MAX_PROBLEM_LINES = 20
MAX_FILE_BYTES = 1024 * 1024


@dataclass(frozen=True)
class SheetProblems:
    """What is wrong with a run sheet: one line each, most naming the line of the file."""

    lines: tuple[str, ...]


def _capped(lines: list[str]) -> SheetProblems:
    if len(lines) <= MAX_PROBLEM_LINES:
        return SheetProblems(tuple(lines))
    more = len(lines) - MAX_PROBLEM_LINES
    return SheetProblems((*lines[:MAX_PROBLEM_LINES], f"… and {more} more"))


def load_runsheet(text: str) -> RunSheet | SheetProblems:
    """Validate the YAML text of a run sheet."""
    source = read_yaml(text)
    if isinstance(source, list):
        return _capped(source)
    try:
        return RunSheet.model_validate(source.data, context={SEEN_KEYS: {}})
    except ValidationError as error:
        return _capped([line for _, line in describe(error, source)])


def read_runsheet_text(path: Path) -> str | SheetProblems:
    """The text of a run sheet file, or the one reason it cannot be read."""
    try:
        if path.is_dir():
            return SheetProblems(("is a folder, not a run sheet file",))
        if path.exists() and not path.is_file():
            # A device or a pipe: /dev/zero would be read for ever.
            return SheetProblems(("is not a regular file, not a run sheet file",))
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return SheetProblems(
                (f"is {size:,} bytes; a run sheet file is at most 1 MB ({MAX_FILE_BYTES:,} bytes)",)
            )
        raw = path.read_bytes()
    except FileNotFoundError:
        return SheetProblems(("no such file",))
    except OSError as error:
        return SheetProblems((f"cannot be read ({error.strerror or error})",))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        return SheetProblems(
            (f"line {line}: this is not UTF-8 text — save the file as UTF-8 and try again",)
        )
    return text


def read_runsheet_file(path: Path) -> RunSheet | SheetProblems:
    """Read and validate a run sheet file."""
    text = read_runsheet_text(path)
    return text if isinstance(text, SheetProblems) else load_runsheet(text)
