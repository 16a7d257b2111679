"""Checking in from the session message: what one click (a role, a place, "Quote me") changes.

The click's check-in, or its change, is written with its private reply in one transaction. A
click that changes nothing (the same role again, a double click, Slack's clients sending a pick
twice) queues no reply: five clicks in a second give one check-in and one answer. A place or
quote consent picked before a role is kept on the person's row, not yet checked in, for the
check-in the role then makes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from sqlmodel import Session

from bot.outbox import queue
from bot.results import Refusal
from bot.sessions import effects
from bot.sessions.requests import (
    ROLE_MAX,
    CheckInAnswers,
    CheckInChoice,
    PickPlace,
    PickRole,
    ToggleConsent,
    clean_answer,
)
from bot.sessions.results import CheckedIn, Noted, Unchanged
from storage import repository as repo
from storage.models import ATTRIBUTE_MAX, ListeningSession, Participant

NOT_OFFERED = (
    "That {what} is not one this session offers. Click *Change details* on the session message "
    "to give your own."
)


def not_offered(db: Session, choice: CheckInChoice, common_roles: Sequence[str]) -> Refusal | None:
    """Why a picked value is refused: only what the session message offers counts (a tampered
    value, or one an old message offered; "Change details" takes anything)."""
    if isinstance(choice, PickRole):
        # Most clicks pick a common role: nothing to read.
        if choice.role in common_roles or choice.role in repo.known_roles(db):
            return None
        return Refusal(NOT_OFFERED.format(what="role"))
    if isinstance(choice, PickPlace):
        if choice.place in repo.known_places(db):
            return None
        return Refusal(NOT_OFFERED.format(what="place"))
    return None


def record_choice(
    db: Session,
    *,
    session: ListeningSession,
    user_id: str,
    choice: CheckInChoice,
    delivery_key: str | None,
    response_url: str | None,
    now: datetime,
) -> CheckedIn | Noted | Unchanged:
    """Apply one click to the person's check-in in the caller's transaction, with its reply
    queued; nothing when it changes nothing."""
    assert session.id is not None
    person = repo.lock_participant(db, session_id=session.id, user_id=user_id, now=now)
    before = answers_of(person, session)
    after = apply_choice(choice, before)
    checked_in = person.checked_in_at is not None
    if after == before and (checked_in or not after.role):
        return Unchanged()
    if not after.role:
        repo.note_answers(
            db,
            participant=person,
            place=after.place,
            consent_to_quote=after.consent_to_quote,
            now=now,
        )
        reply = effects.check_in_noted(
            session_id=session.id,
            user_id=user_id,
            delivery_key=delivery_key,
            response_url=response_url,
        )
        queue(db, reply, now=now)
        return Noted(person, session.channel_id)
    participant, first = repo.check_in(
        db,
        session_id=session.id,
        user_id=user_id,
        role=after.role,
        place=after.place,
        group_name=after.group_name,
        consent_to_quote=after.consent_to_quote,
        now=now,
    )
    confirmation = effects.checked_in(
        session_id=session.id,
        user_id=user_id,
        first_time=first,
        delivery_key=delivery_key,
        response_url=response_url,
    )
    queue(db, confirmation, now=now)
    return CheckedIn(participant, first, session.channel_id)


def answers_of(person: Participant, session: ListeningSession) -> CheckInAnswers:
    """A person's answers as they stand. Before they check in, the session's area and group
    fill what they have not chosen; once checked in, what they gave stands (a place they
    cleared in the form stays cleared)."""
    if person.checked_in_at is not None:
        return CheckInAnswers(
            role=person.role,
            place=person.place,
            group_name=person.group_name,
            consent_to_quote=person.consent_to_quote,
        )
    return CheckInAnswers(
        role=None,  # a voter's row has no role; checking in needs one picked
        place=person.place or session.area,
        group_name=person.group_name or session.group_type,
        consent_to_quote=person.consent_to_quote,
    )


def apply_choice(choice: CheckInChoice, answers: CheckInAnswers) -> CheckInAnswers:
    """The answers after one click."""
    if isinstance(choice, PickRole):
        return replace(answers, role=clean_answer(choice.role, ROLE_MAX))
    if isinstance(choice, PickPlace):
        return replace(answers, place=clean_answer(choice.place, ATTRIBUTE_MAX))
    assert isinstance(choice, ToggleConsent)
    return replace(answers, consent_to_quote=not answers.consent_to_quote)
