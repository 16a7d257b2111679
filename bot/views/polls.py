"""Views for polls: the poll message (live and final), confirmations, results and help.

The forms (the `/poll` form and the anonymous ballot) are in `bot.views.poll_forms`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
)

from bot.parsing import format_duration
from bot.polls import (
    DEFAULT_DURATION,
    MAX_DURATION,
    MIN_DURATION,
    POLL_EXAMPLE,
    POLL_USAGE,
    AlreadyVoted,
    PollClosed,
    PollState,
    VoteRecorded,
    bar_cells,
)
from bot.privacy.notice import PrivacyNotice
from bot.report.small_groups import hidden_note
from bot.views.common import (
    SECTION_TEXT_MAX,
    context,
    esc,
    mention,
    pack_lines,
    section,
    slack_date,
    split_mrkdwn,
    trim,
)
from bot.views.privacy import privacy_line
from bot.views.sessions import CHECK_IN_ACTION
from bot.zoom_polls.rules import ZOOM_ANSWERS_MAX, ZOOM_ANSWERS_MIN, ZOOM_TITLE_MAX
from storage.polls import (
    CLOSED_BY_COMMAND,
    CLOSED_BY_SESSION_END,
    MAX_OPTIONS,
    OPTION_MAX,
    QUESTION_MAX,
)

# Every option button has its own action id (Slack wants them unique in a block); one listener
# matches them all.
VOTE_ACTION_PREFIX = "poll_vote_"
VOTE_ACTION = re.compile(rf"^{VOTE_ACTION_PREFIX}\d+$")
RESULTS_ACTION = "poll_results"
BALLOT_ACTION = "poll_ballot"
VOTE_BLOCK_PREFIX = "poll_options_"
RESULTS_BLOCK = "poll_facilitators"
CHECK_IN_BLOCK = "poll_check_in"

BUTTON_TEXT_MAX = 75
BUTTONS_PER_ROW = 5
BAR_WIDTH = 10
BAR_FULL, BAR_EMPTY = "█", "░"
# The start of an escape (&amp; &lt; &gt;) cut off before its ";".


def vote_value(poll_id: int, option_index: int) -> str:
    """The value of an option button: which poll and which option."""
    return f"{poll_id}:{option_index}"


def parse_vote_value(value: object) -> tuple[int, int] | None:
    """(poll id, option index) from an option button, or None if it was tampered with."""
    if not isinstance(value, str):
        return None
    match = re.fullmatch(r"(\d{1,18}):(\d{1,3})", value)
    return (int(match.group(1)), int(match.group(2))) if match else None


def _sections(texts: Sequence[str]) -> list[Block]:
    return [section(text) for text in texts]


def bar(count: int, voters: int) -> str:
    """A fixed-width text bar, e.g. `██████░░░░`."""
    filled = bar_cells(count, voters, BAR_WIDTH)
    return f"`{BAR_FULL * filled}{BAR_EMPTY * (BAR_WIDTH - filled)}`"


def button_text(number: int, option: str) -> str:
    """An option's button label, shortened with "…" to fit the 75 characters a button holds."""
    return trim(f"{number}. {option}", BUTTON_TEXT_MAX)


def question_blocks(state: PollState, label: str) -> list[Block]:
    """The question, led by `label`, in one section or several if it is long."""
    question = esc(state.poll.question)
    one = f"{label} *{question}*"
    if len(one) <= SECTION_TEXT_MAX:
        return [section(one)]
    return _sections(split_mrkdwn(f"{label}\n{question}"))


def _who_votes(state: PollState) -> str:
    poll = state.poll
    if poll.anonymous:
        how = (
            "pick every option that applies in one go"
            if poll.multi
            else "one choice, which can't be changed"
        )
        rule = f"*Anonymous:* nobody can see who chose what; {how}."
    elif poll.multi:
        rule = "Choose all that apply; click an option again to take it back."
    else:
        rule = "One choice; click another option to change your vote."
    return f"Everyone in this channel can vote, checked in or not. {rule}"


