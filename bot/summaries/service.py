"""Session summaries: gathered from the database; queued once per end, or on `/summary`."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlmodel import Session

from bot.clock import Clock
from bot.outbox import queue
from bot.report.aggregate import attribution, poll_aggregates, tour_attendance
from bot.report.collect import collect, latest_reports
from bot.report.model import Result
from bot.report.small_groups import attendance_hides, suppress_attendance, suppress_results
from bot.summaries.effects import final_summary, interim_summary
from bot.summaries.model import PollSummary, RoomSummary, SessionSummary
from storage import outbox
from storage import report as queries
from storage import repository as repo
from storage import summaries as summary_repo
from storage.db import Database
from storage.models import ListeningSession
from storage.report import SessionFilter


class SummaryService:
    """Builds session summaries and queues them: the final one once per ended session."""

    def __init__(self, db: Database, clock: Clock, *, min_group: int) -> None:
        self.db = db
        self.clock = clock
        # Groups, roles and places of fewer people than this are not shown (REPORT_MIN_GROUP).
        self.min_group = min_group

    def queue_final(self, db: Session, session: ListeningSession) -> None:
        """Session-end report: queue the final summary in the caller's transaction."""
        assert session.id is not None
        queue(db, final_summary(session.id), now=self.clock.now())

    def request_interim(self, *, session_id: int, delivery_key: str | None) -> bool:
        """Queue an interim summary of a running session; False for a redelivered request."""
        now = self.clock.now()
        try:
            with self.db.transaction() as db:
                repo.record_delivery(db, key=delivery_key, now=now)
                queue(db, interim_summary(session_id, delivery_key=delivery_key), now=now)
        except repo.DuplicateDelivery:
            return False
        return True

    def recover(self) -> None:
        """At start: queue the summary of every ended session whose summary is not done.

        Normally it is queued already (its key is unique, so this changes nothing); it is not
        when the bot stopped between a session's end and queuing its summary.
        """
        unposted = self.unposted()
        if unposted:
            with self.db.transaction() as db:
                for session_id in unposted:
                    queue(db, final_summary(session_id), now=self.clock.now())

    def unposted(self) -> list[int]:
        """Ended sessions whose final summary is not done."""
        with self.db.read() as db:
            return summary_repo.ended_without_summary(db)

    def final_progress(self, session_id: int) -> dict[str, Any]:
        """What the session's final summary has posted so far, as its sender recorded it
        (empty when it is not queued, or its row was forgotten days after it was done)."""
        return self.progress(final_summary(session_id).key) or {}

    def progress(self, key: str) -> dict[str, Any] | None:
        """What the summary queued under `key` has posted so far, as its sender recorded it;
        None once its row is forgotten (days after it was done)."""
        with self.db.read() as db:
            return outbox.progress_of(db, key=key)

    def mark_done(self, session_id: int) -> None:
        """Record that a session's final summary is done (posted, or given up for good)."""
        with self.db.transaction() as db:
            summary_repo.mark_summary_done(db, session_id=session_id, now=self.clock.now())

    def record_post(
        self, summary: SessionSummary, *, key: str, channel: str, part: int, ts: str
    ) -> None:
        """Remember a message a summary posted (part 1, 2, … in a channel), so it can be edited
        when a quote it shows is withdrawn, however long after."""
        assert summary.session.id is not None
        with self.db.transaction() as db:
            summary_repo.record_summary_post(
                db,
                session_id=summary.session.id,
                summary_key=key,
                interim=summary.interim,
                built_at=summary.at,
                channel=channel,
                part=part,
                ts=ts,
            )

    def posted(self, session_id: int) -> list[summary_repo.SummaryPost]:
        """Every message every summary of a session posted, by summary, channel and part."""
        with self.db.read() as db:
            return summary_repo.summary_posts(db, session_id=session_id)

    def build(
        self,
        session_id: int,
        *,
        interim: bool,
        at: datetime | None = None,
        as_of: datetime | None = None,
    ) -> SessionSummary | None:
        """Gather a session's summary as it is now (or as of `as_of`), small groups hidden;
        None if there is no such session.

        Args:
            session_id: the session.
            interim: an interim summary (it says "as of" its time).
            at: the time it says (default `as_of`, else now).
            as_of: shown again as it was built then (an interim summary edited when a quote is
                withdrawn): check-ins, polls, rounds, report-back versions and Zoom answers
                recorded since are left out; minus whatever was withdrawn or erased since.
                A poll open then shows no figures: votes are stored without their time.
        """
        where = SessionFilter(session_ids=(session_id,), as_of=as_of)
        with self.db.read() as s:
            sessions = queries.find_sessions(s, where=where)
            if not sessions:
                return None
            # Members are not shown in a summary; a session has thousands of member rows.
            rooms = latest_reports(
                queries.rooms_with_reports(
                    s, session_ids=[session_id], with_members=False, as_of=as_of
                )
            )
            latest_ids = [room.versions[-1].id or 0 for room in rooms]
            themes = queries.themes_of(s, report_ids=latest_ids)
        data = collect(self.db, where)
        aggregates = poll_aggregates(data)
        voted = Counter(poll_id for poll_id, _ in {(v.poll_id, v.user_id) for v in data.votes})
        voted.update({tally.poll_id: tally.voters for tally in data.anonymous})
        theme_counts = Counter(name for names in themes.values() for name in names)
        summary = SessionSummary(
            session=sessions[0],
            interim=interim,
            at=at or as_of or self.clock.now(),
            attendance=tour_attendance(data),
            polls=tuple(
                PollSummary(
                    poll,
                    aggregate.overall,
                    aggregate.by_source,
                )
                if (aggregate := aggregates.get(poll.id)) is not None
                else PollSummary(poll, Result(poll.question, voted[poll.id], ()))
                for poll in data.polls
            ),
            rooms=tuple(
                RoomSummary(
                    round_number=room.round.number,
                    room_number=room.room.number,
                    summary=room.versions[-1].summary,
                    key_points=tuple(
                        p.strip() for p in room.versions[-1].key_points.splitlines() if p.strip()
                    ),
                    versions=len(room.versions),
                )
                for room in rooms
            ),
            quotes=tuple((q.text, attribution(q.role, q.place)) for q in data.quotes),
            themes=tuple(sorted(theme_counts.items(), key=lambda item: (-item[1], item[0]))),
        )
        return suppress_small_groups(summary, min_group=self.min_group)


def suppress_small_groups(summary: SessionSummary, *, min_group: int) -> SessionSummary:
    """The summary with its breakdowns' groups of fewer than `min_group` people hidden (the
    attendance by role and group, each poll's Slack and Zoom rows); its totals as they were."""
    attendance = suppress_attendance(summary.attendance, min_group=min_group)
    polls = tuple(
        replace(item, sources=suppress_results(item.sources, min_group=min_group))
        for item in summary.polls
    )
    hides = attendance_hides(attendance) or any(
        source.hidden for item in polls for source in item.sources
    )
    return replace(
        summary,
        attendance=attendance,
        polls=polls,
        min_group=min_group,
        small_groups_hidden=hides,
    )
