"""`/breakout`, `/report`, the Report back button and form, a quote's Withdraw button:
ack → parse → bot.rooms → render.

Nothing here posts what a committed change shows in the channel: the room service queues it
in the same transaction, and the outbox sender posts it (see `bot.slack.rooms`). Forms open at
once, because a trigger_id is only good for 3 seconds.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from typing_extensions import TypeIs

from bot.parsing import UsageError, parse, split_subcommand
from bot.results import Duplicate, Refusal
from bot.rooms import (
    BREAKOUT_SPEC,
    END_SPEC,
    FIELD_SUMMARY,
    REPORT_SPEC,
    FormErrors,
    parse_breakout_text,
    parse_move_text,
)
from bot.services import Services
from bot.slack.forms import open_form
from bot.views.common import as_dicts, parse_id
from bot.views.reports import (
    REPORT_CALLBACK,
    WITHDRAW_QUOTE_ACTION,
    error_blocks,
    form_block_ids,
    form_room_id,
    read_report,
    render_notice,
    render_quote_withdrawn,
    render_report_form,
    render_report_help,
)
from bot.views.rooms import (
    REPORT_ACTION,
    render_breakout_help,
    render_moved,
    render_round_ended,
    render_round_started,
)
from handlers.context import services_of
from handlers.middleware import DELIVERY_KEY
from handlers.replies import ack_refusal, ack_usage, privately


def _answered(outcome: object, ack: Ack) -> TypeIs[UsageError | Refusal | Duplicate]:
    """Ack a usage error, a refusal or a redelivery; True when the outcome was one of them."""
    if isinstance(outcome, UsageError):
        ack_usage(ack, outcome)
    elif isinstance(outcome, Refusal):
        ack_refusal(ack, outcome.message)
    elif isinstance(outcome, Duplicate):
        ack()  # already done: say nothing again
    else:
        return False
    return True


def handle_breakout(ack: Ack, command: dict[str, Any], context: BoltContext) -> None:
    """`/breakout <rooms> | --size <n> | end | move | help`."""
    text = command.get("text", "")
    subcommand, rest = split_subcommand(text)
    if (not subcommand and not rest) or "help" in (subcommand, rest.strip().lower()):
        ack(text="How to use /breakout", blocks=as_dicts(render_breakout_help()))
    elif subcommand == "end":
        end_round(rest, ack=ack, command=command, context=context)
    elif subcommand == "move":
        move_someone(rest, ack=ack, command=command, context=context)
    elif subcommand and not subcommand.isdecimal():
        unknown = UsageError(
            f"Unknown subcommand “{subcommand[:40]}”. Give a number of rooms, "
            "--size, end, move or help.",
            BREAKOUT_SPEC.usage,
            BREAKOUT_SPEC.example,
        )
        _answered(unknown, ack)
    else:
        start_round(text, ack=ack, command=command, context=context)


def start_round(text: str, *, ack: Ack, command: dict[str, Any], context: BoltContext) -> None:
    """`/breakout <rooms> …`: the round, committed with its room messages to post."""
    request = parse_breakout_text(text)
    if _answered(request, ack):
        return
    started = services_of(context).rooms.start(
        channel_id=command["channel_id"],
        user_id=command["user_id"],
        request=request,
        delivery_key=context.get(DELIVERY_KEY),
        # If Slack refuses the rooms, the facilitator is told here, after this ack.
        response_url=command.get("response_url"),
    )
    if _answered(started, ack):
        return
    reply, blocks = render_round_started(started)
    ack(text=reply, blocks=as_dicts(blocks))


def end_round(rest: str, *, ack: Ack, command: dict[str, Any], context: BoltContext) -> None:
    """`/breakout end`: the end, committed with time's up for every room's thread."""
    parsed = parse(END_SPEC, rest)
    if _answered(parsed, ack):
        return
    ended = services_of(context).rooms.end(
        channel_id=command["channel_id"],
        user_id=command["user_id"],
        delivery_key=context.get(DELIVERY_KEY),
    )
    if _answered(ended, ack):
        return
    reply, blocks = render_round_ended(ended)
    ack(text=reply, blocks=as_dicts(blocks))


def move_someone(rest: str, *, ack: Ack, command: dict[str, Any], context: BoltContext) -> None:
    """`/breakout move @someone <room>`: the move, committed with its notices."""
    request = parse_move_text(rest)
    if _answered(request, ack):
        return
    moved = services_of(context).rooms.move(
        channel_id=command["channel_id"],
        user_id=command["user_id"],
        request=request,
        delivery_key=context.get(DELIVERY_KEY),
    )
    if _answered(moved, ack):
        return
    reply, blocks = render_moved(moved)
    ack(text=reply, blocks=as_dicts(blocks))


def handle_report(
    ack: Ack, command: dict[str, Any], respond: Respond, context: BoltContext
) -> None:
    """`/report`: open the report-back form for the caller's room."""
    text = command.get("text", "")
    if text.strip().lower() == "help":
        ack(text="Usage: /report", blocks=as_dicts(render_report_help()))
        return
    parsed = parse(REPORT_SPEC, text)
    if _answered(parsed, ack):
        return
    services = services_of(context)
    form = services.rooms.report_form_for_channel(command["channel_id"], command["user_id"])
    if _answered(form, ack):
        return
    ack()
    open_form(
        services.client,
        trigger_id=command["trigger_id"],
        view=render_report_form(form),
        tell=privately(respond),
    )


