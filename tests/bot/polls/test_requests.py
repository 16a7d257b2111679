"""Poll requests without Slack: parsing `/poll`, keys, the form's rules."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.parsing import UsageError
from bot.polls.requests import (
    DEFAULT_DURATION,
    FORM_DURATION,
    FORM_KEY,
    FORM_OPTIONS,
    FORM_QUESTION,
    FormProblem,
    PollRequest,
    check_duration,
    derive_key,
    normalise_key,
    parse_poll_text,
    read_form,
    slug,
)

# Text a facilitator could type inside quotes: anything but quotes, backslashes and escapes
# Slack would have applied.
quotable = st.text(
    alphabet=st.characters(blacklist_characters='"“”„＂\\&<>', blacklist_categories=["Cs"]),
    min_size=1,
    max_size=60,
).filter(lambda s: s.strip() and " ".join(s.split()))


def _quoted(text: str) -> str:
    return f'"{text}"'


def test_a_full_command_becomes_a_request() -> None:
    request = parse_poll_text(
        '“Should we back the strike?” "Yes" "No" "Not sure" --time 1m30s --multi '
        "--anonymous --hide-results --key Strike_Support"
    )
    assert request == PollRequest(
        question="Should we back the strike?",
        options=("Yes", "No", "Not sure"),
        duration=timedelta(seconds=90),
        multi=True,
        anonymous=True,
        hide_results=True,
        key="strike-support",
    )


def test_defaults() -> None:
    request = parse_poll_text('"Lunch?" "Pizza" "Salad"')
    assert isinstance(request, PollRequest)
    assert request.duration == DEFAULT_DURATION == timedelta(minutes=2)
    assert (request.multi, request.anonymous, request.hide_results) == (False, False, False)
    assert request.key == "lunch"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Missing the question and at least 2 options."),
        ('"Lunch?"', "Missing at least 2 options."),
        ('"Lunch?" "Pizza"', "Missing 1 more option."),
        ('"Lunch?" "a" "A"', "The option “A” is given twice"),
        ('"Lunch?" "a  b" "a b"', "The option “a b” is given twice"),
        ('"Lunch?" "a" ""', "The option is empty."),
        ('"Lunch?" "a" "b" --time 9s', "between 10s and 24h; got 9s"),
        ('"Lunch?" "a" "b" --time 24h1s', "between 10s and 24h; got 24h1s"),
        ('"Lunch?" "a" "b" --multi --multi', "given twice"),
        ('"Lunch?" "a" "b" --key ***', "--key needs letters or digits"),
        ('"Lunch?" "a" "b" --key ' + "k" * 65, "The --key value is 65 characters long"),
    ],
)
def test_bad_commands_say_what_is_wrong(text: str, message: str) -> None:
    error = parse_poll_text(text)
    assert isinstance(error, UsageError)
    assert message in error.message
    assert error.usage.startswith("/poll ")
    assert error.example.startswith("/poll ")


def test_the_limits_are_inclusive() -> None:
    twenty = " ".join(_quoted(f"o{n}") for n in range(20))
    assert isinstance(parse_poll_text(f'"{"q" * 3000}" {twenty} --time 10s'), PollRequest)
    assert isinstance(parse_poll_text(f'"q" "{"o" * 300}" "b" --time 24h'), PollRequest)
    assert isinstance(parse_poll_text(f'"q" "{"o" * 301}" "b"'), UsageError)
    assert isinstance(parse_poll_text(f'"q" {twenty} "o21"'), UsageError)


def test_option_whitespace_is_collapsed_but_the_question_keeps_its_lines() -> None:
    request = parse_poll_text('"Line one\nline two" " Pizza\n with  olives " "Salad"')
    assert isinstance(request, PollRequest)
    assert request.question == "Line one\nline two"
    assert request.options == ("Pizza with olives", "Salad")


@given(
    question=quotable,
    options=st.lists(
        quotable, min_size=2, max_size=20, unique_by=lambda s: " ".join(s.split()).casefold()
    ),
    multi=st.booleans(),
)
def test_any_quoted_question_and_options_round_trip(
    question: str, options: list[str], multi: bool
) -> None:
    text = " ".join(_quoted(part) for part in (question, *options))
    request = parse_poll_text(text + (" --multi" if multi else ""))
    assert isinstance(request, PollRequest), request
    assert request.question == question.strip()
    assert request.options == tuple(" ".join(o.split()) for o in options)
    assert request.multi is multi
    assert request.key == derive_key(question.strip())


@given(st.text(max_size=200))
def test_derived_keys_are_stable_slugs(question: str) -> None:
    key = derive_key(question)
    assert key == derive_key(question)
    assert 0 < len(key) <= 64
    assert key == slug(key)  # already normalised: lower-case letters, digits, single dashes
    assert normalise_key(key) == key


def test_derived_keys_ignore_case_punctuation_and_accents() -> None:
    assert derive_key("Should we back the strike?") == derive_key("  should WE back — the strike")
    assert derive_key("Café politique") == "cafe-politique"
    assert derive_key("🎉🎉") == derive_key("🎉🎉") != derive_key("🎈")
    assert derive_key("🎉🎉").startswith("poll-")
    long = derive_key("word " * 40)
    assert len(long) <= 60
    assert not long.endswith("-")
    assert long.endswith("word")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", DEFAULT_DURATION),
        ("45s", timedelta(seconds=45)),
        (" 1h30m ", timedelta(minutes=90)),
        ("0s", "between 10s and 24h; got 0s"),
        ("3d", "“3d” is not a duration"),
        ("banana", "“banana” is not a duration"),
    ],
)
def test_form_durations(text: str, expected: timedelta | str) -> None:
    result = check_duration(text)
    if isinstance(expected, timedelta):
        assert result == expected
    else:
        assert isinstance(result, str)
        assert expected in result


def test_the_form_uses_the_same_rules() -> None:
    def form(**changes: object) -> PollRequest | FormProblem:
        values: dict[str, object] = {
            "question": "Lunch?",
            "options_text": "Pizza\n\nSalad\n",
            "duration_text": "2m",
            "multi": False,
            "anonymous": True,
            "hide_results": False,
            "key_text": None,
        }
        values.update(changes)
        return read_form(**values)  # type: ignore[arg-type]

    assert form() == PollRequest(
        "Lunch?", ("Pizza", "Salad"), timedelta(minutes=2), False, True, False, "lunch"
    )
    assert form(key_text="Lunch 2").key == "lunch-2"  # type: ignore[union-attr]
    assert form(question=None) == FormProblem(FORM_QUESTION, "The question is empty.")
    assert form(options_text="Pizza\npizza").field == FORM_OPTIONS  # type: ignore[union-attr]
    assert form(options_text="\n".join(str(n) for n in range(21))).field == FORM_OPTIONS  # type: ignore[union-attr]
    assert form(duration_text="1 fortnight").field == FORM_DURATION  # type: ignore[union-attr]
    assert form(key_text="***").field == FORM_KEY  # type: ignore[union-attr]
    assert form(question="q" * 3001).field == FORM_QUESTION  # type: ignore[union-attr]


def test_zoom_and_slack_only_say_where_the_poll_goes() -> None:
    poll = '"Back the strike?" "Yes" "No"'
    assert isinstance(default := parse_poll_text(poll), PollRequest)
    assert default.zoom is None
    assert isinstance(zoom := parse_poll_text(poll + " --zoom"), PollRequest)
    assert zoom.zoom is True
    slack = parse_poll_text(poll + " --slack-only")
    assert isinstance(slack, PollRequest)
    assert slack.zoom is False
    both = parse_poll_text(poll + " --zoom --slack-only")
    assert isinstance(both, UsageError)
    assert both.message == "Use --zoom or --slack-only, not both."
    assert "[--zoom | --slack-only]" in both.usage
