"""`listening-bot rehearse`: a whole session offline, then its tour report."""

from __future__ import annotations

import dataclasses
import time
from functools import partial
from typing import TextIO

from bot.rehearsal.options import (
    RehearsalError,
    RehearsalOptions,
    check_options,
    load_sheet,
    prepare_database,
    report_path,
)
from bot.rehearsal.run import Rehearsal, RehearsalResult
from bot.runsheets.library import RunSheetLibrary
from storage.db import Database


def rehearse(options: RehearsalOptions, out: TextIO) -> RehearsalResult:
    """Run a whole session offline and leave its database and tour report behind."""
    from bot.report.small_groups import suppress_report
    from bot.report.tour import write_report
    from storage.report import SessionFilter

    check_options(options)
    options = dataclasses.replace(options, db=options.db.expanduser())
    sheet = load_sheet(options.runsheet)
    database_url = prepare_database(options.db)
    rehearsal = Rehearsal(options, sheet, out)
    began = time.monotonic()
    with rehearsal.running(database_url) as services:
        RunSheetLibrary(services.db, rehearsal.clock).add(
            rehearsal.sheet, options.runsheet.read_text(encoding="utf-8")
        )
        session_id = rehearsal.run(services)
        min_group = services.settings.REPORT_MIN_GROUP
    report = report_path(options.db)
    database = Database(database_url)
    try:
        write_report(
            database,
            SessionFilter(session_ids=(session_id,)),
            report,
            now=rehearsal.clock.now(),
            progress=lambda _stage: None,
            shown=partial(suppress_report, min_group=min_group),
            min_group=min_group,
        )
    except OSError as error:
        raise RehearsalError(
            f"the rehearsal ran, but the report could not be written to {report}: "
            f"{error.strerror or error}"
        ) from None
    finally:
        database.dispose()
    return RehearsalResult(
        db=options.db,
        report=report,
        session_id=session_id,
        transcript=rehearsal.transcript,
        seconds=time.monotonic() - began,
        counts={"votes": rehearsal.votes, "clicked": rehearsal.clicked},
    )
