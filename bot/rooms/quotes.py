"""Withdrawing a quote (a part of `RoomService`): from its report-back post's button, or by an
organiser on the command line.

A withdrawal marks the quote withdrawn in every version of its room's report-back that held it
(its family: what it was copied from and the copies the form made of it, edited or not; see
`storage.rooms.same_quote_in_versions`), blanks their text and speaker (kept nowhere once
withdrawn: only the ids and when they went remain), and queues, in the same transaction, the
edits of everything already posted that showed them, from that same family: each of its
versions' thread posts, the room's compact channel post, and every summary of its session. The
sender renders those from the database when it sends them, so they come out without the quote.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from bot import outbox
from bot.polls.jobs import FORGET_HISTORY_RETRY
from bot.report.model import quote_label
from bot.results import Duplicate, Refusal
from bot.rooms import effects
from bot.rooms.reading import RoomReading
from bot.rooms.results import QuoteWithdrawn
from bot.summaries.effects import summaries_without_quote
from storage import repository as repo
from storage import rooms as store
from storage.rooms.reports import (
    WITHDRAWN_BY_FACILITATOR,
    WITHDRAWN_BY_ORGANISER,
    WITHDRAWN_BY_REPORTER,
    ReportQuote,
)

logger = logging.getLogger(__name__)

FORGET_QUOTES_JOB_ID = "withdrawn-quotes-forget-history"


def unknown_quote(quote_id: int) -> str:
    """The refusal for an id no quote has."""
    return (
        f"There is no quote {quote_label(quote_id)}. Quote ids are in the session's export "
        "(`listening-bot export`) and in small print under each quote of the HTML report."
    )


def already_withdrawn(quote_id: int) -> str:
    """The refusal for a quote withdrawn before."""
    return f"Quote {quote_label(quote_id)} is already withdrawn: nothing to do."


class RoomQuotes(RoomReading):
    """Withdrawing quotes."""

    def withdraw_quote(
        self, quote_id: int, *, user_id: str | None, delivery_key: str | None = None
    ) -> QuoteWithdrawn | Refusal | Duplicate:
        """Withdraw a quote everywhere, with the edits of what showed it, in one transaction.

        Args:
            quote_id: the quote's id (any version's copy of it).
            user_id: who pressed the button; None for an organiser on the command line.
            delivery_key: the click's delivery, so a redelivered click changes nothing.
        """
        now = self.clock.now()
        try:
            with self.db.transaction() as db:
                quote = store.get_quote(db, quote_id=quote_id)
                report = store.get_report(db, report_id=quote.report_id) if quote else None
                room = store.get_room(db, room_id=report.room_id) if report else None
                breakout = store.get_round(db, round_id=room.round_id) if room else None
                session = repo.get_session(db, session_id=breakout.session_id) if breakout else None
                if quote is None or room is None or breakout is None or session is None:
                    return Refusal(unknown_quote(quote_id))
                assert room.id is not None
                assert breakout.id is not None
                assert session.id is not None
                if quote.withdrawn_at is not None:
                    return Refusal(already_withdrawn(quote_id))
                # A report-back saved at this moment copies under the same lock: it is either
                # in the family read next, or sees its source withdrawn (`store.add_report`).
                store.lock_room(db, room_id=room.id)
                copies = store.same_quote_in_versions(db, quote=quote)
                by = WITHDRAWN_BY_ORGANISER
                if user_id is not None:
                    if self.sessions.is_facilitator(user_id, session):
                        by = WITHDRAWN_BY_FACILITATOR
                    elif any(
                        version.submitted_by == user_id
                        for version in store.report_versions(db, room_id=room.id)
                    ):
                        by = WITHDRAWN_BY_REPORTER
                    else:
                        return Refusal(
                            f"Only this session's facilitators and whoever sent Room "
                            f"{room.number}'s report-back can withdraw its quotes. Nothing was "
                            "changed."
                        )
                repo.record_delivery(db, key=delivery_key, now=now)
                ids = [copy.id for copy in copies if copy.id is not None and not copy.withdrawn_at]
                if store.withdraw_quotes(db, quote_ids=ids, now=now, by=by) == 0:
                    return Refusal(already_withdrawn(quote_id))  # withdrawn just now, elsewhere
                report_ids = sorted(_versions_of(copies))
                posts = effects.quote_withdrawn_posts(breakout.id, room.id, report_ids, quote_id)
                posts.append(summaries_without_quote(session.id, quote_id))
                outbox.queue_all(db, posts, now=now)
                withdrawn = QuoteWithdrawn(
                    quote_id=quote_id,
                    session_id=session.id,
                    session_title=session.title,
                    round_number=breakout.number,
                    room_number=room.number,
                    versions=len(report_ids),
                    edits=len(posts),
                )
        except repo.DuplicateDelivery:
            return Duplicate()
        # Blanked text must not linger in the database's files: dropped by a job, after the
        # click's ack (it rewrites a table and may wait for other connections).
        self.deadlines.schedule(FORGET_QUOTES_JOB_ID, self.forget_quote_history, datetime.now(UTC))
        return withdrawn

    def forget_quote_history(self) -> None:
        """Drop old versions of withdrawn quotes' rows (SQLite's write-ahead log, PostgreSQL's
        dead rows), or try again soon if other connections keep it from finishing."""
        if self.db.forget_history([ReportQuote.__tablename__]):
            return
        logger.info("withdrawn quotes: old copies of their rows are dropped in a moment")
        later = self.clock.now() + FORGET_HISTORY_RETRY
        self.deadlines.schedule(FORGET_QUOTES_JOB_ID, self.forget_quote_history, later)


def _versions_of(copies: list[ReportQuote]) -> set[int]:
    return {copy.report_id for copy in copies}
