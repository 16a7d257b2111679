"""`/session` and check-in listeners: ack → parse → call bot.sessions → render → answer.

What follows a committed change (the session message, the end's posts, the check-in
confirmation) is queued with it and posted by the outbox sender, not here.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond

from bot.parsing import UsageError
from bot.results import Duplicate, Refusal
from bot.services import Services
from bot.sessions import (
    SESSION_USAGE,
    CheckedIn,
    SessionHelp,
    StartRequest,
    StatusRequest,
    parse_session_command,
)
from bot.slack.forms import open_form
from bot.views.common import as_dicts, parse_id
from bot.views.sessions import (
    CHECK_IN_CALLBACK,
    DETAILS_ACTION,
    LEGACY_CHECK_IN_ACTION,
    ONE_CLICK_ACTIONS,
    ROLE_ACTION,
    ROLE_BLOCK,
    CheckInClick,
    read_check_in,
    read_check_in_click,
    render_check_in_closed,
    render_check_in_form,
    render_role_options,
    render_session_help,
    render_status,
)
from handlers.context import services_of
from handlers.middleware import DELIVERY_KEY
from handlers.replies import ack_refusal, ack_usage, privately


def handle_session_command(ack: Ack, command: dict[str, Any], context: BoltContext) -> None:
    """`/session start | status | end | help`."""
    request = parse_session_command(command.get("text", ""))
    if isinstance(request, SessionHelp):
        ack(text=f"Usage: {SESSION_USAGE}", blocks=as_dicts(render_session_help()))
    elif isinstance(request, UsageError):
        ack_usage(ack, request)
    elif isinstance(request, StartRequest):
        start_session(request, ack=ack, command=command, context=context)
    elif isinstance(request, StatusRequest):
        show_status(ack=ack, command=command, context=context)
    else:
        end_session(ack=ack, command=command, context=context)


def start_session(
    request: StartRequest, *, ack: Ack, command: dict[str, Any], context: BoltContext
) -> None:
    """`/session start`: the session, with its message (and its check-in row) queued.

    Should Slack refuse that message, the start is undone and the facilitator told through the
    command's response_url (see `bot.slack.sessions`).
    """
    started = services_of(context).sessions.start(
        channel_id=command["channel_id"],
        user_id=command["user_id"],
        request=request,
        delivery_key=context.get(DELIVERY_KEY),
        response_url=command.get("response_url"),
    )
    if isinstance(started, Refusal):
        ack_refusal(ack, started.message)
        return
    ack()  # the facilitator sees the session message, not an echo


def show_status(*, ack: Ack, command: dict[str, Any], context: BoltContext) -> None:
    """`/session status`: attendance, what is running and who facilitates."""
    services = services_of(context)
    status = services.sessions.status(
        channel_id=command["channel_id"],
        user_id=command["user_id"],
        running=services.status_lines,
        agenda=services.agenda_lines,
    )
    if isinstance(status, Refusal):
        ack_refusal(ack, status.message)
        return
    text, blocks = render_status(status)
    ack(text=text, blocks=as_dicts(blocks))


def end_session(*, ack: Ack, command: dict[str, Any], context: BoltContext) -> None:
    """`/session end`: the end, then what follows it (see `SessionEnding`)."""
    ending = services_of(context).ending
    ended = ending.end(
        channel_id=command["channel_id"],
        user_id=command["user_id"],
        delivery_key=context.get(DELIVERY_KEY),
    )
    if isinstance(ended, Refusal):
        ack_refusal(ack, ended.message)
        return
    ack()
    if not isinstance(ended, Duplicate):
        ending.follow_up(ended)


def check_in_by_click(
    ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext
) -> None:
    """The session message's check-in row: a role, a place or "Quote me" records the check-in
    (or its change) with its private reply queued, committed before Slack is answered; "Other…"
    opens the form."""
    click = read_check_in_click(body)
    if isinstance(click, CheckInClick) and click.choice is None:
        open_check_in(ack, body, respond, context)
        return
    if isinstance(click, str):
        ack()
        _tell(respond, click)
        return
    assert click.choice is not None
    checking_in = services_of(context).checking_in
    result = checking_in.choose(
        session_id=click.session_id,
        user_id=body["user"]["id"],
        choice=click.choice,
        delivery_key=context.get(DELIVERY_KEY),
        response_url=body.get("response_url"),
    )
    ack()
    if isinstance(result, Refusal):
        _tell(respond, result.message)  # nothing was recorded
    elif isinstance(result, CheckedIn):
        checking_in.follow_up(result)  # a late arrival joins a breakout room


def _tell(respond: Respond, message: str) -> None:
    """One private line on why a click did nothing; `message` is mrkdwn that is already safe."""
    privately(respond)(f":no_entry_sign: {message}")


def open_check_in(ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    """Open the check-in form, pre-filled (or say check-in is closed): "Change details",
    "Other…", and the Check in button of older messages and poll invitations."""
    ack()
    services = services_of(context)
    click = read_check_in_click(body)
    user_id = body["user"]["id"]
    form = (
        services.sessions.check_in_form(session_id=click.session_id, user_id=user_id)
        if isinstance(click, CheckInClick)
        else Refusal("That button is not from a listening session.")
    )
    view = (
        render_check_in_closed(form.message)
        if isinstance(form, Refusal)
        else render_check_in_form(form, services.privacy)
    )
    open_form(services.client, trigger_id=body["trigger_id"], view=view, tell=privately(respond))


def suggest_roles(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    """The role menu of the check-in form: what was typed, then matching roles."""
    roles = services_of(context).sessions.role_suggestions(str(body.get("value", "")))
    ack(options=render_role_options(roles))


def submit_check_in(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext
) -> None:
    """The submitted check-in form: record it (its confirmation queued), then what follows
    (see `CheckingIn`)."""
    session_id = parse_id(view.get("private_metadata"))
    user_id = body["user"]["id"]
    if session_id is None:
        ack(response_action="errors", errors={ROLE_BLOCK: "This form is out of date."})
        return
    checking_in = services_of(context).checking_in
    result = checking_in.check_in(
        session_id=session_id,
        user_id=user_id,
        answers=read_check_in(view),
        delivery_key=context.get(DELIVERY_KEY),
    )
    if isinstance(result, Refusal):
        ack(response_action="errors", errors={ROLE_BLOCK: result.message})
        return
    ack()  # the check-in is committed; closing the form tells the person it counted
    if not isinstance(result, Duplicate):
        checking_in.follow_up(result)


def register(app: App, services: Services) -> None:
    """Register `/session`, the session message's check-in row, the form and its role
    suggestions."""
    app.command("/session")(handle_session_command)
    for action_id in ONE_CLICK_ACTIONS:
        app.action(action_id)(check_in_by_click)
    app.action(DETAILS_ACTION)(open_check_in)
    app.action(LEGACY_CHECK_IN_ACTION)(open_check_in)
    app.options(ROLE_ACTION)(suggest_roles)
    app.view(CHECK_IN_CALLBACK)(submit_check_in)
