"""What breakout rounds on Zoom send the facilitator, as direct messages through the outbox: the
pre-assignment CSV, the list to paste into Zoom's chat, and Zoom's answer to the pre-assignment.

Each sender renders from the database when it runs (a late arrival is in the list), and records
each step done in the row's progress, so a retry sends only what is missing.
"""

from __future__ import annotations

from slack_sdk import WebClient

from bot.rooms import RoomService
from bot.rooms import zoom_effects as kinds
from bot.slack.kinds import Kind, Progress
from bot.slack.sender import OutboxSender
from bot.views.zoom_rooms import (
    csv_filename,
    render_csv_message,
    render_paste_intro,
    render_paste_list,
    render_preassign_written,
)
from bot.zoom.breakout import preassign_csv
from storage.outbox import Pending

STEP_DM = "dm"  # the direct message channel the CSV's message went to
STEP_PIECES = "pieces"  # how many messages of the list to paste are posted


class ZoomRoomPosts:
    """Sends each kind of Zoom room effect with one Web API client."""

    def __init__(self, client: WebClient, rooms: RoomService) -> None:
        self.client = client
        self.rooms = rooms

    def send_csv(self, row: Pending, progress: Progress) -> bool:
        """The CSV in Zoom's pre-assign format, uploaded in a direct message to the facilitator."""
        found = self.rooms.preassignment_of(row.int_arg("round_id"))
        user = row.str_arg("user_id")
        if found is None or not user:
            return False  # the round was undone
        view, plan = found
        channel = progress.get(STEP_DM)
        if not channel:
            # Posting to a user id opens the direct message; its answer names the channel,
            # which a file upload needs.
            posted = self.client.chat_postMessage(channel=user, text=render_csv_message(view, plan))
            channel = str(posted["channel"])
            progress.done(STEP_DM, channel)
        self.client.files_upload_v2(
            channel=channel,
            content=preassign_csv(plan),
            filename=csv_filename(view),
            title=f"Zoom pre-assignment, breakout round {view.round.number}",
        )
        return True

    def send_paste(self, row: Pending, progress: Progress) -> bool:
        """How to open the rooms in Zoom, then the list to paste into Zoom's chat."""
        view = self.rooms.round_view(row.int_arg("round_id"))
        user = row.str_arg("user_id")
        if view is None or view.zoom is None or not user:
            return False
        pieces = [render_paste_intro(view), *render_paste_list(view)]
        done = int(progress.get(STEP_PIECES) or 0)
        for number, piece in enumerate(pieces[done:], start=done + 1):
            self.client.chat_postMessage(channel=user, text=piece)
            progress.done(STEP_PIECES, number)
        return True

    def send_written(self, row: Pending, progress: Progress) -> bool:
        """Zoom has the pre-assignment, or why it does not."""
        view = self.rooms.round_view(row.int_arg("round_id"))
        user = row.str_arg("user_id")
        if view is None or view.zoom is None or view.zoom.written_at is None or not user:
            return False
        self.client.chat_postMessage(channel=user, text=render_preassign_written(view, view.zoom))
        return True


def _facilitator(row: Pending) -> str | None:
    return row.str_arg("user_id")


def register_zoom_room_effects(
    sender: OutboxSender, *, client: WebClient, rooms: RoomService
) -> None:
    """Say how the outbox sends every kind of Zoom room effect."""
    posts = ZoomRoomPosts(client, rooms)
    for kind, send in (
        (kinds.ZOOM_CSV, posts.send_csv),
        (kinds.ZOOM_PASTE, posts.send_paste),
        (kinds.ZOOM_WRITTEN, posts.send_written),
    ):
        sender.register(kind, Kind(send=send, method="chat.postMessage", channel=_facilitator))
