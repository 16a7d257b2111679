"""Breakout rounds on Zoom (a part of `RoomService`): who a round places, how a new round goes to
the session's Zoom meeting, the pre-assignment task, and who is where in Zoom while it runs.

Zoom lets a meeting's breakout rooms be pre-assigned by email only before it starts, and no call
moves people once it runs (docs/zoom-api-notes.md §3). So a round started before the meeting is
written into it as its pre-assignment (a Zoom task; the facilitator also gets Zoom's CSV), and a
round started while the meeting runs is announced by room name: people choose their room in
Zoom, and the facilitator gets the list to paste into Zoom's chat. The Zoom call itself is made
by the Zoom worker (`bot.rooms.zoom_task`), never in a Slack request.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from sqlmodel import Session

from bot import outbox
from bot.config import Settings
from bot.rooms import zoom_effects
from bot.rooms.reading import RoomReading
from bot.rooms.results import RoomWhereabouts, RoundView, ZoomNote, ZoomRoomStatus
from bot.zoom.breakout import PlannedRoom, Preassignment, match_rooms, preassignment
from storage import rooms as store
from storage.models import ListeningSession, Participant
from storage.zoom import meetings as meeting_store
from storage.zoom import people as people_store
from storage.zoom import rooms as zoom_store
from storage.zoom.meetings import ZoomMeeting
from storage.zoom.rooms import LIVE, PREASSIGN

PREASSIGN_TASK = "zoom.preassign"
NO_CREDENTIALS = "the bot has no Zoom API credentials"
MEETING_STARTED = "the meeting started before Zoom took the pre-assignment"
ROUND_ENDED = "the round ended before Zoom took the pre-assignment"


def preassign_task_key(round_id: int) -> str:
    """The key of a round's pre-assignment task (one per round)."""
    return f"zoom.preassign:round:{round_id}"


def planned_rooms(view: RoundView) -> list[PlannedRoom]:
    """A round's rooms as Zoom is given them: number, name, members."""
    return [PlannedRoom(room.number, room.name, tuple(room.user_ids)) for room in view.rooms]


def meeting_running(meeting: ZoomMeeting) -> bool:
    """Whether the webhooks (or the lookup) say the meeting's instance has started and not ended."""
    started = meeting.started_at
    return started is not None and (meeting.ended_at is None or meeting.ended_at < started)


def _live(meeting: ZoomMeeting, present: Collection[str]) -> bool:
    """Whether a round started now is a LIVE one: the meeting runs, or someone is in it (the
    start event may not have reached the bot)."""
    return meeting_running(meeting) or bool(present)


