"""mrkdwn as plain text, and wrapping that keeps the bot's own lines."""

from __future__ import annotations

import pytest

from bot.rehearsal.render import mrkdwn_to_text
from bot.rehearsal.text import fit, wrap

NAMES = {"U1": "Ann", "U0FAC": "Fac Ilitator"}


def _name(user_id: str) -> str:
    return NAMES.get(user_id, f"?{user_id}")


@pytest.mark.parametrize(
    ("mrkdwn", "text"),
    [
        ("Hi <@U1>!", "Hi @Ann!"),
        ("<@U1|old name> and <@U0FAC>", "@Ann and @Fac Ilitator"),
        ("See <#C123|general> or <#C9>", "See #general or #C9"),
        ("<!channel> <!here> <!everyone>", "@channel @here @everyone"),
        ("<!subteam^S1|@organisers> <!subteam^S2>", "@organisers @S2"),
        (
            "Closes <!date^1953225000^{date_short_pretty} at {time}|21 Nov 2031 18:30 UTC>",
            "Closes 21 Nov 2031 18:30 UTC",
        ),
        ("<!date^0^{time}>", "01 Jan 1970 00:00 UTC"),
        ("<https://ex.org/a|the notice>", "the notice (https://ex.org/a)"),
        (
            "<https://acme.slack.com/archives/C1/p1700000000123456|Room 2's thread>",
            "Room 2's thread",
        ),
        ("<https://ex.org/a>", "https://ex.org/a"),
        ("<mailto:a@ex.org|a@ex.org>", "a@ex.org"),
        ("<https://ex.org/?a=1&amp;b=2>", "https://ex.org/?a=1&b=2"),
    ],
)
def test_tokens_become_what_a_reader_sees(mrkdwn: str, text: str) -> None:
    assert mrkdwn_to_text(mrkdwn, names=_name) == text


def test_a_mention_without_names_shows_the_id() -> None:
    assert mrkdwn_to_text("by <@U77>") == "by @U77"


def test_escapes_are_undone_once() -> None:
    # What a user typed as "&lt;" reaches Slack as "&amp;lt;" and must still read "&lt;".
    assert mrkdwn_to_text("&lt;b&gt; &amp; &amp;lt;") == "<b> & &lt;"


@pytest.mark.parametrize(
    ("mrkdwn", "text"),
    [
        ("*Poll:* *Should we?*", "Poll: Should we?"),
        ("_nobody yet_ and ~gone~", "nobody yet and gone"),
        ("*Closed by <@U1>*", "Closed by @Ann"),
        ("*`/session` — run it*", "`/session` — run it"),
        ("`*kept*` and ```\n*also kept*\n```", "`*kept*` and ```\n*also kept*\n```"),
        ("snake_case_name, 2*3*4 and a * b", "snake_case_name, 2*3*4 and a * b"),
        ("• *Member* — 10", "• Member — 10"),
        ("> “A quote” — Member", "> “A quote” — Member"),
        ("`&lt;room&gt;`", "`<room>`"),
        ("`████░░░░░░` 40% (4)", "`████░░░░░░` 40% (4)"),
    ],
)
def test_markers_are_dropped_code_and_quotes_kept(mrkdwn: str, text: str) -> None:
    assert mrkdwn_to_text(mrkdwn, names=_name) == text


@pytest.mark.parametrize(
    "odd", ["", "<", ">", "<>", "<|>", "<@>", "<!date^x>", "\ue0007\ue001", "*", "``", "<!>"]
)
def test_odd_mrkdwn_never_raises(odd: str) -> None:
    assert isinstance(mrkdwn_to_text(odd), str)


def test_text_that_looked_like_a_placeholder_is_left_alone() -> None:
    assert mrkdwn_to_text("a \ue0003\ue001 b <@U1>", names=_name) == "a \ue0003\ue001 b @Ann"


def test_wrap_keeps_line_breaks_and_hangs_bullets_and_quotes() -> None:
    text = "Title\n• " + "word " * 20 + "\n> " + "said " * 20
    lines = wrap(text, 30)
    assert lines[0] == "Title"
    assert lines[1].startswith("• word")
    bullet_tail = lines[2]
    assert bullet_tail.startswith("  word"), lines
    quote_tail = [line for line in lines if line.startswith("> ")]
    assert len(quote_tail) >= 3  # every wrapped quote line is still quoted
    assert all(len(line) <= 30 for line in lines)


def test_wrap_leaves_code_blocks_as_they_are() -> None:
    code = "```\n" + "x " * 40 + "\n```"
    assert wrap(code, 30)[1] == ("x " * 40).rstrip()


def test_fit_cuts_what_wrap_left_long() -> None:
    lines = fit(["    " + "y" * 100], 30)
    assert all(len(line) <= 30 for line in lines)
    assert "".join(line.strip() for line in lines) == "y" * 100
