"""The `listening-bot` command."""

from __future__ import annotations

import argparse
import gc
import logging
import signal
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from functools import partial
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from slack_bolt.error import BoltError
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import OperationalError

from bot.cli_args import parser
from bot.cli_support import UserError
from bot.config import ConfigError, Settings, load_settings

if TYPE_CHECKING:
    from bot.runsheets import RunSheet

logger = logging.getLogger("listening-bot")

EXIT_CONFIG = 2
EXIT_INTERRUPTED = 130  # as shells report Ctrl+C


class _Stop(Exception):
    """Raised by the SIGTERM handler to leave the main loop cleanly."""


def _raise_stop(_signum: int, _frame: FrameType | None) -> None:
    raise _Stop


def _freeze_startup_heap() -> None:
    # Everything loaded at start-up lives as long as the process; moving it out of the
    # collector's view turns the ~80 ms full collections under a burst of votes into short ones.
    gc.collect()
    gc.freeze()


REPLICAS_ADVICE = (
    "one process per SQLite file — use PostgreSQL (DATABASE_URL=postgresql://…) to run "
    "several replicas"
)

_LOCK_FILE = "the lock file next to the SQLite database"


@contextmanager
def _single_process(database_url: str, advice: str, place: str) -> Iterator[None]:
    """Hold the SQLite file's process lock while the block runs (nothing for PostgreSQL):
    a second bot on the file stops with one line naming the first one's pid."""
    from storage.filelock import AlreadyRunning, hold_single_process

    try:
        lock = hold_single_process(database_url)
    except AlreadyRunning as error:
        holder = f"pid {error.pid}" if error.pid else "pid unknown"
        raise UserError(
            f"another listening-bot is already running on {error.database} ({holder}); {advice}"
        ) from None
    except OSError as error:
        raise UserError(f"cannot write {place}: {error.strerror or error}") from None
    with lock:
        yield


def _upgrade_database(settings: Settings) -> None:
    from storage.db import Database
    from storage.migrate import upgrade

    db = Database(settings.DATABASE_URL)
    try:
        upgrade(db.engine)
    finally:
        db.dispose()


def _run(settings: Settings) -> None:
    settings.require("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN")
    with _single_process(settings.DATABASE_URL, REPLICAS_ADVICE, _LOCK_FILE):
        _run_socket_mode(settings)


def _run_socket_mode(settings: Settings) -> None:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from bot.bootstrap import create_app, create_services

    _upgrade_database(settings)
    services = create_services(settings, socket_mode=True)
    app = create_app(services, socket_mode=True)
    services.start_background()
    handler = SocketModeHandler(app, settings.SLACK_APP_TOKEN)
    signal.signal(signal.SIGTERM, _raise_stop)
    logger.info("connecting to Slack in Socket Mode")
    try:
        try:
            handler.connect()
        except SlackApiError as error:
            raise ConfigError(
                "SLACK_APP_TOKEN", f"was not accepted by Slack ({error.response.get('error')})"
            ) from None
        _freeze_startup_heap()
        logger.info("listening-bot is running; press Ctrl+C to stop")
        signal.pause()
    except (_Stop, KeyboardInterrupt):
        logger.info("stopping")
    finally:
        handler.close()
        services.stop_background()


def _serve(settings: Settings, host: str, port: int) -> None:
    settings.require("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET")
    with _single_process(settings.DATABASE_URL, REPLICAS_ADVICE, _LOCK_FILE):
        _serve_http(settings, host, port)


def _serve_http(settings: Settings, host: str, port: int) -> None:
    import uvicorn

    from bot.bootstrap import create_app, create_services
    from bot.server import KEEP_ALIVE_SECONDS, create_web_app

    _upgrade_database(settings)
    services = create_services(settings)
    app = create_app(services)
    services.start_background()
    web = create_web_app(app, services)
    _freeze_startup_heap()
    logger.info("serving on http://%s:%d (Slack: /slack/events)", host, port)
    # uvicorn stops serving on SIGTERM/SIGINT, then raises the signal again with the handlers
    # it found installed: ours turns it into _Stop, so the sender still drains what it can.
    signal.signal(signal.SIGTERM, _raise_stop)
    try:
        uvicorn.run(
            web,
            host=host,
            port=port,
            log_level="info",
            access_log=False,
            timeout_keep_alive=KEEP_ALIVE_SECONDS,
        )
    except (_Stop, KeyboardInterrupt):
        logger.info("stopping")
    finally:
        services.stop_background()


def _progress(stage: str) -> None:
    # Progress only on a terminal; scripts and CI logs get just the result line.
    if sys.stderr.isatty():
        print(f"  … {stage}", file=sys.stderr, flush=True)


