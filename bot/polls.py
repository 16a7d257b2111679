"""Timed polls: parsing `/poll`, voting, tallies, coalesced live updates, closing. No Slack here.

Slack-facing work (posting, updating, uploading the chart) goes through a `PollPublisher` that
the handlers attach, so this module only decides *what* happens and *when*.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
import unicodedata
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Generic, Protocol, TypeVar

from sqlmodel import Session

from bot.clock import Clock
from bot.parsing import (
    CommandSpec,
    FlagSpec,
    Parsed,
    UsageError,
    format_duration,
    parse,
    parse_duration,
)
from bot.report.percent import whole_percentages
from bot.scheduler import Deadlines, bound_services
from bot.sessions import Duplicate, Refusal, SessionService
from storage import polls as store
from storage import repository as repo
from storage.db import Database
from storage.models import ListeningSession
from storage.polls import (
    KEY_MAX,
    MAX_OPTIONS,
    OPTION_MAX,
    QUESTION_MAX,
    Poll,
    Tally,
)

logger = logging.getLogger(__name__)

MIN_OPTIONS = 2
DEFAULT_DURATION = timedelta(minutes=2)
MIN_DURATION = timedelta(seconds=10)
MAX_DURATION = timedelta(hours=24)
# A poll's live tally is updated at most once every 2 s. Slack allows chat.update about 50 times
# a minute per workspace, whatever the message, so all polls together get at most 40 a minute
# (one every 1.5 s): the rest is left for everything else the bot edits.
LIVE_UPDATE_INTERVAL = 2.0
LIVE_UPDATE_SPACING = 60 / 40
DERIVED_KEY_MAX = 60

POLL_USAGE = (
    '/poll "<question>" "<option>" "<option>" … [--time 2m] [--multi] [--anonymous] '
    "[--hide-results] [--key <id>]"
)
POLL_EXAMPLE = (
    '/poll "Should the party back the strike?" "Yes" "No" "Not sure" --time 2m --key strike-support'
)
POLL_SPEC = CommandSpec(
    name="/poll",
    usage=POLL_USAGE,
    example=POLL_EXAMPLE,
    flags=(
        FlagSpec("time", "duration", min_value=MIN_DURATION, max_value=MAX_DURATION),
        FlagSpec("multi", "bool"),
        FlagSpec("anonymous", "bool"),
        FlagSpec("hide-results", "bool"),
        FlagSpec("key", "str", metavar="<id>", max_length=KEY_MAX),
    ),
    positional_names=("question", "option"),
    min_positionals=1 + MIN_OPTIONS,
    max_positionals=None,
    positional_max_length=QUESTION_MAX,
)
CLOSE_SPEC = CommandSpec(name="/poll close", usage="/poll close", example="/poll close")

UNKNOWN_POLL = "That poll no longer exists, so nothing was recorded."
NOT_A_POLL_BUTTON = "That button is not from a poll I know, so nothing was recorded."
NOTHING_OPEN = "There is no open poll in this channel to close."
NO_CHOICE = "Please choose at least one option."


# ---------------------------------------------------------------------------
# Requests


@dataclass(frozen=True)
class PollRequest:
    """A validated poll to launch."""

    question: str
    options: tuple[str, ...]
    duration: timedelta = DEFAULT_DURATION
    multi: bool = False
    anonymous: bool = False
    hide_results: bool = False
    key: str = ""


def slug(text: str) -> str:
    """Lower-case ASCII letters and digits joined by single dashes ("Back the strike?" → …)."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return "-".join(re.findall(r"[a-z0-9]+", folded))


def derive_key(question: str) -> str:
    """The key of a question asked without `--key`: a slug of its words, cut at a word end."""
    words = slug(question)
    if len(words) > DERIVED_KEY_MAX:
        cut = words[: DERIVED_KEY_MAX + 1]
        words = cut[: cut.rfind("-")] if "-" in cut else cut[:DERIVED_KEY_MAX]
    if words:
        return words
    # Nothing to spell it with (all emoji, say): the same text still gives the same key.
    digest = hashlib.sha1(" ".join(question.split()).casefold().encode()).hexdigest()
    return f"poll-{digest[:10]}"


def normalise_key(given: str) -> str | None:
    """A `--key` as stored (a slug), or None when it has no letters or digits."""
    return slug(given)[:KEY_MAX] or None


