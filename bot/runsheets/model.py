"""A run sheet: a session's agenda as validated pydantic models, with the bot's own rules.

Every limit a step is held to is the one the bot holds the same command to (polls from
`bot.polls.requests`, rounds from `bot.rooms.requests` and `bot.assignment`), so a sheet that
passes `runsheet check` cannot fail later when `/next` runs it. The models are strict: `yes`
is not a boolean and `5` is not a duration.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    PlainSerializer,
    PlainValidator,
    Tag,
    ValidationInfo,
    field_validator,
    model_validator,
)

from bot.assignment import parse_mode
from bot.parsing import format_duration, parse_duration
from bot.polls.requests import (
    DEFAULT_DURATION,
    MAX_DURATION,
    MIN_DURATION,
    PollRequest,
    check_options,
    check_question,
    clean_option,
    normalise_key,
)
from bot.rooms.requests import (
    DEFAULT_TIME,
    MAX_TIME,
    MIN_TIME,
    PROMPT_MAX,
    ROOMS_MAX,
    SEED_MAX,
    SIZE_MAX,
    BreakoutRequest,
)
from storage.models import ATTRIBUTE_MAX, TITLE_MAX
from storage.runsheets import NAME_MAX

StepKind = Literal["talk", "poll", "breakout", "note"]
KINDS: tuple[StepKind, ...] = ("talk", "poll", "breakout", "note")
STEPS_MIN, STEPS_MAX = 1, 100
# A talk's duration is only shown on the agenda; no command bounds it, so these are ours.
TALK_MIN, TALK_MAX = timedelta(seconds=10), timedelta(hours=3)
NOTE_MAX = 1000
SUMMARY_TEXT_MAX = 100
ELLIPSIS = "…"
# Set by the loader so each repeated poll key is reported at its own line (see PollStep.key).
SEEN_KEYS = "seen_poll_keys"


def _duration_reader(what: str, low: timedelta, high: timedelta) -> Callable[[Any], timedelta]:
    """A validator for a duration written as text (2m, 1m30s, 90s), within low..high."""
    allowed = f"{what} between {format_duration(low)} and {format_duration(high)}"

    def read(value: Any) -> timedelta:
        if isinstance(value, timedelta):
            duration = value
        elif isinstance(value, bool) or not isinstance(value, int | str):
            raise ValueError(f"write a duration like 2m, 90s or 1m30s ({allowed})")
        elif isinstance(value, int):
            raise ValueError(
                f"{value} alone is not a duration: write {value}m for minutes or {value}s for "
                f"seconds ({allowed})"
            )
        elif value.strip().startswith("-"):
            raise ValueError(f"a duration cannot be negative ({allowed})")
        else:
            parsed = parse_duration(value)
            if parsed is None:
                raise ValueError(
                    f"“{value.strip()[:40]}” is not a duration: write it like 2m, 90s or 1m30s "
                    f"({allowed})"
                )
            duration = parsed
        if not low <= duration <= high:
            raise ValueError(f"{allowed}; this is {format_duration(duration)}")
        return duration

    return read


# Stored as the text people write ("2m"), so the JSON reads back through the same rules.
_AS_TEXT = PlainSerializer(format_duration, return_type=str, when_used="json")
PollDuration = Annotated[
    timedelta, PlainValidator(_duration_reader("a poll runs", MIN_DURATION, MAX_DURATION)), _AS_TEXT
]
RoundDuration = Annotated[
    timedelta,
    PlainValidator(_duration_reader("a breakout round runs", MIN_TIME, MAX_TIME)),
    _AS_TEXT,
]
TalkDuration = Annotated[
    timedelta, PlainValidator(_duration_reader("a talk lasts", TALK_MIN, TALK_MAX)), _AS_TEXT
]


def _text(value: str, *, what: str, limit: int) -> str:
    """`value` stripped, or ValueError when it is empty or longer than `limit`."""
    stripped = value.strip()
    if not stripped:
        raise ValueError(f"{what} is empty")
    if len(stripped) > limit:
        raise ValueError(f"{what} is {len(stripped):,} characters long; the limit is {limit:,}")
    return stripped


def _sentence(message: str) -> str:
    """A message of the bot's ("A poll needs …") as the tail of one of our lines."""
    message = message.rstrip(".")
    first = message.split(" ", 1)[0]
    return message if len(first) > 1 and first.isupper() else message[:1].lower() + message[1:]


