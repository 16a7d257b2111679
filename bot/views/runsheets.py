"""Block Kit for run sheets: a talk's announcement, the facilitators' controls, `/next`'s
answers and help, and the agenda in `/session status`."""

from __future__ import annotations

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, DividerBlock, HeaderBlock
from slack_sdk.models.blocks.basic_components import PlainTextObject

from bot.parsing import format_duration
from bot.runsheets.model import NoteStep, Step, TalkStep
from bot.runsheets.requests import NEXT_EXAMPLE, NEXT_USAGE
from bot.runsheets.running import AgendaView, StepRun
from bot.views.common import MAX_BLOCKS, context, esc, pack_lines, section, split_mrkdwn, trim
from bot.views.zoom_rooms import render_zoom_started
from storage.runsheets import OUTCOME_SKIPPED

NEXT_ACTION = "runsheet_next"
SKIP_ACTION = "runsheet_skip"
CONTROLS_BLOCK = "runsheet_controls"
HEADER_MAX = 150

_DONE, _SKIPPED, _NEXT, _LATER = "✅", "⏭️", "▶️", "▫️"


def step_line(step: Step, number: int) -> str:
    """One agenda line, e.g. "3. Poll: Has the party drifted…? (Agree / Disagree, 2m)"."""
    return f"{number}. {esc(step.summary(), 200)}"


def agenda_lines(agenda: AgendaView) -> list[str]:
    """Every step with what happened to it: done, skipped, next, or still to come."""
    lines = []
    for position, step in enumerate(agenda.steps):
        done = agenda.done.get(position)
        if done is not None:
            mark = _SKIPPED if done.outcome == OUTCOME_SKIPPED else _DONE
        else:
            mark = _NEXT if position == agenda.position else _LATER
        lines.append(f"{mark} {step_line(step, position + 1)}")
    return lines


def _where(agenda: AgendaView) -> str:
    total = len(agenda.steps)
    if agenda.session.ended_at is not None:
        return f"The session has ended ({min(agenda.position, total)} of {total} steps behind it)."
    if agenda.next_step is None:
        return f"All {total} steps are behind you. `/session end` ends the session."
    return f"Step {agenda.position + 1} of {total} is next."


def sheet_title(agenda: AgendaView) -> str:
    """The run sheet as people know it: its title (or name) and version."""
    sheet = agenda.sheet
    return f"{sheet.sheet.title or sheet.name} (v{sheet.version})"


def agenda_status_lines(agenda: AgendaView | None) -> list[str]:
    """`/session status`'s "Run sheet" lines (none for a session without one)."""
    if agenda is None:
        return []
    heading = f"*Run sheet:* {esc(sheet_title(agenda), 200)} — {_where(agenda)}"
    return [heading, *agenda_lines(agenda)]


def render_controls(agenda: AgendaView) -> tuple[str, list[Block]]:
    """A facilitator's control message: the agenda, where the session is, Next and Skip."""
    session = agenda.session
    assert session.id is not None
    where = _where(agenda)
    blocks: list[Block] = [
        HeaderBlock(
            text=PlainTextObject(text=trim(f"Run sheet: {sheet_title(agenda)}", HEADER_MAX))
        ),
        section(f"*{esc(session.title, 200)}* in <#{session.channel_id}> — {where}"),
    ]
    chunks = pack_lines(agenda_lines(agenda))
    room = MAX_BLOCKS - len(blocks) - 4
    blocks.extend(section(chunk) for chunk in chunks[:room])
    step = agenda.next_step
    if session.ended_at is None and step is not None:
        blocks.append(DividerBlock())
        blocks.append(section(f"*Next:* {esc(step.summary(), 500)}" + _next_detail(step)))
        value = f"{session.id}:{agenda.position}"
        blocks.append(
            ActionsBlock(
                block_id=CONTROLS_BLOCK,
                elements=[
                    ButtonElement(text="Next", action_id=NEXT_ACTION, value=value, style="primary"),
                    ButtonElement(text="Skip", action_id=SKIP_ACTION, value=value),
                ],
            )
        )
    blocks.append(
        context("Only you see this. `/next` and `/next skip` in the channel do the same.")
    )
    return f"Run sheet for {esc(session.title, 150)}: {where}", blocks


def _next_detail(step: Step) -> str:
    if isinstance(step, NoteStep):
        return "\n_A note for facilitators: Next marks it read._"
    if isinstance(step, TalkStep):
        return "\n_Next announces it in the channel._"
    return ""


def render_talk(agenda: AgendaView, position: int) -> tuple[str, list[Block]]:
    """The channel's "Now: <talk>" when a run sheet reaches a talk."""
    step = agenda.steps[position]
    assert isinstance(step, TalkStep)
    by = f" — {esc(step.speaker, 80)}" if step.speaker else ""
    length = f" · {format_duration(step.duration)}" if step.duration else ""
    text = f"Now: {esc(step.title, 200)}"
    blocks: list[Block] = [
        section(f":microphone: *Now:* {esc(step.title, 200)}{by}{length}"),
        context(f"Step {position + 1} of {len(agenda.steps)} of {esc(sheet_title(agenda), 160)}"),
    ]
    return text, blocks


def render_step_run(run: StepRun) -> tuple[str, list[Block]]:
    """What `/next` answers the facilitator: what was done, and what comes next."""
    number = run.position + 1
    summary = esc(run.step.summary(), 300)
    if run.skipped:
        done = f"⏭️ Skipped step {number}: {summary}."
    elif isinstance(run.step, NoteStep):
        done = f"📝 Step {number}, a note for facilitators: {esc(run.step.text, 1500)}"
    else:
        done = f"▶️ Step {number}: {summary} — started."
    if run.note:
        done += f"\n{run.note}"
    if run.zoom is not None:
        done += f"\n{render_zoom_started(run.zoom)}"
    following = run.agenda.next_step
    if following is None:
        done += "\nThat was the last step. `/session end` ends the session."
    else:
        done += f"\n*Next:* {esc(following.summary(), 300)} — `/next` when you are ready."
    return done, [section(part) for part in split_mrkdwn(done)]


def render_next_help() -> list[Block]:
    """Everything `/next` does, with examples."""
    return [
        section(f"*`/next` — run the session's run sheet step by step*\n`{esc(NEXT_USAGE)}`"),
        section(
            "`/next` runs the next step of the run sheet the session was started with "
            '(`/session start "<title>" --runsheet <name>`): a talk is announced, a poll is '
            "posted with the run sheet's key, a breakout round opens. `/next skip` skips the "
            "next step. While a breakout round runs, end it with `/breakout end` first."
        ),
        section(
            "Facilitators also get a control message from the bot, kept up to date, with "
            "*Next* and *Skip* buttons. `/session status` shows the whole agenda."
        ),
        context(f"Example: `{esc(NEXT_EXAMPLE)}`"),
    ]
