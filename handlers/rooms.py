"""`/breakout`, `/report`, the Report back button and form; and posting rooms to Slack."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from typing_extensions import TypeIs

from bot.app import Services
from bot.parsing import UsageError, parse, split_subcommand
from bot.rooms import (
    BREAKOUT_SPEC,
    END_SPEC,
    FIELD_KEY_POINTS,
    FIELD_NEW_THEMES,
    FIELD_ROOM,
    FIELD_SUMMARY,
    FIELD_THEMES,
    QUOTES_MAX,
    REPORT_SPEC,
    FormErrors,
    QuoteAnswer,
    Reminders,
    ReportAnswers,
    ReportSaved,
    RoomChange,
    RoomService,
    RoomView,
    RoundEnded,
    RoundStarted,
    RoundView,
    parse_breakout_text,
    parse_move_text,
    quote_field,
)
from bot.sessions import Duplicate, Refusal
from bot.views.common import as_dicts
from bot.views.rooms import (
    CONSENT_YES,
    INPUT_ACTION,
    REPORT_ACTION,
    REPORT_CALLBACK,
    error_blocks,
    form_block_ids,
    render_breakout_help,
    render_joined_in_thread,
    render_joined_privately,
    render_left_in_thread,
    render_moved,
    render_notice,
    render_outside_thread,
    render_reminder,
    render_report_form,
    render_report_help,
    render_report_in_channel,
    render_report_in_thread,
    render_room_message,
    render_round_end_in_thread,
    render_round_ended,
    render_round_started,
    render_warning,
    render_your_room,
)
from handlers.middleware import DELIVERY_KEY
from handlers.replies import ack_refusal, ack_usage, not_posted
from handlers.sessions import parse_id

logger = logging.getLogger(__name__)

PRIVATE_SENDERS = 8


class SlackRoomPoster:
    """Shows rounds on Slack: room messages, thread notices, private notes, report-backs."""

    def __init__(self, client: WebClient, rooms: RoomService) -> None:
        self.client = client
        self.rooms = rooms
        # Telling a few hundred people their room one by one would take minutes.
        self._private = ThreadPoolExecutor(
            max_workers=PRIVATE_SENDERS, thread_name_prefix="room-private"
        )

    # -- small sends that must not stop the others ----------------------------------------------

    def _try(self, what: str, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except SlackApiError:
            logger.exception("could not %s", what)
            return None

    def _link(self, channel: str, room: RoomView) -> str | None:
        ts = room.room.message_ts
        if not ts:
            return None
        found = self._try(
            "get a room's permalink",
            lambda: self.client.chat_getPermalink(channel=channel, message_ts=ts),
        )
        return str(found["permalink"]) if found else None

    def tell(self, channel: str, user_id: str, text: str) -> None:
        """Tell someone privately, in the background: ephemeral, or a DM if that fails."""
        self._private.submit(self._tell, channel, user_id, text)

    def _tell(self, channel: str, user_id: str, text: str) -> None:
        try:
            self.client.chat_postEphemeral(channel=channel, user=user_id, text=text)
        except SlackApiError:
            # Not in the channel (e.g. joined only on Zoom): a direct message still reaches them.
            self._try(
                f"tell {user_id} their room",
                lambda: self.client.chat_postMessage(channel=user_id, text=text),
            )

    def _in_thread(self, channel: str, room: RoomView, text: str, blocks: Any = None) -> None:
        ts = room.room.message_ts
        if not ts:
            # The room's message was never stored (a crash right after posting it): say it in
            # the channel instead of not at all.
            text, blocks = render_outside_thread(room, text), None
        self._try(
            f"post in the thread of room {room.room.id}",
            lambda: self.client.chat_postMessage(
                channel=channel,
                thread_ts=ts,
                text=text,
                blocks=as_dicts(blocks) if blocks else None,
            ),
        )

    def _refresh_room(self, view: RoundView, room: RoomView) -> None:
        if not room.room.message_ts:
            return
        text, blocks = render_room_message(view, room)
        self._try(
            f"update the message of room {room.room.id}",
            lambda: self.client.chat_update(
                channel=view.session.channel_id,
                ts=room.room.message_ts or "",
                text=text,
                blocks=as_dicts(blocks),
            ),
        )

    # -- a new round ----------------------------------------------------------------------

    def post_rooms(self, started: RoundStarted, respond: Respond) -> None:
        """Post one message per room, then tell each member their room privately."""
        view = started.view
        channel = view.session.channel_id
        posted: list[RoomView] = []
        for room in view.rooms:
            text, blocks = render_room_message(view, room)
            try:
                answer = self.client.chat_postMessage(
                    channel=channel, text=text, blocks=as_dicts(blocks)
                )
            except SlackApiError as error:
                if posted:
                    logger.exception("could not post room %s", room.number)
                    continue
                # Nothing is posted yet: undo the round, so the facilitator can simply retry.
                assert view.round.id is not None
                self.rooms.discard(view.round.id)
                respond(
                    response_type="ephemeral",
                    replace_original=False,
                    text=not_posted(error, " the rooms", "the round was not started"),
                )
                return
            ts = str(answer["ts"])
            assert room.room.id is not None
            self.rooms.set_room_message(room.room.id, ts)
            room.room.message_ts = ts
            posted.append(room)
        for room in posted:
            link = self._link(channel, room)
            for user in room.user_ids:
                self.tell(channel, user, render_your_room(view, room, user, link))

    # -- announcements (timers, hooks, recovery) ------------------------------------------

    def round_warning(self, view: RoundView) -> None:
        """The warning in every room's thread."""
        text = render_warning(view)
        for room in view.rooms:
            self._in_thread(view.session.channel_id, room, text)

    def round_ended(self, ended: RoundEnded) -> None:
        """Time's up (or the session ended) in every room's thread."""
        for room in ended.view.rooms:
            text, blocks = render_round_end_in_thread(ended, room)
            self._in_thread(ended.view.session.channel_id, room, text, blocks)

    def reminders(self, reminders: Reminders) -> None:
        """One reminder in the thread of each room that has not reported back."""
        for room in reminders.rooms:
            text, blocks = render_reminder(room)
            self._in_thread(reminders.view.session.channel_id, room, text, blocks)

    def member_joined(self, change: RoomChange) -> None:
        """A late arrival or a move: the person, the room(s) and the room messages are told."""
        view = change.view
        channel = view.session.channel_id
        self.tell(
            channel,
            change.user_id,
            render_joined_privately(change, self._link(channel, change.to_room)),
        )
        self._in_thread(channel, change.to_room, render_joined_in_thread(change))
        self._refresh_room(view, change.to_room)
        if change.from_room is not None:
            self._in_thread(channel, change.from_room, render_left_in_thread(change))
            self._refresh_room(view, change.from_room)

    # -- report-backs ---------------------------------------------------------------------

    def report_saved(self, saved: ReportSaved) -> None:
        """The full report in the room's thread; a compact post in the channel."""
        channel = saved.view.session.channel_id
        text, blocks = render_report_in_thread(saved)
        if saved.room.room.message_ts:
            self._in_thread(channel, saved.room, text, blocks)
        else:
            self.client.chat_postMessage(channel=channel, text=text, blocks=as_dicts(blocks))
        text, blocks = render_report_in_channel(saved, self._link(channel, saved.room))
        earlier = saved.room.room.report_ts
        if earlier:
            updated = self._try(
                "update a report-back post",
                lambda: self.client.chat_update(
                    channel=channel, ts=earlier, text=text, blocks=as_dicts(blocks)
                ),
            )
            if updated:
                return
        posted = self.client.chat_postMessage(channel=channel, text=text, blocks=as_dicts(blocks))
        assert saved.room.room.id is not None
        self.rooms.set_report_message(saved.room.room.id, str(posted["ts"]))


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


