"""`/poll` requests: the command's spec, its parsing and the form's validation, one set of rules.

Both ways of launching a poll (the command's text, the form's fields) end in a `PollRequest`, or
in what is wrong with them: a `UsageError` for the command, a `FormProblem` for the form.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from bot.parsing import (
    CommandSpec,
    FlagSpec,
    Parsed,
    UsageError,
    format_duration,
    parse,
    parse_duration,
)
from storage.polls import KEY_MAX, MAX_OPTIONS, OPTION_MAX, QUESTION_MAX

MIN_OPTIONS = 2
DEFAULT_DURATION = timedelta(minutes=2)
MIN_DURATION = timedelta(seconds=10)
MAX_DURATION = timedelta(hours=24)
DERIVED_KEY_MAX = 60

POLL_USAGE = (
    '/poll "<question>" "<option>" "<option>" … [--time 2m] [--multi] [--anonymous] '
    "[--hide-results] [--key <id>] [--zoom | --slack-only]"
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
        FlagSpec("zoom", "bool"),
        FlagSpec("slack-only", "bool"),
    ),
    positional_names=("question", "option"),
    min_positionals=1 + MIN_OPTIONS,
    max_positionals=None,
    positional_max_length=QUESTION_MAX,
)
CLOSE_SPEC = CommandSpec(name="/poll close", usage="/poll close", example="/poll close")


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
    # Also in the session's Zoom meeting: True (`--zoom`), False (`--slack-only`), or None: as
    # the setting ZOOM_POLLS_DEFAULT says for a session bound to a Zoom meeting.
    zoom: bool | None = None


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
    zoom, slack_only = parsed.bool_flag("zoom"), parsed.bool_flag("slack-only")
    if zoom and slack_only:
        return fail("Use --zoom or --slack-only, not both.")
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
        zoom=True if zoom else False if slack_only else None,
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