class RoomZoom(RoomReading):
    """Rounds in sessions bound to a Zoom meeting."""

    settings: Settings
    # Called after a Zoom task is committed (the Zoom worker's `wake`, set by the composition
    # root); without it the worker finds the task on its next look.
    zoom_wake: Callable[[], None] | None = None

    # -- starting a round -------------------------------------------------------------------

    def _candidates(self, db: Session, session_id: int) -> list[Participant]:
        """Who a new round places: checked in on Slack, or in the Zoom meeting now; before
        the meeting also Zoom's registrants (they are pre-assigned by email)."""
        present = people_store.present_user_ids(db, session_id=session_id)
        meeting = meeting_store.meeting_of(db, session_id=session_id)
        live = meeting is not None and meeting.problem is None and _live(meeting, present)
        return zoom_store.candidates(
            db, session_id=session_id, present=present, registrants=not live
        )

    def _plan_zoom(self, db: Session, view: RoundView) -> ZoomNote | None:
        """Send a new round to the session's Zoom meeting, in the transaction that starts it.

        Returns:
            What happened in Zoom, for the facilitator; None in a session without Zoom.
        """
        session_id, round_id = view.session.id, view.round.id
        assert session_id is not None
        assert round_id is not None
        meeting = meeting_store.meeting_of(db, session_id=session_id)
        if meeting is None or meeting.problem is not None:
            return None
        now = self.clock.now()
        facilitator = view.round.started_by
        if _live(meeting, people_store.present_user_ids(db, session_id=session_id)):
            zoom_store.add_plan(
                db,
                round_id=round_id,
                session_id=session_id,
                meeting_id=meeting.meeting_id,
                how=LIVE,
                placed=0,
                unplaced=0,
                now=now,
            )
            outbox.queue(db, zoom_effects.zoom_paste(round_id, facilitator), now=now)
            return ZoomNote(how=LIVE, rooms=len(view.rooms))
        plan = self._preassignment(db, view)
        zoom_store.add_plan(
            db,
            round_id=round_id,
            session_id=session_id,
            meeting_id=meeting.meeting_id,
            how=PREASSIGN,
            placed=plan.placed,
            unplaced=len(plan.unplaced),
            now=now,
        )
        written = self.settings.zoom_enabled
        if written:
            meeting_store.add_task(
                db,
                key=preassign_task_key(round_id),
                kind=PREASSIGN_TASK,
                session_id=session_id,
                now=now,
                args={"round_id": round_id},
            )
        outbox.queue(db, zoom_effects.zoom_csv(round_id, facilitator), now=now)
        return ZoomNote(
            how=PREASSIGN,
            rooms=len(view.rooms),
            placed=plan.placed,
            unplaced=plan.unplaced_by_reason(),
            written=written,
        )

    def _zoom_started(self, note: ZoomNote | None) -> None:
        """After the commit: wake the Zoom worker if a pre-assignment task was queued."""
        if note is not None and note.written and self.zoom_wake is not None:
            self.zoom_wake()

    def _preassignment(self, db: Session, view: RoundView) -> Preassignment:
        assert view.session.id is not None
        return preassignment(planned_rooms(view), zoom_store.emails(db, session_id=view.session.id))

    def preassignment_of(self, round_id: int) -> tuple[RoundView, Preassignment] | None:
        """A round and its rooms as Zoom takes them now (for the CSV); None once it is gone."""
        with self.db.read() as db:
            view = self._round_view(db, round_id)
            if view is None or view.zoom is None or view.zoom.how != PREASSIGN:
                return None
            return view, self._preassignment(db, view)

    # -- the pre-assignment task (run by `bot.rooms.zoom_task`) -------------------------------

    def preassign_call(self, round_id: int) -> tuple[str, Preassignment] | str | None:
        """What the `zoom.preassign` task is to send Zoom for a round, now.

        Returns:
            The meeting id and the pre-assignment to PATCH it with; or why no call is to be
            made (the round ended, the meeting started: the facilitator must be told); or
            None when there is nothing to do (the round was undone, or Zoom has answered).
        """
        with self.db.read() as db:
            view = self._round_view(db, round_id)
            if view is None or view.zoom is None or view.zoom.written_at is not None:
                return None
            meeting = meeting_store.meeting_of(db, session_id=view.session.id or 0)
            if meeting is None:
                return None  # the session's meeting went with it
            if view.round.ended_at is not None:
                return ROUND_ENDED
            if meeting_running(meeting):
                return MEETING_STARTED
            return view.zoom.meeting_id, self._preassignment(db, view)

    def preassign_answered(self, round_id: int, problem: str | None) -> None:
        """Record what became of a round's pre-assignment, and tell its facilitator, once."""
        now = self.clock.now()
        with self.db.transaction() as db:
            breakout = store.get_round(db, round_id=round_id)
            if breakout is None or not zoom_store.mark_written(
                db, round_id=round_id, now=now, problem=problem
            ):
                return
            if problem == ROUND_ENDED:
                return  # nothing the facilitator can still do about it
            effects = [zoom_effects.zoom_written(round_id, breakout.started_by)]
            if problem == MEETING_STARTED:
                # People now choose their room by name: the facilitator needs the list.
                effects.append(zoom_effects.zoom_paste(round_id, breakout.started_by))
            outbox.queue_all(db, effects, now=now)

    # -- while it runs ----------------------------------------------------------------------

    def zoom_room_status(self, session: ListeningSession) -> ZoomRoomStatus | None:
        """Who is where in Zoom in the running round, against the plan (None: no round, or no
        Zoom). Each Zoom room found is matched to a planned room, and the match kept."""
        assert session.id is not None
        with self.db.read() as db:
            breakout = store.running_round(db, session_id=session.id)
            if breakout is None or breakout.id is None:
                return None
            view = self._view(db, session, breakout)
            if view.zoom is None:
                return None
            where = zoom_store.placements(db, session_id=session.id)
            earlier = zoom_store.room_matches(db, round_id=breakout.id)
        numbers = {room.room.id or 0: room.number for room in view.rooms}
        ids = {room.number: room.room.id or 0 for room in view.rooms}
        planned = {user: room.number for room in view.rooms for user in room.user_ids}
        known = {uuid: numbers[room_id] for uuid, room_id in earlier.items() if room_id in numbers}
        matches = match_rooms(planned, where, known)
        changed = {
            uuid: ids[number]
            for uuid, number in matches.items()
            if earlier.get(uuid) != ids[number]
        }
        if changed:
            with self.db.transaction() as db:
                zoom_store.save_room_matches(
                    db, round_id=breakout.id, matches=changed, now=self.clock.now()
                )
        return _status(view, where, matches)


def _status(
    view: RoundView, where: dict[str, str | None], matches: dict[str, int]
) -> ZoomRoomStatus:
    """Compare where people are in Zoom with the plan."""
    planned = {user: room.number for room in view.rooms for user in room.user_ids}
    in_room: dict[str, int | None] = {}  # user id -> planned room number of their Zoom room
    unmatched: dict[str, list[str]] = {}
    for user, room_uuid in where.items():
        if room_uuid is None:
            continue
        number = matches.get(room_uuid)
        in_room[user] = number
        if number is None:
            unmatched.setdefault(room_uuid, []).append(user)
    rooms: list[RoomWhereabouts] = []
    for room in view.rooms:
        here: list[str] = []
        elsewhere: list[tuple[str, int | None]] = []
        not_in_room: list[str] = []
        not_in_zoom: list[str] = []
        for user in room.user_ids:
            if user not in where:
                not_in_zoom.append(user)
            elif user not in in_room:
                not_in_room.append(user)
            elif in_room[user] == room.number:
                here.append(user)
            else:
                elsewhere.append((user, in_room[user]))
        visitors = sorted(
            user
            for user, number in in_room.items()
            if number == room.number and user not in planned
        )
        rooms.append(RoomWhereabouts(room, here, elsewhere, not_in_room, not_in_zoom, visitors))
    return ZoomRoomStatus(view, rooms, [sorted(users) for users in unmatched.values()])
