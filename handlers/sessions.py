"""`/session` and check-in listeners."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.app import Services
from bot.parsing import UsageError, parse, split_subcommand
from bot.sessions import (
    SESSION_EXAMPLE,
    SESSION_USAGE,
    SUBCOMMANDS,
    CheckInAnswers,
    Duplicate,
    Refusal,
    parse_start_text,
)
from bot.views.common import as_dicts
from bot.views.sessions import (
    CHECK_IN_ACTION,
    CHECK_IN_CALLBACK,
    CONSENT_ACTION,
    CONSENT_BLOCK,
    CONSENT_YES,
    GROUP_ACTION,
    GROUP_BLOCK,
    PLACE_ACTION,
    PLACE_BLOCK,
    ROLE_ACTION,
    ROLE_BLOCK,
    render_check_in_closed,
    render_check_in_form,
    render_checked_in,
    render_role_options,
    render_session_ended,
    render_session_help,
    render_session_message,
    render_status,
)
from handlers.middleware import DELIVERY_KEY
from handlers.replies import ack_refusal, ack_usage, not_posted

logger = logging.getLogger(__name__)


def run_each(steps: list[Callable[[], object]], *, what: str) -> None:
    """Run every step after an ack; one failing (Slack down, a deleted message) is logged and
    does not stop the others."""
    for step in steps:
        try:
            step()
        except Exception:
            logger.exception("%s: a step failed", what)


def parse_id(value: object) -> int | None:
    """An id carried in a button value or private_metadata; None if it was tampered with."""
    if isinstance(value, str) and value.isdigit() and len(value) < 19:
        return int(value)
    return None


def _state_value(values: dict[str, Any], block: str, action: str) -> dict[str, Any]:
    state = values.get(block, {}).get(action, {})
    return state if isinstance(state, dict) else {}


def read_check_in(view: dict[str, Any]) -> CheckInAnswers:
    """The answers in a submitted check-in form."""
    values = view.get("state", {}).get("values", {})
    role = _state_value(values, ROLE_BLOCK, ROLE_ACTION).get("selected_option") or {}
    consent = _state_value(values, CONSENT_BLOCK, CONSENT_ACTION).get("selected_options") or []
    return CheckInAnswers(
        role=role.get("value"),
        place=_state_value(values, PLACE_BLOCK, PLACE_ACTION).get("value"),
        group_name=_state_value(values, GROUP_BLOCK, GROUP_ACTION).get("value"),
        consent_to_quote=any(option.get("value") == CONSENT_YES for option in consent),
    )


def register(app: App, services: Services) -> None:
    """Register `/session`, the Check in button, its form and its role suggestions."""
    sessions = services.sessions

    @app.command("/session")
    def handle_session_command(
        ack: Ack,
        command: dict[str, Any],
        client: WebClient,
        context: BoltContext,
        respond: Respond,
    ) -> None:
        subcommand, rest = split_subcommand(command.get("text", ""))
        channel_id, user_id = command["channel_id"], command["user_id"]
        if subcommand in ("", "help") or rest.strip().lower() == "help":
            ack(text=f"Usage: {SESSION_USAGE}", blocks=as_dicts(render_session_help()))
            return
        spec = SUBCOMMANDS.get(subcommand)
        if spec is None:
            ack_usage(
                ack,
                UsageError(
                    message=f"Unknown subcommand “{subcommand[:40]}”. Use start, status, end "
                    "or help.",
                    usage=SESSION_USAGE,
                    example=SESSION_EXAMPLE,
                ),
            )
            return
        if subcommand == "start":
            start_session(ack, client, respond, context, channel_id, user_id, rest)
            return
        parsed = parse(spec, rest)
        if isinstance(parsed, UsageError):
            ack_usage(ack, parsed)
        elif subcommand == "status":
            status = sessions.status(channel_id)
            if isinstance(status, Refusal):
                ack_refusal(ack, status.message)
                return
            facilitator = sessions.is_facilitator(user_id, status.session)
            running = [line for lines in services.status_lines for line in lines(status.session)]
            text, blocks = render_status(
                status,
                running=running,
                facilitators=sessions.facilitators(status.session),
                is_facilitator=facilitator,
            )
            ack(text=text, blocks=as_dicts(blocks))
        else:
            end_session(ack, client, context, channel_id, user_id)

    def start_session(
        ack: Ack,
        client: WebClient,
        respond: Respond,
        context: BoltContext,
        channel_id: str,
        user_id: str,
        text: str,
    ) -> None:
        request = parse_start_text(text)
        if isinstance(request, UsageError):
            ack_usage(ack, request)
            return
        started = sessions.start(
            channel_id=channel_id,
            user_id=user_id,
            request=request,
            delivery_key=context.get(DELIVERY_KEY),
        )
        if isinstance(started, Refusal):
            ack_refusal(ack, started.message)
            return
        ack()
        if isinstance(started, Duplicate):
            return
        assert started.id is not None
        text_fallback, blocks = render_session_message(sessions.view(started))
        try:
            posted = client.chat_postMessage(
                channel=channel_id, text=text_fallback, blocks=as_dicts(blocks)
            )
        except SlackApiError as error:
            # Without its message nobody can check in, so undo the start and say how to fix it.
            sessions.discard(started.id)
            respond(
                response_type="ephemeral",
                replace_original=False,
                text=not_posted(error, "", "the session was not started"),
            )
            return
        sessions.set_message(started.id, str(posted["ts"]))

    def end_session(
        ack: Ack, client: WebClient, context: BoltContext, channel_id: str, user_id: str
    ) -> None:
        ended = sessions.end(
            channel_id=channel_id, user_id=user_id, delivery_key=context.get(DELIVERY_KEY)
        )
        if isinstance(ended, Refusal):
            ack_refusal(ack, ended.message)
            return
        ack()
        if isinstance(ended, Duplicate):
            return
        session = ended.session

        def update_session_message() -> None:
            if session.message_ts:
                text, blocks = render_session_message(ended)
                client.chat_update(
                    channel=channel_id, ts=session.message_ts, text=text, blocks=as_dicts(blocks)
                )

        def announce_end() -> None:
            text, blocks = render_session_ended(ended)
            client.chat_postMessage(channel=channel_id, text=text, blocks=as_dicts(blocks))

        # Close what is still open (polls, rounds), announce the end, then post the summary.
        # One failing step (Slack down, a deleted message) must not stop the others.
        closing = [partial(hook, session) for hook in services.on_session_end]
        reporting = [partial(hook, session) for hook in services.after_session_end]
        steps: list[Callable[[], object]] = [
            update_session_message,
            *closing,
            announce_end,
            *reporting,
        ]
        run_each(steps, what=f"end of session {session.id}")

    @app.action(CHECK_IN_ACTION)
    def open_check_in(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        session_id = parse_id(body["actions"][0].get("value"))
        user_id = body["user"]["id"]
        form = (
            sessions.check_in_form(session_id=session_id, user_id=user_id)
            if session_id is not None
            else Refusal("That button is not from a listening session.")
        )
        view = (
            render_check_in_closed(form.message)
            if isinstance(form, Refusal)
            else render_check_in_form(form)
        )
        client.views_open(trigger_id=body["trigger_id"], view=view)

    @app.options(ROLE_ACTION)
    def suggest_roles(ack: Ack, body: dict[str, Any]) -> None:
        roles = sessions.role_suggestions(str(body.get("value", "")))
        ack(options=render_role_options(roles))

    @app.view(CHECK_IN_CALLBACK)
    def submit_check_in(
        ack: Ack,
        body: dict[str, Any],
        view: dict[str, Any],
        client: WebClient,
        context: BoltContext,
    ) -> None:
        session_id = parse_id(view.get("private_metadata"))
        user_id = body["user"]["id"]
        if session_id is None:
            ack(response_action="errors", errors={ROLE_BLOCK: "This form is out of date."})
            return
        result = sessions.check_in(
            session_id=session_id,
            user_id=user_id,
            answers=read_check_in(view),
            delivery_key=context.get(DELIVERY_KEY),
        )
        if isinstance(result, Refusal):
            ack(response_action="errors", errors={ROLE_BLOCK: result.message})
            return
        ack()  # the check-in is committed; closing the form tells the person it counted
        if isinstance(result, Duplicate):
            return
        # Joining a running round matters more than the confirmation, so it goes first, and
        # neither may stop the other.
        steps: list[Callable[[], object]] = [partial(hook, result) for hook in services.on_check_in]
        steps.append(
            partial(
                client.chat_postEphemeral,
                channel=result.channel_id,
                user=user_id,
                text=render_checked_in(result),
            )
        )
        run_each(steps, what=f"check-in of {user_id}")