def open_report_form(
    ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext
) -> None:
    """The Report back button: the form for that room, or why it cannot open."""
    ack()
    services = services_of(context)
    room_id = parse_id(body["actions"][0].get("value"))
    form = (
        services.rooms.report_form_for_room(room_id, body["user"]["id"])
        if room_id is not None
        else Refusal("That button is not from a breakout room.")
    )
    view = (
        render_notice("Report back", form.message)
        if isinstance(form, Refusal)
        else render_report_form(form)
    )
    open_form(services.client, trigger_id=body["trigger_id"], view=view, tell=privately(respond))


def submit_report_form(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext
) -> None:
    """The submitted report-back form: saved with its posts, or errors on the fields."""
    room_id = form_room_id(view)
    present = form_block_ids(view)
    if room_id is None:
        ack(
            response_action="errors",
            errors=error_blocks({FIELD_SUMMARY: "This form is out of date."}, present),
        )
        return
    result = services_of(context).rooms.submit_report(
        room_id=room_id,
        user_id=body["user"]["id"],
        answers=read_report(view),
        delivery_key=context.get(DELIVERY_KEY),
    )
    if isinstance(result, FormErrors):
        ack(response_action="errors", errors=error_blocks(result.errors, present))
        return
    ack()  # the report-back is committed; closing the form tells the person it counted


def withdraw_quote(ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    """A quote's Withdraw button (on its report-back's thread post): withdrawn with the edits
    of every post that showed it, or refused; the person who clicked is told privately."""
    quote_id = parse_id(body["actions"][0].get("value"))
    outcome = (
        services_of(context).rooms.withdraw_quote(
            quote_id, user_id=body["user"]["id"], delivery_key=context.get(DELIVERY_KEY)
        )
        if quote_id is not None
        else Refusal("That button is not from a report-back's quote.")
    )
    ack()  # after the commit: Slack retries a click we never acknowledged
    if isinstance(outcome, Duplicate):
        return  # answered the first time
    tell = privately(respond)
    tell(outcome.message if isinstance(outcome, Refusal) else render_quote_withdrawn(outcome))


def register(app: App, services: Services) -> None:
    """Register `/breakout`, `/report`, the Report back button and its form, and the quotes'
    Withdraw button."""
    app.command("/breakout")(handle_breakout)
    app.command("/report")(handle_report)
    app.action(REPORT_ACTION)(open_report_form)
    app.view(REPORT_CALLBACK)(submit_report_form)
    app.action(WITHDRAW_QUOTE_ACTION)(withdraw_quote)
