"""`/poll`, its form, the vote buttons and the anonymous ballot; and posting polls to Slack."""

from __future__ import annotations

import functools
import logging
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import Ack, App, BoltContext, BoltResponse, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.app import Services
from bot.charts import bar_chart_png
from bot.parsing import UsageError, parse, split_subcommand
from bot.polls import (
    CLOSE_SPEC,
    NOT_A_POLL_BUTTON,
    AlreadyVoted,
    FormProblem,
    PollClosed,
    PollRequest,
    PollState,
    VoteOutcome,
    VoteRecorded,
    parse_poll_text,
    read_form,
    unquoted_question,
)
from bot.sessions import Duplicate, Refusal
from bot.views.common import as_dicts, trim
from bot.views.polls import (
    BALLOT_ACTION,
    BALLOT_BLOCK,
    BALLOT_CALLBACK,
    BALLOT_INPUT,
    DURATION_BLOCK,
    DURATION_INPUT,
    FORM_BLOCKS,
    FORM_CALLBACK,
    KEY_BLOCK,
    KEY_INPUT,
    OPTIONS_BLOCK,
    OPTIONS_INPUT,
    QUESTION_BLOCK,
    QUESTION_INPUT,
    RESULTS_ACTION,
    SWITCH_ANONYMOUS,
    SWITCH_HIDE,
    SWITCH_MULTI,
    SWITCHES_BLOCK,
    SWITCHES_INPUT,
    VOTE_ACTION,
    chart_note,
    parse_vote_value,
    plain_refusal,
    render_ballot_form,
    render_chart_comment,
    render_poll_form,
    render_poll_help,
    render_poll_message,
    render_results,
    render_vote_confirmation,
    render_vote_refused,
)
from bot.views.sessions import render_refusal
from handlers.middleware import DELIVERY_KEY, delivery_key
from handlers.replies import ack_refusal, ack_usage, not_posted
from handlers.sessions import parse_id

logger = logging.getLogger(__name__)

Blocks = list[dict[str, object]]
REPLY_LANES = 4
# A message Slack no longer lets us edit: post the results as a new message instead.
_GONE = frozenset({"message_not_found", "cant_update_message", "edit_window_closed"})


class SlackPollPublisher:
    """Shows polls on Slack: live and final messages, the chart, private replies."""

    def __init__(self, client: WebClient, on_posted: Callable[[int, str], None]) -> None:
        self.client = client
        self.on_posted = on_posted
        # Private replies leave the request threads at once. One lane per person keeps each
        # person's confirmations in the order of their clicks.
        self._lanes = [
            ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"poll-reply-{n}")
            for n in range(REPLY_LANES)
        ]

    def show_live(self, state: PollState) -> None:
        """Put the current tally on the poll's message."""
        text, blocks = render_poll_message(state)
        self.client.chat_update(
            channel=state.poll.channel_id,
            ts=state.poll.message_ts or "",
            text=text,
            blocks=as_dicts(blocks),
        )

    def show_final(self, state: PollState) -> None:
        """Final results on the poll's message, and the chart in its thread."""
        poll = state.poll
        text, blocks = render_poll_message(state)
        ts = poll.message_ts
        if ts:
            try:
                self.client.chat_update(
                    channel=poll.channel_id, ts=ts, text=text, blocks=as_dicts(blocks)
                )
            except SlackApiError as error:
                if error.response.get("error") not in _GONE:
                    raise
                ts = None
        if not ts:
            posted = self.client.chat_postMessage(
                channel=poll.channel_id, text=text, blocks=as_dicts(blocks)
            )
            ts = str(posted["ts"])
            self.on_posted(state.id, ts)
        chart = bar_chart_png(
            poll.question,
            state.options,
            state.tally.counts,
            total=state.tally.voters,
            percents=state.percents(),
            note=chart_note(state),
        )
        self.client.files_upload_v2(
            channel=poll.channel_id,
            thread_ts=ts,
            file=chart,
            filename=f"poll-{state.id}-results.png",
            title=trim(f"Results: {poll.question}", 250),
            alt_txt=trim(f"Bar chart of the results of the poll: {poll.question}", 1000),
            initial_comment=render_chart_comment(state),
        )

    def send_private(
        self, channel_id: str, user_id: str, text: str, blocks: Blocks | None = None
    ) -> None:
        """Send an ephemeral message in the background (after whatever it reports is done)."""
        lane = self._lanes[zlib.crc32(user_id.encode()) % len(self._lanes)]
        lane.submit(self._post_ephemeral, channel_id, user_id, text, blocks)

    def _post_ephemeral(
        self, channel_id: str, user_id: str, text: str, blocks: Blocks | None
    ) -> None:
        try:
            self.client.chat_postEphemeral(
                channel=channel_id, user=user_id, text=text, blocks=blocks or None
            )
        except Exception:
            logger.exception("could not send a private poll reply to %s", user_id)


