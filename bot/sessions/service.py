"""Session rules on top of the repository: starting, checking in, status and ending."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta

from sqlmodel import Session

from bot.clock import Clock
from bot.config import Settings
from bot.outbox import queue
from bot.parsing import escape_mrkdwn
from bot.results import Duplicate, Refusal
from bot.sessions import effects, one_click
from bot.sessions.requests import (
    ROLE_MAX,
    CheckInAnswers,
    CheckInChoice,
    StartRequest,
    clean_answer,
)
from bot.sessions.results import (
    NO_SESSION,
    CheckedIn,
    CheckInChoices,
    CheckInForm,
    Noted,
    SessionStatus,
    SessionView,
    Unchanged,
    not_facilitator,
)
from storage import outbox as outbox_store
from storage import repository as repo
from storage import runsheets as runsheet_store
from storage.db import Database
from storage.models import ATTRIBUTE_MAX, BY_THE_BOT, ListeningSession

DEFAULT_ROLES = (
    "Member",
    "Trade union member",
    "Councillor",
    "Branch officer",
    "Supporter",
    "Staff",
    "Guest",
)

# A select shows at most 100 options; the session message's last one is "Other…".
OFFERED_MAX = 99

# Slack stops redelivering within minutes; an hour of keys is plenty to recognise a retry.
DELIVERY_MEMORY = timedelta(hours=1)

# Reports on an ended session (the summary), queued in the transaction that queues "has ended".
EndReport = Callable[[Session, ListeningSession], object]
# What else a new session owes (a run sheet's control messages), queued in its transaction.
StartHook = Callable[[Session, ListeningSession], object]


class SessionService:
    """Session rules on top of the repository: who may do what, and what it changes."""

    def __init__(self, db: Database, settings: Settings, clock: Clock) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock
        self.on_start: list[StartHook] = []

    def is_facilitator(self, user_id: str, session: ListeningSession | None) -> bool:
        """Whether `user_id` may control `session` (or start one, when `session` is None)."""
        if user_id in self.settings.FACILITATORS:
            return True
        if session is None:
            # With no FACILITATORS list, anyone may start a session and so facilitate it.
            return not self.settings.FACILITATORS
        assert session.id is not None
        with self.db.read() as db:
            return user_id in repo.session_facilitators(db, session_id=session.id)

    def controlled_session(self, *, channel_id: str, user_id: str) -> ListeningSession | Refusal:
        """The channel's active session if `user_id` may control it, else why not."""
        with self.db.read() as db:
            return self.controlled_session_in(db, channel_id=channel_id, user_id=user_id)

    def controlled_session_in(
        self, db: Session, *, channel_id: str, user_id: str
    ) -> ListeningSession | Refusal:
        """`controlled_session`, read in the caller's transaction, so a decision and its write
        are one transaction (a session ended in between cannot get a poll)."""
        session = repo.get_active_session(db, channel_id=channel_id)
        if session is None:
            return Refusal(NO_SESSION)
        assert session.id is not None
        if user_id in self.settings.FACILITATORS:
            return session
        if user_id in repo.session_facilitators(db, session_id=session.id):
            return session
        return Refusal(not_facilitator(session))

    def facilitators(self, session: ListeningSession) -> list[str]:
        """Everyone who may control `session`: its own facilitators, then FACILITATORS."""
        assert session.id is not None
        with self.db.read() as db:
            own = repo.session_facilitators(db, session_id=session.id)
        ordered = [session.started_by, *sorted(own - {session.started_by})]
        return list(dict.fromkeys([*ordered, *self.settings.FACILITATORS]))

    def active_session(self, channel_id: str) -> ListeningSession | None:
        """The channel's active session."""
        with self.db.read() as db:
            return repo.get_active_session(db, channel_id=channel_id)

    def already_done(self, delivery_key: str | None) -> bool:
        """Whether a delivery with this key was already carried out."""
        if delivery_key is None:
            return False
        with self.db.read() as db:
            return repo.delivery_seen(db, key=delivery_key)

    def start(
        self,
        *,
        channel_id: str,
        user_id: str,
        request: StartRequest,
        delivery_key: str | None,
        response_url: str | None = None,
    ) -> ListeningSession | Refusal | Duplicate:
        """Start a session in a channel that has none; its message is queued with it.

        Args:
            response_url: where to explain, should Slack refuse the session's message.
        """
        if not self.is_facilitator(user_id, None):
            return Refusal(
                "Only facilitators can start a session here. Ask an organiser to add your "
                "member ID to FACILITATORS."
            )
        now = self.clock.now()
        try:
            with self.db.transaction() as db:
                runsheet = self._runsheet(db, request.runsheet)
                if isinstance(runsheet, Refusal):
                    return runsheet
                repo.record_delivery(db, key=delivery_key, now=now)
                started = repo.create_session(
                    db,
                    channel_id=channel_id,
                    title=request.title,
                    area=request.area,
                    group_type=request.group_type,
                    zoom_meeting_id=request.zoom_meeting_id,
                    started_by=user_id,
                    now=now,
                    runsheet_id=runsheet,
                )
                assert started.id is not None
                queue(db, effects.session_post(started.id, response_url=response_url), now=now)
                for hook in self.on_start:
                    hook(db, started)
                return started
        except repo.DuplicateDelivery:
            return Duplicate()
        except repo.ActiveSessionExists as error:
            return Refusal(self._already_running(error.existing))

    def _runsheet(self, db: Session, name: str | None) -> int | Refusal | None:
        """The id of the newest version of the run sheet `name` (None: no run sheet)."""
        if name is None:
            return None
        sheet = runsheet_store.latest_runsheet(db, name=name)
        if sheet is not None:
            assert sheet.id is not None
            return sheet.id
        known = [stored.name for stored, _used in runsheet_store.list_runsheets(db)]
        listed = (
            "Stored run sheets: " + ", ".join(f"`{n}`" for n in known[:10]) + "."
            if known
            else "No run sheet is stored yet."
        )
        return Refusal(
            f"There is no run sheet called `{escape_mrkdwn(name)}`. {listed} An organiser adds "
            "one with `listening-bot runsheet add <file>`; the session was not started."
        )

    def prune_deliveries(self) -> int:
        """Forget delivery keys older than Slack's redelivery window."""
        with self.db.transaction() as db:
            return repo.prune_deliveries(db, before=self.clock.now() - DELIVERY_MEMORY)

    def _already_running(self, existing: ListeningSession) -> str:
        return (
            f"“{escape_mrkdwn(existing.title)}” is already running in this channel "
            f"(started by <@{existing.started_by}>). End it with `/session end` first, "
            "or start the new session in another channel."
        )

    def get(self, session_id: int) -> ListeningSession | None:
        """A session by id (None once discarded)."""
        with self.db.read() as db:
            return repo.get_session(db, session_id=session_id)

    def discard(self, session_id: int) -> ListeningSession | None:
        """Delete a session whose start message could not be posted, so it can be retried.

        Returns:
            The session as it was, or None if it was already gone.
        """
        with self.db.transaction() as db:
            session = repo.delete_session(db, session_id=session_id)
            # What was owed for it is never sent, and its keys are free for the next session.
            outbox_store.retire(
                db,
                key_prefix=effects.session_keys(session_id),
                now=self.clock.now(),
                reason="session discarded",
            )
            return session

    def set_message(self, session_id: int, message_ts: str) -> None:
        """Remember where the session's message is."""
        with self.db.transaction() as db:
            repo.set_session_message(db, session_id=session_id, message_ts=message_ts)

    def set_ended_message(self, session_id: int, ended_ts: str) -> None:
        """Remember where the session's "has ended" post is."""
        with self.db.transaction() as db:
            repo.set_session_ended_message(db, session_id=session_id, ended_ts=ended_ts)

    def view(self, session: ListeningSession) -> SessionView:
        """The session with its attendance."""
        assert session.id is not None
        with self.db.read() as db:
            return SessionView(session, repo.attendance(db, session_id=session.id))

    def status(
        self,
        *,
        channel_id: str,
        user_id: str,
        running: Sequence[Callable[[ListeningSession], list[str]]],
        agenda: Callable[[ListeningSession], list[str]] | None = None,
    ) -> SessionStatus | Refusal:
        """What `/session status` shows `user_id`.

        Args:
            channel_id: the channel whose active session is shown.
            user_id: who asked (told whether they are a facilitator).
            running: each feature's "Running now" lines for a session (open polls, rounds).
            agenda: the session's run sheet lines, if it follows one.
        """
        session = self.active_session(channel_id)
        if session is None:
            return Refusal(NO_SESSION)
        view = self.view(session)
        is_facilitator = self.is_facilitator(user_id, session)
        return SessionStatus(
            view=view,
            running=[line for lines in running for line in lines(session)],
            facilitators=self.facilitators(session),
            is_facilitator=is_facilitator,
            agenda=agenda(session) if agenda else [],
        )

    def end(
        self, *, channel_id: str, user_id: str, delivery_key: str | None
    ) -> SessionView | Refusal | Duplicate:
        """End the channel's session (facilitators only); only the first end counts.

        Its message is shown as ended in the same transaction; "has ended" is queued by
        `announce_end`, once what was open in the session is closed.
        """
        session = self.active_session(channel_id)
        if session is None:
            return Refusal(NO_SESSION)
        if not self.is_facilitator(user_id, session):
            return Refusal(not_facilitator(session))
        assert session.id is not None
        now = self.clock.now()
        try:
            with self.db.transaction() as db:
                repo.record_delivery(db, key=delivery_key, now=now)
                if not repo.end_session(db, session_id=session.id, ended_by=user_id, now=now):
                    return Refusal("This session has already ended.")
                ended = repo.get_session(db, session_id=session.id)
                assert ended is not None
                db.refresh(ended)
                queue(db, effects.session_close(session.id), now=now)
                return SessionView(ended, repo.attendance(db, session_id=session.id))
        except repo.DuplicateDelivery:
            return Duplicate()

    def end_abandoned(self, session_id: int) -> SessionView | None:
        """End a session nobody ended, as the bot (the daily purge, days after it started):
        as `end` does, its message shown as ended; None if it had ended already."""
        now = self.clock.now()
        with self.db.transaction() as db:
            if not repo.end_session(db, session_id=session_id, ended_by=BY_THE_BOT, now=now):
                return None
            ended = repo.get_session(db, session_id=session_id)
            assert ended is not None
            db.refresh(ended)
            queue(db, effects.session_close(session_id), now=now)
            return SessionView(ended, repo.attendance(db, session_id=session_id))

    def announce_end(self, session_id: int, *, reports: Sequence[EndReport]) -> None:
        """Queue "has ended", then the reports on the session (its summary), in one transaction."""
        with self.db.transaction() as db:
            session = repo.get_session(db, session_id=session_id)
            if session is None or session.ended_at is None:
                return
            queue(db, effects.session_ended(session_id), now=self.clock.now())
            for report in reports:
                report(db, session)

    def check_in_form(self, *, session_id: int, user_id: str) -> CheckInForm | Refusal:
        """The check-in form for a person, pre-filled from their last check-in or the session."""
        with self.db.read() as db:
            session = repo.get_session(db, session_id=session_id)
            if session is None:
                return Refusal("That session no longer exists.")
            if session.ended_at is not None:
                return Refusal(
                    f"“{escape_mrkdwn(session.title)}” has ended, so check-in is closed."
                )
            participant = repo.get_participant(db, session_id=session_id, user_id=user_id)
        returning = participant is not None and participant.checked_in_at is not None
        # Someone who is not checked in yet may have picked a place on the session message.
        return CheckInForm(
            session=session,
            role=participant.role if participant else None,
            place=(participant.place if participant else None) or session.area,
            group_name=(participant.group_name if participant else None) or session.group_type,
            consent_to_quote=bool(participant and participant.consent_to_quote),
            returning=returning,
        )

    def check_in(
        self,
        *,
        session_id: int,
        user_id: str,
        answers: CheckInAnswers,
        delivery_key: str | None,
        confirm: bool = False,
    ) -> CheckedIn | Refusal | Duplicate:
        """Record (or update) a check-in; committed before the caller is told.

        Args:
            confirm: queue the participant's private confirmation with it (the check-in form
                does; setting people up directly does not).
        """
        if not answers.role:
            return Refusal("Please give your role.")
        now = self.clock.now()
        try:
            with self.db.transaction() as db:
                session = repo.get_session(db, session_id=session_id)
                if session is None or session.ended_at is not None:
                    return Refusal("This session has ended, so check-in is closed.")
                repo.record_delivery(db, key=delivery_key, now=now)
                participant, first = repo.check_in(
                    db,
                    session_id=session_id,
                    user_id=user_id,
                    role=clean_answer(answers.role, ROLE_MAX),
                    place=clean_answer(answers.place, ATTRIBUTE_MAX),
                    group_name=clean_answer(answers.group_name, ATTRIBUTE_MAX),
                    consent_to_quote=answers.consent_to_quote,
                    now=now,
                )
                if confirm:
                    confirmation = effects.checked_in(
                        session_id=session_id,
                        user_id=user_id,
                        first_time=first,
                        delivery_key=delivery_key,
                    )
                    queue(db, confirmation, now=now)
                return CheckedIn(participant, first, session.channel_id)
        except repo.DuplicateDelivery:
            return Duplicate()

    def checked_in(self, *, session_id: int, user_id: str, first_time: bool) -> CheckedIn | None:
        """A person's check-in as it is now (to confirm it), or None if it is gone."""
        with self.db.read() as db:
            session = repo.get_session(db, session_id=session_id)
            participant = repo.get_participant(db, session_id=session_id, user_id=user_id)
        if session is None or participant is None or participant.checked_in_at is None:
            return None
        return CheckedIn(participant, first_time, session.channel_id)

    def role_suggestions(self, typed: str) -> list[str]:
        """Roles to offer for what someone has typed: their own words first, then matches."""
        typed = clean_answer(typed, ROLE_MAX) or ""
        with self.db.read() as db:
            known = repo.known_roles(db)
        candidates = list(dict.fromkeys([*DEFAULT_ROLES, *known]))
        matches = [role for role in candidates if typed.casefold() in role.casefold()]
        exact = any(role.casefold() == typed.casefold() for role in matches)
        suggestions = ([typed] if typed and not exact else []) + matches
        return suggestions[:100]  # Slack shows at most 100 options

    def check_in_choices(self, session: ListeningSession) -> CheckInChoices:
        """What the session message offers: the common roles, and places when the session set
        none (the areas the tour visited, places enough people gave; none: no place picker)."""
        with self.db.read() as db:
            roles = [*DEFAULT_ROLES, *repo.known_roles(db)]
            places = [] if session.area else repo.known_places(db)
        return CheckInChoices(
            roles=tuple(dict.fromkeys(roles))[:OFFERED_MAX],
            places=tuple(places[:OFFERED_MAX]),
        )

    def choose(
        self,
        *,
        session_id: int,
        user_id: str,
        choice: CheckInChoice,
        delivery_key: str | None,
        response_url: str | None,
    ) -> CheckedIn | Noted | Unchanged | Refusal | Duplicate:
        """One click on the session message: the check-in (or its change) with its private
        reply, in one transaction (see `bot.sessions.one_click`).

        Args:
            response_url: the click's own reply address, where the answer goes.
        """
        with self.db.read() as db:
            if refused := one_click.not_offered(db, choice, DEFAULT_ROLES):
                return refused
        now = self.clock.now()
        try:
            with self.db.transaction() as db:
                session = repo.get_session(db, session_id=session_id)
                if session is None:
                    return Refusal("That session no longer exists.")
                if session.ended_at is not None:
                    return Refusal(
                        f"“{escape_mrkdwn(session.title)}” has ended, so check-in is closed."
                    )
                repo.record_delivery(db, key=delivery_key, now=now)
                return one_click.record_choice(
                    db,
                    session=session,
                    user_id=user_id,
                    choice=choice,
                    delivery_key=delivery_key,
                    response_url=response_url,
                    now=now,
                )
        except repo.DuplicateDelivery:
            return Duplicate()

    def noted(self, *, session_id: int, user_id: str) -> Noted | None:
        """What a person chose before checking in, as it is now (None once they checked in:
        their confirmation says it all, or when they are gone)."""
        with self.db.read() as db:
            session = repo.get_session(db, session_id=session_id)
            participant = repo.get_participant(db, session_id=session_id, user_id=user_id)
        if session is None or participant is None or participant.checked_in_at is not None:
            return None
        return Noted(participant, session.channel_id)