def clean_option(text: str) -> str:
    """An option as shown: whitespace (newlines too) collapsed, since buttons are one line."""
    return " ".join(text.split())


def check_options(options: Sequence[str]) -> str | None:
    """What is wrong with a list of options, if anything."""
    if len(options) < MIN_OPTIONS:
        got = "none" if not options else "only one"
        return f"A poll needs at least {MIN_OPTIONS} options; you gave {got}."
    if len(options) > MAX_OPTIONS:
        return f"A poll has at most {MAX_OPTIONS} options; you gave {len(options)}."
    seen: set[str] = set()
    for number, option in enumerate(options, start=1):
        if not option:
            return f"Option {number} is empty."
        if len(option) > OPTION_MAX:
            return (
                f"Option {number} is {len(option):,} characters long; the limit is {OPTION_MAX:,}."
            )
        folded = option.casefold()
        if folded in seen:
            shown = option if len(option) <= 40 else option[:39] + "…"
            return f"The option “{shown}” is given twice; every option must be different."
        seen.add(folded)
    return None


def check_question(question: str) -> str | None:
    """What is wrong with a question, if anything."""
    if not question.strip():
        return "The question is empty."
    if len(question) > QUESTION_MAX:
        return f"The question is {len(question):,} characters long; the limit is {QUESTION_MAX:,}."
    return None


def check_duration(text: str) -> timedelta | str:
    """A duration typed in the form, or what is wrong with it."""
    if not text.strip():
        return DEFAULT_DURATION
    duration = parse_duration(text)
    if duration is None:
        return f"“{text.strip()[:40]}” is not a duration: use forms like 45s, 2m, 1m30s or 1h."
    if not MIN_DURATION <= duration <= MAX_DURATION:
        return (
            f"A poll runs between {format_duration(MIN_DURATION)} and "
            f"{format_duration(MAX_DURATION)}; got {format_duration(duration)}."
        )
    return duration


def _request_from(parsed: Parsed) -> PollRequest | UsageError:
    def fail(message: str) -> UsageError:
        return UsageError(message, POLL_USAGE, POLL_EXAMPLE)

    question, *raw_options = parsed.positionals
    options = tuple(clean_option(option) for option in raw_options)
    if problem := check_question(question) or check_options(options):
        return fail(problem)
    given_key = parsed.str_flag("key")
    key = derive_key(question)
    if given_key is not None:
        normalised = normalise_key(given_key)
        if normalised is None:
            return fail("--key needs letters or digits, like --key strike-support.")
        key = normalised
    return PollRequest(
        question=question.strip(),
        options=options,
        duration=parsed.duration_flag("time") or DEFAULT_DURATION,
        multi=parsed.bool_flag("multi"),
        anonymous=parsed.bool_flag("anonymous"),
        hide_results=parsed.bool_flag("hide-results"),
        key=key,
    )


def parse_poll_text(text: str) -> PollRequest | UsageError:
    """Parse the text of `/poll "<question>" "<option>" …`."""
    parsed = parse(POLL_SPEC, text)
    return parsed if isinstance(parsed, UsageError) else _request_from(parsed)


def unquoted_question(word: str) -> UsageError:
    """The error for `/poll Lunch today? …` (a bare first word that is not a subcommand)."""
    return UsageError(
        f"Unknown subcommand “{word[:40]}”. Put the question and each option in double "
        "quotes, or use close or help.",
        POLL_USAGE,
        POLL_EXAMPLE,
    )


@dataclass(frozen=True)
class FormProblem:
    """A field of the poll form and what is wrong with it."""

    field: str
    message: str


FORM_QUESTION, FORM_OPTIONS, FORM_DURATION, FORM_KEY = "question", "options", "duration", "key"


def read_form(
    *,
    question: str | None,
    options_text: str | None,
    duration_text: str | None,
    multi: bool,
    anonymous: bool,
    hide_results: bool,
    key_text: str | None,
) -> PollRequest | FormProblem:
    """Validate the poll form (options one per line) with the same rules as the command."""
    question = (question or "").strip()
    if problem := check_question(question):
        return FormProblem(FORM_QUESTION, problem)
    options = tuple(
        clean_option(line) for line in (options_text or "").splitlines() if line.strip()
    )
    if problem := check_options(options):
        return FormProblem(FORM_OPTIONS, problem)
    duration = check_duration(duration_text or "")
    if isinstance(duration, str):
        return FormProblem(FORM_DURATION, duration)
    key = derive_key(question)
    if key_text and key_text.strip():
        normalised = normalise_key(key_text)
        if normalised is None:
            return FormProblem(FORM_KEY, "Use letters or digits, like strike-support.")
        key = normalised
    return PollRequest(question, options, duration, multi, anonymous, hide_results, key)


