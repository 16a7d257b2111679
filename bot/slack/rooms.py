"""What breakout rounds post to Slack, rendered from the database when the outbox sends it.

Each kind of `bot.rooms.effects` has a sender here. A sender reads the round as it is now (so a
warning for a round that has ended, or a reminder for a room that has reported, sends nothing),
posts, and stores what Slack answered (a room message's ts) through the room service. Failures
are the outbox sender's to retry; a refusal of a new round's first room message undoes the round
and tells the facilitator.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block

from bot.rooms import RoomChange, RoomService, RoomView, RoundEnded, RoundView
from bot.rooms import effects as kinds
from bot.slack.kinds import Kind, Progress, edit_in_place, is_transient
from bot.slack.private import tell_requester
from bot.slack.sender import OutboxSender
from bot.views.common import as_dicts, render_not_posted
from bot.views.reports import render_report_in_channel, render_report_in_thread
from bot.views.rooms import (
    render_joined_in_thread,
    render_joined_privately,
    render_left_in_thread,
    render_outside_thread,
    render_reminder,
    render_room_message,
    render_round_end_in_thread,
    render_warning,
    render_your_room,
)
from storage.outbox import Pending
from storage.zoom.people import is_zoom_only

logger = logging.getLogger(__name__)

_DM_STEP = "dm"
LINKS_KEPT = 1000


def _code(error: SlackApiError) -> str:
    return str(error.response.get("error") or "")


class RoomPosts:
    """Sends each kind of room effect with one Web API client."""

    def __init__(self, client: WebClient, rooms: RoomService) -> None:
        self.client = client
        self.rooms = rooms
        # A message's permalink never changes: a room of 100 people needs it once, not 100 times.
        self._links: dict[tuple[str, str], str] = {}

    # -- helpers ----------------------------------------------------------------------------

    def _room(self, row: Pending, arg: str = "room_id") -> tuple[RoundView, RoomView] | None:
        return self.rooms.room_view(row.int_arg(arg))

    def _link(self, channel: str, room: RoomView) -> str | None:
        """The permalink of a room's message (its thread), if it is posted and Slack says."""
        ts = room.room.message_ts
        if not ts:
            return None
        link = self._links.get((channel, ts))
        if link is not None:
            return link
        try:
            found = self.client.chat_getPermalink(channel=channel, message_ts=ts)
        except SlackApiError:
            logger.warning("no permalink for room %s; its notice goes without a link", room.room.id)
            return None
        if len(self._links) >= LINKS_KEPT:
            self._links.clear()
        link = self._links[(channel, ts)] = str(found["permalink"])
        return link

    def _in_thread(
        self, view: RoundView, room: RoomView, text: str, blocks: Sequence[Block] | None = None
    ) -> bool:
        self._post_in_thread(view, room, text, blocks)
        return True

    def _post_in_thread(
        self, view: RoundView, room: RoomView, text: str, blocks: Sequence[Block] | None = None
    ) -> str:
        """Post in a room's thread; returns the post's ts."""
        ts = room.room.message_ts
        if not ts:
            # The room's message never went out (Slack refused it): say it in the channel
            # instead of not at all.
            text, blocks = render_outside_thread(room, text), None
        posted = self.client.chat_postMessage(
            channel=view.session.channel_id,
            thread_ts=ts,
            text=text,
            blocks=as_dicts(blocks) if blocks else None,
        )
        return str(posted["ts"])

    def _tell(self, channel: str, user_id: str, text: str, progress: Progress) -> bool:
        """Tell someone privately: ephemeral, or a direct message if that is refused.

        Zoom-only people (in the round from the Zoom meeting) have no Slack account: nothing
        is sent to them; the facilitator's list for Zoom's chat tells them their room.
        """
        if is_zoom_only(user_id):
            return False
        if not progress.get(_DM_STEP):
            try:
                self.client.chat_postEphemeral(channel=channel, user=user_id, text=text)
                return True
            except SlackApiError as error:
                if is_transient(error):
                    raise
                # Not in the channel (e.g. joined only on Zoom): a direct message still
                # reaches them.
                progress.done(_DM_STEP)
        self.client.chat_postMessage(channel=user_id, text=text)
        return True

    # -- a new round ------------------------------------------------------------------------

    def post_room(self, row: Pending, progress: Progress) -> bool:
        """A room's message; its members are told once it is stored."""
        found = self._room(row)
        if found is None:
            return False  # the round was undone
        view, room = found
        if room.room.message_ts:
            return False  # posted just before a restart
        text, blocks = render_room_message(view, room)
        posted = self.client.chat_postMessage(
            channel=view.session.channel_id, text=text, blocks=as_dicts(blocks)
        )
        assert room.room.id is not None
        self.rooms.room_posted(room.room.id, str(posted["ts"]))
        return True

    def room_refused(self, row: Pending, error: SlackApiError) -> None:
        """Slack will not post a room: with none posted, undo the round and say why."""
        undone = self.rooms.undo_unposted(row.int_arg("round_id"))
        if undone is None:
            return  # other rooms are in the channel: the round goes on without this one
        text = render_not_posted(
            _code(error) or "unknown_error", " the rooms", "the round was not started"
        )
        tell_requester(self.client, row, user_id=undone.started_by, text=text)

    def tell_room(self, row: Pending, progress: Progress) -> bool:
        """A member's private "you're in Room N", with a link to its thread."""
        found = self._room(row)
        user = row.str_arg("user_id")
        if found is None or user is None or user not in found[1].user_ids:
            return False  # moved away since: their move notice tells them
        if is_zoom_only(user):
            return False  # nobody to tell in Slack
        view, room = found
        channel = view.session.channel_id
        text = render_your_room(view, room, user, self._link(channel, room))
        return self._tell(channel, user, text, progress)

    # -- timers -----------------------------------------------------------------------------

    def warn(self, row: Pending, progress: Progress) -> bool:
        """The warning, only while the round is still running."""
        found = self._room(row)
        if found is None or found[0].round.ended_at is not None:
            return False
        view, room = found
        return self._in_thread(view, room, render_warning(view))

    def end(self, row: Pending, progress: Progress) -> bool:
        """Time's up, or the session's end, in a room's thread."""
        found = self._room(row)
        if found is None:
            return False
        view, room = found
        ended = RoundEnded(view, view.round.end_reason or "time")
        text, blocks = render_round_end_in_thread(ended, room)
        return self._in_thread(view, room, text, blocks)

    def remind(self, row: Pending, progress: Progress) -> bool:
        """The reminder, unless the room has reported or the session has ended meanwhile."""
        found = self._room(row)
        if found is None or found[1].reported or found[0].session.ended_at is not None:
            return False
        view, room = found
        text, blocks = render_reminder(room)
        return self._in_thread(view, room, text, blocks)

    # -- people -----------------------------------------------------------------------------

    def _change(self, row: Pending) -> RoomChange | None:
        found = self._room(row, "to_room_id")
        user = row.str_arg("user_id")
        if found is None or user is None:
            return None
        view, to_room = found
        from_id = row.args.get("from_room_id")
        from_room = view.room_by_id(from_id) if isinstance(from_id, int) else None
        return RoomChange(view, user, to_room, from_room, moved_by=row.str_arg("moved_by"))

    def tell_member(self, row: Pending, progress: Progress) -> bool:
        """A late arrival or a moved person is told their room."""
        change = self._change(row)
        if change is None or is_zoom_only(change.user_id):
            return False  # gone; or Zoom-only, with nobody to tell in Slack
        channel = change.view.session.channel_id
        text = render_joined_privately(change, self._link(channel, change.to_room))
        return self._tell(channel, change.user_id, text, progress)

    def note_member(self, row: Pending, progress: Progress) -> bool:
        """A room's thread hears who joined it or left it."""
        change = self._change(row)
        room = change.view.room_by_id(row.int_arg("room_id")) if change else None
        if change is None or room is None:
            return False
        assert room.room.id is not None
        ts = self._post_in_thread(change.view, room, _note_text(change, room))
        # Kept so the note can be edited when its person is erased.
        self.rooms.note_posted(change, room.room.id, ts)
        return True

    def edit_note(self, row: Pending, progress: Progress) -> bool:
        """A posted "joined"/"left" note shown again from its row (its person was erased)."""
        posted = self.rooms.posted_note(row.int_arg("note_id"))
        if posted is None:
            return False  # the round is gone
        text = _note_text(posted.change, posted.room)
        if not posted.room.room.message_ts:
            text = render_outside_thread(posted.room, text)
        channel = posted.change.view.session.channel_id
        return edit_in_place(self.client, channel=channel, ts=posted.ts, text=text)

    def refresh_room(self, row: Pending, progress: Progress) -> bool:
        """A room's message shows its members as they are now."""
        found = self._room(row)
        if found is None or not found[1].room.message_ts:
            return False  # not posted: when it is, it shows them
        view, room = found
        text, blocks = render_room_message(view, room)
        self.client.chat_update(
            channel=view.session.channel_id,
            ts=room.room.message_ts or "",
            text=text,
            blocks=as_dicts(blocks),
        )
        return True

    # -- report-backs -----------------------------------------------------------------------

    def report_in_thread(self, row: Pending, progress: Progress) -> bool:
        """One version of a report-back, in full, in the room's thread."""
        saved = self.rooms.report_saved(row.int_arg("report_id"))
        if saved is None or saved.content.report.thread_ts:
            return False  # gone; or posted just before a restart
        text, blocks = render_report_in_thread(saved)
        # In the room's thread; in the channel if the room's message never went out.
        posted = self.client.chat_postMessage(
            channel=saved.view.session.channel_id,
            thread_ts=saved.room.room.message_ts or None,
            text=text,
            blocks=as_dicts(blocks),
        )
        # Kept so the post can be edited when one of its quotes is withdrawn.
        self.rooms.set_report_thread(row.int_arg("report_id"), str(posted["ts"]))
        return True

    def edit_report_in_thread(self, row: Pending, progress: Progress) -> bool:
        """A version's thread post shown again as it is now (a quote of it was withdrawn, or
        its submitter erased)."""
        saved = self.rooms.report_saved(row.int_arg("report_id"))
        ts = saved.content.report.thread_ts if saved else None
        if saved is None or not ts:
            return False  # not posted (it will be posted as it is now), or posted long ago
        text, blocks = render_report_in_thread(saved)
        channel = saved.view.session.channel_id
        return edit_in_place(
            self.client, channel=channel, ts=ts, text=text, blocks=as_dicts(blocks)
        )

    def report_in_channel(self, row: Pending, progress: Progress) -> bool:
        """The compact channel post of a room's latest report-back, updated in place."""
        saved = self.rooms.latest_report_saved(row.int_arg("room_id"))
        if saved is None:
            return False
        channel = saved.view.session.channel_id
        text, blocks = render_report_in_channel(saved, self._link(channel, saved.room))
        earlier = saved.room.room.report_ts
        # Edited in place; posted anew if Slack no longer lets us edit it.
        if earlier and edit_in_place(
            self.client, channel=channel, ts=earlier, text=text, blocks=as_dicts(blocks)
        ):
            return True
        posted = self.client.chat_postMessage(channel=channel, text=text, blocks=as_dicts(blocks))
        assert saved.room.room.id is not None
        self.rooms.set_report_message(saved.room.room.id, str(posted["ts"]))
        return True