def _option_lines(state: PollState, *, show_counts: bool) -> list[str]:
    combined = state.combined
    voters = combined.voters
    lines = []
    for number, (option, count, percent) in enumerate(
        zip(state.options, combined.counts, state.percents(), strict=True), start=1
    ):
        text = f"*{number}.* {esc(option)}"
        if show_counts:
            text += f"\n{bar(count, voters)} {percent}% ({count})"
        lines.append(text)
    return lines


def _vote_buttons(state: PollState) -> list[Block]:
    if state.poll.anonymous and state.poll.multi:
        return [
            ActionsBlock(
                block_id=f"{VOTE_BLOCK_PREFIX}0",
                elements=[
                    ButtonElement(
                        text="Vote", action_id=BALLOT_ACTION, value=str(state.id), style="primary"
                    )
                ],
            )
        ]
    buttons = [
        ButtonElement(
            text=button_text(number, option),
            action_id=f"{VOTE_ACTION_PREFIX}{number - 1}",
            value=vote_value(state.id, number - 1),
        )
        for number, option in enumerate(state.options, start=1)
    ]
    return [
        ActionsBlock(
            block_id=f"{VOTE_BLOCK_PREFIX}{row}", elements=buttons[start : start + BUTTONS_PER_ROW]
        )
        for row, start in enumerate(range(0, len(buttons), BUTTONS_PER_ROW))
    ]


def _voted(voters: int) -> str:
    return (
        "nobody has voted yet"
        if voters == 0
        else f"*{voters}* voted"
        if voters > 1
        else "*1* voted"
    )


def _closed_how(state: PollState) -> str:
    poll = state.poll
    assert poll.closed_at is not None
    when = slack_date(poll.closed_at)
    if poll.close_reason == CLOSED_BY_COMMAND and poll.closed_by:
        return f"Closed by {mention(poll.closed_by)} {when}"
    if poll.close_reason == CLOSED_BY_SESSION_END:
        return f"Closed when the session ended, {when}"
    return f"Closed at its deadline, {when}"


def render_poll_message(state: PollState) -> tuple[str, list[Block]]:
    """The poll's channel message: live while open, final results once closed.

    Returns:
        The notification text and the blocks.
    """
    if state.closed:
        return _render_final(state)
    poll = state.poll
    blocks = question_blocks(state, ":bar_chart: *Poll:*")
    show_counts = not poll.hide_results
    blocks += _sections(pack_lines(_option_lines(state, show_counts=show_counts)))
    blocks += _vote_buttons(state)
    tally = _voted(state.tally.voters)
    hidden = " Results are hidden until the poll closes." if poll.hide_results else ""
    blocks.append(
        context(f"{_who_votes(state)}{hidden}\nCloses {slack_date(poll.closes_at)} · {tally}")
    )
    blocks.append(
        ActionsBlock(
            block_id=RESULTS_BLOCK,
            elements=[
                ButtonElement(
                    text="Results (facilitators)", action_id=RESULTS_ACTION, value=str(state.id)
                )
            ],
        )
    )
    return f"Poll: {esc(poll.question, 150)}", blocks


def _final_lines(state: PollState) -> list[str]:
    combined = state.combined
    voters = combined.voters
    lines = [
        f"*{esc(option)}*\n{bar(count, voters)} *{percent}%* · {count} of {voters} who voted"
        for option, count, percent in zip(
            state.options, combined.counts, state.percents(), strict=True
        )
    ]
    zoom = state.zoom
    if zoom is None or state.sources_hidden:
        return lines
    slack_percents = state.source_percents(state.tally)
    zoom_percents = state.source_percents(zoom)
    return [
        f"{line}\nSlack {slack_percents[i]}% ({state.tally.counts[i]}) · "
        f"Zoom {zoom_percents[i]}% ({zoom.counts[i]})"
        for i, line in enumerate(lines)
    ]


def _sources_not_shown(state: PollState) -> str:
    return (
        f"How many answered in each, and what, is not shown: {hidden_note(state.min_group).lower()}"
    )


