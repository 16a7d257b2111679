"""`listening-bot person export|forget` and `listening-bot purge`: thin commands over
`bot.privacy.people` and `bot.privacy.retention`. They never take the SQLite process lock: a
bot may be running on the database (the edits they queue are its to post)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

from bot.cli_support import UserError, history_line, who_sends
from bot.clock import SystemClock
from bot.config import Settings
from bot.privacy.people import (
    NothingStored,
    StillVoting,
    counts_line,
    export_person,
    forget_person,
)
from bot.privacy.retention import purge
from storage.db import Database
from storage.migrate import upgrade


def _nothing_stored(who: str) -> UserError:
    return UserError(
        f"nothing is stored about {who!r}: check the Slack user id (U…, from their profile: "
        "⋮ → Copy member ID) or the email — someone already erased has nothing left to erase"
    )


def _still_voting(who: str, voting: StillVoting) -> UserError:
    first = voting.polls[0]
    polls = ", ".join(str(poll.poll_id) for poll in voting.polls)
    return UserError(
        f"{who} answered poll {polls}, still open until {_utc(first.closes_at)}: erased now, "
        "they could vote in it again. Run this again once it closes (a facilitator can close "
        "it now with `/poll close` in its channel); nothing was changed"
    )


def _utc(moment: datetime) -> str:
    return moment.strftime("%H:%M UTC on %d %b %Y")


def _open(settings: Settings) -> Database:
    db = Database(settings.DATABASE_URL)
    upgrade(db.engine)  # an older database has this version's tables (nothing to do if it has)
    return db


def _posted(edits: int) -> str:
    """ "1 posted message", "4 posted messages"."""
    return f"{edits:,} posted message{'' if edits == 1 else 's'}"


def run_person_export(settings: Settings, who: str, out: Path) -> None:
    """Write everything stored about a person as JSON to `out`."""
    db = _open(settings)
    try:
        record = export_person(db, who, now=SystemClock().now())
    except NothingStored:
        raise _nothing_stored(who) from None
    finally:
        db.dispose()
    try:
        out.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    except OSError as error:
        raise UserError(f"cannot write {out}: {error.strerror or error}") from None
    zoom = record["zoom"]
    print(
        f"wrote {out}: {len(record['check_ins'])} check-ins, {len(record['votes'])} votes, "
        f"{len(record['rooms'])} room memberships, {len(record['report_backs'])} report-backs, "
        f"{len(zoom['people']) + len(zoom['poll_answers'])} Zoom records, "
        f"{len(record['messages'])} messages"
    )


def run_person_forget(settings: Settings, who: str) -> None:
    """Erase a person's identity everywhere; print what changed."""
    db = _open(settings)
    try:
        try:
            forgotten = forget_person(db, who, now=SystemClock().now())
        except NothingStored:
            raise _nothing_stored(who) from None
        except StillVoting as voting:
            raise _still_voting(who, voting) from None
        print(f"erased {who}: {counts_line(forgotten.erased)}")
        print(history_line(forgotten.scrubbed))
        if forgotten.edits:
            print(f"{_posted(forgotten.edits)} will drop the mention: {who_sends(db)}")
    finally:
        db.dispose()


def run_purge(settings: Settings, before: datetime | None) -> None:
    """Erase everyone in sessions started before `before` (default: DATA_RETENTION_DAYS ago)."""
    now = SystemClock().now()
    if before is None:
        if settings.DATA_RETENTION_DAYS is None:
            raise UserError(
                "purge needs --before YYYY-MM-DD, or DATA_RETENTION_DAYS (how many days to keep "
                "people's identities) set in the environment or .env"
            )
        before = now - timedelta(days=settings.DATA_RETENTION_DAYS)
    elif before > now:
        raise UserError(
            f"--before {before:%Y-%m-%d} is in the future: give a day up to today ({now:%Y-%m-%d})"
        )
    db = _open(settings)
    try:
        done = purge(db, before=before, now=now, min_group=settings.REPORT_MIN_GROUP)
        if done.left_running:
            sessions = ", ".join(map(str, done.left_running))
            print(
                f"left session {sessions} for a later purge: it has not ended (people could "
                "still check in); a facilitator ends it with `/session end` in its channel, or "
                "a bot running with DATA_RETENTION_DAYS ends it once it is 2 days old"
            )
        if done.left_settling:
            sessions = ", ".join(map(str, done.left_settling))
            print(
                f"left session {sessions} for a later purge: it ended less than an hour ago "
                "(what its end sends, such as Zoom's poll answers, may still be on its way)"
            )
        if done.left_open:
            sessions = ", ".join(map(str, done.left_open))
            print(
                f"left session {sessions} for a later purge: a poll in it is still open, and "
                "erased voters could vote in it again"
            )
        if not done.sessions:
            if not (done.left_open or done.left_running or done.left_settling):
                print(f"nothing to purge: no session started before {before:%Y-%m-%d %H:%M} UTC")
            return
        print(
            f"purged {done.sessions} session(s) started before {before:%Y-%m-%d %H:%M} UTC: "
            f"erased {done.people:,} people ({counts_line(done.erased) or 'no rows'}); "
            f"kept {done.breakdowns:,} breakdown rows for the tour report"
        )
        print(history_line(done.scrubbed))
        if done.edits:
            print(f"{_posted(done.edits)} will drop their mentions: {who_sends(db)}")
    finally:
        db.dispose()
