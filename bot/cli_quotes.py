"""`listening-bot quote withdraw <quote id>`: an organiser withdraws a quote.

The same withdrawal as the quote's Withdraw button in Slack (`RoomService.withdraw_quote`): the
quote is marked withdrawn in every version that held it, its text blanked, and the edits of every
post that showed it queued in the outbox in the same transaction; a running bot sends them (the
command never takes the SQLite process lock), or the next one to start does.
"""

from __future__ import annotations

from bot.cli_support import UserError, history_line, who_sends
from bot.clock import SystemClock
from bot.config import Settings
from bot.privacy.people import scrub
from bot.results import Duplicate, Refusal
from bot.rooms import RoomService, quote_label
from bot.scheduler import Deadlines
from bot.sessions import SessionService
from storage.db import Database
from storage.migrate import upgrade
from storage.rooms import ReportQuote

ID_MAX_DIGITS = 18


def parse_quote_id(text: str) -> int:
    """A quote id as typed: `17`, or `q17` as exports and the report print it."""
    digits = text.strip()
    if digits[:1] in ("q", "Q"):
        digits = digits[1:]
    if not digits.isdecimal() or not digits.isascii() or len(digits) > ID_MAX_DIGITS:
        raise UserError(
            f"{text[:40]!r} is not a quote id: give its number, e.g. `listening-bot quote "
            "withdraw 17` (ids are in the session's export and the HTML report, as q17)"
        )
    return int(digits)


def run_quote_withdraw(settings: Settings, quote_id: str) -> None:
    """Withdraw a quote everywhere; print what was done and who posts the edits.

    Raises:
        UserError: the id is not a number, no quote has it, or it is already withdrawn.
    """
    wanted = parse_quote_id(quote_id)
    db = Database(settings.DATABASE_URL)
    try:
        upgrade(db.engine)  # an older database has this version's tables (nothing to do if it has)
        clock = SystemClock()
        sessions = SessionService(db, settings, clock)
        rooms = RoomService(db, settings, clock, sessions, Deadlines(clock=clock))
        outcome = rooms.withdraw_quote(wanted, user_id=None)
        if isinstance(outcome, Refusal):
            raise UserError(outcome.message.replace("`", ""))
        assert not isinstance(outcome, Duplicate)  # no delivery key, so never a redelivery
        versions = (
            f" (its copies in {outcome.versions} versions of the report-back too)"
            if outcome.versions > 1
            else ""
        )
        print(
            f"withdrew quote {quote_label(outcome.quote_id)}{versions} from Room "
            f"{outcome.room_number}, breakout round {outcome.round_number} of session "
            f"{outcome.session_id} “{outcome.session_title}”: its text is deleted, and "
            f"{outcome.edits} edits of the posts and summaries that showed it are queued"
        )
        # No scheduler runs here to try again later: a few tries now, and say how it went.
        print(history_line(scrub(db, {ReportQuote.__tablename__})))
        print(who_sends(db))
    finally:
        db.dispose()