def zoom_source_notes(state: PollState) -> list[str]:
    """How many answered where, and Zoom's answers that matched no option (shown, not counted)."""
    zoom = state.zoom
    if zoom is None:
        return []
    combined = state.combined.voters
    if state.sources_hidden:
        notes = [
            f"*{combined}* answered in Slack and Zoom together (anyone in both counted once, "
            f"with their Slack vote). {_sources_not_shown(state)}"
        ]
    else:
        notes = [
            f"*{combined}* answered: *{state.tally.voters}* in Slack, *{zoom.voters}* in Zoom"
            + (
                f" ({zoom.duplicates} who answered in both counted once, with their Slack vote)"
                if zoom.duplicates
                else ""
            )
        ]
    if zoom.unmatched:
        shown = ", ".join(f"“{esc(text, 80)}” ({count})" for text, count in zoom.unmatched[:10])
        more = f" and {len(zoom.unmatched) - 10} more" if len(zoom.unmatched) > 10 else ""
        notes.append(f"Zoom answers matching no option (not counted): {shown}{more}")
    return notes


def _render_final(state: PollState) -> tuple[str, list[Block]]:
    poll = state.poll
    blocks = question_blocks(state, ":lock: *Poll closed:*")
    blocks += _sections(pack_lines(_final_lines(state)))
    blocks += _sections(pack_lines(zoom_source_notes(state)))
    notes = [_closed_how(state), f"{state.combined.voters} voted"]
    if poll.anonymous:
        notes.append("anonymous")
    if poll.multi:
        notes.append("several choices allowed")
    blocks.append(context(" · ".join(notes) + f" · key `{esc(poll.key)}`"))
    return f"Poll closed: {esc(poll.question, 150)}", blocks


def render_results(state: PollState) -> list[Block]:
    """The facilitators' private view of the current results (also of hidden ones)."""
    if state.closed:
        return _render_final(state)[1]
    poll = state.poll
    blocks: list[Block] = [
        section(f":bar_chart: *Results so far:* {esc(poll.question, 2000)}"),
        *_sections(pack_lines(_final_lines(state))),
        context(
            f"{_voted(state.tally.voters).capitalize()} · closes {slack_date(poll.closes_at)}"
            + (" · hidden from participants until then" if poll.hide_results else "")
        ),
    ]
    return blocks


def chart_note(state: PollState) -> str:
    """The line under a poll's chart."""
    return f"of {state.combined.voters} who voted"


def render_chart_comment(state: PollState) -> str:
    """The comment posted with the results chart."""
    return f"Results: {esc(state.poll.question, 200)} ({state.combined.voters} voted)"


def _until(moment: datetime) -> str:
    return slack_date(moment, "{time}")


def render_vote_confirmation(
    result: VoteRecorded, privacy: PrivacyNotice | None = None
) -> tuple[str, list[Block]]:
    """The private confirmation a voter gets once their vote is committed; someone who has
    not checked in is asked to, and shown the privacy notice (they have not seen it yet)."""
    chosen = ", ".join(f"*{esc(option)}*" for option in result.chosen)
    if result.anonymous:
        text = (
            f":white_check_mark: You voted: {chosen}. Your vote is anonymous: nobody can see "
            "what you chose, and it can't be changed."
        )
    elif result.multi and not result.chosen:
        text = (
            ":white_check_mark: You took back all your choices. Click an option to vote again "
            f"until {_until(result.closes_at)}."
        )
    elif result.multi:
        text = (
            f":white_check_mark: Your choices: {chosen}. Click an option again to take it "
            f"back; you can change them until {_until(result.closes_at)}."
        )
    else:
        text = (
            f":white_check_mark: You voted: {chosen}. You can change it until "
            f"{_until(result.closes_at)}."
        )
    blocks: list[Block] = [section(text)]
    if not result.checked_in:
        blocks.append(
            section(
                "You haven't checked in yet. Check in so your answers count by role, place "
                "and group — it takes ten seconds."
            )
        )
        blocks.append(
            ActionsBlock(
                block_id=CHECK_IN_BLOCK,
                elements=[
                    ButtonElement(
                        text="Check in",
                        action_id=CHECK_IN_ACTION,
                        value=str(result.session_id),
                        style="primary",
                    )
                ],
            )
        )
        blocks.append(context(privacy_line(privacy or PrivacyNotice())))
    return text, blocks