def _is_vote(body: dict[str, Any]) -> bool:
    """Whether a request is a click on a poll option."""
    if body.get("type") != "block_actions":
        return False
    actions = body.get("actions") or [{}]
    return bool(VOTE_ACTION.match(str(actions[0].get("action_id", ""))))


@functools.lru_cache(maxsize=4096)
def _confirmation(result: VoteRecorded) -> tuple[str, Blocks | None]:
    """A vote's confirmation, ready to send.

    Hundreds of voters get the same few confirmations, so each is rendered (and its Block Kit
    validated) once. Blocks only when there is a button to show; otherwise the text says it all.
    """
    text, blocks = render_vote_confirmation(result)
    return text, as_dicts(blocks) if not result.checked_in else None


def _state(values: dict[str, Any], block: str, action: str) -> dict[str, Any]:
    state = values.get(block, {}).get(action, {})
    return state if isinstance(state, dict) else {}


def read_poll_form(view: dict[str, Any]) -> PollRequest | FormProblem:
    """The poll request in a submitted form, or the field that is wrong."""
    values = view.get("state", {}).get("values", {})
    switches = {
        option.get("value")
        for option in _state(values, SWITCHES_BLOCK, SWITCHES_INPUT).get("selected_options") or []
    }
    return read_form(
        question=_state(values, QUESTION_BLOCK, QUESTION_INPUT).get("value"),
        options_text=_state(values, OPTIONS_BLOCK, OPTIONS_INPUT).get("value"),
        duration_text=_state(values, DURATION_BLOCK, DURATION_INPUT).get("value"),
        multi=SWITCH_MULTI in switches,
        anonymous=SWITCH_ANONYMOUS in switches,
        hide_results=SWITCH_HIDE in switches,
        key_text=_state(values, KEY_BLOCK, KEY_INPUT).get("value"),
    )


def read_ballot(view: dict[str, Any]) -> list[int] | None:
    """The options chosen in a ballot form, or None if a value was tampered with."""
    values = view.get("state", {}).get("values", {})
    chosen = _state(values, BALLOT_BLOCK, BALLOT_INPUT).get("selected_options") or []
    indexes = [parse_id(option.get("value")) for option in chosen if isinstance(option, dict)]
    if any(index is None for index in indexes):
        return None
    return [index for index in indexes if index is not None]


def _channel_of(body: dict[str, Any]) -> str | None:
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
        "channel_id"
    )
    return channel if isinstance(channel, str) else None


