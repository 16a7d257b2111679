"""`/next` and the control message's Next and Skip: ack → parse → bot.runsheets → answer."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond

from bot.parsing import UsageError
from bot.results import Duplicate, Refusal
from bot.runsheets.requests import NEXT_USAGE, NextHelp, parse_next_command
from bot.services import Services
from bot.views.common import as_dicts
from bot.views.runsheets import NEXT_ACTION, SKIP_ACTION, render_next_help, render_step_run
from handlers.context import services_of
from handlers.middleware import DELIVERY_KEY
from handlers.replies import ack_refusal, ack_usage, privately


def handle_next_command(ack: Ack, command: dict[str, Any], context: BoltContext) -> None:
    """`/next` runs the next step of the session's run sheet, `/next skip` skips it."""
    request = parse_next_command(command.get("text", ""))
    if isinstance(request, NextHelp):
        ack(text=f"Usage: {NEXT_USAGE}", blocks=as_dicts(render_next_help()))
        return
    if isinstance(request, UsageError):
        ack_usage(ack, request)
        return
    run = services_of(context).agenda.next(
        channel_id=command["channel_id"],
        user_id=command["user_id"],
        skip=request.skip,
        delivery_key=context.get(DELIVERY_KEY),
        response_url=command.get("response_url"),
    )
    if isinstance(run, Refusal):
        ack_refusal(ack, run.message)
    elif isinstance(run, Duplicate):
        ack()
    else:
        text, blocks = render_step_run(run)
        ack(text=text, blocks=as_dicts(blocks))


def press_control(ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    """Next or Skip on a control message: the step it shows, run or skipped; the message itself
    is edited to show what happened (a refusal is said privately)."""
    ack()
    action = (body.get("actions") or [{}])[0]
    session_id, position = _read_value(action.get("value"))
    if session_id is None:
        privately(respond)(":no_entry_sign: That button is not from a run sheet's controls.")
        return
    run = services_of(context).agenda.next(
        session_id=session_id,
        expected_position=position,
        user_id=body["user"]["id"],
        skip=action.get("action_id") == SKIP_ACTION,
        delivery_key=context.get(DELIVERY_KEY),
        response_url=body.get("response_url"),
    )
    if isinstance(run, Refusal):
        privately(respond)(f":no_entry_sign: {run.message}")
    elif not isinstance(run, Duplicate) and run.note:
        privately(respond)(render_step_run(run)[0])


def _read_value(value: object) -> tuple[int | None, int | None]:
    """`"<session id>:<position>"` from a control button."""
    parts = str(value or "").split(":")
    if len(parts) != 2 or not all(p.isdigit() and len(p) <= 18 for p in parts):
        return None, None
    return int(parts[0]), int(parts[1])


def register(app: App, services: Services) -> None:
    """Register `/next` and the control buttons."""
    app.command("/next")(handle_next_command)
    app.action(NEXT_ACTION)(press_control)
    app.action(SKIP_ACTION)(press_control)
