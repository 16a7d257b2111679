"""A round's life: starting it, its room messages, the warning, the end and the reminders, and
recovering all of that after a restart (a part of `RoomService`).

Each decision commits with the posts it owes Slack (outbox rows, see `bot.rooms.effects`); the
scheduled jobs are this class's bound methods, and the rows' deadlines are the truth.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import timedelta

from bot import outbox
from bot.assignment import Mode, Person, assign_rooms, pair_history, rooms_for_size
from bot.parsing import UsageError, format_duration
from bot.results import Duplicate, Refusal, Within
from bot.rooms import effects
from bot.rooms.requests import BREAKOUT_SPEC, ROOMS_MAX, SEED_MAX, BreakoutRequest, usage_error
from bot.rooms.results import RoundEnded, RoundStarted
from bot.rooms.timing import (
    REMINDER_AFTER,
    end_job_id,
    remind_job_id,
    warn_job_id,
    warning_time,
)
from bot.rooms.zoom import RoomZoom
from bot.sessions import NO_SESSION
from storage import outbox as outbox_store
from storage import repository as repo
from storage import rooms as store
from storage.models import ListeningSession
from storage.rooms import BreakoutRound
from storage.zoom.people import is_zoom_only


class RoomRounds(RoomZoom):
    """Starting and ending rounds, and their timed events."""

    # -- starting ---------------------------------------------------------------------------

    def start(
        self,
        *,
        channel_id: str,
        user_id: str,
        request: BreakoutRequest,
        delivery_key: str | None,
        response_url: str | None = None,
        within: Within | None = None,
    ) -> RoundStarted | Refusal | UsageError | Duplicate:
        """Assign everyone checked in (or in the Zoom meeting) to rooms and start the timer
        (facilitators only); in a session with a Zoom meeting, the round also goes to Zoom.

        The checks, the round and its room messages are one transaction; `response_url` is
        where the facilitator is told if Slack refuses the first room message; `within` is
        called with the transaction and the round's id before the commit (a run sheet records
        its step), and whatever it raises undoes the start.
        """
        session = self._control(channel_id, user_id)
        if isinstance(session, Refusal):
            return session
        assert session.id is not None
        facilitators = set(self.sessions.facilitators(session))
        seed = request.seed
        if seed is None:
            seed = random.SystemRandom().randint(0, SEED_MAX)
        now = self.clock.now()
        ends_at = now + request.duration
        try:
            with self.db.transaction() as db:
                current = repo.get_session(db, session_id=session.id)
                if current is None or current.ended_at is not None:
                    return Refusal(NO_SESSION)
                running = store.running_round(db, session_id=session.id)
                if running is not None:
                    return Refusal(self._already_running(running))
                people = [
                    Person(
                        user_id=p.user_id,
                        role=p.role,
                        place=p.place,
                        group=p.group_name,
                        facilitator=p.user_id in facilitators,
                    )
                    for p in self._candidates(db, session.id)
                ]
                rooms = self._room_count(request, len(people))
                if not isinstance(rooms, int):
                    return rooms
                latest = store.latest_round(db, session_id=session.id)
                earlier = store.earlier_rooms(
                    db, session_id=session.id, before_number=(latest.number + 1) if latest else 1
                )
                assignment = assign_rooms(
                    people, rooms, mode=request.mode, seed=seed, history=pair_history(earlier)
                )
                by_id = {p.user_id: p for p in people}
                repo.record_delivery(db, key=delivery_key, now=now)
                breakout = store.create_round(
                    db,
                    session_id=session.id,
                    mode=request.mode.label,
                    seed=seed,
                    prompt=request.prompt,
                    started_by=user_id,
                    now=now,
                    ends_at=ends_at,
                    warn_at=warning_time(now, ends_at),
                    rooms=[[(u, by_id[u].facilitator) for u in room] for room in assignment],
                )
                view = self._view(db, session, breakout)
                assert breakout.id is not None
                zoom = self._plan_zoom(db, view)
                if zoom is not None:
                    view = self._view(db, session, breakout)  # with its Zoom plan
                if within is not None:
                    within(db, breakout.id)
                outbox.queue_all(
                    db,
                    [
                        effects.room_post(breakout.id, room.room.id or 0, response_url=response_url)
                        for room in view.rooms
                    ],
                    now=now,
                )
        except repo.DuplicateDelivery:
            return Duplicate()
        except store.RoundRunning as error:
            return Refusal(self._already_running(error.existing))
        self._schedule(view.round)
        self._zoom_started(zoom)
        return RoundStarted(view, self._mode_note(request.mode, people), zoom)

    def _room_count(self, request: BreakoutRequest, people: int) -> int | Refusal | UsageError:
        if people == 0:
            return Refusal(
                "Nobody has checked in yet, so there is nobody to put in rooms. Ask everyone "
                "to pick their role on the session message, then try again."
            )
        if request.size is not None:
            if request.size > people:
                return usage_error(
                    BREAKOUT_SPEC,
                    f"--size {request.size:,} is more than the {people} "
                    f"{'person' if people == 1 else 'people'} checked in; use --size "
                    f"{max(2, people // 2)} or give a number of rooms.",
                )
            rooms = rooms_for_size(people, request.size)
            if rooms > ROOMS_MAX:
                return usage_error(
                    BREAKOUT_SPEC,
                    f"--size {request.size} would make {rooms:,} rooms; at most {ROOMS_MAX} "
                    f"at a time, so use --size {-(-people // ROOMS_MAX)} or more.",
                )
            return rooms
        assert request.rooms is not None
        if request.rooms > people:
            return usage_error(
                BREAKOUT_SPEC,
                f"{request.rooms} rooms is more than the {people} "
                f"{'person' if people == 1 else 'people'} checked in; use at most {people}.",
            )
        return request.rooms

    def _mode_note(self, mode: Mode, people: Sequence[Person]) -> str | None:
        attribute = mode.attribute
        if attribute is None:
            return None
        if not any(p.value(attribute) for p in people):
            return f"Nobody gave a {attribute} when checking in, so the rooms are random."
        return None

    def _already_running(self, running: BreakoutRound) -> str:
        left = max(timedelta(0), running.ends_at - self.clock.now())
        return (
            f"Breakout round {running.number} is still running "
            f"({format_duration(timedelta(seconds=int(left.total_seconds())))} left). "
            "End it with `/breakout end` first, then start the next round."
        )

    def _schedule(self, breakout: BreakoutRound) -> None:
        """Schedule the warning and the end (the row holds the deadlines)."""
        assert breakout.id is not None
        if breakout.warned_at is None and breakout.warn_at > self.clock.now():
            self.deadlines.schedule(
                warn_job_id(breakout.id), self.warn, breakout.warn_at, breakout.id
            )
        self.deadlines.schedule(end_job_id(breakout.id), self.expire, breakout.ends_at, breakout.id)

    # -- its room messages ------------------------------------------------------------------

    def room_posted(self, room_id: int, message_ts: str) -> None:
        """Remember where a room's message (and so its thread) is, and tell its members.

        The members are told only now, so their notice can link to the room's thread.
        """
        now = self.clock.now()
        with self.db.transaction() as db:
            room = store.get_room(db, room_id=room_id)
            if room is None:
                return
            store.set_room_message(db, room_id=room_id, message_ts=message_ts)
            members = [
                m
                for m in store.members_of(db, round_id=room.round_id)
                # Who joined late or was moved in is told by their own notice; Zoom-only people
                # have no Slack account to tell (the facilitator's list for Zoom's chat does).
                if m.room_id == room_id
                and m.joined_how == "assigned"
                and not is_zoom_only(m.user_id)
            ]
            outbox.queue_all(
                db,
                [
                    effects.room_notice(room.round_id, room_id, m.id or 0, m.user_id)
                    for m in members
                ],
                now=now,
            )

    def undo_unposted(self, round_id: int) -> BreakoutRound | None:
        """Delete a round none of whose rooms could be posted, so the facilitator can retry.

        Returns:
            The round undone; None when it is gone already or a room of it is in the channel.
        """
        with self.db.transaction() as db:
            breakout = store.get_round(db, round_id=round_id)
            if breakout is None or any(r.message_ts for r in store.rooms_of(db, round_id=round_id)):
                return None
            self.deadlines.cancel(warn_job_id(round_id))
            self.deadlines.cancel(end_job_id(round_id))
            store.delete_round(db, round_id=round_id)
            outbox_store.retire(
                db,
                key_prefix=effects.round_keys(round_id),
                now=self.clock.now(),
                reason="round undone",
            )
        return breakout

    # -- timers -----------------------------------------------------------------------------

    def warn(self, round_id: int) -> None:
        """Queue the warning for every room once (not after the round has ended)."""
        now = self.clock.now()
        with self.db.transaction() as db:
            if not store.mark_warned(db, round_id=round_id, now=now):
                return
            outbox.queue_all(
                db,
                [
                    effects.room_warning(round_id, room.id or 0)
                    for room in store.rooms_of(db, round_id=round_id)
                ],
                now=now,
            )

    def expire(self, round_id: int) -> None:
        """The round's time is up: end it once, with time's up in every room's thread."""
        self._finish(round_id, reason="time", by=None)

    def _finish(
        self, round_id: int, *, reason: str, by: str | None, delivery_key: str | None = None
    ) -> RoundEnded | None:
        """End a round (compare-and-set) and queue the end in its threads; None if it had ended.

        Raises:
            repo.DuplicateDelivery: the command that asked for it was already carried out.
        """
        now = self.clock.now()
        remind_at = now + REMINDER_AFTER if reason != "session" else None
        with self.db.transaction() as db:
            repo.record_delivery(db, key=delivery_key, now=now)
            if not store.end_round(
                db, round_id=round_id, now=now, ended_by=by, reason=reason, remind_at=remind_at
            ):
                return None
            outbox.queue_all(
                db,
                [
                    effects.room_end(round_id, room.id or 0)
                    for room in store.rooms_of(db, round_id=round_id)
                ],
                now=now,
            )
        self.deadlines.cancel(warn_job_id(round_id))
        self.deadlines.cancel(end_job_id(round_id))
        if remind_at is not None:
            self.deadlines.schedule(remind_job_id(round_id), self.remind, remind_at, round_id)
        view = self.round_view(round_id)
        return None if view is None else RoundEnded(view, reason)

    def end(
        self, *, channel_id: str, user_id: str, delivery_key: str | None
    ) -> RoundEnded | Refusal | Duplicate:
        """`/breakout end`: end the running round now (facilitators only)."""
        session = self._control(channel_id, user_id)
        if isinstance(session, Refusal):
            return session
        assert session.id is not None
        with self.db.read() as db:
            running = store.running_round(db, session_id=session.id)
        if running is None or running.id is None:
            return Refusal(
                "No breakout round is running. Start one with a number of rooms, "
                "e.g. `/breakout 5`."
            )
        try:
            ended = self._finish(
                running.id, reason="facilitator", by=user_id, delivery_key=delivery_key
            )
        except repo.DuplicateDelivery:
            return Duplicate()
        if ended is None:
            return Refusal("That round has just ended.")
        return ended

    def end_for_session(self, session: ListeningSession) -> None:
        """Session-end hook: the running round ends with the session."""
        assert session.id is not None
        with self.db.read() as db:
            running = store.running_round(db, session_id=session.id)
        if running is not None and running.id is not None:
            self._finish(running.id, reason="session", by=session.ended_by)

    def remind(self, round_id: int) -> None:
        """Remind each room still without a report-back, once, while the session runs."""
        now = self.clock.now()
        reminded: list[int] = []
        with self.db.transaction() as db:
            if not store.mark_reminded(db, round_id=round_id, now=now):
                return
            session = store.session_of_round(db, round_id=round_id)
            if session is None or session.ended_at is not None:
                return  # report-backs are closed; nothing to remind about
            reported = store.reported_rooms(db, round_id=round_id)
            for room in store.rooms_of(db, round_id=round_id):
                assert room.id is not None
                if room.id not in reported and store.mark_room_reminded(
                    db, room_id=room.id, now=now
                ):
                    reminded.append(room.id)
            outbox.queue_all(
                db, [effects.room_reminder(round_id, room_id) for room_id in reminded], now=now
            )

    def recover(self) -> None:
        """On start (or as a sweep): end what is overdue once, warn, remind, reschedule the rest.

        Posts already queued are the sender's (it sends them after a restart); the
        compare-and-sets and the outbox's unique keys mean nothing is queued twice.
        """
        now = self.clock.now()
        with self.db.read() as db:
            running = [
                (breakout, store.session_of_round(db, round_id=breakout.id or 0))
                for breakout in store.open_rounds(db)
            ]
            waiting = store.rounds_awaiting_reminders(db)
        for breakout, session in running:
            assert breakout.id is not None
            if session is None or session.ended_at is not None:
                self._finish(
                    breakout.id, reason="session", by=session.ended_by if session else None
                )
            elif breakout.ends_at <= now:
                self.expire(breakout.id)
            else:
                if breakout.warned_at is None and breakout.warn_at <= now:
                    self.warn(breakout.id)
                self._schedule(breakout)
        for breakout in waiting:
            assert breakout.id is not None
            assert breakout.remind_at is not None
            if breakout.remind_at <= now:
                self.remind(breakout.id)
            else:
                self.deadlines.schedule(
                    remind_job_id(breakout.id), self.remind, breakout.remind_at, breakout.id
                )
