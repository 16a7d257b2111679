"""Views for sessions: the session message, the check-in form (and reading it), status, help."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    CheckboxesElement,
    DividerBlock,
    ExternalDataSelectElement,
    HeaderBlock,
    InputBlock,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.privacy.notice import PrivacyNotice
from bot.report.small_groups import hidden_note, suppress_counts
from bot.sessions import (
    DEFAULT_ROLES,
    OFFERED_MAX,
    ROLE_MAX,
    SESSION_USAGE,
    START_SPEC,
    CheckedIn,
    CheckInAnswers,
    CheckInChoice,
    CheckInChoices,
    CheckInForm,
    Noted,
    PickPlace,
    PickRole,
    SessionStatus,
    SessionView,
    ToggleConsent,
)
from bot.views.common import (
    MAX_BLOCKS,
    context,
    counted_lines,
    esc,
    input_state,
    mention,
    pack_lines,
    parse_id,
    section,
    slack_date,
    trim,
)
from bot.views.privacy import privacy_line
from storage.models import ATTRIBUTE_MAX, BY_THE_BOT, TITLE_MAX, ListeningSession

# The session message checks people in with one or two clicks (contract: a benchmark clicks
# these ids). Its actions block has the block_id `check_in:<session id>`, where the selects find
# their session; the buttons carry the session id as their value as well. Option values are the
# role or place text as offered; "Other…" is OTHER and opens the form.
ROLE_PICK_ACTION = "check_in_role"  # static_select: the common roles, then "Other…"
PLACE_PICK_ACTION = "check_in_place"  # static_select, only when the session set no --area and
# the tour knows places (the areas of its sessions, places 3+ people gave); else "Change details"
CONSENT_TOGGLE_ACTION = "check_in_consent"  # button "Quote me": switches consent (no at first)
DETAILS_ACTION = "check_in_details"  # button "Change details": the check-in form, pre-filled
OTHER = "__other__"
CHECK_IN_BLOCK_PREFIX = "check_in:"
# Opens the check-in form (the session message's "Change details", poll invitations' "Check in").
CHECK_IN_ACTION = DETAILS_ACTION
# The Check in button of session messages posted before one-click check-in: it opens the form.
LEGACY_CHECK_IN_ACTION = "session_check_in"
ONE_CLICK_ACTIONS = (ROLE_PICK_ACTION, PLACE_PICK_ACTION, CONSENT_TOGGLE_ACTION)
OPTION_VALUE_MAX = 150  # Slack's limit on an option's value; a longer one was not ours
CHECK_IN_CALLBACK = "session_check_in_form"
ROLE_BLOCK, ROLE_ACTION = "role", "role"
PLACE_BLOCK, PLACE_ACTION = "place", "place"
GROUP_BLOCK, GROUP_ACTION = "group", "group"
CONSENT_BLOCK, CONSENT_ACTION = "consent", "consent"
CONSENT_YES = "quote_me"


def _details(session: ListeningSession) -> str:
    parts = []
    if session.area:
        parts.append(f"*Area:* {esc(session.area)}")
    if session.group_type:
        parts.append(f"*Group:* {esc(session.group_type)}")
    if session.zoom_meeting_id:
        parts.append(f"*Zoom meeting:* {session.zoom_meeting_id}")
    return "   ".join(parts)


def render_session_message(
    view: SessionView,
    choices: CheckInChoices | None = None,
    privacy: PrivacyNotice | None = None,
) -> tuple[str, list[Block]]:
    """The channel message for a session: details, attendance and, while it runs, one-click
    check-in (`choices`: what it offers; by default the common roles and no place picker)
    with the privacy notice under it.

    Returns:
        The notification text and the blocks.
    """
    session = view.session
    blocks: list[Block] = [HeaderBlock(text=PlainTextObject(text=trim(session.title, TITLE_MAX)))]
    if details := _details(session):
        blocks.append(section(details))
    if session.ended_at is None:
        blocks.append(
            section(
                "Welcome! Please *check in* so your answers count by role, place and group: "
                "pick your role below, that's all. *Quote me* if you agree to be quoted by role "
                "and place (never by name); *Change details* for your own role, place or group."
            )
        )
        offered = choices or CheckInChoices(roles=DEFAULT_ROLES, places=())
        blocks.append(render_check_in_actions(session, offered))
        blocks.append(context(privacy_line(privacy or PrivacyNotice())))
        blocks.append(
            context(
                f"Started by {mention(session.started_by)} {slack_date(session.started_at)}"
                f" · {view.attendance.checked_in} checked in"
            )
        )
    else:
        blocks.append(
            context(
                f"Ended {slack_date(session.ended_at)} · "
                f"{view.attendance.checked_in} people checked in"
            )
        )
    return f"Listening session: {esc(session.title, TITLE_MAX)}", blocks


def render_check_in_actions(session: ListeningSession, choices: CheckInChoices) -> ActionsBlock:
    """The session message's check-in row: role picker, place picker (when there are places to
    offer), "Quote me" and "Change details"."""
    elements: list[Any] = [
        _picker(ROLE_PICK_ACTION, "Check in as…", choices.roles),
    ]
    if choices.places:
        elements.append(_picker(PLACE_PICK_ACTION, "Where you are…", choices.places))
    elements.append(
        ButtonElement(text="Quote me", action_id=CONSENT_TOGGLE_ACTION, value=str(session.id))
    )
    elements.append(
        ButtonElement(text="Change details", action_id=DETAILS_ACTION, value=str(session.id))
    )
    return ActionsBlock(block_id=f"{CHECK_IN_BLOCK_PREFIX}{session.id}", elements=elements)


def _picker(action_id: str, placeholder: str, values: tuple[str, ...]) -> StaticSelectElement:
    offered = [v for v in values if v != OTHER and len(v) <= OPTION_VALUE_MAX][:OFFERED_MAX]
    options = [Option(value=v, text=trim(v, ROLE_MAX)) for v in offered]
    options.append(Option(value=OTHER, text="Other…"))
    return StaticSelectElement(action_id=action_id, placeholder=placeholder, options=options)


@dataclass(frozen=True)
class CheckInClick:
    """A click on the session message's check-in row; `choice` None: open the form."""

    session_id: int
    choice: CheckInChoice | None