def _value(values: dict[str, Any], block: str) -> dict[str, Any]:
    state = values.get(block, {}).get(INPUT_ACTION, {})
    return state if isinstance(state, dict) else {}


def read_report(view: dict[str, Any]) -> ReportAnswers:
    """The answers in a submitted report-back form."""
    values = view.get("state", {}).get("values", {})
    quotes = []
    for index in range(1, QUOTES_MAX + 1):
        consent = _value(values, quote_field("consent", index)).get("selected_options") or []
        quotes.append(
            QuoteAnswer(
                text=_value(values, quote_field("text", index)).get("value"),
                role=_value(values, quote_field("role", index)).get("value"),
                place=_value(values, quote_field("place", index)).get("value"),
                consent=any(option.get("value") == CONSENT_YES for option in consent),
            )
        )
    room = _value(values, FIELD_ROOM).get("selected_option") or {}
    themes = _value(values, FIELD_THEMES).get("selected_options") or []
    return ReportAnswers(
        summary=_value(values, FIELD_SUMMARY).get("value"),
        key_points=_value(values, FIELD_KEY_POINTS).get("value"),
        quotes=tuple(quotes),
        theme_ids=tuple(str(option.get("value")) for option in themes),
        new_themes=_value(values, FIELD_NEW_THEMES).get("value"),
        room_id=room.get("value") if room else None,
    )


