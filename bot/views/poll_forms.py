"""The poll forms: the `/poll` form and the anonymous ballot, built and read back in one place."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    InputBlock,
    Option,
    PlainTextInputElement,
    StaticMultiSelectElement,
)
from slack_sdk.models.views import View

from bot.parsing import format_duration
from bot.polls import (
    DEFAULT_DURATION,
    FORM_DURATION,
    FORM_KEY,
    FORM_OPTIONS,
    FORM_QUESTION,
    MAX_DURATION,
    MIN_DURATION,
    FormProblem,
    PollRequest,
    PollState,
    read_form,
)
from bot.views.common import (
    context,
    esc,
    input_state,
    pack_lines,
    parse_id,
    section,
    slack_date,
    trim,
)
from bot.views.polls import BUTTON_TEXT_MAX, question_blocks
from storage.polls import KEY_MAX, MAX_OPTIONS, OPTION_MAX, QUESTION_MAX

FORM_CALLBACK = "poll_form"
BALLOT_CALLBACK = "poll_ballot_form"
QUESTION_BLOCK, QUESTION_INPUT = "poll_question", "poll_question"
OPTIONS_BLOCK, OPTIONS_INPUT = "poll_options", "poll_options"
DURATION_BLOCK, DURATION_INPUT = "poll_duration", "poll_duration"
SWITCHES_BLOCK, SWITCHES_INPUT = "poll_switches", "poll_switches"
KEY_BLOCK, KEY_INPUT = "poll_key", "poll_key"
BALLOT_BLOCK, BALLOT_INPUT = "poll_ballot", "poll_ballot"
SWITCH_MULTI, SWITCH_ANONYMOUS, SWITCH_HIDE = "multi", "anonymous", "hide_results"
# Form fields as the domain names them → the block that shows the error.
FORM_BLOCKS = {
    FORM_QUESTION: QUESTION_BLOCK,
    FORM_OPTIONS: OPTIONS_BLOCK,
    FORM_DURATION: DURATION_BLOCK,
    FORM_KEY: KEY_BLOCK,
}
CHECKBOXES_MAX = 10  # beyond this the ballot form uses a multi-select menu


def render_poll_form(channel_id: str) -> View:
    """The form `/poll` opens when typed with no arguments."""
    switches = [
        Option(value=SWITCH_MULTI, text="Several choices allowed"),
        Option(
            value=SWITCH_ANONYMOUS,
            text="Anonymous",
            description="Choices are never linked to people; votes can't be changed",
        ),
        Option(value=SWITCH_HIDE, text="Hide results until it closes"),
    ]
    return View(
        type="modal",
        callback_id=FORM_CALLBACK,
        private_metadata=channel_id,
        title="New poll",
        submit="Launch poll",
        close="Cancel",
        blocks=[
            InputBlock(
                block_id=QUESTION_BLOCK,
                label="Question",
                element=PlainTextInputElement(
                    action_id=QUESTION_INPUT,
                    multiline=True,
                    max_length=QUESTION_MAX,
                    placeholder="e.g. Should the party back the strike?",
                ),
            ),
            InputBlock(
                block_id=OPTIONS_BLOCK,
                label="Options, one per line",
                hint=f"2 to {MAX_OPTIONS} options, each up to {OPTION_MAX} characters.",
                element=PlainTextInputElement(
                    action_id=OPTIONS_INPUT, multiline=True, placeholder="Yes\nNo\nNot sure"
                ),
            ),
            InputBlock(
                block_id=DURATION_BLOCK,
                label="How long it runs",
                hint=f"From {format_duration(MIN_DURATION)} to {format_duration(MAX_DURATION)}, "
                "e.g. 45s, 2m, 1m30s, 1h.",
                element=PlainTextInputElement(
                    action_id=DURATION_INPUT,
                    initial_value=format_duration(DEFAULT_DURATION),
                    max_length=20,
                ),
            ),
            InputBlock(
                block_id=SWITCHES_BLOCK,
                label="Options",
                optional=True,
                element=CheckboxesElement(action_id=SWITCHES_INPUT, options=switches),
            ),
            InputBlock(
                block_id=KEY_BLOCK,
                label="Key",
                optional=True,
                hint="Names this question across sessions for the tour report. Left empty, "
                "it is made from the question.",
                element=PlainTextInputElement(
                    action_id=KEY_INPUT, max_length=KEY_MAX, placeholder="e.g. strike-support"
                ),
            ),
        ],
    )


def render_ballot_form(state: PollState) -> View:
    """The anonymous multiple-choice ballot: pick every option that applies, once."""
    options = [
        Option(value=str(index), text=trim(option, BUTTON_TEXT_MAX))
        for index, option in enumerate(state.options)
    ]
    element: CheckboxesElement | StaticMultiSelectElement = (
        CheckboxesElement(action_id=BALLOT_INPUT, options=options)
        if len(options) <= CHECKBOXES_MAX
        else StaticMultiSelectElement(
            action_id=BALLOT_INPUT, options=options, placeholder="Choose options"
        )
    )
    listed = pack_lines(
        [f"*{number}.* {esc(option)}" for number, option in enumerate(state.options, start=1)]
    )
    blocks: list[Block] = [
        *question_blocks(state, ":bar_chart:"),
        *(
            [section(text) for text in listed]
            if any(len(o) > BUTTON_TEXT_MAX for o in state.options)
            else []
        ),
        InputBlock(block_id=BALLOT_BLOCK, label="Choose all that apply", element=element),
        context(
            "Your choices are counted without your name, and can't be changed once sent. "
            f"The poll closes {slack_date(state.poll.closes_at)}."
        ),
    ]
    return View(
        type="modal",
        callback_id=BALLOT_CALLBACK,
        private_metadata=str(state.id),
        title="Anonymous vote",
        submit="Vote",
        close="Cancel",
        blocks=blocks,
    )


def read_poll_form(view: dict[str, Any]) -> PollRequest | FormProblem:
    """The poll request in a submitted form, or the field that is wrong."""
    values = view.get("state", {}).get("values", {})
    switches = {
        option.get("value")
        for option in input_state(values, SWITCHES_BLOCK, SWITCHES_INPUT).get("selected_options")
        or []
    }
    return read_form(
        question=input_state(values, QUESTION_BLOCK, QUESTION_INPUT).get("value"),
        options_text=input_state(values, OPTIONS_BLOCK, OPTIONS_INPUT).get("value"),
        duration_text=input_state(values, DURATION_BLOCK, DURATION_INPUT).get("value"),
        multi=SWITCH_MULTI in switches,
        anonymous=SWITCH_ANONYMOUS in switches,
        hide_results=SWITCH_HIDE in switches,
        key_text=input_state(values, KEY_BLOCK, KEY_INPUT).get("value"),
    )


def read_ballot(view: dict[str, Any]) -> list[int] | None:
    """The options chosen in a ballot form, or None if a value was tampered with."""
    values = view.get("state", {}).get("values", {})
    chosen = input_state(values, BALLOT_BLOCK, BALLOT_INPUT).get("selected_options") or []
    indexes = [parse_id(option.get("value")) for option in chosen if isinstance(option, dict)]
    if any(index is None for index in indexes):
        return None
    return [index for index in indexes if index is not None]
