"""The generated tour the report and privacy benchmarks run on: its options and its build."""

from __future__ import annotations

import argparse
import time
from datetime import datetime
from pathlib import Path

from storage.db import Database
from storage.migrate import upgrade
from tests.harness.tour_data import generate_tour


def tour_options(parser: argparse.ArgumentParser, *, sessions: int, report_backs: int) -> None:
    """--sessions, --people, --polls and --report-backs, with these defaults."""
    parser.add_argument("--sessions", type=int, default=sessions)
    parser.add_argument("--people", type=int, default=300)
    parser.add_argument("--polls", type=int, default=12)
    parser.add_argument("--report-backs", type=int, default=report_backs)


def build_tour(folder: Path, args: argparse.Namespace, *, start: datetime | None = None) -> str:
    """A SQLite tour in `folder` as the options say (from `start`, when given); prints how long
    it took and returns its DATABASE_URL."""
    url = f"sqlite:///{folder}/tour.db"
    db = Database(url)
    upgrade(db.engine)
    started = time.perf_counter()
    size = {
        "sessions": args.sessions,
        "people": args.people,
        "polls": args.polls,
        "report_backs": args.report_backs,
    }
    if start is None:
        generate_tour(db, **size)
    else:
        generate_tour(db, **size, start=start)
    db.dispose()
    print(
        f"built {args.sessions} sessions x {args.people} people x {args.polls} polls, "
        f"{args.report_backs} report-backs in {time.perf_counter() - started:.1f} s"
    )
    return url