def _export(settings: Settings, session_id: int, fmt: str, out: Path) -> None:
    from bot.report.export import UnknownSession, export_session
    from bot.report.small_groups import suppress_document
    from storage.db import Database

    db = Database(settings.DATABASE_URL)
    try:
        shown = partial(suppress_document, min_group=settings.REPORT_MIN_GROUP)
        files = export_session(db, session_id, fmt, out, shown=shown)
    except UnknownSession:
        raise UserError(
            f"there is no session {session_id} in {settings.DATABASE_URL} — the id is shown by "
            "`/session status` and in the exported reports"
        ) from None
    except OSError as error:
        raise UserError(f"cannot write {out}: {error.strerror or error}") from None
    finally:
        db.dispose()
    print(f"wrote {len(files)} file(s): {', '.join(str(f) for f in files)}")


def _report(settings: Settings, args: argparse.Namespace) -> None:
    from bot.clock import SystemClock
    from bot.report.small_groups import suppress_report
    from bot.report.tour import REPORT_SUFFIXES, NothingToReport, write_report
    from storage.db import Database
    from storage.report import SessionFilter

    out: Path = args.out
    if out.suffix.lower() not in REPORT_SUFFIXES:
        raise UserError(f"--out must end in .html or .md, not {out.name!r}")
    if args.since and args.until and args.until < args.since:
        raise UserError("--until is before --since")
    until = args.until + timedelta(days=1) if args.until else None
    where = SessionFilter(since=args.since, until=until, session_ids=tuple(args.session))
    db = Database(settings.DATABASE_URL)
    try:
        report = write_report(
            db,
            where,
            out,
            now=SystemClock().now(),
            progress=_progress,
            shown=partial(suppress_report, min_group=settings.REPORT_MIN_GROUP),
            min_group=settings.REPORT_MIN_GROUP,
        )
    except NothingToReport:
        raise UserError("no sessions match: check --since/--until/--session") from None
    except OSError as error:
        raise UserError(f"cannot write {out}: {error.strerror or error}") from None
    finally:
        db.dispose()
    print(
        f"wrote {out}: {report.attendance.sessions} sessions, {len(report.polls)} poll keys, "
        f"{sum(len(t.quotes) for t in report.themes)} quotes"
    )


def _read_sheet(path: Path) -> tuple[RunSheet, str] | None:
    """The validated sheet and its text, or None after printing its problems to stderr."""
    from bot.runsheets import SheetProblems, load_runsheet, read_runsheet_text

    text = read_runsheet_text(path)
    sheet = text if isinstance(text, SheetProblems) else load_runsheet(text)
    if isinstance(sheet, SheetProblems):
        for line in sheet.lines:
            print(f"{path}: {line}", file=sys.stderr)
        return None
    assert isinstance(text, str)
    return sheet, text


def _check_runsheet(path: Path) -> int:
    read = _read_sheet(path)
    if read is None:
        return EXIT_CONFIG
    sheet, _ = read
    print(f"ok: {sheet.name} — {sheet.outline()}")
    return 0


def _add_runsheet(settings: Settings, path: Path) -> int:
    from bot.clock import SystemClock
    from bot.runsheets import RunSheetLibrary
    from storage.db import Database

    read = _read_sheet(path)
    if read is None:
        return EXIT_CONFIG
    sheet, source = read
    _upgrade_database(settings)
    db = Database(settings.DATABASE_URL)
    try:
        added = RunSheetLibrary(db, SystemClock()).add(sheet, source)
    finally:
        db.dispose()
    if not added.created:
        print(f"unchanged: {added.name} is still version {added.version}")
        return 0
    kept = {1: "", 2: "; sessions that ran version 1 keep it"}.get(
        added.version, "; sessions that ran earlier versions keep theirs"
    )
    steps = f"{added.step_count} step" + ("" if added.step_count == 1 else "s")
    print(f"added {added.name} version {added.version} ({steps}){kept}")
    return 0


