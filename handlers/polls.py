"""`/poll`, its form, the vote buttons and the anonymous ballot.

Committed changes are posted by the outbox (`bot.slack.polls`): after `ack()` these listeners
only answer what changed nothing (a refusal, the private results) through `outbox.send_now`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext, BoltResponse, Respond

from bot.parsing import UsageError, parse, split_subcommand
from bot.polls import (
    CLOSE_SPEC,
    NOT_A_POLL_BUTTON,
    AlreadyVoted,
    FormProblem,
    PollClosed,
    PollState,
    VoteOutcome,
    VoteRecorded,
    parse_poll_text,
    unquoted_question,
)
from bot.results import Duplicate, Refusal
from bot.services import Services
from bot.slack.forms import open_form
from bot.slack.private import answer_now
from bot.views.common import as_dicts, parse_id
from bot.views.poll_forms import (
    BALLOT_BLOCK,
    BALLOT_CALLBACK,
    FORM_BLOCKS,
    FORM_CALLBACK,
    read_ballot,
    read_poll_form,
    render_ballot_form,
    render_poll_form,
)
from bot.views.polls import (
    BALLOT_ACTION,
    RESULTS_ACTION,
    VOTE_ACTION,
    parse_vote_value,
    plain_refusal,
    render_poll_help,
    render_poll_message,
    render_results,
    render_vote_refused,
)
from bot.views.sessions import render_refusal
from handlers.context import services_of
from handlers.middleware import DELIVERY_KEY, delivery_key
from handlers.replies import ack_refusal, ack_usage, privately


def register(app: App, services: Services) -> None:
    """Register `/poll`, its form, the vote and results buttons and the anonymous ballot."""
    app.command("/poll")(handle_poll_command)
    app.view(FORM_CALLBACK)(submit_poll_form)
    app.use(handle_vote)
    app.action(RESULTS_ACTION)(show_results)
    app.action(BALLOT_ACTION)(open_ballot)
    app.view(BALLOT_CALLBACK)(submit_ballot)


def handle_poll_command(
    ack: Ack, command: dict[str, Any], respond: Respond, context: BoltContext
) -> None:
    """`/poll`: launch a poll, open the form (no text), `close` the newest one, or `help`."""
    services = services_of(context)
    polls = services.polls
    text = command.get("text", "")
    channel_id, user_id = command["channel_id"], command["user_id"]
    subcommand, rest = split_subcommand(text)
    if subcommand == "help" or (subcommand and rest.strip().lower() == "help"):
        ack(text="How to use /poll", blocks=as_dicts(render_poll_help()))
        return
    if not text.strip():
        allowed = polls.may_control(channel_id=channel_id, user_id=user_id)
        if isinstance(allowed, Refusal):
            ack_refusal(ack, allowed.message)
            return
        ack()
        open_form(
            services.client,
            trigger_id=command["trigger_id"],
            view=render_poll_form(channel_id),
            tell=privately(respond),
        )
        return
    if subcommand == "close":
        parsed = parse(CLOSE_SPEC, rest)
        if isinstance(parsed, UsageError):
            ack_usage(ack, parsed)
            return
        closed = polls.close_newest(
            channel_id=channel_id, user_id=user_id, delivery_key=context.get(DELIVERY_KEY)
        )
        if isinstance(closed, Refusal):
            ack_refusal(ack, closed.message)
            return
        ack()  # the results are queued with the close
        return
    if subcommand:
        ack_usage(ack, unquoted_question(subcommand))
        return
    request = parse_poll_text(text)
    if isinstance(request, UsageError):
        ack_usage(ack, request)
        return
    launched = polls.launch(
        channel_id=channel_id,
        user_id=user_id,
        request=request,
        delivery_key=context.get(DELIVERY_KEY),
        # If Slack refuses the poll's message, the facilitator is told here.
        response_url=command.get("response_url"),
    )
    if isinstance(launched, Refusal):
        ack_refusal(ack, launched.message)
        return
    ack()  # the channel sees the poll: its message is queued with it


def submit_poll_form(
    ack: Ack,
    body: dict[str, Any],
    view: dict[str, Any],
    context: BoltContext,
) -> None:
    """The `/poll` form, submitted: launch the poll, or show what is wrong on the form."""
    services = services_of(context)
    user_id = body["user"]["id"]
    channel_id = str(view.get("private_metadata") or "")
    request = read_poll_form(view)
    if isinstance(request, FormProblem):
        ack(response_action="errors", errors={FORM_BLOCKS[request.field]: request.message})
        return
    launched = services.polls.launch(
        channel_id=channel_id,
        user_id=user_id,
        request=request,
        delivery_key=context.get(DELIVERY_KEY),
    )
    ack()  # the form closes; what happened is said in the channel or privately
    if isinstance(launched, Refusal):
        _tell(services, channel_id, user_id, launched)


def handle_vote(
    body: dict[str, Any],
    ack: Ack,
    context: BoltContext,
    next: Callable[[], None],
) -> BoltResponse | None:
    """Votes are answered in the request's own thread, as a middleware.

    A listener would run on Bolt's small worker pool while the request thread polls for
    its ack every 10 ms; under a burst of voters that handoff costs more than the vote.
    The vote is one short transaction, so answering it here is both faster and safe.
    """
    if not _is_vote(body):
        next()
        return None
    services = services_of(context)
    user_id = body["user"]["id"]
    channel_id = _channel_of(body)
    target = parse_vote_value(body["actions"][0].get("value"))
    outcome: VoteOutcome = (
        services.polls.vote(
            poll_id=target[0],
            option_indexes=(target[1],),
            user_id=user_id,
            channel_id=channel_id,
            # Runs before the redelivery middleware: the vote claims its key itself.
            delivery_key=delivery_key(body),
            response_url=body.get("response_url"),
        )
        if target is not None and channel_id is not None
        else Refusal(NOT_A_POLL_BUTTON)
    )
    ack()  # after the commit: Slack retries a click we never acknowledged
    if channel_id is not None:
        _tell(services, channel_id, user_id, outcome, response_url=body.get("response_url"))
    return BoltResponse(status=200, body="")


def show_results(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    """The "Results (facilitators)" button: the current results, privately, even if hidden."""
    ack()
    services = services_of(context)
    user_id = body["user"]["id"]
    channel_id = _channel_of(body)
    poll_id = parse_id(body["actions"][0].get("value"))
    if channel_id is None:
        return
    results = (
        services.polls.results(poll_id=poll_id, user_id=user_id)
        if poll_id is not None
        else Refusal(NOT_A_POLL_BUTTON)
    )
    if isinstance(results, Refusal):
        _tell(services, channel_id, user_id, results, response_url=body.get("response_url"))
        return
    text, _ = render_poll_message(results)
    _answer(
        services,
        "a poll's results",
        body.get("response_url"),
        channel_id=channel_id,
        user_id=user_id,
        text=text,
        blocks=as_dicts(render_results(results)),
    )


def open_ballot(ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    """The "Vote" button of an anonymous multiple-choice poll: open the ballot, unless refused."""
    ack()
    services = services_of(context)
    user_id = body["user"]["id"]
    channel_id = _channel_of(body)
    poll_id = parse_id(body["actions"][0].get("value"))
    ballot = (
        services.polls.ballot(poll_id=poll_id, user_id=user_id)
        if poll_id is not None
        else Refusal(NOT_A_POLL_BUTTON)
    )
    if isinstance(ballot, PollState):
        open_form(
            services.client,
            trigger_id=body["trigger_id"],
            view=render_ballot_form(ballot),
            tell=privately(respond),
        )
    elif channel_id is not None:
        _tell(services, channel_id, user_id, ballot, response_url=body.get("response_url"))


def submit_ballot(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext
) -> None:
    """The anonymous ballot, submitted: record it, or say on the form why it was refused."""
    polls = services_of(context).polls
    user_id = body["user"]["id"]
    poll_id = parse_id(view.get("private_metadata"))
    chosen = read_ballot(view)
    outcome: VoteOutcome = (
        polls.vote(
            poll_id=poll_id,
            option_indexes=chosen,
            user_id=user_id,
            channel_id=None,
            delivery_key=context.get(DELIVERY_KEY),
        )
        if poll_id is not None and chosen is not None
        else Refusal(NOT_A_POLL_BUTTON)
    )
    if isinstance(outcome, PollClosed | AlreadyVoted):
        ack(response_action="errors", errors={BALLOT_BLOCK: plain_refusal(outcome)})
        return
    if isinstance(outcome, Refusal):
        ack(response_action="errors", errors={BALLOT_BLOCK: outcome.message})
        return
    ack()  # the ballot and its confirmation are committed; the form closes


def _tell(
    services: Services,
    channel_id: str,
    user_id: str,
    outcome: VoteOutcome,
    *,
    response_url: str | None = None,
) -> None:
    """Tell someone, privately, why nothing was done (a committed vote confirms itself, via
    the outbox; a redelivery is answered by nothing): through the click's response_url."""
    if isinstance(outcome, Duplicate | VoteRecorded):
        return
    if isinstance(outcome, Refusal):
        text, blocks = outcome.message, as_dicts(render_refusal(outcome.message))
    else:
        text, blocks = render_vote_refused(outcome), None
    _answer(
        services,
        "a refusal",
        response_url,
        channel_id=channel_id,
        user_id=user_id,
        text=text,
        blocks=blocks,
    )


def _answer(
    services: Services,
    what: str,
    response_url: str | None,
    *,
    channel_id: str,
    user_id: str,
    text: str,
    blocks: list[dict[str, Any]] | None,
) -> None:
    """Answer privately, after the ack, on the sender's workers (nothing to retry: it follows
    from no committed change)."""
    services.outbox.send_now(
        what,
        lambda: answer_now(
            services.client,
            response_url,
            channel=channel_id,
            user_id=user_id,
            text=text,
            blocks=blocks,
        ),
    )


def _is_vote(body: dict[str, Any]) -> bool:
    """Whether a request is a click on a poll option."""
    if body.get("type") != "block_actions":
        return False
    actions = body.get("actions") or [{}]
    return bool(VOTE_ACTION.match(str(actions[0].get("action_id", ""))))


def _channel_of(body: dict[str, Any]) -> str | None:
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
        "channel_id"
    )
    return channel if isinstance(channel, str) else None
