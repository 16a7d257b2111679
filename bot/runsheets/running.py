"""Running a session's run sheet: `/next`, `/next skip`, the agenda and its controls.

A step is run in the transaction of what it starts: the poll's launch, the round's start, or
the talk's announcement, with the session's position moved on by a compare-and-set, so two
facilitators pressing Next at once run the step once, and a refused step (nobody checked in
for a round) leaves the position where it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.clock import Clock
from bot.outbox import queue, queue_all
from bot.parsing import UsageError
from bot.polls import PollService
from bot.results import Duplicate, Refusal
from bot.rooms import RoomService, RoundStarted, ZoomNote
from bot.runsheets import effects
from bot.runsheets.library import RunSheetLibrary, StoredSheet
from bot.runsheets.model import BreakoutStep, NoteStep, PollStep, Step, TalkStep
from bot.sessions import NO_SESSION, SessionService
from storage import repository as repo
from storage import rooms as room_store
from storage import runsheets as store
from storage.db import Database
from storage.models import ListeningSession
from storage.runsheets import OUTCOME_DONE, OUTCOME_SKIPPED, SessionStep, StepMoved

MAX_CONTROLLED = 10  # facilitators who get a control message (the session's own come first)

NO_RUNSHEET = (
    "This session has no run sheet, so there is no next step. Start a session with one: "
    '`/session start "<title>" --runsheet <name>` (`listening-bot runsheet list` shows them), '
    "or run this one with `/poll` and `/breakout`."
)


@dataclass(frozen=True)
class AgendaView:
    """A session's run sheet and how far it has got: what the controls and status show."""

    session: ListeningSession
    sheet: StoredSheet
    done: dict[int, SessionStep]  # by position
    position: int
    round_running: bool

    @property
    def steps(self) -> list[Step]:
        """The agenda in order."""
        return list(self.sheet.sheet.steps)

    @property
    def next_step(self) -> Step | None:
        """The step `/next` runs, None at the end of the agenda."""
        steps = self.steps
        return steps[self.position] if self.position < len(steps) else None


@dataclass(frozen=True)
class StepRun:
    """A step run or skipped: what it was, and the agenda after it."""

    step: Step
    position: int
    skipped: bool
    agenda: AgendaView
    note: str | None = None  # what the poll's or round's start had to say to the facilitator
    zoom: ZoomNote | None = None  # what a round's start did in the session's Zoom meeting