# ---------------------------------------------------------------------------
# Tally maths


def bar_cells(count: int, voters: int, width: int = 10) -> int:
    """How many of `width` cells a bar for `count` of `voters` fills (never 0 for a vote)."""
    if voters <= 0 or count <= 0:
        return 0
    return max(1, min(width, round(width * count / voters)))


# ---------------------------------------------------------------------------
# Coalescing live updates


class Coalescer:
    """Runs `flush(key)` at most once per `interval` per key, and soon after the last `mark`.

    The first change after a quiet spell is flushed at once; changes during the following
    `interval` are folded into one flush at its end. So a burst of votes costs one message
    update per interval, and the final count is shown within `interval` of the last vote.
    Flushes that sent an update are also kept `spacing` apart whatever their keys, earliest due
    first, so several busy polls share one budget of updates instead of each spending its own.
    `flush` returns whether it sent anything.
    """

    def __init__(
        self,
        flush: Callable[[int], bool],
        *,
        interval: float = LIVE_UPDATE_INTERVAL,
        spacing: float = 0.0,
        monotonic: Callable[[], float] = time.monotonic,
        background: bool = True,
    ) -> None:
        self._flush = flush
        self.interval = interval
        self.spacing = spacing
        self._monotonic = monotonic
        self._background = background
        self._cond = threading.Condition()
        self._due: dict[int, float] = {}
        self._last: dict[int, float] = {}
        self._free_at = float("-inf")  # when the next flush of any key may start
        self._thread: threading.Thread | None = None

    def mark(self, key: int) -> None:
        """Note that `key` changed; its flush is scheduled if none is pending."""
        with self._cond:
            if key in self._due:
                return
            now = self._monotonic()
            last = self._last.get(key)
            self._due[key] = now if last is None else max(now, last + self.interval)
            self._cond.notify_all()
            if self._background and self._thread is None:
                # One flusher for every key; it ends when nothing is pending.
                self._thread = threading.Thread(
                    target=self._loop, name="poll-live-updates", daemon=True
                )
                self._thread.start()

    def forget(self, key: int) -> None:
        """Drop any pending flush for `key` (its poll closed)."""
        with self._cond:
            self._due.pop(key, None)
            self._last.pop(key, None)

    def pending(self) -> dict[int, float]:
        """Keys waiting to be flushed and when."""
        with self._cond:
            return dict(self._due)

    def run_due(self) -> float | None:
        """Flush every key whose time has come, one at a time, `spacing` apart.

        Returns:
            Seconds until the next flush may run, or None when nothing is pending.
        """
        while True:
            with self._cond:
                if not self._due:
                    return None
                now = self._monotonic()
                key, due = min(self._due.items(), key=lambda item: item[1])
                start = max(due, self._free_at)
                if start > now:
                    return start - now
                del self._due[key]
                self._last[key] = now
            try:
                sent = self._flush(key)
            except Exception:
                logger.exception("live update of poll %s failed", key)
                sent = True  # it reached Slack, or tried to: it counts against the budget
            with self._cond:
                # Spaced from the end of this update, so two never reach Slack closer than
                # `interval` however long one takes (a 429 retry, a slow network).
                done = self._monotonic()
                if sent:
                    self._free_at = done + self.spacing
                if key in self._last:
                    self._last[key] = done
                if key in self._due:
                    self._due[key] = max(self._due[key], done + self.interval)

    def _loop(self) -> None:
        while True:
            wait = self.run_due()
            with self._cond:
                if wait is None and not self._due:
                    self._thread = None
                    return
                if wait:
                    self._cond.wait(timeout=wait)


# ---------------------------------------------------------------------------
# Group commit


Item = TypeVar("Item")
Outcome = TypeVar("Outcome")