def read_check_in_click(body: dict[str, Any]) -> CheckInClick | str:
    """What a click on the check-in row asks for, or why it cannot be one of ours."""
    actions = body.get("actions")
    action = actions[0] if isinstance(actions, list) and actions else {}
    if not isinstance(action, dict):
        return "That click is not from a listening session."
    block_id = action.get("block_id")
    session_id = parse_id(action.get("value"))
    if (
        session_id is None
        and isinstance(block_id, str)
        and block_id.startswith(CHECK_IN_BLOCK_PREFIX)
    ):
        session_id = parse_id(block_id.removeprefix(CHECK_IN_BLOCK_PREFIX))
    if session_id is None:
        return "That click is not from a listening session."
    action_id = action.get("action_id")
    if action_id == CONSENT_TOGGLE_ACTION:
        return CheckInClick(session_id, ToggleConsent())
    if action_id not in (ROLE_PICK_ACTION, PLACE_PICK_ACTION):
        return CheckInClick(session_id, None)
    selected = action.get("selected_option")
    value = selected.get("value") if isinstance(selected, dict) else None
    if not isinstance(value, str) or not value.strip() or len(value) > OPTION_VALUE_MAX:
        return "That choice is not one this session offers. Click *Change details* instead."
    if value == OTHER:
        return CheckInClick(session_id, None)
    return CheckInClick(
        session_id, PickRole(value) if action_id == ROLE_PICK_ACTION else PickPlace(value)
    )


