"""What a poll's thread says about its Zoom side: in the meeting (launch it there), not in it
(and why), no answers, and "Zoom answers added: n" once they are merged."""

from __future__ import annotations

from bot.polls import PollState
from bot.report.small_groups import hidden_note
from bot.views.common import esc
from bot.zoom_polls.effects import CREATED, NO_ANSWERS, NOT_ADDED, REFUSED, RESULTS_REFUSED
from bot.zoom_polls.service import FETCH_FOR
from storage.zoom.polls import ZoomPoll

_HOURS = int(FETCH_FOR.total_seconds() // 3600)


def render_zoom_note(what: str, zoom: ZoomPoll) -> str:
    """A note in the poll's thread about its Zoom side (mrkdwn; Zoom's own words escaped)."""
    problem = esc(zoom.problem or "Zoom gave no reason", 600)
    if what == CREATED:
        return (
            ":movie_camera: *This poll is also in the Zoom meeting.* Host or co-host: launch it "
            "from Zoom's *Polls* menu when people in Zoom should answer (the bot cannot launch "
            "it for you). Their answers are added to these results after the meeting."
        )
    if what == REFUSED:
        return (
            f":warning: *This poll could not be added to the Zoom meeting:* {problem}. "
            "The Slack poll carries on; only Slack's answers will count."
        )
    if what == NOT_ADDED:
        return (
            f":information_source: *Not added to the Zoom meeting:* {problem}. "
            "The Slack poll runs as usual."
        )
    if what == NO_ANSWERS:
        return (
            f":information_source: No Zoom answers to this poll came within {_HOURS} hours "
            "after the meeting (was it launched from Zoom's Polls menu?), so its results are "
            "Slack's alone."
        )
    if what == RESULTS_REFUSED:
        return (
            f":warning: Zoom would not give this poll's answers ({problem}), so its results "
            "are Slack's alone."
        )
    raise ValueError(f"unknown Zoom poll note {what!r}")


def render_zoom_answers_added(state: PollState) -> str:
    """The thread's line once Zoom's answers are in the results: "Zoom answers added: n"."""
    zoom = state.zoom
    if state.sources_hidden:
        return (
            ":inbox_tray: *Zoom answers added.* The results above now show Slack and Zoom "
            f"together ({state.combined.voters}); anyone who answered in both is counted once, "
            "with their Slack vote. How many answered in each is not shown: "
            f"{hidden_note(state.min_group).lower()}"
        )
    added = zoom.voters if zoom is not None else 0
    lines = [
        f":inbox_tray: *Zoom answers added: {added}.* The results above now show Slack "
        f"({state.tally.voters}), Zoom ({added}) and both together ({state.combined.voters})."
    ]
    if zoom is not None and zoom.duplicates:
        people = "person" if zoom.duplicates == 1 else "people"
        lines.append(
            f"{zoom.duplicates} {people} answered in Zoom and in Slack: counted once, with "
            "their Slack vote."
        )
    if zoom is not None and zoom.unmatched:
        total = sum(count for _, count in zoom.unmatched)
        lines.append(f"{total} Zoom answers matched no option: they are listed, not counted.")
    return "\n".join(lines)
