"""Who is in which room during a round: late arrivals and moves (a part of `RoomService`).

Each change commits with the notices it owes: the person is told privately, the rooms' threads
hear who came and went, and the room messages show their members again.
"""

from __future__ import annotations

import uuid

from bot import outbox
from bot.results import Duplicate, Refusal
from bot.rooms import effects
from bot.rooms.reading import RoomReading
from bot.rooms.requests import MoveRequest
from bot.rooms.results import PostedNote, RoomChange
from bot.sessions import CheckedIn
from storage import repository as repo
from storage import rooms as store


class RoomPeople(RoomReading):
    """Late arrivals and moves."""

    def join_late(self, checked: CheckedIn) -> None:
        """Check-in hook: someone checking in during a round joins the smallest room."""
        person = checked.participant
        session = self.sessions.active_session(checked.channel_id)
        if session is None or session.id != person.session_id:
            return
        with self.db.read() as db:
            # Most check-ins happen with no round running: no need to take the write lock.
            if store.running_round(db, session_id=session.id) is None:
                return
        facilitator = self.sessions.is_facilitator(person.user_id, session)
        now = self.clock.now()
        with self.db.transaction() as db:
            breakout = store.running_round(db, session_id=person.session_id)
            if breakout is None or breakout.id is None:
                return
            if store.membership(db, round_id=breakout.id, user_id=person.user_id) is not None:
                return
            view = self._view(db, session, breakout)
            smallest = min(view.rooms, key=lambda room: (len(room.members), room.number))
            assert smallest.room.id is not None
            added = store.add_member(
                db,
                round_id=breakout.id,
                room_id=smallest.room.id,
                user_id=person.user_id,
                facilitator=facilitator,
                now=now,
                how="late",
            )
            if added is None:
                return
            outbox.queue_all(
                db,
                effects.member_changes(
                    change=f"member:{added.id}:late",
                    round_id=breakout.id,
                    user_id=person.user_id,
                    to_room_id=smallest.room.id,
                ),
                now=now,
            )

    def move(
        self,
        *,
        channel_id: str,
        user_id: str,
        request: MoveRequest,
        delivery_key: str | None,
    ) -> RoomChange | Refusal | Duplicate:
        """`/breakout move`: put someone in another room of the running round.

        The checks and the move are one transaction, so they see the rooms the move changes.
        """
        session = self._control(channel_id, user_id)
        if isinstance(session, Refusal):
            return session
        assert session.id is not None
        now = self.clock.now()
        try:
            with self.db.transaction() as db:
                breakout = store.running_round(db, session_id=session.id)
                if breakout is None or breakout.id is None:
                    return Refusal("No breakout round is running, so there is nobody to move.")
                view = self._view(db, session, breakout)
                target = next((r for r in view.rooms if r.number == request.room_number), None)
                if target is None:
                    return Refusal(
                        f"There is no Room {request.room_number:,}: round {breakout.number} "
                        f"has rooms 1 to {len(view.rooms)}."
                    )
                source = view.room_of(request.user_id)
                if source is None:
                    return Refusal(
                        f"<@{request.user_id}> is not in any room of round {breakout.number}. "
                        "People join a room when they check in; ask them to pick their role "
                        "on the session message first."
                    )
                if source.number == target.number:
                    return Refusal(f"<@{request.user_id}> is already in Room {target.number}.")
                member = next(m for m in source.members if m.user_id == request.user_id)
                assert member.id is not None
                assert target.room.id is not None
                assert source.room.id is not None
                repo.record_delivery(db, key=delivery_key, now=now)
                store.move_member(db, member_id=member.id, room_id=target.room.id, now=now)
                after = self._view(db, session, breakout)
                outbox.queue_all(
                    db,
                    effects.member_changes(
                        # Moves have no id of their own; each one is queued once, here.
                        change=f"member:{member.id}:move:{uuid.uuid4().hex[:16]}",
                        round_id=breakout.id,
                        user_id=request.user_id,
                        to_room_id=target.room.id,
                        from_room_id=source.room.id,
                        moved_by=user_id,
                    ),
                    now=now,
                )
        except repo.DuplicateDelivery:
            return Duplicate()
        to_room = after.room_by_id(target.room.id)
        assert to_room is not None
        return RoomChange(
            after, request.user_id, to_room, after.room_by_id(source.room.id), moved_by=user_id
        )

    def note_posted(self, change: RoomChange, room_id: int, ts: str) -> None:
        """Remember a "joined"/"left" note Slack has posted in a room's thread (so erasing its
        person can edit it)."""
        assert change.view.round.id is not None
        assert change.to_room.room.id is not None
        with self.db.transaction() as db:
            store.add_note(
                db,
                round_id=change.view.round.id,
                room_id=room_id,
                user_id=change.user_id,
                moved_by=change.moved_by,
                from_room_id=change.from_room.room.id if change.from_room else None,
                to_room_id=change.to_room.room.id,
                ts=ts,
            )

    def posted_note(self, note_id: int) -> PostedNote | None:
        """A posted note read back as the change it told of, as it is now (its people may be
        tokens); None once its round or rooms are gone."""
        with self.db.read() as db:
            note = store.get_note(db, note_id=note_id)
            view = self._round_view(db, note.round_id) if note else None
        if note is None or view is None:
            return None
        room, to_room = view.room_by_id(note.room_id), view.room_by_id(note.to_room_id)
        if room is None or to_room is None:
            return None
        from_room = view.room_by_id(note.from_room_id)
        change = RoomChange(view, note.user_id, to_room, from_room, moved_by=note.moved_by)
        return PostedNote(change, room, note.ts)