def render_check_in_form(form: CheckInForm, privacy: PrivacyNotice | None = None) -> View:
    """The check-in modal, pre-filled from the person's last check-in or the session, with
    the privacy notice at the bottom."""
    session = form.session
    role_option = Option(value=form.role, text=trim(form.role, ROLE_MAX)) if form.role else None
    consent = Option(
        value=CONSENT_YES,
        text="Quote me, attributed by role and place",
        description="e.g. “Member, Durham”. Your name is never shown.",
    )
    return View(
        type="modal",
        callback_id=CHECK_IN_CALLBACK,
        private_metadata=str(session.id),
        title="Check in",
        submit="Update" if form.returning else "Check in",
        close="Cancel",
        blocks=[
            section(f"*{esc(session.title, 200)}*\nTell us a little about you."),
            InputBlock(
                block_id=ROLE_BLOCK,
                label="Your role",
                hint="Pick one, or type your own and choose it.",
                element=ExternalDataSelectElement(
                    action_id=ROLE_ACTION,
                    placeholder="e.g. Member",
                    min_query_length=0,
                    initial_option=role_option,
                ),
            ),
            InputBlock(
                block_id=PLACE_BLOCK,
                label="Where you are",
                optional=True,
                element=PlainTextInputElement(
                    action_id=PLACE_ACTION,
                    placeholder="Town or city",
                    initial_value=form.place or None,
                    max_length=ATTRIBUTE_MAX,
                ),
            ),
            InputBlock(
                block_id=GROUP_BLOCK,
                label="Group",
                optional=True,
                hint="e.g. CLP, trade union branch, council group",
                element=PlainTextInputElement(
                    action_id=GROUP_ACTION,
                    initial_value=form.group_name or None,
                    max_length=ATTRIBUTE_MAX,
                ),
            ),
            InputBlock(
                block_id=CONSENT_BLOCK,
                label="Quotes",
                optional=True,
                element=CheckboxesElement(
                    action_id=CONSENT_ACTION,
                    options=[consent],
                    initial_options=[consent] if form.consent_to_quote else None,
                ),
            ),
            context(privacy_line(privacy or PrivacyNotice())),
        ],
    )


def read_check_in(view: dict[str, Any]) -> CheckInAnswers:
    """The answers in a submitted check-in form."""
    values = view.get("state", {}).get("values", {})
    role = input_state(values, ROLE_BLOCK, ROLE_ACTION).get("selected_option") or {}
    consent = input_state(values, CONSENT_BLOCK, CONSENT_ACTION).get("selected_options") or []
    return CheckInAnswers(
        role=role.get("value"),
        place=input_state(values, PLACE_BLOCK, PLACE_ACTION).get("value"),
        group_name=input_state(values, GROUP_BLOCK, GROUP_ACTION).get("value"),
        consent_to_quote=any(option.get("value") == CONSENT_YES for option in consent),
    )


def _quotes(role: str | None, place: str | None, consent: bool) -> str:
    if consent:
        quoted_as = esc(", ".join(v for v in (role, place) if v)) or "a participant"
        return f"Quotes: you agreed to be quoted as “{quoted_as}” (never by name)."
    return "Quotes: not quoted."


def render_checked_in(result: CheckedIn) -> str:
    """The private confirmation after a check-in: what the person is checked in as, and how to
    change it."""
    person = result.participant
    described = ", ".join(esc(v) for v in (person.role, person.place, person.group_name) if v)
    said = (
        f"You're checked in as {described}."
        if result.first_time
        else f"Check-in updated: you're now checked in as {described}."
    )
    quotes = _quotes(person.role, person.place, person.consent_to_quote)
    return (
        f":white_check_mark: {said} {quotes} To change it, pick again on the session message "
        "(*Quote me* switches quotes on or off), or click *Change details*."
    )


def render_check_in_noted(noted: Noted) -> str:
    """The private answer to a place or "Quote me" picked before a role."""
    person = noted.participant
    place = f" Place: {esc(person.place)}." if person.place else ""
    quotes = (
        "Quotes: you agreed to be quoted by role and place (never by name)."
        if person.consent_to_quote
        else "Quotes: not quoted."
    )
    return (
        f":memo: Noted.{place} {quotes} You're not checked in yet: pick your role on the "
        "session message (or *Change details*) to finish."
    )