class Agenda:
    """Runs run sheet steps through the features that own them."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        sessions: SessionService,
        polls: PollService,
        rooms: RoomService,
        library: RunSheetLibrary,
    ) -> None:
        self.db = db
        self.clock = clock
        self.sessions = sessions
        self.polls = polls
        self.rooms = rooms
        self.library = library

    # -- reading -----------------------------------------------------------------------------

    def view(self, session: ListeningSession) -> AgendaView | None:
        """The session's agenda as it is now (None: it follows no run sheet)."""
        if session.runsheet_id is None or session.id is None:
            return None
        sheet = self.library.get(session.runsheet_id)
        if sheet is None:
            return None
        with self.db.read() as db:
            current = repo.get_session(db, session_id=session.id) or session
            done = {s.position: s for s in store.session_steps(db, session_id=session.id)}
            running = room_store.running_round(db, session_id=session.id) is not None
        return AgendaView(current, sheet, done, current.runsheet_position, running)

    def view_of(self, session_id: int) -> AgendaView | None:
        """`view` by session id."""
        session = self.sessions.get(session_id)
        return None if session is None else self.view(session)

    # -- running -----------------------------------------------------------------------------

    def next(
        self,
        *,
        user_id: str,
        skip: bool,
        delivery_key: str | None,
        response_url: str | None,
        channel_id: str | None = None,
        session_id: int | None = None,
        expected_position: int | None = None,
    ) -> StepRun | Refusal | Duplicate:
        """Run (or skip) the next step of a session's run sheet (facilitators only).

        Args:
            user_id: who asked.
            skip: mark the step skipped instead of running it.
            delivery_key: the same for Slack's redeliveries, so a retry runs nothing.
            response_url: where a poll's or round's refused post is explained.
            channel_id: `/next` in a channel: that channel's session.
            session_id: a Next or Skip button: the session it belongs to.
            expected_position: the step the button was showing; another one now is refused.
        """
        session = self._session(channel_id=channel_id, session_id=session_id)
        if isinstance(session, Refusal):
            return session
        if not self.sessions.is_facilitator(user_id, session):
            return Refusal("Only the session's facilitators can move its run sheet on.")
        agenda = self.view(session)
        if agenda is None:
            return Refusal(NO_RUNSHEET)
        refusal = self._refusal(agenda, skip=skip, expected_position=expected_position)
        if refusal is not None:
            if expected_position is not None:
                self.refresh_controls(session)  # the person was looking at an old message
            return refusal
        step = agenda.next_step
        assert step is not None
        try:
            started = self._run(agenda, step, user_id, skip, delivery_key, response_url)
        except StepMoved:
            return Refusal("Another facilitator has just moved the run sheet on; nothing was run.")
        if isinstance(started, (Refusal, Duplicate)):
            return started
        after = self.view(session)
        assert after is not None
        if isinstance(started, RoundStarted):
            return StepRun(step, agenda.position, skip, after, started.note, started.zoom)
        return StepRun(step, agenda.position, skip, after, started)

    def _session(
        self, *, channel_id: str | None, session_id: int | None
    ) -> ListeningSession | Refusal:
        if session_id is not None:
            session = self.sessions.get(session_id)
            if session is None:
                return Refusal("That session no longer exists.")
            if session.ended_at is not None:
                return Refusal("That session has ended, so its run sheet is over.")
            return session
        found = self.sessions.active_session(channel_id or "")
        return Refusal(NO_SESSION) if found is None else found

    def _refusal(
        self, agenda: AgendaView, *, skip: bool, expected_position: int | None
    ) -> Refusal | None:
        if expected_position is not None and expected_position != agenda.position:
            return Refusal(
                "That step has already been run or skipped; your controls now show where the "
                "session is."
            )
        if agenda.next_step is None:
            return Refusal(
                f"That was the last step of `{agenda.sheet.name}`: the agenda is done. "
                "`/session end` ends the session and posts its summary."
            )
        if agenda.round_running and not skip:
            return Refusal(
                "A breakout round is still running. End it with `/breakout end` (or wait for "
                "its timer), then `/next`; `/next skip` skips the next step without running it."
            )
        return None

    def _run(
        self,
        agenda: AgendaView,
        step: Step,
        user_id: str,
        skip: bool,
        delivery_key: str | None,
        response_url: str | None,
    ) -> RoundStarted | str | Refusal | Duplicate | None:
        """Carry the step out in its feature's transaction: a round as it started, or the
        facilitator's note, if any."""
        session = agenda.session
        assert session.id is not None
        position = agenda.position

        def record(db: Session, *, poll_id: int | None = None, round_id: int | None = None) -> None:
            now = self.clock.now()
            store.advance_step(
                db,
                session_id=session.id or 0,
                position=position,
                outcome=OUTCOME_SKIPPED if skip else OUTCOME_DONE,
                by=user_id,
                now=now,
                poll_id=poll_id,
                round_id=round_id,
            )
            self._queue_controls(db, session, revision=str(position + 1), now=now)

        if skip or isinstance(step, (TalkStep, NoteStep)):
            now = self.clock.now()
            try:
                with self.db.transaction() as db:
                    repo.record_delivery(db, key=delivery_key, now=now)
                    record(db)
                    if not skip and isinstance(step, TalkStep):
                        queue(db, effects.talk_post(session.id, position), now=now)
            except repo.DuplicateDelivery:
                return Duplicate()
            return None
        if isinstance(step, PollStep):
            launched = self.polls.launch(
                channel_id=session.channel_id,
                user_id=user_id,
                request=step.poll_request(),
                delivery_key=delivery_key,
                response_url=response_url,
                within=lambda db, poll_id: record(db, poll_id=poll_id),
            )
            return launched if isinstance(launched, (Refusal, Duplicate)) else None
        assert isinstance(step, BreakoutStep)
        started = self.rooms.start(
            channel_id=session.channel_id,
            user_id=user_id,
            request=step.breakout_request(),
            delivery_key=delivery_key,
            response_url=response_url,
            within=lambda db, round_id: record(db, round_id=round_id),
        )
        if isinstance(started, UsageError):  # e.g. more rooms than people
            return Refusal(started.message)
        return started

    # -- the control messages ----------------------------------------------------------------

    def controlled_by(self, session: ListeningSession) -> list[str]:
        """Who gets a control message: the session's facilitators, its starter first."""
        return self.sessions.facilitators(session)[:MAX_CONTROLLED]

    def queue_start(self, db: Session, session: ListeningSession) -> None:
        """A new session with a run sheet: queue its facilitators' control messages."""
        if session.runsheet_id is not None:
            self._queue_controls(db, session, revision="0", now=self.clock.now())

    def _queue_controls(
        self, db: Session, session: ListeningSession, *, revision: str, now: datetime
    ) -> None:
        assert session.id is not None
        queue_all(
            db,
            [
                effects.controls(session.id, user, revision=revision)
                for user in self.controlled_by(session)
            ],
            now=now,
        )

    def refresh_controls(self, session: ListeningSession) -> None:
        """Bring every control message of the session up to date (after the session ends, or
        when someone pressed a button on an old one)."""
        if session.runsheet_id is None:
            return
        now = self.clock.now()
        with self.db.transaction() as db:
            self._queue_controls(db, session, revision=f"at-{now.timestamp():.6f}", now=now)

    def set_controls(self, session_id: int, user_id: str, channel_id: str, ts: str) -> None:
        """Remember where a facilitator's control message was posted."""
        with self.db.transaction() as db:
            store.set_control_message(
                db, session_id=session_id, user_id=user_id, channel_id=channel_id, message_ts=ts
            )

    def controls_at(self, session_id: int, user_id: str) -> tuple[str, str] | None:
        """Where a facilitator's control message is (channel, ts), if it was posted."""
        with self.db.read() as db:
            found = store.control_message(db, session_id=session_id, user_id=user_id)
        return None if found is None else (found.channel_id, found.message_ts)