def _note_text(change: RoomChange, room: RoomView) -> str:
    """The note a room's thread hears: who joined it, or who left it."""
    if room.room.id == change.to_room.room.id:
        return render_joined_in_thread(change)
    return render_left_in_thread(change)


def register_rooms_effects(sender: OutboxSender, *, client: WebClient, rooms: RoomService) -> None:
    """Say how the outbox sends every kind of room effect."""
    posts = RoomPosts(client, rooms)
    sender.register(kinds.ROOM_POST, Kind(send=posts.post_room, refused=posts.room_refused))
    # The room message's mentions are the notice everyone gets; "you're in Room 3" goes only
    # when chat.postEphemeral's budget has room (taken by the dispatcher, so no worker waits
    # for it and nothing else is held up), lowest priority, and is dropped after 5 minutes.
    sender.register(kinds.ROOM_NOTICE, Kind(send=posts.tell_room, method="chat.postEphemeral"))
    sender.register(kinds.ROOM_WARNING, Kind(send=posts.warn))
    sender.register(kinds.ROOM_END, Kind(send=posts.end))
    sender.register(kinds.ROOM_REMINDER, Kind(send=posts.remind))
    sender.register(kinds.MEMBER_TOLD, Kind(send=posts.tell_member, method="chat.postEphemeral"))
    sender.register(kinds.MEMBER_NOTE, Kind(send=posts.note_member))
    sender.register(kinds.ROOM_REFRESH, Kind(send=posts.refresh_room))
    sender.register(kinds.REPORT_THREAD, Kind(send=posts.report_in_thread))
    sender.register(kinds.REPORT_CHANNEL, Kind(send=posts.report_in_channel))
    sender.register(kinds.REPORT_THREAD_EDIT, Kind(send=posts.edit_report_in_thread))
    sender.register(kinds.NOTE_EDIT, Kind(send=posts.edit_note))
