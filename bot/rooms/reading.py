"""Reading rounds: the views of a round and its rooms, what `/session status` shows, and the
parts of the service every other part uses (a part of `RoomService`)."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session

from bot.clock import Clock
from bot.parsing import format_duration
from bot.results import Refusal
from bot.rooms.results import ReportContent, ReportSaved, RoomView, RoundView
from bot.scheduler import Deadlines
from bot.sessions import SessionService
from storage import repository as repo
from storage import rooms as store
from storage.db import Database
from storage.models import ListeningSession
from storage.rooms import BreakoutRound, ReportBack, RoomMember
from storage.zoom import rooms as zoom_store
from storage.zoom.people import is_zoom_only


class RoomReading:
    """Rounds and rooms as they are now, read from the database."""

    db: Database
    clock: Clock
    sessions: SessionService
    deadlines: Deadlines

    def round_view(self, round_id: int) -> RoundView | None:
        """A round with its session and rooms."""
        with self.db.read() as db:
            return self._round_view(db, round_id)

    def room_view(self, room_id: int) -> tuple[RoundView, RoomView] | None:
        """A room and the round it is in (None once the round is gone)."""
        with self.db.read() as db:
            room = store.get_room(db, room_id=room_id)
            view = self._round_view(db, room.round_id) if room else None
        found = view.room_by_id(room_id) if view else None
        return None if view is None or found is None else (view, found)

    def report_saved(self, report_id: int) -> ReportSaved | None:
        """A stored report-back version with its room and round, as they are now."""
        with self.db.read() as db:
            report = store.get_report(db, report_id=report_id)
            return self._saved(db, report) if report else None

    def latest_report_saved(self, room_id: int) -> ReportSaved | None:
        """The version of a room's report-back that counts, with its room and round."""
        with self.db.read() as db:
            report = store.latest_report(db, room_id=room_id)
            return self._saved(db, report) if report else None

    def report_versions(self, room_id: int) -> list[ReportContent]:
        """Every version of a room's report-back, oldest first."""
        with self.db.read() as db:
            return [self._content(db, r) for r in store.report_versions(db, room_id=room_id)]

    def status_lines(self, session: ListeningSession) -> list[str]:
        """The `/session status` line for a running round."""
        assert session.id is not None
        with self.db.read() as db:
            breakout = store.running_round(db, session_id=session.id)
            if breakout is None:
                return []
            view = self._view(db, session, breakout)
        left = max(timedelta(0), breakout.ends_at - self.clock.now())
        return [
            f"Breakout round {breakout.number}: {view.people} people in {len(view.rooms)} "
            f"rooms ({breakout.mode}), {view.reported} of {len(view.rooms)} reported back, "
            f"ends in {format_duration(timedelta(seconds=int(left.total_seconds())))}. "
            "`/breakout end` ends it now."
        ]

    # -- for the other parts ------------------------------------------------------------------

    def _control(self, channel_id: str, user_id: str) -> ListeningSession | Refusal:
        """The channel's session if the user may control it."""
        return self.sessions.controlled_session(channel_id=channel_id, user_id=user_id)

    def _round_view(self, db: Session, round_id: int) -> RoundView | None:
        breakout = store.get_round(db, round_id=round_id)
        if breakout is None:
            return None
        session = repo.get_session(db, session_id=breakout.session_id)
        assert session is not None
        return self._view(db, session, breakout)

    def _view(self, db: Session, session: ListeningSession, breakout: BreakoutRound) -> RoundView:
        assert breakout.id is not None
        rooms = store.rooms_of(db, round_id=breakout.id)
        members = store.members_of(db, round_id=breakout.id)
        reported = store.reported_rooms(db, round_id=breakout.id)
        by_room: dict[int, list[RoomMember]] = {}
        for member in members:
            by_room.setdefault(member.room_id, []).append(member)
        zoom = zoom_store.plan_of(db, round_id=breakout.id)
        # Zoom-only people have no Slack name: what Zoom calls them is shown instead.
        zoom_only = any(is_zoom_only(member.user_id) for member in members)
        names = (
            zoom_store.zoom_names(db, session_id=breakout.session_id) if zoom or zoom_only else {}
        )
        return RoundView(
            session=session,
            round=breakout,
            rooms=[
                RoomView(room, by_room.get(room.id or 0, []), room.id in reported) for room in rooms
            ],
            zoom=zoom,
            names=names,
        )

    def _content(self, db: Session, report: ReportBack) -> ReportContent:
        assert report.id is not None
        return ReportContent(
            report=report,
            quotes=store.report_quotes(db, report_id=report.id),
            themes=store.report_themes(db, report_id=report.id),
        )

    def _saved(self, db: Session, report: ReportBack) -> ReportSaved | None:
        room = store.get_room(db, room_id=report.room_id)
        view = self._round_view(db, room.round_id) if room else None
        found = view.room_by_id(report.room_id) if view else None
        if view is None or found is None:
            return None
        return ReportSaved(view, found, self._content(db, report))
