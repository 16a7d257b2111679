"""Run sheets: a session's agenda written as YAML, validated with the bot's own rules, stored
in versions.

`model` holds the sheet and its steps, `yaml_source` reads YAML with line numbers, `problems`
turns validation errors into lines, `loading` puts the two together and `library` stores and
reads sheets.
"""

from bot.runsheets.library import Added, Listed, RunSheetLibrary, StoredSheet
from bot.runsheets.loading import (
    SheetProblems,
    load_runsheet,
    read_runsheet_file,
    read_runsheet_text,
)
from bot.runsheets.model import (
    BreakoutStep,
    NoteStep,
    PollStep,
    RunSheet,
    Step,
    StepKind,
    TalkStep,
)

__all__ = [
    "Added",
    "BreakoutStep",
    "Listed",
    "NoteStep",
    "PollStep",
    "RunSheet",
    "RunSheetLibrary",
    "SheetProblems",
    "Step",
    "StepKind",
    "StoredSheet",
    "TalkStep",
    "load_runsheet",
    "read_runsheet_file",
    "read_runsheet_text",
]