def register(app: App, services: Services) -> None:
    """Register `/breakout`, `/report`, the Report back button and form; attach the poster."""
    rooms = services.rooms
    poster = SlackRoomPoster(services.client, rooms)
    rooms.announcer = poster

    @app.command("/breakout")
    def handle_breakout(
        ack: Ack, command: dict[str, Any], context: BoltContext, respond: Respond
    ) -> None:
        text = command.get("text", "")
        subcommand, rest = split_subcommand(text)
        channel_id, user_id = command["channel_id"], command["user_id"]
        key = context.get(DELIVERY_KEY)
        if (not subcommand and not rest) or "help" in (subcommand, rest.strip().lower()):
            ack(text="How to use /breakout", blocks=as_dicts(render_breakout_help()))
        elif subcommand == "end":
            parsed = parse(END_SPEC, rest)
            if _answered(parsed, ack):
                return
            ended = rooms.end(channel_id=channel_id, user_id=user_id, delivery_key=key)
            if _answered(ended, ack):
                return
            reply, blocks = render_round_ended(ended)
            ack(text=reply, blocks=as_dicts(blocks))
            poster.round_ended(ended)
        elif subcommand == "move":
            request = parse_move_text(rest)
            if _answered(request, ack):
                return
            moved = rooms.move(
                channel_id=channel_id, user_id=user_id, request=request, delivery_key=key
            )
            if _answered(moved, ack):
                return
            reply, blocks = render_moved(moved)
            ack(text=reply, blocks=as_dicts(blocks))
            poster.member_joined(moved)
        elif subcommand and not subcommand.isdecimal():
            unknown = UsageError(
                f"Unknown subcommand “{subcommand[:40]}”. Give a number of rooms, "
                "--size, end, move or help.",
                BREAKOUT_SPEC.usage,
                BREAKOUT_SPEC.example,
            )
            _answered(unknown, ack)
        else:
            start_round(ack, respond, channel_id, user_id, text, key)

    def start_round(
        ack: Ack, respond: Respond, channel_id: str, user_id: str, text: str, key: str | None
    ) -> None:
        request = parse_breakout_text(text)
        if _answered(request, ack):
            return
        started = rooms.start(
            channel_id=channel_id, user_id=user_id, request=request, delivery_key=key
        )
        if _answered(started, ack):
            return
        reply, blocks = render_round_started(started)
        ack(text=reply, blocks=as_dicts(blocks))
        poster.post_rooms(started, respond)

    @app.command("/report")
    def handle_report(
        ack: Ack, command: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        text = command.get("text", "")
        if text.strip().lower() == "help":
            ack(text="Usage: /report", blocks=as_dicts(render_report_help()))
            return
        parsed = parse(REPORT_SPEC, text)
        if _answered(parsed, ack):
            return
        form = rooms.report_form_for_channel(command["channel_id"], command["user_id"])
        if _answered(form, ack):
            return
        ack()
        client.views_open(trigger_id=command["trigger_id"], view=render_report_form(form))

    @app.action(REPORT_ACTION)
    def open_report(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        room_id = parse_id(body["actions"][0].get("value"))
        form = (
            rooms.report_form_for_room(room_id, body["user"]["id"])
            if room_id is not None
            else Refusal("That button is not from a breakout room.")
        )
        view = (
            render_notice("Report back", form.message)
            if isinstance(form, Refusal)
            else render_report_form(form)
        )
        client.views_open(trigger_id=body["trigger_id"], view=view)

    @app.view(REPORT_CALLBACK)
    def submit_report(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext
    ) -> None:
        room_id = parse_id(view.get("private_metadata"))
        present = form_block_ids(view)
        if room_id is None:
            ack(
                response_action="errors",
                errors=error_blocks({FIELD_SUMMARY: "This form is out of date."}, present),
            )
            return
        result = rooms.submit_report(
            room_id=room_id,
            user_id=body["user"]["id"],
            answers=read_report(view),
            delivery_key=context.get(DELIVERY_KEY),
        )
        if isinstance(result, FormErrors):
            ack(response_action="errors", errors=error_blocks(result.errors, present))
            return
        ack()  # the report-back is committed; closing the form tells the person it counted
        if isinstance(result, ReportSaved):
            poster.report_saved(result)