def register(app: App, services: Services) -> None:
    """Register `/poll`, its form, the vote and results buttons and the anonymous ballot."""
    polls = services.polls
    publisher = SlackPollPublisher(services.client, on_posted=polls.set_message)
    polls.attach(publisher)

    def reply_to_vote(channel_id: str, user_id: str, outcome: VoteOutcome) -> None:
        if isinstance(outcome, Duplicate):
            return
        if isinstance(outcome, VoteRecorded):
            publisher.send_private(channel_id, user_id, *_confirmation(outcome))
        elif isinstance(outcome, Refusal):
            publisher.send_private(
                channel_id, user_id, outcome.message, as_dicts(render_refusal(outcome.message))
            )
        else:
            publisher.send_private(channel_id, user_id, render_vote_refused(outcome))

    def post_poll(client: WebClient, state: PollState, tell: Callable[[str], object]) -> None:
        text, blocks = render_poll_message(state)
        try:
            posted = client.chat_postMessage(
                channel=state.poll.channel_id, text=text, blocks=as_dicts(blocks)
            )
        except SlackApiError as error:
            # Nobody could vote without the message: undo the poll and say how to fix it.
            polls.discard(state.id)
            tell(not_posted(error, " the poll", "it was not launched"))
            return
        polls.set_message(state.id, str(posted["ts"]))

    @app.command("/poll")
    def handle_poll_command(
        ack: Ack,
        command: dict[str, Any],
        client: WebClient,
        context: BoltContext,
        respond: Respond,
    ) -> None:
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
            client.views_open(trigger_id=command["trigger_id"], view=render_poll_form(channel_id))
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
            ack()
            if not isinstance(closed, Duplicate):
                polls.announce(closed.poll_id)
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
        )
        if isinstance(launched, Refusal):
            ack_refusal(ack, launched.message)
            return
        ack()
        if isinstance(launched, Duplicate):
            return
        post_poll(
            client,
            launched.state,
            lambda message: respond(
                response_type="ephemeral", replace_original=False, text=message
            ),
        )

    @app.view(FORM_CALLBACK)
    def submit_poll_form(
        ack: Ack,
        body: dict[str, Any],
        view: dict[str, Any],
        client: WebClient,
        context: BoltContext,
    ) -> None:
        user_id = body["user"]["id"]
        channel_id = str(view.get("private_metadata") or "")
        request = read_poll_form(view)
        if isinstance(request, FormProblem):
            ack(response_action="errors", errors={FORM_BLOCKS[request.field]: request.message})
            return
        launched = polls.launch(
            channel_id=channel_id,
            user_id=user_id,
            request=request,
            delivery_key=context.get(DELIVERY_KEY),
        )
        ack()  # the form closes; what happened is said in the channel or privately
        if isinstance(launched, Duplicate):
            return
        if isinstance(launched, Refusal):
            publisher.send_private(
                channel_id, user_id, launched.message, as_dicts(render_refusal(launched.message))
            )
            return
        # A form has no response_url; a direct message reaches the facilitator even when the
        # bot cannot post in the channel.
        post_poll(
            client,
            launched.state,
            lambda message: client.chat_postMessage(channel=user_id, text=message),
        )

    @app.use
    def handle_vote(
        body: dict[str, Any], ack: Ack, next: Callable[[], None]
    ) -> BoltResponse | None:
        """Votes are answered in the request's own thread, as a middleware.

        A listener would run on Bolt's small worker pool while the request thread polls for
        its ack every 10 ms; under a burst of voters that handoff costs more than the vote.
        The vote is one short transaction, so answering it here is both faster and safe.
        """
        if not _is_vote(body):
            next()
            return None
        user_id = body["user"]["id"]
        channel_id = _channel_of(body)
        target = parse_vote_value(body["actions"][0].get("value"))
        outcome: VoteOutcome = (
            polls.vote(
                poll_id=target[0],
                option_indexes=(target[1],),
                user_id=user_id,
                channel_id=channel_id,
                # Runs before the redelivery middleware: the vote claims its key itself.
                delivery_key=delivery_key(body),
            )
            if target is not None and channel_id is not None
            else Refusal(NOT_A_POLL_BUTTON)
        )
        ack()  # after the commit: Slack retries a click we never acknowledged
        if channel_id is not None:
            reply_to_vote(channel_id, user_id, outcome)
        return BoltResponse(status=200, body="")

    @app.action(RESULTS_ACTION)
    def show_results(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        user_id = body["user"]["id"]
        channel_id = _channel_of(body)
        poll_id = parse_id(body["actions"][0].get("value"))
        if channel_id is None:
            return
        results = (
            polls.results(poll_id=poll_id, user_id=user_id)
            if poll_id is not None
            else Refusal(NOT_A_POLL_BUTTON)
        )
        if isinstance(results, Refusal):
            publisher.send_private(
                channel_id, user_id, results.message, as_dicts(render_refusal(results.message))
            )
            return
        text, _ = render_poll_message(results)
        publisher.send_private(channel_id, user_id, text, as_dicts(render_results(results)))

    @app.action(BALLOT_ACTION)
    def open_ballot(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        user_id = body["user"]["id"]
        channel_id = _channel_of(body)
        poll_id = parse_id(body["actions"][0].get("value"))
        ballot = (
            polls.ballot(poll_id=poll_id, user_id=user_id)
            if poll_id is not None
            else Refusal(NOT_A_POLL_BUTTON)
        )
        if isinstance(ballot, PollState):
            client.views_open(trigger_id=body["trigger_id"], view=render_ballot_form(ballot))
        elif channel_id is not None:
            reply_to_vote(channel_id, user_id, ballot)

    @app.view(BALLOT_CALLBACK)
    def submit_ballot(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext
    ) -> None:
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
        ack()  # the ballot is committed; closing the form tells the voter it counted
        if isinstance(outcome, VoteRecorded):
            reply_to_vote(outcome.channel_id, user_id, outcome)
