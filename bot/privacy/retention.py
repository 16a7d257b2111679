"""Retention: erase everyone in sessions older than a date, keeping the tour report's figures.

Before a session's people are erased, its breakdowns (per poll and source, and of check-ins:
how many people of each role, place and group, and what they chose) are stored, each one's
small groups (of fewer than REPORT_MIN_GROUP people, and the rows hidden with them) merged into
one row as the tour report merges them (bot.report.small_groups.merge_small), so no stored row
holds a small group; the report reads them for that session from then on, and shows the same
figures before and after.
A person who also took part in a later session keeps their rows there; their Slack email, and
outbox rows naming them, go with their last session. Each of their check-ins in the purged
sessions becomes a token of its own, unlinked to the others, so a report would count them once
per session among its distinct people: each purged session stores how many of its people are
counted by which other sessions, and a report that holds one of those takes them off (so any
choice of sessions counts each person once).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlmodel import Session

from bot.clock import Clock
from bot.privacy.edits import queue_erasure_edits
from bot.privacy.people import counts_line, scrub
from bot.report.breakdowns import session_breakdowns
from bot.report.collect import collect
from storage import privacy
from storage.db import Database
from storage.privacy import Person, StoredBreakdown
from storage.report import SessionFilter

logger = logging.getLogger(__name__)

PURGE_TABLES = ("poll_breakdown", "session_purge")  # what a purge writes besides the erasure
SCRUB_RETRY_MINUTES = 10
# A session still running this long after it started, once due for a purge, was left running
# by mistake: the daily purge ends it (a meeting lasts hours; a conference a day or two).
ABANDONED_AFTER = timedelta(days=2)
# How long after its end a session waits for its purge (one the purge ended waits a day).
SETTLE = timedelta(hours=1)


@dataclass(frozen=True)
class Purged:
    """What a purge did."""

    sessions: int
    people: int
    breakdowns: int  # slices stored
    erased: privacy.Erased = field(default_factory=privacy.Erased)
    edits: int = 0
    scrubbed: bool = True
    left_open: tuple[int, ...] = ()  # sessions due but left for later: a poll is still open
    left_running: tuple[int, ...] = ()  # sessions due but left for later: not ended yet
    # Sessions due but left for later: ended less than SETTLE ago (what the end queued, such as
    # Zoom's poll answers and the facilitators' controls, may still be on its way).
    left_settling: tuple[int, ...] = ()
    ended_by_bot: tuple[int, ...] = ()  # sessions nobody ended, ended by the daily purge first


def _due(
    s: Session, *, before: datetime, now: datetime, among: Collection[int] | None = None
) -> tuple[list[int], tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """The sessions to purge now (of `among`, if given), and those due but left for later: not
    ended, with a poll still open, and ended less than SETTLE ago."""
    due = [i for i in privacy.sessions_to_purge(s, before=before) if among is None or i in among]
    running = tuple(privacy.not_ended(s, session_ids=due))
    settling = tuple(
        i
        for i in privacy.not_ended(s, session_ids=due, ended_after=now - SETTLE)
        if i not in running
    )
    left_open = tuple(sorted({poll.session_id for poll in privacy.open_polls(s, session_ids=due)}))
    later = {*running, *settling, *left_open}
    return [i for i in due if i not in later], running, left_open, settling


def purge(db: Database, *, before: datetime, now: datetime, min_group: int) -> Purged:
    """Erase everyone in sessions started before `before` that were not purged yet, but those
    not ended (people could still check in, after their purge) or with a poll still open (its
    voters, erased, could vote again): a later purge takes them. Their breakdowns are stored
    first, small groups (of fewer than `min_group` people: REPORT_MIN_GROUP) merged."""
    with db.read() as s:
        session_ids, running, left_open, settling = _due(s, before=before, now=now)
    left = Purged(0, 0, 0, left_open=left_open, left_running=running, left_settling=settling)
    if not session_ids:
        return left
    # The breakdowns come from the report's own reading and tallying of these sessions.
    data = collect(db, SessionFilter(session_ids=tuple(session_ids)))
    rows = session_breakdowns(data, set(session_ids), min_group=min_group)
    with db.transaction() as s:
        # Again where it counts: another purge may have got here first (a bot's daily one and
        # the CLI); the ones left.
        session_ids, *_ = _due(s, before=before, now=now, among=set(session_ids))
        if not session_ids:
            return left
        elsewhere = [
            StoredBreakdown(session_id, None, "", privacy.ELSEWHERE, "", count, others)
            for (session_id, others), count in privacy.counted_elsewhere(
                s, session_ids=session_ids
            ).items()
        ]
        stored = privacy.save_breakdowns(
            s,
            rows=[
                *(StoredBreakdown(**vars(row)) for row in rows if row.session_id in session_ids),
                *elsewhere,
            ],
        )
        privacy.mark_purged(s, session_ids=session_ids, now=now)
        people = privacy.people_of_sessions(s, session_ids=session_ids)
        erased = privacy.erase(
            s,
            person=people,
            session_ids=session_ids,
            everywhere=False,
            thorough=True,
            per_session=True,
        )
        gone = people.user_ids - privacy.ids_elsewhere(
            s, user_ids=people.user_ids, session_ids=session_ids
        )
        if gone:
            # No session left holds them: nor should the rows of no session.
            rest = privacy.erase(
                s, person=Person(user_ids=frozenset(gone), emails=frozenset()), session_ids=()
            )
            erased.update(rest)
        edits = queue_erasure_edits(s, erased, now=now)
    return replace(
        left,
        sessions=len(session_ids),
        people=len(people.user_ids),
        breakdowns=stored,
        erased=erased,
        edits=edits,
        scrubbed=scrub(db, erased.tables | set(PURGE_TABLES)),
    )


class Retention:
    """The daily purge of `run`/`serve` when DATA_RETENTION_DAYS is set."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        days: int,
        *,
        min_group: int,
        end_abandoned: Callable[[int], bool] | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.days = days
        self.min_group = min_group  # REPORT_MIN_GROUP: see `purge`
        # Ends a session nobody ended as `/session end` would (SessionEnding.end_abandoned).
        self.end_abandoned = end_abandoned
        # Tables a purge changed whose old row versions a busy database kept (in memory: a
        # restart in between leaves them to the database's own vacuuming).
        self._unscrubbed: set[str] = set()

    def run(self) -> None:
        """The scheduler's daily job: `purge_due`."""
        self.purge_due()

    def _end_abandoned(self, *, before: datetime) -> tuple[int, ...]:
        """End the sessions due for a purge that nobody ended and that started before `before`
        (ABANDONED_AFTER ago at the least): nobody will check in days later, and their data
        must not outlive the retention period because a facilitator forgot `/session end`."""
        if self.end_abandoned is None:
            return ()
        with self.db.read() as s:
            running = privacy.not_ended(s, session_ids=privacy.sessions_to_purge(s, before=before))
        ended = tuple(i for i in running if self._end_one(i))
        if ended:
            logger.warning(
                "retention: ended sessions %s, which nobody had ended %s after they started, as "
                "/session end would; they are purged from the next daily run",
                ended,
                ABANDONED_AFTER,
            )
        return ended

    def _end_one(self, session_id: int) -> bool:
        """End one session nobody ended; a failure is logged and leaves it for the next day."""
        assert self.end_abandoned is not None
        try:
            return self.end_abandoned(session_id)
        except Exception:
            logger.exception(
                "retention: could not end session %s: tried again tomorrow", session_id
            )
            return False

    def scrub_pending(self) -> bool:
        """The scheduler's job every SCRUB_RETRY_MINUTES: scrub the history an earlier purge
        could not (the database was busy). True when nothing is left to scrub."""
        if not self._unscrubbed:
            return True
        if not scrub(self.db, self._unscrubbed):
            return False
        logger.info("retention: the history of the erased rows is scrubbed now")
        self._unscrubbed.clear()
        return True

    def purge_due(self) -> Purged:
        """Purge the sessions older than the retention period (a scheduler job)."""
        now = self.clock.now()
        before = now - timedelta(days=self.days)
        ended = self._end_abandoned(before=min(before, now - ABANDONED_AFTER))
        done = replace(
            purge(self.db, before=before, now=now, min_group=self.min_group), ended_by_bot=ended
        )
        if done.left_open:
            logger.info("retention: sessions %s wait for their open polls", done.left_open)
        if done.left_running:
            logger.warning(
                "retention: sessions %s are older than %d days but have not ended: a "
                "facilitator ends each with /session end in its channel, then it is purged",
                done.left_running,
                self.days,
            )
        if done.sessions:
            logger.info(
                "retention: erased %d people from %d sessions older than %d days (%s)",
                done.people,
                done.sessions,
                self.days,
                counts_line(done.erased),
            )
        if done.sessions and not done.scrubbed:
            self._unscrubbed |= {*done.erased.tables, *PURGE_TABLES}
            logger.warning(
                "retention: the database was busy, so earlier versions of the erased rows remain "
                "in its files for now: tried again every %d minutes",
                SCRUB_RETRY_MINUTES,
            )
        return done
