"""Report-backs: the form for a room, and saving a new version (a part of `RoomService`).

A submission is loaded, checked and saved in one transaction with its posts. The room's row is
locked first, so two submissions for one room at once get versions one after the other.
"""

from __future__ import annotations

from sqlmodel import Session

from bot import outbox
from bot.parsing import escape_mrkdwn
from bot.results import Duplicate, Refusal
from bot.rooms import effects
from bot.rooms.reading import RoomReading
from bot.rooms.report_form import (
    FIELD_ROOM,
    FIELD_SUMMARY,
    FormErrors,
    ReportAnswers,
    validate_report,
)
from bot.rooms.results import ReportForm, ReportSaved, RoomView, RoundView
from bot.sessions import NO_SESSION
from storage import repository as repo
from storage import rooms as store
from storage.rooms import BreakoutRoom


class RoomReports(RoomReading):
    """The report-back form and its submissions."""

    def report_form_for_channel(self, channel_id: str, user_id: str) -> ReportForm | Refusal:
        """`/report`: the form for the caller's room in the session's newest round."""
        session = self.sessions.active_session(channel_id)
        if session is None:
            return Refusal(NO_SESSION)
        assert session.id is not None
        with self.db.read() as db:
            breakout = store.latest_round(db, session_id=session.id)
            if breakout is None:
                return Refusal(
                    "There are no breakout rooms in this session yet, so there is nothing to "
                    "report back on."
                )
            view = self._view(db, session, breakout)
        facilitator = self.sessions.is_facilitator(user_id, session)
        room = view.room_of(user_id)
        if room is None:
            if not facilitator:
                return Refusal(
                    f"You are not in a room in breakout round {breakout.number}, so there is "
                    "no room for you to report for. A facilitator can move you with "
                    "`/breakout move`."
                )
            room = view.rooms[0]
        return self._form(view, room, facilitator)

    def report_form_for_room(self, room_id: int, user_id: str) -> ReportForm | Refusal:
        """The Report back button: the form for that room, if the person may report for it."""
        found = self.room_view(room_id)
        if found is None:
            return Refusal("That button is not from a breakout room.")
        view, room = found
        if view.session.ended_at is not None:
            return Refusal(
                f"“{escape_mrkdwn(view.session.title)}” has ended, so report-backs are closed."
            )
        facilitator = self.sessions.is_facilitator(user_id, view.session)
        if not facilitator and user_id not in room.user_ids:
            mine = view.room_of(user_id)
            where = (
                f"You are in Room {mine.number}: use the *Report back* button on its message."
                if mine
                else "You are not in a room in this round."
            )
            return Refusal(f"Only people in Room {room.number} can report back for it. {where}")
        return self._form(view, room, facilitator)

    def _form(self, view: RoundView, room: RoomView, facilitator: bool) -> ReportForm:
        assert view.session.id is not None
        assert room.room.id is not None
        with self.db.read() as db:
            themes = store.session_themes(db, session_id=view.session.id)
            latest = store.latest_report(db, room_id=room.room.id)
            content = self._content(db, latest) if latest else None
        return ReportForm(view, room, facilitator, themes, content)

    def submit_report(
        self,
        *,
        room_id: int,
        user_id: str,
        answers: ReportAnswers,
        delivery_key: str | None,
    ) -> ReportSaved | FormErrors | Duplicate:
        """Save a new version of a room's report-back with its posts, in one transaction."""
        now = self.clock.now()
        try:
            with self.db.transaction() as db:
                room = store.get_room(db, room_id=room_id)
                session = store.session_of_round(db, round_id=room.round_id) if room else None
                if room is None or session is None or session.id is None:
                    return FormErrors(
                        {FIELD_SUMMARY: "This form is out of date: that room is gone."}
                    )
                if session.ended_at is not None:
                    return FormErrors(
                        {FIELD_SUMMARY: "The session has ended, so report-backs are closed."}
                    )
                facilitator = self.sessions.is_facilitator(user_id, session)
                if facilitator and answers.room_id is not None:
                    chosen = self._chosen_room(db, answers.room_id, room)
                    if isinstance(chosen, FormErrors):
                        return chosen
                    room = chosen
                assert room.id is not None
                member = store.membership(db, round_id=room.round_id, user_id=user_id)
                if not facilitator and (member is None or member.room_id != room.id):
                    where = "You are not in a room in this round."
                    if member is not None:
                        own = store.get_room(db, room_id=member.room_id)
                        where = f"You are in Room {own.number if own else '?'} now."
                    return FormErrors(
                        {
                            FIELD_SUMMARY: f"Only people in Room {room.number} can report for "
                            f"it. {where}"
                        }
                    )
                clean = validate_report(answers, store.session_themes(db, session_id=session.id))
                if isinstance(clean, FormErrors):
                    return clean
                repo.record_delivery(db, key=delivery_key, now=now)
                # The next version number is read under this lock (PostgreSQL; SQLite's
                # write transactions are one at a time anyway).
                store.lock_room(db, room_id=room.id)
                added = store.ensure_themes(
                    db, session_id=session.id, names=clean.new_themes, now=now
                )
                report = store.add_report(
                    db,
                    room_id=room.id,
                    submitted_by=user_id,
                    now=now,
                    summary=clean.summary,
                    key_points=clean.key_points,
                    quotes=clean.quotes,
                    theme_ids=[*clean.theme_ids, *(t.id for t in added if t.id is not None)],
                )
                assert report.id is not None
                outbox.queue_all(
                    db, effects.report_posts(room.round_id, room.id, report.id), now=now
                )
                saved = self._saved(db, report)
        except repo.DuplicateDelivery:
            return Duplicate()
        assert saved is not None
        return saved

    def _chosen_room(
        self, db: Session, value: str, default: BreakoutRoom
    ) -> BreakoutRoom | FormErrors:
        """The room a facilitator picked; it must be in the same round as the form's room."""
        if not value.isdigit() or len(value) > 18:
            return FormErrors({FIELD_ROOM: "Pick a room from the list."})
        chosen = store.get_room(db, room_id=int(value))
        if chosen is None or chosen.round_id != default.round_id:
            return FormErrors({FIELD_ROOM: "Pick a room from the list."})
        return chosen

    def set_report_message(self, room_id: int, report_ts: str) -> None:
        """Remember a room's compact report-back post in the channel."""
        with self.db.transaction() as db:
            store.set_report_message(db, room_id=room_id, report_ts=report_ts)

    def set_report_thread(self, report_id: int, thread_ts: str) -> None:
        """Remember where a report-back version was posted in its room's thread."""
        with self.db.transaction() as db:
            store.set_report_thread(db, report_id=report_id, thread_ts=thread_ts)