class BatchWriter(Generic[Item, Outcome]):
    """Writes items from many threads, many items per transaction (group commit).

    The first caller to find no write in progress becomes the writer: it takes every item
    waiting (its own included), applies them in one transaction and commits; callers whose
    items it took wait for that and return. Alone, a caller simply writes its own item. Under a
    burst of voters this is what keeps clicks fast: SQLite takes one writer at a time, and
    request threads queueing for its lock (each giving up Python's GIL at every statement)
    would spend longer waiting for one another than writing.
    """

    def __init__(
        self,
        db: Database,
        apply: Callable[[Session, Item], Outcome],
        *,
        max_batch: int = 200,
    ) -> None:
        self.db = db
        self._apply = apply
        self._max_batch = max_batch
        self._waiting: deque[tuple[Item, Future[Outcome]]] = deque()
        self._cond = threading.Condition()
        self._writing = False

    def write(self, item: Item) -> Outcome:
        """Apply `item` in a transaction and return its outcome once committed."""
        future: Future[Outcome] = Future()
        with self._cond:
            self._waiting.append((item, future))
        while not future.done():
            with self._cond:
                while self._writing and not future.done():
                    self._cond.wait()
                if future.done():
                    break
                # Nobody is writing and our item is still waiting: write everything waiting.
                self._writing = True
                taken = min(len(self._waiting), self._max_batch)
                batch = [self._waiting.popleft() for _ in range(taken)]
            try:
                self._write(batch)
            except BaseException as error:
                # Even an interrupt must not leave the others waiting for ever.
                for _, waiting in batch:
                    if not waiting.done():
                        waiting.set_exception(error)
                raise
            finally:
                with self._cond:
                    self._writing = False
                    self._cond.notify_all()
        return future.result()

    def _write(self, batch: list[tuple[Item, Future[Outcome]]]) -> None:
        try:
            with self.db.transaction() as db:
                outcomes = [self._apply(db, item) for item, _ in batch]
        except Exception as error:
            if len(batch) == 1:
                batch[0][1].set_exception(error)
                return
            # One bad item must not sink the others: write them one at a time.
            for entry in batch:
                self._write([entry])
            return
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            future.set_result(outcome)


# ---------------------------------------------------------------------------
# Results of operations


@dataclass(frozen=True)
class PollState:
    """A poll with its options and current tally: everything its message shows."""

    poll: Poll
    options: tuple[str, ...]
    tally: Tally

    @property
    def id(self) -> int:
        """The poll's id."""
        assert self.poll.id is not None
        return self.poll.id

    @property
    def closed(self) -> bool:
        """Whether the poll has closed."""
        return self.poll.closed_at is not None

    def percents(self) -> list[int]:
        """Whole percentages of the voters per option."""
        return whole_percentages(
            self.tally.counts, self.tally.voters, exclusive=not self.poll.multi
        )


@dataclass(frozen=True)
class Click:
    """One click (or anonymous ballot) waiting to be written."""

    poll_id: int
    option_indexes: tuple[int, ...]
    user_id: str
    channel_id: str | None
    delivery_key: str | None


@dataclass(frozen=True)
class Counted:
    """A click's committed effect: the person's choices afterwards."""

    target: store.VoteTarget
    chosen: tuple[int, ...]


@dataclass(frozen=True)
class VoteRecorded:
    """A committed vote, with what the confirmation says."""

    poll_id: int
    session_id: int
    channel_id: str
    chosen: tuple[str, ...]
    multi: bool
    anonymous: bool
    closes_at: datetime
    checked_in: bool


@dataclass(frozen=True)
class PollClosed:
    """A vote refused because the poll had closed."""

    closed_at: datetime


@dataclass(frozen=True)
class AlreadyVoted:
    """A second vote in an anonymous poll, refused because anonymous votes cannot change."""


@dataclass(frozen=True)
class Launched:
    """A poll created and waiting for its message to be posted."""

    state: PollState


@dataclass(frozen=True)
class ClosedNow:
    """A poll closed by `/poll close`; its results are announced next."""

    poll_id: int


VoteOutcome = VoteRecorded | PollClosed | AlreadyVoted | Refusal | Duplicate


class PollPublisher(Protocol):
    """Shows polls in chat (implemented on Slack by the handlers)."""

    def show_live(self, state: PollState) -> None:
        """Update the poll's message with the current tally."""
        ...

    def show_final(self, state: PollState) -> None:
        """Show the final results on the poll's message and post the chart in its thread."""
        ...