def _list_runsheets(settings: Settings) -> None:
    from bot.clock import SystemClock
    from bot.runsheets import RunSheetLibrary
    from storage.db import Database

    _upgrade_database(settings)
    db = Database(settings.DATABASE_URL)
    try:
        sheets = RunSheetLibrary(db, SystemClock()).list()
    finally:
        db.dispose()
    if not sheets:
        print(
            "no run sheets yet — add one with: "
            "listening-bot runsheet add examples/labour-listening-tour.yaml"
        )
        return
    rows = [("name", "version", "steps", "added", "sessions")] + [
        (
            sheet.name,
            str(sheet.version),
            str(sheet.step_count),
            sheet.added_at.strftime("%Y-%m-%d"),
            str(sheet.sessions_used),
        )
        for sheet in sheets
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for row in rows:
        # Words left-aligned, figures right-aligned under their headings.
        cells = [
            cell.ljust(width) if column in (0, 3) else cell.rjust(width)
            for column, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        print("  ".join(cells).rstrip())


def _rehearse(args: argparse.Namespace) -> int:
    from bot.rehearsal.command import rehearse
    from bot.rehearsal.options import RehearsalError, RehearsalOptions

    options = RehearsalOptions(
        runsheet=args.runsheet,
        participants=args.participants,
        speed=args.speed,
        db=args.db,
        seed=args.seed,
    )
    # The bot's own log lines would interleave with the transcript: only warnings show.
    logging.getLogger().setLevel(logging.DEBUG if args.verbose else logging.WARNING)
    try:
        # The rehearsal replaces its --db file: two on one file would wreck each other.
        with _single_process(
            f"sqlite:///{args.db.expanduser()}", "give this one another --db", f"--db {args.db}"
        ):
            result = rehearse(options, sys.stdout)
    except UserError as error:
        print(f"listening-bot: {error}", file=sys.stderr)
        return EXIT_CONFIG
    except RehearsalError as error:
        for line in str(error).splitlines():
            print(f"listening-bot: {line}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        print("\nlistening-bot: rehearsal stopped", file=sys.stderr)
        return EXIT_INTERRUPTED
    print(
        f"\nRehearsal done in {result.seconds:.1f}s. The database is {result.db} and the tour "
        f"report is {result.report}.\nRead it again with: DATABASE_URL=sqlite:///{result.db} "
        f"listening-bot report --out report.html"
    )
    return 0


def _name_replica_in_logs(replica: str) -> None:
    """Put the replica's name in every log line from now on (once the settings are read)."""
    # REPLICA_NAME is letters, digits and ._- only: never a %-placeholder.
    formatter = logging.Formatter(f"%(asctime)s %(levelname)s [{replica}] %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.setFormatter(formatter)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `listening-bot` console script."""
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # Alembic announces its plugins on every run; only the migrations it applies are news, and
    # only where the bot starts or `db upgrade` is asked for: elsewhere a command says one thing.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    if args.command not in ("db", "run", "serve"):
        logging.getLogger("alembic").setLevel(logging.WARNING)
    if args.command == "manifest":
        from bot.manifest import render_manifest

        sys.stdout.write(render_manifest(args.url))
        return 0
    if args.command == "rehearse":
        # Before any settings are read: a rehearsal never looks at .env or the environment.
        return _rehearse(args)
    if args.command == "runsheet" and args.runsheet_command == "check":
        # Checking a sheet is for anyone writing one: no settings, no .env, no database.
        return _check_runsheet(args.file)
    try:
        settings = load_settings(args.env_file)
        _name_replica_in_logs(settings.REPLICA_NAME)
        if args.command == "db":
            _upgrade_database(settings)
            print("database is up to date")
        elif args.command == "run":
            _run(settings)
        elif args.command == "serve":
            _serve(settings, args.host, args.port)
        elif args.command == "export":
            _export(settings, args.session, args.format, args.out)
        elif args.command == "report":
            _report(settings, args)
        elif args.command == "runsheet" and args.runsheet_command == "add":
            return _add_runsheet(settings, args.file)
        elif args.command == "runsheet":
            _list_runsheets(settings)
        elif args.command == "person" and args.person_command == "export":
            from bot.cli_people import run_person_export

            run_person_export(settings, args.who, args.out)
        elif args.command == "person":
            from bot.cli_people import run_person_forget

            run_person_forget(settings, args.who)
        elif args.command == "purge":
            from bot.cli_people import run_purge

            run_purge(settings, args.before)
        elif args.command == "quote":
            from bot.cli_quotes import run_quote_withdraw

            run_quote_withdraw(settings, args.quote_id)
    except UserError as error:
        print(f"listening-bot: {error}", file=sys.stderr)
        return EXIT_CONFIG
    except ConfigError as error:
        print(f"listening-bot: {error}", file=sys.stderr)
        return EXIT_CONFIG
    except BoltError as error:
        # Bolt checks the token with auth.test before listening.
        print(
            f"listening-bot: SLACK_BOT_TOKEN was not accepted by Slack ({error}) — copy the Bot "
            "User OAuth Token again from your app's 'OAuth & Permissions' page.",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    except OperationalError as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        print(
            f"listening-bot: DATABASE_URL cannot be opened ({reason}) — check the URL, that the "
            "server is running and that the database exists.",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    return 0


if __name__ == "__main__":
    sys.exit(main())
