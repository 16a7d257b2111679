"""The `zoom.preassign` task: a round started before its meeting becomes the meeting's
pre-assignment (`PATCH /meetings/{id}`, a Light call; docs/zoom-api-notes.md §3).

The bot may not know the meeting started (Socket Mode on a plan without live metrics gets no
event of it), so the task asks Zoom first (`GET /meetings/{id}`, Light): a meeting whose status
is "started" is not PATCHed, and the facilitator gets the live case (names, the list to paste).

Run by the Zoom worker, never in a Slack request. Idempotent: the same PATCH twice leaves the same
meeting. Zoom refusing it is final (the facilitator is told, and has the CSV); Zoom being
unavailable is the worker's to retry with backoff.
"""

from __future__ import annotations

from bot.rooms.service import RoomService
from bot.rooms.zoom import MEETING_STARTED, PREASSIGN_TASK
from bot.zoom.api import Category, ZoomApi, ZoomForbidden, ZoomNotFound, ZoomRejected, meeting_path
from bot.zoom.breakout import preassign_body
from bot.zoom.tasks import GiveUp, TaskHandler
from storage.zoom.meetings import DueTask

__all__ = ["PREASSIGN_TASK", "preassign_handler"]

STARTED = "started"  # a meeting's `status` while an instance runs ("waiting" before)


def preassign_handler(rooms: RoomService) -> TaskHandler:
    """The handler to register for PREASSIGN_TASK."""

    def write_preassignment(api: ZoomApi, task: DueTask) -> GiveUp | None:
        """Make the task's round its meeting's pre-assignment, unless that is moot by now."""
        round_id = int(task.args["round_id"])
        call = rooms.preassign_call(round_id)
        if call is None:
            return None
        if isinstance(call, str):
            rooms.preassign_answered(round_id, call)
            return None
        meeting_id, plan = call
        try:
            meeting = api.get(meeting_path(meeting_id), category=Category.LIGHT)
            if meeting.get("status") == STARTED:
                rooms.preassign_answered(round_id, MEETING_STARTED)
                return None
            api.patch(meeting_path(meeting_id), category=Category.LIGHT, body=preassign_body(plan))
        except (ZoomNotFound, ZoomForbidden, ZoomRejected) as error:
            rooms.preassign_answered(round_id, str(error))
            return GiveUp(str(error))
        rooms.preassign_answered(round_id, None)
        return None

    return write_preassignment