# A failed announcement (Slack down, rate limits used up) is tried again after these waits,
# then at the next start.
ANNOUNCE_RETRY_DELAYS = (
    timedelta(seconds=30),
    timedelta(minutes=1),
    timedelta(minutes=2),
    timedelta(minutes=5),
    timedelta(minutes=10),
    timedelta(minutes=30),
)
FORGET_HISTORY_JOB_ID = "anonymous-ballots-forget-history"
FORGET_HISTORY_RETRY = timedelta(seconds=15)


def close_job_id(poll_id: int) -> str:
    """The stable id of a poll's deadline job in the job store."""
    return f"poll-close-{poll_id}"


def close_poll_at_deadline(poll_id: int) -> None:
    """The scheduled job: close a poll whose deadline has come, and announce it."""
    bound_services().polls.close_at_deadline(poll_id)


def announce_job_id(poll_id: int) -> str:
    """The stable id of the job that tries a failed announcement again."""
    return f"poll-announce-{poll_id}"


def announce_poll_again(poll_id: int, attempt: int) -> None:
    """The scheduled job: try again to post a closed poll's results."""
    bound_services().polls.announce(poll_id, attempt=attempt)


def forget_anonymous_history_job() -> None:
    """The scheduled job: drop the database's history of anonymous counters (it was busy)."""
    bound_services().polls.forget_anonymous_history()


# ---------------------------------------------------------------------------
# The service


@dataclass
class _Locks:
    """One lock per poll message, so a live update never lands after the final results."""

    guard: threading.Lock = field(default_factory=threading.Lock)
    by_poll: dict[int, threading.Lock] = field(default_factory=dict)

    def of(self, poll_id: int) -> threading.Lock:
        with self.guard:
            return self.by_poll.setdefault(poll_id, threading.Lock())


