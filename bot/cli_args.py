"""The `listening-bot` command line: its commands and their arguments."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn

EXPORT_FORMATS = ("csv", "json", "md")


class _Parser(argparse.ArgumentParser):
    """A parser whose mistakes are one line on stderr, exit code 2 (argparse's own print the
    usage first); every command's parser is one of these."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see `{self.prog} --help`)\n")


def parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="listening-bot",
        description="Run live listening sessions on Slack (and Zoom).",
    )
    parser.add_argument("--env-file", default=".env", help="settings file (default: .env)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug output")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("run", help="connect to Slack in Socket Mode (the default way to run)")
    serve = commands.add_parser("serve", help="serve Slack and Zoom over HTTP")
    serve.add_argument("--port", type=int, default=3000, help="port (default 3000)")
    serve.add_argument("--host", default="0.0.0.0", help="interface (default 0.0.0.0)")
    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="DB_COMMAND")
    db_commands.add_parser("upgrade", help="apply database migrations")
    export = commands.add_parser("export", help="export everything recorded about a session")
    export.add_argument("--session", required=True, type=positive_int, help="session id")
    export.add_argument("--format", required=True, choices=EXPORT_FORMATS, help="csv, json or md")
    export.add_argument(
        "--out", required=True, type=Path, help="file to write (a folder of CSV files for csv)"
    )
    report = commands.add_parser("report", help="write the tour-wide report (.html or .md)")
    report.add_argument("--since", type=date_arg, help="first day, YYYY-MM-DD")
    report.add_argument("--until", type=date_arg, help="last day (inclusive), YYYY-MM-DD")
    report.add_argument(
        "--session", type=positive_int, action="append", default=[], help="session id (repeat)"
    )
    report.add_argument("--out", required=True, type=Path, help="report.html or report.md")
    rehearse = commands.add_parser(
        "rehearse",
        help="run a whole session offline: the real bot, a local Slack, simulated people",
        description="Rehearse a run sheet: no network and no credentials needed. Prints what "
        "the channel, a participant and the facilitator see, and leaves a database and its "
        "tour report.",
    )
    rehearse.add_argument(
        "runsheet", type=Path, help="the run sheet, e.g. examples/labour-listening-tour.yaml"
    )
    rehearse.add_argument(
        "--participants", type=int, default=40, help="simulated people, 1 to 1,000 (default 40)"
    )
    rehearse.add_argument(
        "--speed",
        type=float,
        default=300.0,
        help="times faster than real time, 1 to 3,600 (default 300: a 2-minute poll takes 0.4 s)",
    )
    rehearse.add_argument(
        "--db", type=Path, default=Path("rehearsal.db"), help="database (default ./rehearsal.db)"
    )
    rehearse.add_argument("--seed", type=int, help="the same seed, the same people and choices")
    runsheet = commands.add_parser(
        "runsheet", help="check, add and list run sheets (a session's agenda, in YAML)"
    )
    runsheet_commands = runsheet.add_subparsers(
        dest="runsheet_command", required=True, metavar="RUNSHEET_COMMAND"
    )
    check = runsheet_commands.add_parser(
        "check", help="validate a run sheet file (needs no database and no settings)"
    )
    check.add_argument(
        "file", type=Path, help="the run sheet, e.g. examples/labour-listening-tour.yaml"
    )
    add = runsheet_commands.add_parser(
        "add", help="validate a run sheet and store it (a changed sheet becomes a new version)"
    )
    add.add_argument("file", type=Path, help="the run sheet (YAML)")
    runsheet_commands.add_parser("list", help="list the stored run sheets and their versions")
    person = commands.add_parser(
        "person", help="one participant's data: write a copy of it, or erase it everywhere"
    )
    person_commands = person.add_subparsers(
        dest="person_command", required=True, metavar="PERSON_COMMAND"
    )
    person_export = person_commands.add_parser(
        "export", help="write everything stored about a person as JSON"
    )
    person_export.add_argument("who", help="their Slack user id (U0123456789) or email")
    person_export.add_argument("--out", required=True, type=Path, help="the JSON file to write")
    person_forget = person_commands.add_parser(
        "forget", help="erase a person's identity everywhere (their votes stay as counts)"
    )
    person_forget.add_argument("who", help="their Slack user id (U0123456789) or email")
    quote = commands.add_parser("quote", help="report-back quotes")
    quote_commands = quote.add_subparsers(
        dest="quote_command", required=True, metavar="QUOTE_COMMAND"
    )
    withdraw = quote_commands.add_parser(
        "withdraw", help="withdraw a quote: removed from every post, export and report"
    )
    withdraw.add_argument("quote_id", help="the quote's id (in exports and the HTML report)")
    purge = commands.add_parser(
        "purge", help="erase people's identities from old sessions (aggregates are kept)"
    )
    purge.add_argument(
        "--before",
        type=date_arg,
        help="sessions that started before this day, YYYY-MM-DD (default: DATA_RETENTION_DAYS ago)",
    )
    manifest = commands.add_parser("manifest", help="print the Slack app manifest (YAML)")
    manifest.add_argument(
        "--url",
        help="public https URL of /slack/events for HTTP mode (omit for Socket Mode)",
    )
    return parser


def positive_int(text: str) -> int:
    if not text.isdigit() or int(text) == 0 or len(text) > 18:
        raise argparse.ArgumentTypeError(f"{text!r} is not a session id (a whole number)")
    return int(text)


def date_arg(text: str) -> datetime:
    try:
        return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date: use YYYY-MM-DD, e.g. 2026-11-21"
        ) from None