def _clip(text: str, limit: int = SUMMARY_TEXT_MAX) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + ELLIPSIS


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class TalkStep(_Model):
    """A talk: announced by `/next`, nothing to run."""

    kind: ClassVar[StepKind] = "talk"
    talk: str
    speaker: str | None = None
    duration: TalkDuration | None = None

    @field_validator("talk")
    @classmethod
    def _check_title(cls, value: str) -> str:
        return _text(value, what="the talk's title", limit=TITLE_MAX)

    @field_validator("speaker")
    @classmethod
    def _check_speaker(cls, value: str | None) -> str | None:
        return None if value is None else _text(value, what="the speaker", limit=ATTRIBUTE_MAX)

    @property
    def title(self) -> str:
        """The talk's title."""
        return self.talk

    def summary(self) -> str:
        """One line for agendas."""
        extras = [format_duration(self.duration)] if self.duration else []
        speaker = f" — {_clip(self.speaker)}" if self.speaker else ""
        return f"Talk: {_clip(self.talk)}{speaker}" + (f" ({', '.join(extras)})" if extras else "")


class PollStep(_Model):
    """A poll, launched by `/next` exactly as `/poll` would launch it."""

    kind: ClassVar[StepKind] = "poll"
    poll: str
    key: str
    options: list[str]
    duration: PollDuration = DEFAULT_DURATION
    multi: bool = False
    anonymous: bool = False
    hide_results: bool = False

    @field_validator("poll")
    @classmethod
    def _check_question(cls, value: str) -> str:
        if problem := check_question(value):
            raise ValueError(_sentence(problem))
        return value.strip()

    @field_validator("options")
    @classmethod
    def _check_options(cls, value: list[str]) -> list[str]:
        options = [clean_option(option) for option in value]
        if problem := check_options(options):
            raise ValueError(_sentence(problem))
        return options

    @field_validator("key")
    @classmethod
    def _check_key(cls, value: str, info: ValidationInfo) -> str:
        key = normalise_key(value)
        if key is None:
            raise ValueError("a key needs letters or digits, like key: union-roots")
        # The loader passes a dict to fill, so a repeated key is reported at its own line even
        # when other steps have errors; RunSheet checks again for sheets built in code.
        seen = info.context.get(SEEN_KEYS) if isinstance(info.context, dict) else None
        if seen is not None:
            if key in seen:
                raise ValueError(
                    f"the key “{key}” is already used by the poll “{_clip(seen[key], 60)}”; "
                    "each poll in a run sheet needs its own key"
                )
            seen[key] = str(info.data.get("poll", ""))
        return key

    @property
    def question(self) -> str:
        """The poll's question."""
        return self.poll

    def poll_request(self) -> PollRequest:
        """The poll as `/poll` would launch it."""
        return PollRequest(
            question=self.poll,
            options=tuple(self.options),
            duration=self.duration,
            multi=self.multi,
            anonymous=self.anonymous,
            hide_results=self.hide_results,
            key=self.key,
        )

    def summary(self) -> str:
        """One line for agendas."""
        shown = " / ".join(self.options)
        details = [shown if len(shown) <= SUMMARY_TEXT_MAX else f"{len(self.options)} options"]
        details.append(format_duration(self.duration))
        details += [
            label
            for on, label in (
                (self.multi, "several answers"),
                (self.anonymous, "anonymous"),
                (self.hide_results, "results hidden"),
            )
            if on
        ]
        return f"Poll: {_clip(self.poll)} ({', '.join(details)})"


class BreakoutStep(_Model):
    """A breakout round, opened by `/next` exactly as `/breakout` would open it."""

    kind: ClassVar[StepKind] = "breakout"
    breakout: str
    rooms: int | None = None
    size: int | None = None
    mode: str = "random"
    duration: RoundDuration = DEFAULT_TIME
    seed: int | None = None  # as /breakout --seed: the same rooms for the same people

    @field_validator("breakout")
    @classmethod
    def _check_prompt(cls, value: str) -> str:
        return _text(value, what="the prompt", limit=PROMPT_MAX)

    @field_validator("rooms")
    @classmethod
    def _check_rooms(cls, value: int | None) -> int | None:
        if value is not None and not 1 <= value <= ROOMS_MAX:
            raise ValueError(f"between 1 and {ROOMS_MAX} rooms; this is {value:,}")
        return value

    @field_validator("size")
    @classmethod
    def _check_size(cls, value: int | None) -> int | None:
        if value is not None and not 2 <= value <= SIZE_MAX:
            raise ValueError(f"between 2 and {SIZE_MAX:,} people per room; this is {value:,}")
        return value

    @field_validator("seed")
    @classmethod
    def _check_seed(cls, value: int | None) -> int | None:
        if value is not None and not 0 <= value <= SEED_MAX:
            raise ValueError(f"a seed is a whole number from 0 to {SEED_MAX:,}; this is {value:,}")
        return value

    @field_validator("mode")
    @classmethod
    def _check_mode(cls, value: str) -> str:
        try:
            return parse_mode(value).label
        except ValueError as error:  # the message /breakout gives
            raise ValueError(_sentence(str(error))) from None

    @model_validator(mode="after")
    def _rooms_or_size(self) -> BreakoutStep:
        if (self.rooms is None) == (self.size is None):
            raise ValueError(
                "give exactly one of rooms: (how many rooms) or size: (people per room)"
            )
        return self

    @property
    def prompt(self) -> str:
        """The question the rooms discuss."""
        return self.breakout

    def breakout_request(self) -> BreakoutRequest:
        """The round as `/breakout` would open it (a fresh seed each time, unless it has one)."""
        return BreakoutRequest(
            rooms=self.rooms,
            size=self.size,
            duration=self.duration,
            mode=parse_mode(self.mode),
            prompt=self.breakout,
            seed=self.seed,
        )

    def summary(self) -> str:
        """One line for agendas."""
        split = f"{self.rooms} rooms" if self.rooms is not None else f"{self.size} per room"
        details = ", ".join((split, self.mode, format_duration(self.duration)))
        return f"Breakout: {_clip(self.breakout)} ({details})"