class PollService:
    """Poll rules on top of the repository: who may launch, vote, close, and what gets shown."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        sessions: SessionService,
        deadlines: Deadlines,
        *,
        live_interval: float = LIVE_UPDATE_INTERVAL,
    ) -> None:
        self.db = db
        self.clock = clock
        self.sessions = sessions
        self.deadlines = deadlines
        self.publisher: PollPublisher | None = None
        self.live = Coalescer(self._show_live, interval=live_interval, spacing=LIVE_UPDATE_SPACING)
        self._locks = _Locks()
        self._options: dict[int, tuple[str, ...]] = {}
        self.writer: BatchWriter[Click, Counted | VoteOutcome] = BatchWriter(db, self._apply_vote)
        self._tidying = ThreadPoolExecutor(max_workers=1, thread_name_prefix="poll-tidy")

    def attach(self, publisher: PollPublisher) -> None:
        """Set what shows polls in chat."""
        self.publisher = publisher

    # -- launching -------------------------------------------------------------

    def may_control(self, *, channel_id: str, user_id: str) -> ListeningSession | Refusal:
        """The channel's session if `user_id` may launch and close polls there."""
        return self.sessions.controlled_session(channel_id=channel_id, user_id=user_id)

    def launch(
        self,
        *,
        channel_id: str,
        user_id: str,
        request: PollRequest,
        delivery_key: str | None,
    ) -> Launched | Refusal | Duplicate:
        """Create a poll in the channel's session and schedule its close."""
        session = self.may_control(channel_id=channel_id, user_id=user_id)
        if isinstance(session, Refusal):
            return session
        assert session.id is not None
        now = self.clock.now()
        try:
            with self.db.transaction() as db:
                repo.record_delivery(db, key=delivery_key, now=now)
                poll = store.create_poll(
                    db,
                    session_id=session.id,
                    channel_id=channel_id,
                    key=request.key,
                    question=request.question,
                    options=request.options,
                    multi=request.multi,
                    anonymous=request.anonymous,
                    hide_results=request.hide_results,
                    created_by=user_id,
                    now=now,
                    closes_at=now + request.duration,
                )
        except repo.DuplicateDelivery:
            return Duplicate()
        assert poll.id is not None
        self._options[poll.id] = request.options
        self.deadlines.schedule(
            close_job_id(poll.id), close_poll_at_deadline, poll.closes_at, poll.id
        )
        return Launched(PollState(poll, request.options, Tally((0,) * len(request.options), 0)))

    def set_message(self, poll_id: int, message_ts: str) -> None:
        """Remember where the poll's message is."""
        with self.db.transaction() as db:
            store.set_poll_message(db, poll_id=poll_id, message_ts=message_ts)

    def discard(self, poll_id: int) -> None:
        """Delete a poll whose message could not be posted."""
        self.deadlines.cancel(close_job_id(poll_id))
        self.live.forget(poll_id)
        with self.db.transaction() as db:
            store.delete_poll(db, poll_id=poll_id)

    # -- reading ---------------------------------------------------------------

    def _options_of(self, poll_id: int) -> tuple[str, ...]:
        # Options never change after launch, so they are read once per process.
        cached = self._options.get(poll_id)
        if cached is None:
            with self.db.read() as db:
                cached = tuple(store.poll_options(db, poll_id=poll_id))
            self._options[poll_id] = cached
        return cached

    def state(self, poll_id: int) -> PollState | None:
        """A poll with its options and current tally."""
        with self.db.read() as db:
            poll = store.get_poll(db, poll_id=poll_id)
            if poll is None:
                return None
            tally = store.tally(db, poll=poll)
        return PollState(poll, self._options_of(poll_id), tally)

    def open_states(self, session: ListeningSession) -> list[PollState]:
        """The session's open polls with their tallies (for `/session status`)."""
        with self.db.read() as db:
            ids = [poll.id for poll in store.open_polls(db, session_id=session.id)]
        return [state for i in ids if i is not None and (state := self.state(i)) is not None]

    def results(self, *, poll_id: int, user_id: str) -> PollState | Refusal:
        """Current results for a facilitator, even while they are hidden from everyone else."""
        state = self.state(poll_id)
        if state is None:
            return Refusal(UNKNOWN_POLL)
        with self.db.read() as db:
            session = repo.get_session(db, session_id=state.poll.session_id)
        if session is None or not self.sessions.is_facilitator(user_id, session):
            return Refusal(
                "Only the session's facilitators can see the results before the poll closes."
            )
        return state

    def ballot(
        self, *, poll_id: int, user_id: str
    ) -> PollState | PollClosed | AlreadyVoted | Refusal:
        """The poll to show in the anonymous ballot form, unless this person cannot vote."""
        state = self.state(poll_id)
        if state is None:
            return Refusal(UNKNOWN_POLL)
        if not state.poll.anonymous or not state.poll.multi:
            return Refusal(NOT_A_POLL_BUTTON)
        if state.closed or self.clock.now() >= state.poll.closes_at:
            return PollClosed(state.poll.closed_at or state.poll.closes_at)
        with self.db.read() as db:
            if store.has_voted(db, poll_id=poll_id, user_id=user_id):
                return AlreadyVoted()
        return state

    # -- voting ----------------------------------------------------------------

    def vote(
        self,
        *,
        poll_id: int,
        option_indexes: Sequence[int],
        user_id: str,
        channel_id: str | None,
        delivery_key: str | None,
    ) -> VoteOutcome:
        """Record a click (or an anonymous ballot), committed before this returns.

        Args:
            poll_id: the poll clicked.
            option_indexes: the option clicked; several only from the anonymous ballot form.
            user_id: who clicked.
            channel_id: where the button was (None from a form); a button from elsewhere is
                refused.
            delivery_key: the same for Slack's redeliveries, so a retry changes nothing.
        """
        if not option_indexes:
            return Refusal(NO_CHOICE)
        click = Click(poll_id, tuple(option_indexes), user_id, channel_id, delivery_key)
        outcome = self.writer.write(click)
        if not isinstance(outcome, Counted):
            return outcome
        self.live.mark(poll_id)
        target = outcome.target
        options = self._options_of(poll_id)
        return VoteRecorded(
            poll_id=poll_id,
            session_id=target.session_id,
            channel_id=target.channel_id,
            chosen=tuple(options[i] for i in outcome.chosen),
            multi=target.multi,
            anonymous=target.anonymous,
            closes_at=target.closes_at,
            checked_in=bool(target.participant),
        )

    def _apply_vote(self, db: Session, click: Click) -> Counted | VoteOutcome:
        """One click's effect, inside the writer's transaction."""
        now = self.clock.now()
        target = store.vote_target(db, poll_id=click.poll_id, user_id=click.user_id)
        if target is None:
            return Refusal(UNKNOWN_POLL)
        indexes = click.option_indexes
        valid = all(0 <= i < target.option_count for i in indexes)
        if not valid or click.channel_id not in (None, target.channel_id):
            return Refusal(NOT_A_POLL_BUTTON)
        if len(indexes) > 1 and not (target.anonymous and target.multi):
            return Refusal(NOT_A_POLL_BUTTON)
        if target.closed_at is not None or now >= target.closes_at:
            # The stored deadline decides, whether or not the close job has run.
            return PollClosed(target.closed_at or target.closes_at)
        # Recorded with the vote, so a redelivery finds it and changes nothing however the
        # two race.
        if not store.claim_delivery(db, key=click.delivery_key, now=now):
            return Duplicate()
        if target.participant is None:
            store.add_participant(db, session_id=target.session_id, user_id=click.user_id, now=now)
        poll_id, user_id = click.poll_id, click.user_id
        if target.anonymous:
            chosen = tuple(sorted(set(indexes)))
            if not store.cast_anonymous(
                db, poll_id=poll_id, user_id=user_id, option_indexes=chosen
            ):
                return AlreadyVoted()
        elif target.multi:
            chosen = store.toggle(db, poll_id=poll_id, user_id=user_id, option_index=indexes[0])
        else:
            chosen = store.choose(db, poll_id=poll_id, user_id=user_id, option_index=indexes[0])
        return Counted(target, chosen)

    # -- closing ---------------------------------------------------------------

    def _close(self, poll: Poll, *, reason: str, closed_by: str | None, at: datetime) -> bool:
        """Compare-and-set close; True for the one caller that closed it."""
        assert poll.id is not None
        with self.db.transaction() as db:
            won = store.close_poll(db, poll_id=poll.id, now=at, reason=reason, closed_by=closed_by)
        if won:
            self._after_close(poll)
        return won

    def _after_close(self, poll: Poll) -> None:
        """No more deadline job or live updates; an anonymous poll's ballots leave no trace."""
        assert poll.id is not None
        self.deadlines.cancel(close_job_id(poll.id))
        self.live.forget(poll.id)
        if poll.anonymous:
            # In the background: it may wait a moment for other connections, and neither the
            # facilitator's command nor the announcement should wait with it.
            self._tidying.submit(self.forget_anonymous_history)

    def forget_anonymous_history(self) -> None:
        """Drop the database's history of anonymous counters, or try again soon if busy."""
        try:
            if store.forget_anonymous_history(self.db):
                self.deadlines.cancel(FORGET_HISTORY_JOB_ID)  # whatever was still to do is done
                return
            self.deadlines.schedule(
                FORGET_HISTORY_JOB_ID,
                forget_anonymous_history_job,
                self.clock.now() + FORGET_HISTORY_RETRY,
            )
        except Exception:
            logger.exception("could not drop the history of anonymous ballots; the next start will")

    def close_newest(
        self, *, channel_id: str, user_id: str, delivery_key: str | None
    ) -> ClosedNow | Refusal | Duplicate:
        """`/poll close`: close the channel's newest open poll now (facilitators only)."""
        session = self.may_control(channel_id=channel_id, user_id=user_id)
        if isinstance(session, Refusal):
            return session
        now = self.clock.now()
        try:
            with self.db.transaction() as db:
                poll = store.newest_open_poll(db, channel_id=channel_id)
                if poll is None:
                    return Refusal(NOTHING_OPEN)
                assert poll.id is not None
                repo.record_delivery(db, key=delivery_key, now=now)
                overdue = now >= poll.closes_at
                store.close_poll(
                    db,
                    poll_id=poll.id,
                    now=poll.closes_at if overdue else now,
                    reason=store.CLOSED_BY_DEADLINE if overdue else store.CLOSED_BY_COMMAND,
                    closed_by=None if overdue else user_id,
                )
        except repo.DuplicateDelivery:
            return Duplicate()
        self._after_close(poll)
        return ClosedNow(poll.id)

    def close_at_deadline(self, poll_id: int) -> None:
        """Close a poll whose deadline has passed (the job), and announce it once."""
        with self.db.read() as db:
            poll = store.get_poll(db, poll_id=poll_id)
        if poll is None or poll.closed_at is not None:
            return
        if self.clock.now() < poll.closes_at:
            # Fired early by another clock's reckoning: the stored deadline decides.
            self.deadlines.schedule(
                close_job_id(poll_id), close_poll_at_deadline, poll.closes_at, poll_id
            )
            return
        if self._close(poll, reason=store.CLOSED_BY_DEADLINE, closed_by=None, at=poll.closes_at):
            self.announce(poll_id)

    def close_for_session(self, session: ListeningSession) -> None:
        """Session-end hook: close the session's open polls and announce them."""
        with self.db.read() as db:
            polls = store.open_polls(db, session_id=session.id)
        at = session.ended_at or self.clock.now()
        for poll in polls:
            assert poll.id is not None
            closed_at = min(at, poll.closes_at)
            reason = (
                store.CLOSED_BY_DEADLINE if at >= poll.closes_at else store.CLOSED_BY_SESSION_END
            )
            if self._close(poll, reason=reason, closed_by=session.ended_by, at=closed_at):
                self.announce(poll.id)

    def close_overdue(self) -> list[int]:
        """Close and announce every poll past its deadline or in an ended session.

        Also announces polls that were closed but whose results never got posted (the bot
        stopped in between). Returns the ids of the polls this call closed.
        """
        now = self.clock.now()
        with self.db.read() as db:
            overdue = store.overdue_polls(db, now=now)
        closed: list[int] = []
        for poll, reason in overdue:
            assert poll.id is not None
            at = poll.closes_at if reason == store.CLOSED_BY_DEADLINE else now
            if self._close(poll, reason=reason, closed_by=None, at=at):
                closed.append(poll.id)
                self.announce(poll.id)
        with self.db.read() as db:
            unannounced = [poll.id for poll in store.unannounced_polls(db)]
        for poll_id in unannounced:
            if poll_id is not None:
                self.announce(poll_id)
        return closed

    def recover(self) -> None:
        """At start: close what became overdue while down; keep every other deadline."""
        self.close_overdue()
        # The bot may have stopped between closing an anonymous poll and tidying up after it.
        self.forget_anonymous_history()
        with self.db.read() as db:
            still_open = store.open_polls(db)
        for poll in still_open:
            assert poll.id is not None
            self.deadlines.schedule(
                close_job_id(poll.id), close_poll_at_deadline, poll.closes_at, poll.id
            )
            # Votes committed just before a stop may never have reached the message.
            self.live.mark(poll.id)

    # -- showing ---------------------------------------------------------------

    def announce(self, poll_id: int, *, attempt: int = 0) -> bool:
        """Show a closed poll's final results, exactly once; on failure, try again later.

        Args:
            poll_id: the closed poll.
            attempt: how many times this has failed before (the retry job counts).

        Returns:
            Whether this call posted them.
        """
        publisher = self.publisher
        if publisher is None:
            logger.warning("poll %s closed but nothing can show it yet", poll_id)
            return False
        with self._locks.of(poll_id):
            state = self.state(poll_id)
            if state is None or not state.closed or state.poll.announced_at is not None:
                return False
            self.live.forget(poll_id)
            try:
                publisher.show_final(state)
            except Exception:
                self._announce_later(poll_id, attempt)
                return False
            with self.db.transaction() as db:
                store.mark_announced(db, poll_id=poll_id, now=self.clock.now())
        self.deadlines.cancel(announce_job_id(poll_id))
        return True

    def _announce_later(self, poll_id: int, attempt: int) -> None:
        """Schedule the next try of a failed announcement; after the last, the next start."""
        if attempt >= len(ANNOUNCE_RETRY_DELAYS):
            logger.exception(
                "could not announce the results of poll %s after %s tries; the next start "
                "tries again",
                poll_id,
                attempt + 1,
            )
            return
        delay = ANNOUNCE_RETRY_DELAYS[attempt]
        logger.exception(
            "could not announce the results of poll %s; trying again in %s", poll_id, delay
        )
        self.deadlines.schedule(
            announce_job_id(poll_id),
            announce_poll_again,
            self.clock.now() + delay,
            poll_id,
            attempt + 1,
        )

    def _show_live(self, poll_id: int) -> bool:
        """Coalescer flush: put the current tally on the poll's message.

        Returns:
            Whether an update was sent to Slack.
        """
        publisher = self.publisher
        if publisher is None:
            return False
        with self._locks.of(poll_id):
            state = self.state(poll_id)
            if state is None or state.closed:
                return False
            if not state.poll.message_ts:
                # A vote came before the poll's message was known: show it on the next round.
                self.live.mark(poll_id)
                return False
            publisher.show_live(state)
            return True
