"""`listening-bot rehearse`: a whole session offline — the real app against the Slack stand-in.

The bot is built exactly as `serve` builds it (the composition root, the HTTP server, the
outbox sender, the scheduler) with three differences: Slack is the stand-in on 127.0.0.1, the
database is a rehearsal file, and the clock runs `speed` times faster (deadlines included:
the scheduler is handed the real moment each falls at). Simulated people then do what people
do in Slack, as signed HTTP requests: check in through the form, vote by clicking, report
back for their room; a simulated facilitator follows the run sheet with `/next`.
"""

from __future__ import annotations

import contextlib
import random
import secrets
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from bot.bootstrap import create_app, create_services
from bot.clock import ScaledClock
from bot.config import isolated_settings
from bot.rehearsal import people as cast_of
from bot.rehearsal.options import (
    CHANNEL,
    RehearsalOptions,
    seeded,
)
from bot.rehearsal.people import Person
from bot.rehearsal.render import mrkdwn_to_text, render_message
from bot.rehearsal.seen import (
    breakout_round,
    message_button,
    message_buttons,
    poll_closed,
    stored_poll,
)
from bot.rehearsal.serving import WAIT, ServerThread, wait_until
from bot.rehearsal.transcript import Transcript
from bot.rooms import FIELD_KEY_POINTS, FIELD_NEW_THEMES, FIELD_SUMMARY, quote_field
from bot.runsheets import RunSheet
from bot.runsheets.model import BreakoutStep, NoteStep, PollStep, Step, TalkStep
from bot.server import create_web_app
from bot.services import Services
from bot.standin import FakeSlack, RateLimits, SlackSender, payloads
from bot.views.polls import VOTE_ACTION_PREFIX
from bot.views.reports import CONSENT_YES as QUOTE_CONSENT
from bot.views.reports import INPUT_ACTION
from bot.views.sessions import CONSENT_YES, DETAILS_ACTION
from storage import polls as poll_store
from storage import rooms as room_store
from storage.db import Database
from storage.migrate import upgrade

SUMMARY_CHANNEL = "C0SUMMARIES"
FACILITATOR = "U0REHFACIL"
FACILITATOR_NAME = "Sam F (facilitator)"
MAX_RATE_SCALE = 1000.0  # the most SLACK_RATE_SCALE accepts
SENDERS = 8  # simulated people acting at once


@dataclass
class RehearsalResult:
    """What a finished rehearsal left behind."""

    db: Path
    report: Path
    session_id: int
    transcript: Transcript
    seconds: float
    counts: dict[str, int] = field(default_factory=dict)