def render_vote_refused(outcome: PollClosed | AlreadyVoted) -> str:
    """Why a vote was not counted."""
    if isinstance(outcome, AlreadyVoted):
        return (
            ":lock: You have already voted in this anonymous poll. Anonymous votes can't be "
            "changed, so your first vote stands."
        )
    return (
        f":lock: This poll closed at {slack_date(outcome.closed_at, '{time}')}; "
        "your vote was not counted."
    )


def plain_refusal(outcome: PollClosed | AlreadyVoted) -> str:
    """The same reason as plain text (form errors cannot show mrkdwn or dates)."""
    if isinstance(outcome, AlreadyVoted):
        return "You have already voted in this anonymous poll; anonymous votes can't be changed."
    return f"This poll closed at {outcome.closed_at.strftime('%H:%M UTC')}."


def poll_status_lines(states: Sequence[PollState]) -> list[str]:
    """Lines for `/session status` about the open polls."""
    return [
        f"Poll “{esc(state.poll.question, 80)}” — {state.tally.voters} voted, "
        f"closes {slack_date(state.poll.closes_at, '{time}')}"
        for state in states
    ]


def render_poll_help() -> list[Block]:
    """Everything `/poll` does, with examples."""
    return [
        section(f"*`/poll` — ask a timed question in this channel*\n`{esc(POLL_USAGE)}`"),
        section(
            f"*Launch* (facilitators, during a session): `{esc(POLL_EXAMPLE)}`\n"
            f"2 to {MAX_OPTIONS} options, each a button. Runs for `--time` "
            f"(default {format_duration(DEFAULT_DURATION)}, from "
            f"{format_duration(MIN_DURATION)} to {format_duration(MAX_DURATION)}). "
            f"Question up to {QUESTION_MAX:,} characters, options up to {OPTION_MAX}."
        ),
        section(
            "*Switches*\n"
            "• `--multi` — people choose all that apply (a click toggles an option)\n"
            "• `--anonymous` — who voted is kept apart from what was chosen; votes can't be "
            "changed\n"
            "• `--hide-results` — no live tally; facilitators can still see results\n"
            "• `--key strike-support` — names the question across sessions for the tour "
            "report (otherwise made from the question's words)"
        ),
        section(
            "*Zoom* (in a session started with `--zoom &lt;meeting&gt;`)\n"
            "• `--zoom` — also creates the poll in the Zoom meeting, for people who are not in "
            "Slack; the poll's thread says when it is there, and the host or a co-host "
            "launches it from Zoom's *Polls* menu. Zoom takes a question of up to "
            f"{ZOOM_TITLE_MAX} characters (it becomes the Zoom poll's title) and "
            f"{ZOOM_ANSWERS_MIN} to {ZOOM_ANSWERS_MAX} options: a poll it cannot carry is "
            "refused, with the limit, before anything is posted.\n"
            "• After the meeting, Zoom's answers are added to the results (the closed poll and "
            "the summary are updated, and the thread says how many): Slack, Zoom and both "
            "together. Someone who answered in both counts once, with their Slack vote.\n"
            "• `--slack-only` — keeps a poll out of Zoom where the organisers have made Zoom "
            "the default for sessions with a meeting (`ZOOM_POLLS_DEFAULT=true`)."
        ),
        section(
            "*`/poll`* with nothing after it opens a form.\n"
            "*`/poll close`* closes the newest open poll now and posts the results.\n"
            "Polls also close at their deadline and when the session ends."
        ),
        context(
            "Put the question and options in double quotes. Durations look like `45s`, "
            "`2m`, `1m30s`, `1h`."
        ),
    ]