class NoteStep(_Model):
    """A note for facilitators (a reminder, a cue): shown, nothing posted to the channel."""

    kind: ClassVar[StepKind] = "note"
    note: str

    @field_validator("note")
    @classmethod
    def _check_note(cls, value: str) -> str:
        return _text(value, what="the note", limit=NOTE_MAX)

    @property
    def text(self) -> str:
        """The note's text."""
        return self.note

    def summary(self) -> str:
        """One line for agendas."""
        return f"Note: {_clip(' '.join(self.note.split()))}"


STEP_MODELS: dict[str, type[BaseModel]] = {
    "talk": TalkStep,
    "poll": PollStep,
    "breakout": BreakoutStep,
    "note": NoteStep,
}
STEP_KIND_ERROR = "step_kind"


def step_kind(value: Any) -> str | None:
    """Which kind a step is: the one kind key it has (None: none, several, or not a mapping)."""
    if isinstance(value, dict):
        present = [kind for kind in KINDS if kind in value]
        return present[0] if len(present) == 1 else None
    kind = getattr(value, "kind", None)
    return kind if kind in KINDS else None


Step = Annotated[
    Annotated[TalkStep, Tag("talk")]
    | Annotated[PollStep, Tag("poll")]
    | Annotated[BreakoutStep, Tag("breakout")]
    | Annotated[NoteStep, Tag("note")],
    Discriminator(
        step_kind,
        custom_error_type=STEP_KIND_ERROR,
        custom_error_message="a step needs exactly one of talk, poll, breakout, note",
    ),
]


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


class RunSheet(_Model):
    """A named agenda: its steps in the order `/next` runs them."""

    name: str
    title: str | None = None
    steps: list[Step]

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        stripped = value.strip()
        words = stripped.split("-")
        if not stripped or not all(word.isascii() and word.isalnum() for word in words):
            raise ValueError(
                f"“{_clip(stripped, 40)}” is not a run sheet name: use lower-case letters, "
                "digits and dashes, like labour-listening-tour"
            )
        if stripped != stripped.lower():
            raise ValueError(f"use lower-case letters, like {stripped.lower()}")
        if len(stripped) > NAME_MAX:
            raise ValueError(f"a name is at most {NAME_MAX} characters; this is {len(stripped)}")
        return stripped

    @field_validator("title")
    @classmethod
    def _check_title(cls, value: str | None) -> str | None:
        return None if value is None else _text(value, what="the title", limit=TITLE_MAX)

    @field_validator("steps", mode="before")
    @classmethod
    def _check_step_count(cls, value: Any) -> Any:
        if isinstance(value, list) and not STEPS_MIN <= len(value) <= STEPS_MAX:
            raise ValueError(
                f"a run sheet has {STEPS_MIN} to {STEPS_MAX} steps; this one has {len(value)}"
            )
        return value

    @model_validator(mode="after")
    def _keys_are_unique(self) -> RunSheet:
        seen: dict[str, int] = {}
        for number, step in enumerate(self.steps, start=1):
            if isinstance(step, PollStep):
                if step.key in seen:
                    raise ValueError(
                        f"steps {seen[step.key]} and {number} both use the poll key "
                        f"“{step.key}”; each poll in a run sheet needs its own key"
                    )
                seen[step.key] = number
        return self

    def outline(self) -> str:
        """How many steps of each kind: "9 steps (3 talks, 4 polls, 2 breakout rounds)"."""
        nouns: dict[str, str] = {
            "talk": "talk",
            "poll": "poll",
            "breakout": "breakout round",
            "note": "note",
        }
        counts = [
            _plural(sum(step.kind == kind for step in self.steps), nouns[kind])
            for kind in KINDS
            if any(step.kind == kind for step in self.steps)
        ]
        return f"{_plural(len(self.steps), 'step')} ({', '.join(counts)})"
