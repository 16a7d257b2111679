"""Block Kit the bot does not send today, and odd input: named, never dumped, never raising."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.rehearsal.render import render_message, render_view

PEOPLE = {"U1": "Ann"}


def _name(user_id: str) -> str:
    return PEOPLE.get(user_id, user_id)


def _flat(seen: str) -> str:
    return " ".join(seen.split())


def test_text_is_the_fallback_when_there_are_no_blocks() -> None:
    assert render_message({"text": "Hi <@U1> &amp; *all*", "blocks": []}, names=_name) == [
        "Hi @Ann & all"
    ]
    assert render_message({"text": "x"}) == ["x"]
    assert render_message({}) == []


def test_unknown_blocks_and_elements_are_named_not_dumped() -> None:
    blocks = [
        {"type": "carousel", "cards": [{"type": "x"}]},
        {"type": "actions", "elements": [{"type": "workflow_button", "text": {}}]},
        None,
        "section",
    ]
    assert render_message({"blocks": blocks}) == [
        "[carousel]",
        "[workflow_button]",
        "[unknown]",
        "[unknown]",
    ]


@pytest.mark.parametrize(
    "block",
    [
        {"type": "section"},
        {"type": "section", "text": None, "fields": None, "accessory": None},
        {"type": "header", "text": {"type": "plain_text"}},
        {"type": "context", "elements": "x"},
        {"type": "actions"},
        {"type": "input", "element": None},
        {"type": "image"},
        {"type": "rich_text", "elements": [{"type": "rich_text_list", "indent": "x"}]},
    ],
)
def test_blocks_missing_their_fields_render_without_raising(block: dict[str, Any]) -> None:
    lines = render_message({"blocks": [block]})
    assert all(isinstance(line, str) and "{" not in line for line in lines)


def test_other_block_types_render_as_slack_shows_them() -> None:
    blocks = [
        {"type": "image", "alt_text": "bar chart", "title": {"type": "plain_text", "text": "Q1"}},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "*Close it?*"},
            "accessory": {
                "type": "overflow",
                "options": [
                    {"text": {"type": "plain_text", "text": "Close now"}, "value": "c"},
                    {"text": {"type": "plain_text", "text": "Extend"}, "value": "e"},
                ],
            },
        },
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f"*F{n}*"} for n in range(3)]},
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "text": {"type": "plain_text", "text": "End"},
                    "style": "danger",
                },
                {
                    "type": "radio_buttons",
                    "initial_option": {"text": {"type": "plain_text", "text": "B"}},
                    "options": [{"text": {"type": "plain_text", "text": t}} for t in "AB"],
                },
                {"type": "datepicker", "initial_date": "2031-11-21"},
            ],
        },
        {
            "type": "rich_text",
            "elements": [
                {
                    "type": "rich_text_section",
                    "elements": [
                        {"type": "text", "text": "Hi "},
                        {"type": "user", "user_id": "U1"},
                        {"type": "text", "text": " see "},
                        {"type": "link", "url": "https://ex.org", "text": "this"},
                    ],
                },
                {
                    "type": "rich_text_list",
                    "style": "ordered",
                    "elements": [
                        {"type": "rich_text_section", "elements": [{"type": "text", "text": "one"}]}
                    ],
                },
            ],
        },
    ]
    assert render_message({"blocks": blocks}, names=_name) == [
        "[image: bar chart] Q1",
        "Close it?  [ ⋯ Close now | Extend ]",
        "F0                                      F1",
        "F2",
        "[! End ]",
        "  ( ) A",
        "  (•) B",
        "[ 2031-11-21 ▾ ]",
        "Hi @Ann see this (https://ex.org)",
        "1. one",
    ]


def test_long_buttons_and_code_lines_are_cut_to_the_width() -> None:
    label = "A long option " * 5
    blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": "```\n" + "x" * 100 + "\n```"}},
        {"type": "actions", "elements": [{"type": "button", "text": label}]},
    ]
    lines = render_message({"blocks": blocks}, width=40)
    assert all(len(line) <= 40 for line in lines), lines
    assert "".join(lines).count("x") == 100
    assert _flat("\n".join(lines)).endswith(f"``` [ {_flat(label)} ]")


def test_blocks_sent_as_a_json_string_are_read() -> None:
    message = {"blocks": '[{"type": "divider"}]', "text": "ignored"}
    assert render_message(message, width=30) == ["─" * 30]
    assert render_message({"delete_original": True}) == ["[the earlier message is deleted]"]


def test_a_view_missing_everything_still_renders() -> None:
    assert render_view({}) == ["", "[ Cancel ]"]
    assert render_view({"type": "home", "blocks": [{"type": "divider"}]}, width=5) == ["─" * 20]


json_leaf = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.text(max_size=100))
json_key = st.sampled_from(
    [
        "type",
        "text",
        "elements",
        "fields",
        "accessory",
        "element",
        "label",
        "options",
        "initial_option",
        "initial_options",
        "placeholder",
        "title",
        "alt_text",
        "style",
        "hint",
        "initial_value",
        "multiline",
        "optional",
        "blocks",
        "submit",
        "close",
        "indent",
        "url",
    ]
)
json_type = st.sampled_from(
    [
        "section",
        "header",
        "context",
        "divider",
        "actions",
        "input",
        "image",
        "rich_text",
        "mrkdwn",
        "plain_text",
        "button",
        "static_select",
        "checkboxes",
        "plain_text_input",
        "overflow",
        "rich_text_section",
        "rich_text_list",
        "user",
        "link",
        "datepicker",
        "zzz",
    ]
)
json_value = st.recursive(
    st.one_of(json_leaf, json_type),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(json_key, children, max_size=5),
        st.builds(
            lambda kind, rest: {**rest, "type": kind},
            json_type,
            st.dictionaries(json_key, children, max_size=4),
        ),
    ),
    max_leaves=25,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(blocks=st.lists(json_value, max_size=5), width=st.integers(0, 120))
def test_any_json_renders_as_lines_within_the_width(blocks: list[Any], width: int) -> None:
    for lines in (
        render_message({"blocks": blocks, "text": "t"}, width=width),
        render_view(
            {"type": "modal", "title": blocks[0] if blocks else None, "blocks": blocks}, width=width
        ),
    ):
        assert all(isinstance(line, str) and "\n" not in line for line in lines)
        assert all(len(line) <= max(width, 20) for line in lines)