def render_status(status: SessionStatus) -> tuple[str, list[Block]]:
    """The ephemeral `/session status`: attendance by role and group, and what is running."""
    session = status.view.session
    att = status.view.attendance
    running, facilitators = status.running, status.facilitators
    header = f"*{esc(session.title, 200)}* — running since {slack_date(session.started_at)}"
    if details := _details(session):
        header += f"\n{details}"
    blocks: list[Block] = [
        section(header),
        section(f"*Checked in:* {att.checked_in}"),
    ]
    if att.checked_in:
        blocks.append(section(f"*By role*\n{counted_lines(att.by_role)}"))
        blocks.append(section(f"*By group*\n{counted_lines(att.by_group)}"))
    if att.not_checked_in:
        blocks.append(context(f"{att.not_checked_in} more took part without checking in."))
    blocks.append(DividerBlock())
    if running:
        blocks.append(section("*Running now*\n" + "\n".join(f"• {line}" for line in running)))
    else:
        blocks.append(section("*Running now:* nothing — no poll or breakout round is open."))
    if status.agenda:
        # The agenda can be long (100 steps): it gets what the other blocks leave.
        room = MAX_BLOCKS - len(blocks) - 3
        blocks.extend(section(chunk) for chunk in pack_lines(status.agenda)[:room])
    names = ", ".join(mention(user) for user in facilitators[:20])
    if len(facilitators) > 20:
        names += f" and {len(facilitators) - 20} more"
    you = " You are one of them." if status.is_facilitator else ""
    blocks.append(context(f"Facilitators: {names}.{you}"))
    blocks.append(
        context(f"Session id {session.id} (for `listening-bot export --session {session.id}`)")
    )
    return f"Status of {esc(session.title, TITLE_MAX)}: {att.checked_in} checked in", blocks


def render_session_ended(view: SessionView, min_group: int = 1) -> tuple[str, list[Block]]:
    """The channel post when a session ends: attendance by role, roles of fewer than
    `min_group` people (and their complements) hidden."""
    session = view.session
    att = view.attendance
    assert session.ended_at is not None
    by_role = suppress_counts(att.by_role, min_group=min_group)
    roles = counted_lines(by_role)
    text = f"“{esc(session.title, TITLE_MAX)}” has ended. Thank you for taking part!"
    ended = f"Ended by {mention(session.ended_by or session.started_by)}"
    if session.ended_by == BY_THE_BOT:
        ended += ": nobody had ended it, and the time to keep its data had come"
    if any(isinstance(count, str) for _, count in by_role):
        ended += f" · {hidden_note(min_group)}"
    blocks: list[Block] = [
        section(
            f":checkered_flag: *{esc(session.title, 200)}* has ended. Thank you for taking part!"
        ),
        section(f"*Checked in:* {att.checked_in}\n*By role*\n{roles}"),
        context(ended),
    ]
    return text, blocks


def render_session_help() -> list[Block]:
    """Everything `/session` does, with examples."""
    return [
        section(f"*`/session` — run a listening session in this channel*\n`{esc(SESSION_USAGE)}`"),
        section(
            f"*Start* (facilitators): `{esc(START_SPEC.usage)}`\n"
            f"Example: `{esc(START_SPEC.example)}`\n"
            "Posts the session with one-click check-in: people pick their role (*Other…* or "
            "*Change details* for their own), and *Quote me* if they agree to be quoted. "
            "`--area` and `--group` fill everyone's place and group; without `--area` it "
            "offers the places the tour knows, if any. One session per channel at a time."
        ),
        section("*Status*: `/session status` — who is checked in, by role and group."),
        section(
            "*End* (facilitators): `/session end` — closes the session and check-in, and posts "
            "the attendance."
        ),
        context(
            "Durations look like `45s`, `2m`, `1m30s`, `1h`. Put text with spaces in "
            'double quotes: `"like this"`.'
        ),
    ]


def render_role_options(roles: list[str]) -> list[dict[str, object]]:
    """Options for the check-in form's role menu (Slack shows at most 100)."""
    return [Option(value=role, text=trim(role, ROLE_MAX)).to_dict() for role in roles[:100]]


def render_refusal(message: str) -> list[Block]:
    """An ephemeral explanation of why nothing happened."""
    return [section(f":no_entry_sign: {message}")]


def render_check_in_closed(message: str) -> View:
    """A modal saying check-in is closed (when the button is pressed after the end)."""
    return View(
        type="modal",
        title="Check in",
        close="Close",
        blocks=[section(message)],
    )
