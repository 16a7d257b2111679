"""Tests for the generic slash-command parser in bot.parsing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.parsing import (
    CommandSpec,
    FlagSpec,
    Parsed,
    Token,
    UsageError,
    escape_mrkdwn,
    format_duration,
    parse,
    parse_duration,
    split_subcommand,
    tokenize,
    unescape_slack,
)

START = CommandSpec(
    name="/session start",
    usage='/session start "<title>" [--area "<place>"] [--time <duration>]',
    example='/session start "Durham listening session" --area Durham',
    flags=(
        FlagSpec("area", "str", metavar='"<place>"', max_length=100),
        FlagSpec(
            "time", "duration", min_value=timedelta(seconds=10), max_value=timedelta(hours=24)
        ),
        FlagSpec("per-room", "int", metavar="<people per room>", min_value=2, max_value=20),
        FlagSpec("anonymous", "bool"),
        FlagSpec("mode", "choice", choices=("random", "mix:", "group:")),
        FlagSpec("count", "int"),
        FlagSpec("wait", "duration"),
    ),
    positional_names=("title",),
    min_positionals=1,
    max_positionals=1,
    positional_max_length=200,
)

POLL = CommandSpec(
    name="/poll",
    usage='/poll "<question>" "<option>" "<option>" ... [--time <duration>]',
    example='/poll "Where next?" "Durham" "Raleigh" --time 2m',
    flags=(FlagSpec("time", "duration", max_value=timedelta(hours=1)),),
    positional_names=("question", "option"),
    min_positionals=3,
    max_positionals=None,
    positional_max_length=150,
)

STOP = CommandSpec(
    name="/session stop",
    usage="/session stop [--force]",
    example="/session stop --force",
    flags=(FlagSpec("force", "bool"),),
)

BARE = CommandSpec(name="/ping", usage="/ping", example="/ping")


def ok(spec: CommandSpec, text: str) -> Parsed:
    """Parse text and insist that it succeeded."""
    result = parse(spec, text)
    assert isinstance(result, Parsed), result
    return result


def err(spec: CommandSpec, text: str) -> str:
    """Parse text and insist that it failed; return the message."""
    result = parse(spec, text)
    assert isinstance(result, UsageError), result
    assert result.usage == spec.usage
    assert result.example == spec.example
    return result.message


# --- Slack escaping -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a &amp; b", "a & b"),
        ("&lt;!channel&gt;", "<!channel>"),
        # A user who literally typed "&lt;" arrives as "&amp;lt;" and must get "&lt;" back.
        ("&amp;lt;", "&lt;"),
        ("&amp;amp;", "&amp;"),
        ("&quot; stays", "&quot; stays"),
        ("no entities", "no entities"),
    ],
)
def test_unescape_slack(raw: str, expected: str) -> None:
    assert unescape_slack(raw) == expected


def test_escape_mrkdwn() -> None:
    assert escape_mrkdwn("<!here> & <@U1>") == "&lt;!here&gt; &amp; &lt;@U1&gt;"
    assert escape_mrkdwn("plain") == "plain"


@given(st.text())
def test_escape_then_unescape_round_trips(text: str) -> None:
    assert unescape_slack(escape_mrkdwn(text)) == text


# --- tokenize ---------------------------------------------------------------------------------


def values(text: str) -> list[tuple[str, bool]]:
    """Tokenize and return (value, quoted) pairs, insisting on success."""
    tokens = tokenize(text)
    assert isinstance(tokens, list), tokens
    return [(t.value, t.quoted) for t in tokens]


def test_tokenize_basic_words_and_quotes() -> None:
    assert values('start "Durham session" --area Durham') == [
        ("start", False),
        ("Durham session", True),
        ("--area", False),
        ("Durham", False),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "“Durham session”",  # macOS / Slack smart quotes
        "„Durham session“",  # German low-high quotes
        "„Durham session”",
        '“Durham session"',  # mixed: curly open, straight close
        '"Durham session”',
        "＂Durham session＂",  # full-width
    ],
)
def test_tokenize_accepts_smart_and_mixed_quotes(text: str) -> None:
    assert values(text) == [("Durham session", True)]


def test_tokenize_backslash_escaped_quote_is_literal() -> None:
    assert values(r'"She said \"hi\" twice"') == [('She said "hi" twice', True)]
    assert values(r"“a \” b”") == [("a ” b", True)]


def test_tokenize_apostrophes_are_ordinary() -> None:
    assert values("don't stop ‘me’ now’s") == [
        ("don't", False),
        ("stop", False),
        ("‘me’", False),
        ("now’s", False),
    ]
    assert values('"don\'t"') == [("don't", True)]


def test_tokenize_all_kinds_of_whitespace() -> None:
    text = "a\tb\nc\u00a0d\u2003e\u3000f\u200bg  \r\n h"
    assert [v for v, _ in values(text)] == ["a", "b", "c", "d", "e", "f", "g", "h"]


def test_tokenize_keeps_whitespace_inside_quotes() -> None:
    assert values('"line one\nline\ttwo"') == [("line one\nline\ttwo", True)]


def test_tokenize_empty_and_blank() -> None:
    assert values("") == []
    assert values(" \n\t ") == []
    assert values('""') == [("", True)]


def test_tokenize_unescapes_slack_entities_once() -> None:
    assert values("&lt;!channel&gt; &amp;lt;") == [("<!channel>", False), ("&lt;", False)]


def test_tokenize_inline_quoted_flag_value() -> None:
    assert values('--area="Durham city" x') == [("--area=Durham city", False), ("x", False)]
    assert values("—area=“Durham city”") == [("—area=Durham city", False)]


def test_tokenize_quote_inside_bare_word_is_literal() -> None:
    assert values('5" O"Brien') == [('5"', False), ('O"Brien', False)]


def test_tokenize_closing_quote_ends_token() -> None:
    assert values('"a"b') == [("a", True), ("b", False)]


@pytest.mark.parametrize("text", ['"unclosed', 'ok "unclosed', "“half", '"a\\"', '--area="x'])
def test_tokenize_unbalanced_quotes(text: str) -> None:
    result = tokenize(text, usage="u", example="e")
    assert isinstance(result, UsageError)
    assert result.message.startswith("Unbalanced quotes")
    assert "no closing quote" in result.message
    assert (result.usage, result.example) == ("u", "e")


def test_tokenize_unbalanced_message_shortens_long_text() -> None:
    result = tokenize('"' + "word " * 100)
    assert isinstance(result, UsageError)
    quoted = result.message.split("“", 1)[1].split("”", 1)[0]
    assert quoted.endswith("…")
    assert len(quoted) <= 40


quoted_text = st.text(max_size=30)


@given(st.lists(quoted_text, max_size=8))
def test_tokenize_round_trips_quoted_tokens(items: list[str]) -> None:
    def quote(s: str) -> str:
        # Escape every quote character the tokenizer treats as a quote; escape "&" for Slack.
        for q in '"“”„＂':
            s = s.replace(q, "\\" + q)
        return '"' + escape_mrkdwn(s) + '"'

    # A trailing backslash would escape our closing quote; that is the documented syntax.
    items = [s for s in items if not s.endswith("\\")]
    result = tokenize(" ".join(quote(s) for s in items))
    assert result == [Token(s, True) for s in items]


# --- split_subcommand -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('start "x" --area y', ("start", '"x" --area y')),
        ('  START   "x"  ', ("start", '"x"')),
        ("stop", ("stop", "")),
        ('"quoted" first', ("", '"quoted" first')),
        ("“curly” first", ("", "“curly” first")),
        ("", ("", "")),
        ("   ", ("", "")),
        ("--force", ("", "--force")),
        ("—force now", ("", "—force now")),
        ("report\nline two", ("report", "line two")),
        ('start"x"', ("start", '"x"')),
        # The rest stays raw (still Slack-escaped) because parse() unescapes it.
        ("start &lt;b&gt;", ("start", "&lt;b&gt;")),
    ],
)
def test_split_subcommand(text: str, expected: tuple[str, str]) -> None:
    assert split_subcommand(text) == expected


def test_split_subcommand_then_parse() -> None:
    sub, rest = split_subcommand('Start "Durham listening session" --area Durham')
    assert sub == "start"
    assert ok(START, rest) == Parsed(("Durham listening session",), {"area": "Durham"})


# --- flags ------------------------------------------------------------------------------------


def test_parse_full_command() -> None:
    parsed = ok(
        START,
        '"Durham listening session" --area "North Durham" --time 1h30m --per-room 4 '
        "--anonymous --mode random",
    )
    assert parsed.positionals == ("Durham listening session",)
    assert parsed.flags == {
        "area": "North Durham",
        "time": timedelta(hours=1, minutes=30),
        "per-room": 4,
        "anonymous": True,
        "mode": "random",
    }
    assert parsed.str_flag("area") == "North Durham"
    assert parsed.duration_flag("time") == timedelta(minutes=90)
    assert parsed.int_flag("per-room") == 4
    assert parsed.bool_flag("anonymous") is True
    assert parsed.str_flag("mode") == "random"


def test_only_given_flags_are_present() -> None:
    parsed = ok(START, "Title")
    assert parsed.flags == {}
    assert parsed.str_flag("area") is None
    assert parsed.int_flag("per-room") is None
    assert parsed.duration_flag("time") is None
    assert parsed.bool_flag("anonymous") is False


def test_typed_accessors_reject_wrong_kind() -> None:
    parsed = ok(START, "T --anonymous --per-room 3")
    with pytest.raises(TypeError):
        parsed.int_flag("anonymous")
    with pytest.raises(TypeError):
        parsed.str_flag("per-room")
    with pytest.raises(TypeError):
        parsed.bool_flag("per-room")
    with pytest.raises(TypeError):
        parsed.duration_flag("per-room")


@pytest.mark.parametrize(
    "text",
    [
        "T --area Durham",
        "T —area Durham",  # em dash from autocorrect
        "T –area Durham",  # en dash
        "T —-area Durham",
        "T -area Durham",  # single dash slip
        "T --AREA Durham",
        "T --Area=Durham",
        "T —area=Durham",
        'T --area="Durham"',
        "T --area “Durham”",
        "T --area = Durham",
        "T --area =Durham",
        "--area Durham T",  # flags before positionals
    ],
)
def test_flag_spellings(text: str) -> None:
    assert ok(START, text) == Parsed(("T",), {"area": "Durham"})


def test_underscore_flag_name_matches_hyphenated() -> None:
    assert ok(START, "T --per_room 3").flags == {"per-room": 3}


def test_equals_value_can_contain_equals_and_spaces() -> None:
    assert ok(START, 'T --area="a = b"').flags == {"area": "a = b"}
    assert ok(START, "T --area=a=b").flags == {"area": "a=b"}


def test_quoted_flag_lookalike_is_positional() -> None:
    assert ok(START, '"--not a flag"').positionals == ("--not a flag",)
    assert ok(START, "“—area”").positionals == ("—area",)
    assert ok(START, 'T --area "--north"').flags == {"area": "--north"}


def test_dashes_that_are_not_flags() -> None:
    assert ok(POLL, '"Q" -5 -').positionals == ("Q", "-5", "-")


@pytest.mark.parametrize("text", ["T -- x", "T — x", "T –", "T --=x"])
def test_dashes_with_no_name(text: str) -> None:
    assert "no flag name" in err(START, text)


def test_unknown_flag_suggests_close_match() -> None:
    message = err(START, '"T" --tiem 5m')
    assert "“--tiem”" in message
    assert "Did you mean --time?" in message
    assert "--area, --time, --per-room, --anonymous, --mode" in message


def test_unknown_flag_em_dash_is_quoted_as_typed() -> None:
    message = err(START, '"T" —arae x')
    assert "“—arae”" in message
    assert "Did you mean --area?" in message


def test_unknown_flag_without_close_match_lists_flags() -> None:
    message = err(START, '"T" --zzzzzz')
    assert "Did you mean" not in message
    assert "Valid flags: --area" in message


def test_unknown_flag_on_command_without_flags() -> None:
    message = err(BARE, "--loud")
    assert "“--loud”" in message
    assert "takes no flags" in message


def test_flag_given_twice() -> None:
    assert err(START, "T --area a --area b") == "The flag --area was given twice."
    assert "given twice" in err(START, "T --anonymous —anonymous")
    assert "given twice" in err(START, "T --time 1m --TIME=2m")


@pytest.mark.parametrize(
    "text",
    ["T --area", "T --area --anonymous", "T --area —time 1m", "T --area=", 'T --area=""'],
)
def test_missing_flag_value(text: str) -> None:
    assert err(START, text) == 'The flag --area needs a value: --area "<place>".'


def test_missing_value_uses_default_placeholder() -> None:
    assert "--count <number>" in err(START, "T --count")
    assert "--time <duration" in err(START, "T --time")
    assert "--mode <random|mix:…|group:…>" in err(START, "T --mode")
    assert "--per-room <people per room>" in err(START, "T --per-room")


def test_bool_flag_takes_no_value() -> None:
    assert ok(STOP, "--force") == Parsed((), {"force": True})
    assert ok(STOP, "") == Parsed((), {})
    message = err(STOP, "--force=yes")
    assert "takes no value" in message
    assert "“=yes”" in message
    # A following word is not swallowed as the bool's value.
    assert "Unexpected “now”" in err(STOP, "--force now")


# --- values -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "expected"), [("2", 2), ("20", 20), ("007", 7), ("“5”", 5)])
def test_int_values(raw: str, expected: int) -> None:
    assert ok(START, f"T --per-room {raw}").flags == {"per-room": expected}


@pytest.mark.parametrize("raw", ["five", "4.5", "+4", "1e3", "0x10", "4people", "-3"])
def test_int_rejects_non_digits(raw: str) -> None:
    message = err(START, f"T --per-room {raw}")
    assert "whole number" in message
    assert f"“{raw}”" in message


@pytest.mark.parametrize("raw", ["1", "21", "0", "99999999999999999999999"])
def test_int_bounds(raw: str) -> None:
    assert err(START, f"T --per-room {raw}").startswith("--per-room must be between 2 and 20")


def test_int_bounds_message_uses_thousands_separators() -> None:
    spec = CommandSpec("/x", "/x", "/x", flags=(FlagSpec("n", "int", max_value=10_000),))
    assert err(spec, "--n 12345") == "--n must be at most 10,000; got 12,345."
    spec = CommandSpec("/x", "/x", "/x", flags=(FlagSpec("n", "int", min_value=1_000),))
    assert err(spec, "--n 5") == "--n must be at least 1,000; got 5."


def test_huge_int_with_only_a_minimum_is_too_large_not_too_small() -> None:
    spec = CommandSpec("/x", "/x", "/x", flags=(FlagSpec("n", "int", min_value=2),))
    assert err(spec, "--n 99999999999999999999999") == (
        "The --n value “99999999999999999999999” is too large."
    )


def test_huge_duration_with_only_a_minimum_is_too_long() -> None:
    spec = CommandSpec(
        "/x", "/x", "/x", flags=(FlagSpec("t", "duration", min_value=timedelta(seconds=10)),)
    )
    assert "too long" in err(spec, "--t 99999999999999999999h")


def test_unbounded_int_huge_or_enormous_does_not_raise() -> None:
    assert ok(START, "T --count 123456789012345678").flags == {"count": 123456789012345678}
    assert "too large" in err(START, "T --count 1234567890123456789")
    # Longer than Python's int() digit limit (4,300): must not raise ValueError.
    assert "too large" in err(START, "T --count " + "9" * 5000)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("10s", timedelta(seconds=10)),
        ("2m", timedelta(minutes=2)),
        ("1M30S", timedelta(seconds=90)),
        ("24h", timedelta(hours=24)),
    ],
)
def test_duration_values(raw: str, expected: timedelta) -> None:
    assert ok(START, f"T --time {raw}").flags == {"time": expected}


def test_duration_unrecognised() -> None:
    assert (
        err(START, "T --time banana")
        == "Unrecognised duration “banana” for --time: use forms like 45s, 2m, 1m30s or 1h."
    )


def test_duration_bare_number_suggests_units() -> None:
    assert "add a unit, like 90s or 90m" in err(START, "T --time 90")
    # A huge bare number gets the generic hint rather than being echoed twice in full.
    message = err(START, "T --time " + "9" * 5000)
    assert "use forms like 45s" in message
    assert len(message) < 200


@pytest.mark.parametrize("raw", ["5s", "9s", "24h1s", "25h", "0s", "99999999999999999999h"])
def test_duration_bounds(raw: str) -> None:
    assert err(START, f"T --time {raw}").startswith(
        "Duration for --time must be between 10s and 24h"
    )


def test_duration_bound_message_formats_value() -> None:
    assert err(START, "T --time 90000s").endswith("; got 25h.")


def test_unbounded_duration_too_long_does_not_raise() -> None:
    assert "too long" in err(START, "T --wait 99999999999999999999h")
    assert "too long" in err(START, "T --wait " + "9" * 5000 + "h")
    assert ok(START, "T --wait 0s").flags == {"wait": timedelta(0)}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("random", "random"),
        ("RANDOM", "random"),
        ("Random", "random"),
        ("mix:3", "mix:3"),
        ("MIX:Abc", "mix:abc"),
        ("group:Durham", "group:durham"),
        ('"group:North Durham"', "group:north durham"),
    ],
)
def test_choice_values(raw: str, expected: str) -> None:
    assert ok(START, f"T --mode {raw}").flags == {"mode": expected}


@pytest.mark.parametrize("raw", ["mix:", "MIX:", "mix", '"mix:  "'])
def test_prefix_choice_needs_suffix(raw: str) -> None:
    message = err(START, f"T --mode {raw}")
    assert "“mix:”" in message
    assert "needs a value right after the colon" in message


def test_choice_unknown_suggests() -> None:
    message = err(START, "T --mode rnadom")
    assert "Unknown value “rnadom” for --mode" in message
    assert "random, mix:…, group:…" in message
    assert "Did you mean random?" in message
    assert "Did you mean" not in err(START, "T --mode zzzzz")


def test_choice_empty_quoted() -> None:
    assert "--mode value is empty" in err(START, 'T --mode ""')


def test_str_flag_is_stripped_and_must_not_be_empty() -> None:
    assert ok(START, 'T --area "  Durham  "').flags == {"area": "Durham"}
    assert err(START, 'T --area "   "') == "The --area value is empty."


def test_str_flag_max_length() -> None:
    assert ok(START, "T --area " + "a" * 100).flags == {"area": "a" * 100}
    message = err(START, 'T --area "' + "a" * 5000 + '"')
    assert message == "The --area value is 5,000 characters long; the limit is 100."


# --- positionals ------------------------------------------------------------------------------


def test_single_bare_word_title_is_fine() -> None:
    assert ok(START, "Durham").positionals == ("Durham",)


def test_multiple_bare_words_suggest_quotes() -> None:
    message = err(START, "Durham listening session --area Durham")
    assert message == (
        'Unexpected “listening”. Put the title in double quotes: "Durham listening session".'
    )


def test_extra_word_after_bare_flag_value_suggests_quoting_value() -> None:
    message = err(START, '"T" --area North East Durham')
    assert message.startswith("Unexpected “East”.")
    assert '--area "North East Durham"' in message


def test_extra_quoted_positional() -> None:
    message = err(START, '"T" "second"')
    assert message.startswith("Unexpected “second”.")


def test_no_positionals_allowed() -> None:
    message = err(STOP, "now")
    assert message == "Unexpected “now”. /session stop takes no text, only flags."


def test_two_positional_limit_message() -> None:
    spec = CommandSpec(
        "/rename",
        '/rename "<old>" "<new>"',
        '/rename "A" "B"',
        positional_names=("old name", "new name"),
        min_positionals=2,
        max_positionals=2,
    )
    assert ok(spec, '"A b" "C d"').positionals == ("A b", "C d")
    message = err(spec, "A b c")
    assert message.startswith("Unexpected “c”.")
    assert "at most 2 values (old name and new name)" in message
    assert err(spec, "") == "Missing the old name and the new name."
    assert err(spec, "A") == "Missing the new name."


def test_missing_title() -> None:
    assert err(START, "") == "Missing the title."
    assert err(START, "   \n ") == "Missing the title."
    assert err(START, "--area Durham") == "Missing the title."


def test_empty_title() -> None:
    assert err(START, '""') == "The title is empty."
    assert err(START, '"  \n "') == "The title is empty."
    assert err(START, "“”") == "The title is empty."


def test_positional_stripped_but_inner_text_kept() -> None:
    assert ok(START, '"  Durham —  listening\nsession  "').positionals == (
        "Durham —  listening\nsession",
    )


def test_positional_max_length() -> None:
    assert ok(START, '"' + "x" * 200 + '"').positionals == ("x" * 200,)
    assert err(START, '"' + "x" * 5000 + '"') == (
        "The title is 5,000 characters long; the limit is 200."
    )


def test_poll_options_unlimited_and_missing_messages() -> None:
    parsed = ok(POLL, '"Lunch?" Pizza “Tacos al pastor” --time 2m Salad')
    assert parsed.positionals == ("Lunch?", "Pizza", "Tacos al pastor", "Salad")
    assert parsed.flags == {"time": timedelta(minutes=2)}
    many = " ".join(f'"option {i}"' for i in range(40))
    assert len(ok(POLL, '"Q" ' + many).positionals) == 41
    assert err(POLL, "") == "Missing the question and at least 2 options."
    assert err(POLL, '"Q"') == "Missing at least 2 options."
    assert err(POLL, '"Q" "A"') == "Missing 1 more option."


def test_poll_empty_option_named() -> None:
    assert err(POLL, '"Q" "A" ""') == "The option is empty."


def test_poll_option_length_limit() -> None:
    assert err(POLL, '"Q" "A" "' + "b" * 151 + '"') == (
        "The option is 151 characters long; the limit is 150."
    )


def test_default_positional_name() -> None:
    spec = CommandSpec("/echo", "/echo <text>", "/echo hi", min_positionals=1, max_positionals=1)
    assert err(spec, "") == "Missing the text."


# --- Slack text, mentions, unicode ------------------------------------------------------------


def test_escaped_channel_mention_is_unescaped_and_kept() -> None:
    assert ok(START, "&lt;!channel&gt;").positionals == ("<!channel>",)
    assert ok(START, '"Hi &lt;!channel&gt; &amp; all"').positionals == ("Hi <!channel> & all",)


def test_raw_channel_mention_is_kept_as_text() -> None:
    assert ok(START, "<!channel>").positionals == ("<!channel>",)
    assert ok(START, '"Ping <!channel> now"').positionals == ("Ping <!channel> now",)
    assert ok(START, "T --area <#C123|general>").flags == {"area": "<#C123|general>"}


def test_error_echoing_mention_is_escaped_in_render() -> None:
    result = parse(START, "&lt;!channel&gt; hello")
    assert isinstance(result, UsageError)
    assert "<!channel>" in result.message
    rendered = result.render()
    assert "<!channel>" not in rendered
    assert "&lt;!channel&gt;" in rendered


@pytest.mark.parametrize(
    "title",
    [
        "Listening 🎧 session 👩🏽‍🤝‍👩🏻 🇬🇧",
        "جلسة استماع في دورهام",
        "מפגש הקשבה בדורהאם",
        "mixed עברית and English 123",
        "e\u0301 combining and ﬁ ligature",
    ],
)
def test_unicode_kept_intact(title: str) -> None:
    parsed = ok(START, f'"{title}" --area “{title}”')
    assert parsed.positionals == (title,)
    assert parsed.flags == {"area": title}


def test_single_word_rtl_and_emoji_bare() -> None:
    assert ok(START, "دورهام").positionals == ("دورهام",)
    assert ok(POLL, "🍕? 🌮 🥗").positionals == ("🍕?", "🌮", "🥗")


def test_message_quotes_offending_token_shortened() -> None:
    message = err(START, '"T" --mode ' + "z" * 300)
    quoted = message.split("“", 1)[1].split("”", 1)[0]
    assert quoted == "z" * 39 + "…"


# --- UsageError.render ------------------------------------------------------------------------


def test_render_format() -> None:
    error = UsageError("Bad <thing> & stuff", '/x "<title>"', "/x hi")
    assert error.render() == (
        ':warning: Bad &lt;thing&gt; &amp; stuff\nUsage: `/x "&lt;title&gt;"`\nExample: `/x hi`'
    )


def test_render_omits_empty_usage_and_example() -> None:
    assert UsageError("Oops.", "", "").render() == ":warning: Oops."


def test_render_from_parse_has_usage_and_example() -> None:
    result = parse(START, "")
    assert isinstance(result, UsageError)
    lines = result.render().split("\n")
    assert lines[0] == ":warning: Missing the title."
    assert lines[1].startswith("Usage: `/session start")
    assert lines[2] == 'Example: `/session start "Durham listening session" --area Durham`'


# --- durations --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("45s", timedelta(seconds=45)),
        ("2m", timedelta(minutes=2)),
        ("1m30s", timedelta(seconds=90)),
        ("1h", timedelta(hours=1)),
        ("2H", timedelta(hours=2)),
        ("1h30m", timedelta(minutes=90)),
        ("1H30M15S", timedelta(hours=1, minutes=30, seconds=15)),
        ("90m", timedelta(minutes=90)),
        ("0s", timedelta(0)),
        (" 5m ", timedelta(minutes=5)),
        ("1h 30m", timedelta(minutes=90)),
        ("5min", timedelta(minutes=5)),
        ("30 secs", timedelta(seconds=30)),
        ("2 hours", timedelta(hours=2)),
        ("", None),
        ("0", None),
        ("90", None),
        ("m", None),
        ("h", None),
        ("1x", None),
        ("-1m", None),
        ("1.5m", None),
        ("30s1m", None),
        ("1m1m", None),
        ("1 m s", None),
        ("one minute", None),
        ("99999999999999999999h", None),
        ("9" * 5000 + "s", None),
    ],
)
def test_parse_duration(text: str, expected: timedelta | None) -> None:
    assert parse_duration(text) == expected


def test_parse_duration_just_under_limit_is_fine() -> None:
    assert parse_duration("999999h") == timedelta(hours=999999)


@pytest.mark.parametrize(
    ("td", "expected"),
    [
        (timedelta(seconds=45), "45s"),
        (timedelta(seconds=90), "1m30s"),
        (timedelta(minutes=2), "2m"),
        (timedelta(hours=1), "1h"),
        (timedelta(hours=1, seconds=5), "1h5s"),
        (timedelta(days=1), "24h"),
        (timedelta(0), "0s"),
        (timedelta(seconds=-90), "-1m30s"),
    ],
)
def test_format_duration(td: timedelta, expected: str) -> None:
    assert format_duration(td) == expected


@given(st.integers(min_value=1, max_value=86400))
def test_duration_round_trip(seconds: int) -> None:
    td = timedelta(seconds=seconds)
    text = format_duration(td)
    assert parse_duration(text) == td
    assert parse_duration(text.upper()) == td


# --- spec validation --------------------------------------------------------------------------


def test_spec_validation() -> None:
    with pytest.raises(ValueError, match="needs choices"):
        FlagSpec("mode", "choice")
    with pytest.raises(ValueError, match="lower-case"):
        FlagSpec("Time", "duration")
    with pytest.raises(ValueError, match="duplicate"):
        CommandSpec("/x", "/x", "/x", flags=(FlagSpec("a", "bool"), FlagSpec("a", "str")))
    with pytest.raises(ValueError, match="max_positionals"):
        CommandSpec("/x", "/x", "/x", min_positionals=2, max_positionals=1)


# --- properties -------------------------------------------------------------------------------

# Text biased towards the characters the parser treats specially.
tricky_text = st.lists(
    st.one_of(
        st.sampled_from(list('"“”„＂\\-—–= \t\n\u00a0\u200b&;<>:ltgamp')),
        st.sampled_from(["--", "&lt;", "&gt;", "&amp;", "--time", "--area=", "mix:", "1m30s"]),
        st.characters(),
    ),
    max_size=40,
).map("".join)


@given(st.one_of(st.text(), tricky_text))
@pytest.mark.parametrize("spec", [START, POLL, STOP, BARE])
def test_parse_never_raises(spec: CommandSpec, text: str) -> None:
    result = parse(spec, text)
    assert isinstance(result, Parsed | UsageError)
    if isinstance(result, UsageError):
        assert result.message
        assert result.message.endswith((".", "?"))
        assert isinstance(result.render(), str)
    else:
        assert all(p and p == p.strip() for p in result.positionals)
        assert set(result.flags) <= {f.name for f in spec.flags}


@given(st.one_of(st.text(), tricky_text))
def test_tokenize_never_raises(text: str) -> None:
    result = tokenize(text)
    assert isinstance(result, list | UsageError)
    if isinstance(result, list):
        assert all(isinstance(t, Token) for t in result)
        assert all(t.value for t in result if not t.quoted)


@given(st.text())
def test_split_subcommand_never_raises(text: str) -> None:
    sub, rest = split_subcommand(text)
    assert sub == sub.lower()
    assert not any(c.isspace() for c in sub)
    # The rest is an untouched slice of the raw text, so Slack escapes survive for parse().
    assert rest in text
    assert rest == rest.strip()
    if not sub:
        assert rest == text.strip()


@given(st.text())
def test_parse_duration_never_raises(text: str) -> None:
    result = parse_duration(text)
    assert result is None or result >= timedelta(0)