class Rehearsal:
    """One rehearsal: the stand-in, the bot, the people, and the script they follow."""

    def __init__(self, options: RehearsalOptions, sheet: RunSheet, out: TextIO) -> None:
        self.options = options
        self.seed = options.seed if options.seed is not None else random.randrange(2**32)
        self.rng = random.Random(self.seed)
        self.sheet = seeded(sheet, self.seed)
        self.people = cast_of.cast(options.participants, self.rng)
        self.by_id = {person.user_id: person for person in self.people}
        self.followed = self.people[0]
        self.out = out
        self.clock = ScaledClock(options.speed)
        self.slack = FakeSlack(rate_limits=RateLimits(scale=options.speed))
        self.transcript = Transcript(
            out,
            channel=CHANNEL,
            summary_channel=SUMMARY_CHANNEL,
            facilitator=FACILITATOR,
            followed=self.followed.user_id,
            names=self.name_of,
            recipient=self.slack.recipient,
        )
        self.votes = 0  # counted by the bot (from the database)
        self.clicked = 0  # people who clicked

    def name_of(self, user_id: str) -> str:
        """How the transcript names someone."""
        if user_id == FACILITATOR:
            return FACILITATOR_NAME
        person = self.by_id.get(user_id)
        return person.name if person else user_id

    # -- set-up ------------------------------------------------------------------------------

    @contextmanager
    def running(self, database_url: str) -> Iterator[Services]:
        """The stand-in and the bot, serving; stopped (what is owed sent first) on the way out."""
        self.slack.start()
        self.slack.add_channel(CHANNEL, name="listening-rehearsal")
        self.slack.add_channel(SUMMARY_CHANNEL, name="tour-summaries")
        self.slack.add_user(FACILITATOR, real_name=FACILITATOR_NAME)
        for person in self.people:
            self.slack.add_user(person.user_id, real_name=person.name)
        signing_secret = secrets.token_hex(16)
        settings = isolated_settings(
            SLACK_BOT_TOKEN="xoxb-rehearsal-" + secrets.token_hex(8),
            SLACK_SIGNING_SECRET=signing_secret,
            SLACK_API_URL=self.slack.api_url,
            DATABASE_URL=database_url,
            SUMMARY_CHANNEL=SUMMARY_CHANNEL,
            SLACK_RATE_SCALE=min(self.options.speed, MAX_RATE_SCALE),
        )
        database = Database(database_url)
        upgrade(database.engine)
        services = create_services(settings, db=database, clock=self.clock)
        app = create_app(services)
        services.start_background()
        server = ServerThread(create_web_app(app, services))
        unsubscribe = self.slack.subscribe(self.transcript.see)
        try:
            self.sender = SlackSender(server.start(), signing_secret)
            yield services
            services.outbox.wait_idle(timeout=WAIT)
        finally:
            unsubscribe()
            server.stop()
            services.stop_background()
            database.dispose()
            self.slack.stop()

    # -- acting as Slack's users -------------------------------------------------------------

    def _reply_address(self, user: str, message_ts: str | None = None) -> str:
        """A response_url on the stand-in, tied to the person (as Slack gives each request)."""
        return self.slack.response_url(
            uuid.uuid4().hex, channel=CHANNEL, message_ts=message_ts, user=user
        )

    def _command_body(self, command: str, text: str, user: str) -> dict[str, str]:
        return payloads.slash_command(
            command, text, user_id=user, channel_id=CHANNEL, response_url=self._reply_address(user)
        )

    def command(self, command: str, text: str, user: str = FACILITATOR) -> str:
        """Type a slash command; returns the text of its ephemeral answer."""
        answer = self.sender.command(self._command_body(command, text, user))
        if answer.status_code != 200:
            raise RuntimeError(f"{command} {text} was answered {answer.status_code}")
        if not answer.text:
            return ""
        if not answer.headers.get("content-type", "").startswith("application/json"):
            return mrkdwn_to_text(answer.text, names=self.name_of)  # Bolt's ack(text=...)
        return "\n".join(render_message(answer.json(), names=self.name_of))

    def click(
        self, user: str, message: dict[str, Any], button: dict[str, Any], block: str
    ) -> dict[str, Any]:
        """Click a button of a channel message; the payload Slack sent for it."""
        body = payloads.block_action(
            user_id=user,
            channel_id=CHANNEL,
            action_id=button["action_id"],
            block_id=block,
            value=button.get("value"),
            message_ts=message["ts"],
            response_url=self._reply_address(user, message["ts"]),
        )
        self.sender.action(body)
        return body

    def form_opened_by(self, user: str, body: dict[str, Any]) -> dict[str, Any]:
        """The form the bot opened for the click or command `body` (shown in the transcript
        when it is the followed person's)."""
        call = self.slack.wait_for(
            "views.open",
            timeout=WAIT,
            predicate=lambda c: c.args.get("trigger_id") == body["trigger_id"],
        )[-1]
        view = dict(call.args["view"])
        if user == self.followed.user_id:
            self.transcript.show_form(user, view)
        return view

    def submit_form(self, user: str, view: dict[str, Any], values: dict[str, Any]) -> None:
        """Submit a form the bot opened, filled in with `values`."""
        self.sender.submit_view(
            payloads.view_submission(
                user_id=user,
                view={**view, "id": f"V{uuid.uuid4().hex[:10].upper()}"},
                values=values,
                private_metadata=view.get("private_metadata"),
                callback_id=view.get("callback_id"),
            )
        )

    # -- the script --------------------------------------------------------------------------

    def run(self, services: Services) -> int:
        """Start the session, check everyone in, follow the run sheet, end; the session id."""
        started = time.monotonic()
        self.transcript.heading(
            f"{FACILITATOR_NAME} starts the session with run sheet `{self.sheet.name}`"
        )
        answer = self.command(
            "/session",
            f'start "Rehearsal: {self.sheet.title or self.sheet.name}" '
            f"--runsheet {self.sheet.name}",
        )
        if answer:
            raise RuntimeError(f"the session did not start: {answer}")
        session = wait_until(lambda: services.sessions.active_session(CHANNEL), "the session")
        assert session.id is not None
        message = wait_until(lambda: self._message_with(DETAILS_ACTION), "the session message")
        self.check_everyone_in(message)
        self.progress(services, "everyone has checked in", started)
        for position, step in enumerate(self.sheet.steps):
            self.transcript.heading(
                f"Step {position + 1} of {len(self.sheet.steps)}: "
                f"{step.summary()} — {FACILITATOR_NAME} types /next"
            )
            self.run_step(services, session.id, position, step)
            self.progress(services, f"step {position + 1} done", started)
        self.transcript.heading("The facilitator ends the session: /session end")
        self.command("/session", "end")
        wait_until(
            lambda: (services.sessions.get(session.id) or session).summary_posted_at,
            "the final summary",
        )
        return session.id

    def check_everyone_in(self, message: dict[str, Any]) -> None:
        """Everyone opens the check-in form from the session message and submits it."""
        block, button = message_button(message, DETAILS_ACTION)
        self.transcript.heading(f"{len(self.people)} people check in (Change details → form)")

        def check_in(person: Person) -> None:
            view = self.form_opened_by(
                person.user_id, self.click(person.user_id, message, button, block)
            )
            values = {
                "role": {"role": payloads.static_select_value(person.role, external=True)},
                "place": {"place": payloads.plain_text_value(person.place)},
                "group": {"group": payloads.plain_text_value(person.group)},
                "consent": {
                    "consent": payloads.checkboxes_value(
                        [(CONSENT_YES, "Quote me")] if person.consent else []
                    )
                },
            }
            self.submit_form(person.user_id, view, values)

        with self.clock.held():  # however fast the clock, everyone gets checked in
            self._each(self.people, check_in)

    def run_step(self, services: Services, session_id: int, position: int, step: Step) -> None:
        """`/next`, then what people do in that step, until it is over."""
        # A poll's time is held from its launch until everyone has clicked: at 300 times real
        # speed a one-minute poll lasts 0.2 s, which a busy machine can spend before the
        # first click.
        polling = isinstance(step, PollStep)
        voters: list[Person] = []
        with self.clock.held() if polling else contextlib.nullcontext():
            answer = self.command("/next", "")
            if answer:
                self.transcript.answer(FACILITATOR, "/next", answer)
            done = self._step_record(services, session_id, position)
            if done is not None and polling and done.poll_id is not None:
                voters = self._click_votes(services, done.poll_id)
        if done is None and not isinstance(step, BreakoutStep):
            raise RuntimeError(f"step {position + 1} was refused: {answer}")
        if done is None:
            # Refused (too few people for the rooms asked for): a facilitator moves on.
            self.transcript.line(f"  {FACILITATOR_NAME} skips it: /next skip")
            self.command("/next", "skip")
            if self._step_record(services, session_id, position) is None:
                raise RuntimeError(f"step {position + 1} could neither run nor be skipped")
            return
        if isinstance(step, TalkStep):
            self._let_time_pass(step.duration or timedelta(minutes=1))
        elif isinstance(step, PollStep) and done.poll_id is not None:
            self._count_votes(services, done.poll_id, voters)
        elif isinstance(step, BreakoutStep) and done.round_id is not None:
            self.sit_in_rooms(services, done.round_id, step.prompt)
        elif isinstance(step, NoteStep):
            pass  # a note is for the facilitators: /next showed it to them
        services.outbox.wait_idle(timeout=WAIT)

    def _step_record(self, services: Services, session_id: int, position: int) -> Any:
        agenda = services.agenda.view_of(session_id)
        return agenda.done.get(position) if agenda else None

    def _click_votes(self, services: Services, poll_id: int) -> list[Person]:
        """Nearly everyone clicks their choice (the caller holds the clock); who clicked."""
        poll = stored_poll(services, poll_id)
        message = wait_until(lambda: self._poll_message(services, poll_id), "the poll message")
        buttons = [
            (block, button)
            for block, button in message_buttons(message)
            if str(button.get("action_id", "")).startswith(VOTE_ACTION_PREFIX)
        ]
        voters = [p for p in self.people if cast_of.will_vote(self.rng)]
        picks = {
            p.user_id: cast_of.choose(p, len(buttons), self.rng, multi=poll.multi) for p in voters
        }

        def vote(person: Person) -> None:
            for index in picks[person.user_id]:
                block, button = buttons[index]
                self.click(person.user_id, message, button, block)

        if not buttons:
            return []
        self._each(voters, vote)
        return voters

    def _count_votes(self, services: Services, poll_id: int, voters: list[Person]) -> None:
        """The poll runs out its time and closes at its deadline; its votes are counted."""
        deadline = stored_poll(services, poll_id).closes_at
        self._until_done(
            services, lambda: poll_closed(services, poll_id), "the poll to close", deadline
        )
        with services.db.read() as db:
            counted = poll_store.tally(db, poll=stored_poll(services, poll_id)).voters
        self.votes += counted
        self.clicked += len(voters)
        self.transcript.line(f"  {len(voters)} people clicked; {counted} votes counted")

    def sit_in_rooms(self, services: Services, round_id: int, prompt: str) -> None:
        """People talk in their rooms; one per room sends the report-back with quotes."""
        with services.db.read() as db:
            rooms = room_store.rooms_of(db, round_id=round_id)
            everyone = room_store.members_of(db, round_id=round_id)
        members: dict[int | None, list[str]] = {room.id: [] for room in rooms}
        for member in everyone:
            members.setdefault(member.room_id, []).append(member.user_id)
        reporters = [
            (room, self.by_id[ids[0]])
            for room in rooms
            for ids in [[u for u in members.get(room.id, []) if u in self.by_id]]
            if ids
        ]
        breakout = breakout_round(services, round_id)
        talk_until = breakout.started_at + (breakout.ends_at - breakout.started_at) * 0.6
        self._let_time_pass_until(talk_until)

        def report(item: tuple[Any, Person]) -> None:
            room, person = item
            body = self._command_body("/report", "", person.user_id)
            self.sender.command(body)
            view = self.form_opened_by(person.user_id, body)
            # Rooms report at once: each draws from its own generator, so a seed replays them.
            rng = random.Random(f"{self.seed}:{round_id}:{room.number}")
            summary, quotes = cast_of.report_back(rng, prompt)
            values: dict[str, Any] = {
                FIELD_SUMMARY: {INPUT_ACTION: payloads.plain_text_value(summary)},
                FIELD_KEY_POINTS: {INPUT_ACTION: payloads.plain_text_value(None)},
                FIELD_NEW_THEMES: {INPUT_ACTION: payloads.plain_text_value("Local presence")},
            }
            for index, quote in enumerate(quotes, start=1):
                speaker = rng.choice([self.by_id[u] for u in members[room.id] if u in self.by_id])

                values[quote_field("text", index)] = {
                    INPUT_ACTION: payloads.plain_text_value(quote)
                }
                values[quote_field("role", index)] = {
                    INPUT_ACTION: payloads.plain_text_value(speaker.role)
                }
                values[quote_field("place", index)] = {
                    INPUT_ACTION: payloads.plain_text_value(speaker.place)
                }
                values[quote_field("consent", index)] = {
                    INPUT_ACTION: payloads.checkboxes_value(
                        [(QUOTE_CONSENT, "Agreed")] if speaker.consent else []
                    )
                }
            self.submit_form(person.user_id, view, values)

        self._each(reporters, report)
        self._until_done(
            services,
            lambda: breakout_round(services, round_id).ended_at,
            "the round to end",
            breakout.ends_at,
        )

    # -- helpers -----------------------------------------------------------------------------

    def _each(self, items: list[Any], act: Callable[[Any], None]) -> None:
        """Let people act at once, as they do (SENDERS at a time)."""
        with ThreadPoolExecutor(max_workers=SENDERS, thread_name_prefix="rehearsal-person") as pool:
            for finished in [pool.submit(act, item) for item in items]:
                finished.result()

    def _let_time_pass(self, span: timedelta) -> None:
        self._let_time_pass_until(self.clock.now() + span)

    def _let_time_pass_until(self, moment: Any) -> None:
        seconds = (moment - self.clock.now()).total_seconds() / self.clock.speed
        if seconds > 0:
            time.sleep(seconds)  # the simulated people waiting; the bot's deadlines are its own

    def _until_done(
        self, services: Services, done: Callable[[], object], what: str, deadline: datetime
    ) -> None:
        """Wait for a deadline's outcome: as long as the deadline is away in real time, and
        then WAIT more (a rehearsal at --speed 1 runs in real time)."""
        away = max(0.0, (deadline - self.clock.now()).total_seconds() / self.clock.speed)
        wait_until(done, what, timeout=away + WAIT)
        services.outbox.wait_idle(timeout=WAIT)

    def _message_with(self, action_id: str) -> dict[str, Any] | None:
        for message in reversed(self.slack.messages(CHANNEL)):
            if any(b.get("action_id") == action_id for _, b in message_buttons(message)):
                return message
        return None

    def _poll_message(self, services: Services, poll_id: int) -> dict[str, Any] | None:
        with services.db.read() as db:
            poll = poll_store.get_poll(db, poll_id=poll_id)
        if poll is None or not poll.message_ts:
            return None
        for message in self.slack.messages(CHANNEL):
            if message.get("ts") == poll.message_ts:
                return message
        return None

    def progress(self, services: Services, what: str, started: float) -> None:
        """One progress line: session time, real time, check-ins and votes so far."""
        elapsed = time.monotonic() - started
        private = sum(self.transcript.private_counts.values())
        self.transcript.line(
            f"  ⏱ {what} · session clock {self.clock.now():%H:%M:%S} · {elapsed:.1f}s real · "
            f"{self.votes} votes counted · {private} private replies to others"
        )
