"""What `listening-bot rehearse` is asked for, checked before anything starts: the options,
the run sheet, and a database file that is safe to (re)write."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.rooms.requests import SEED_MAX
from bot.runsheets import BreakoutStep, RunSheet, SheetProblems, read_runsheet_file
from storage.db import session_channels_in

CHANNEL = "C0REHEARSAL"  # the rehearsal's session channel: how its databases are recognised
PARTICIPANTS_RANGE = (1, 1000)
SPEED_RANGE = (1.0, 3600.0)


class RehearsalError(Exception):
    """Something the user can fix (a bad option, an unwritable database): one line, exit 2."""


@dataclass(frozen=True)
class RehearsalOptions:
    """What `listening-bot rehearse` was asked for."""

    runsheet: Path
    participants: int = 40
    speed: float = 300.0
    db: Path = Path("rehearsal.db")
    seed: int | None = None


def check_options(options: RehearsalOptions) -> None:
    """Refuse what the rehearsal cannot do, each with what is allowed."""
    low, high = PARTICIPANTS_RANGE
    if not low <= options.participants <= high:
        raise RehearsalError(
            f"--participants must be between {low} and {high:,}, not {options.participants}"
        )
    slow, fast = SPEED_RANGE
    if not slow <= options.speed <= fast:
        raise RehearsalError(
            f"--speed must be between {slow:g} and {fast:g} (times faster than real time), "
            f"not {options.speed:g}"
        )


def report_path(db: Path) -> Path:
    """Where the tour report goes: next to the database, named after it."""
    return db.with_suffix(".html")


def prepare_database(path: Path) -> str:
    """The rehearsal's database URL; an earlier rehearsal's file is replaced, anything else
    is refused (a rehearsal never touches a real database)."""
    if path.suffix.lower() in (".html", ".md"):
        raise RehearsalError(
            f"--db {path} would be overwritten by the report; give a name such as rehearsal.db"
        )
    if path.is_dir():
        raise RehearsalError(f"--db {path} is a folder; give a file name such as rehearsal.db")
    if report_path(path).is_dir():
        raise RehearsalError(f"the report would go to {report_path(path)}, which is a folder")
    if path.exists() or path.is_symlink():
        if not path.is_file() or path.is_symlink():
            raise RehearsalError(f"--db {path} is not a regular file; give another name")
        if not _is_rehearsal(path):
            raise RehearsalError(
                f"--db {path} holds a database that is not a rehearsal's; choose another file"
            )
    try:
        for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            leftover.unlink(missing_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("ab"):
            pass
    except OSError as error:
        raise RehearsalError(f"cannot write --db {path}: {error.strerror or error}") from None
    return f"sqlite:///{path.resolve()}"


def _is_rehearsal(path: Path) -> bool:
    """Whether a file is empty, or a database with sessions that all ran in the rehearsal's
    channel (one with none may be a real database that has only just been set up)."""
    if path.stat().st_size == 0:
        return True
    return session_channels_in(path) == {CHANNEL}


def load_sheet(path: Path) -> RunSheet:
    """The run sheet to rehearse, or one line per problem."""
    sheet = read_runsheet_file(path)
    if isinstance(sheet, SheetProblems):
        raise RehearsalError("\n".join(f"{path}: {line}" for line in sheet.lines))
    return sheet


def seeded(sheet: RunSheet, seed: int) -> RunSheet:
    """The sheet with a seed for every round that has none, so a rehearsal's seed replays the
    rooms too (a round in a real session gets a fresh one)."""
    steps = [
        step.model_copy(update={"seed": (seed + position) % (SEED_MAX + 1)})
        if isinstance(step, BreakoutStep) and step.seed is None
        else step
        for position, step in enumerate(sheet.steps)
    ]
    return sheet.model_copy(update={"steps": steps})
