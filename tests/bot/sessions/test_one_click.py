"""One-click check-in: what a click on the session message changes, and what it queues."""

from __future__ import annotations

import json

import pytest

from bot.clock import FixedClock
from bot.config import load_settings
from bot.outbox import REPLY
from bot.results import Duplicate, Refusal
from bot.sessions import (
    CHECK_IN_NOTED,
    CHECKED_IN,
    DEFAULT_ROLES,
    CheckedIn,
    CheckInAnswers,
    CheckInChoice,
    CheckingIn,
    Noted,
    PickPlace,
    PickRole,
    SessionService,
    StartRequest,
    ToggleConsent,
    Unchanged,
)
from storage import outbox as store
from storage import repository as repo
from storage.db import Database
from storage.models import ListeningSession, Participant

URL = "https://hooks.slack.invalid/actions/T1/1/abc"


@pytest.fixture
def sessions(sqlite_database: Database, clock: FixedClock) -> SessionService:
    return SessionService(sqlite_database, load_settings(env_file=None), clock)


def _start(
    sessions: SessionService, *, area: str | None = "Durham", group: str | None = "CLP"
) -> int:
    started = sessions.start(
        channel_id="C1",
        user_id="U0FAC",
        request=StartRequest(title="Durham", area=area, group_type=group, zoom_meeting_id=None),
        delivery_key=None,
    )
    assert isinstance(started, ListeningSession)
    assert started.id is not None
    return started.id


def _click(
    sessions: SessionService, session_id: int, choice: CheckInChoice, key: str, user: str = "U1"
) -> CheckedIn | Noted | Unchanged | Refusal | Duplicate:
    return sessions.choose(
        session_id=session_id,
        user_id=user,
        choice=choice,
        delivery_key=f"block_actions:{key}",
        response_url=URL,
    )


def _replies(db: Database) -> list[store.OutboxRow]:
    with db.read() as s:
        return [row for row in store.rows(s) if row.kind in (CHECKED_IN, CHECK_IN_NOTED)]


def _person(db: Database, session_id: int, user: str = "U1") -> Participant | None:
    with db.read() as s:
        return repo.get_participant(s, session_id=session_id, user_id=user)


def test_a_role_checks_in_with_the_sessions_place_and_group_and_no_consent(
    sessions: SessionService, sqlite_database: Database
) -> None:
    session_id = _start(sessions)
    checked = _click(sessions, session_id, PickRole("Member"), "T1")
    assert isinstance(checked, CheckedIn)
    assert checked.first_time
    person = _person(sqlite_database, session_id)
    assert person is not None
    assert (person.role, person.place, person.group_name, person.consent_to_quote) == (
        "Member",
        "Durham",
        "CLP",
        False,
    )
    [reply] = _replies(sqlite_database)
    assert (reply.kind, reply.priority, reply.target) == (CHECKED_IN, REPLY, "user:U1")
    assert reply.response_url == URL  # answered through the click's own response_url
    assert json.loads(reply.args)["first_time"] == 1


def test_five_clicks_on_the_same_role_give_one_check_in_and_one_reply(
    sessions: SessionService, sqlite_database: Database
) -> None:
    session_id = _start(sessions)
    results = [_click(sessions, session_id, PickRole("Member"), f"T{n}") for n in range(5)]
    assert isinstance(results[0], CheckedIn)
    assert all(isinstance(r, Unchanged) for r in results[1:])
    assert len(_replies(sqlite_database)) == 1


def test_a_redelivered_click_changes_nothing(
    sessions: SessionService, sqlite_database: Database
) -> None:
    session_id = _start(sessions)
    assert isinstance(_click(sessions, session_id, ToggleConsent(), "T1"), Noted)
    assert isinstance(_click(sessions, session_id, ToggleConsent(), "T1"), Duplicate)
    person = _person(sqlite_database, session_id)
    assert person is not None
    assert person.consent_to_quote is True  # toggled once, not twice


def test_a_different_role_later_updates_the_check_in(
    sessions: SessionService, sqlite_database: Database
) -> None:
    session_id = _start(sessions)
    _click(sessions, session_id, PickRole("Member"), "T1")
    updated = _click(sessions, session_id, PickRole("Councillor"), "T2")
    assert isinstance(updated, CheckedIn)
    assert not updated.first_time
    assert updated.participant.role == "Councillor"
    assert [json.loads(r.args)["first_time"] for r in _replies(sqlite_database)] == [1, 0]


def test_consent_takes_its_own_click_and_toggles(
    sessions: SessionService, sqlite_database: Database
) -> None:
    session_id = _start(sessions)
    _click(sessions, session_id, PickRole("Member"), "T1")
    on = _click(sessions, session_id, ToggleConsent(), "T2")
    assert isinstance(on, CheckedIn)
    assert on.participant.consent_to_quote is True
    off = _click(sessions, session_id, ToggleConsent(), "T3")
    assert isinstance(off, CheckedIn)
    assert off.participant.consent_to_quote is False
    assert len(_replies(sqlite_database)) == 3


def test_choices_before_a_role_are_kept_for_the_check_in(
    sessions: SessionService, sqlite_database: Database
) -> None:
    session_id = _start(sessions, area=None)
    stoke = sessions.start(
        channel_id="C2",
        user_id="U0FAC",
        request=StartRequest(title="Stoke", area="Stoke", group_type=None, zoom_meeting_id=None),
        delivery_key=None,
    )
    assert isinstance(stoke, ListeningSession)
    noted = _click(sessions, session_id, PickPlace("Stoke"), "T1")
    assert isinstance(noted, Noted)
    assert isinstance(_click(sessions, session_id, ToggleConsent(), "T2"), Noted)
    person = _person(sqlite_database, session_id)
    assert person is not None
    assert person.checked_in_at is None  # not checked in without a role
    assert sessions.noted(session_id=session_id, user_id="U1") is not None
    form = sessions.check_in_form(session_id=session_id, user_id="U1")
    assert not isinstance(form, Refusal)
    assert (form.place, form.consent_to_quote) == ("Stoke", True)  # the form shows them too
    checked = _click(sessions, session_id, PickRole("Member"), "T3")
    assert isinstance(checked, CheckedIn)
    assert checked.first_time
    assert (checked.participant.place, checked.participant.consent_to_quote) == ("Stoke", True)
    assert sessions.noted(session_id=session_id, user_id="U1") is None
    assert [r.kind for r in _replies(sqlite_database)] == [
        CHECK_IN_NOTED,
        CHECK_IN_NOTED,
        CHECKED_IN,
    ]


def test_a_role_pick_keeps_what_the_form_gave(
    sessions: SessionService, sqlite_database: Database
) -> None:
    session_id = _start(sessions)
    sessions.check_in(
        session_id=session_id,
        user_id="U1",
        answers=CheckInAnswers(
            role="Organiser", place=None, group_name="Unison", consent_to_quote=True
        ),
        delivery_key=None,
    )
    checked = _click(sessions, session_id, PickRole("Member"), "T1")
    assert isinstance(checked, CheckedIn)
    person = checked.participant
    # a place cleared in the form stays cleared; the group and consent stay as given
    assert (person.role, person.place, person.group_name, person.consent_to_quote) == (
        "Member",
        None,
        "Unison",
        True,
    )


def test_a_click_after_the_end_is_refused_and_records_nothing(
    sessions: SessionService, sqlite_database: Database
) -> None:
    session_id = _start(sessions)
    assert not isinstance(
        sessions.end(channel_id="C1", user_id="U0FAC", delivery_key=None), Refusal
    )
    refused = _click(sessions, session_id, PickRole("Member"), "T1")
    assert isinstance(refused, Refusal)
    assert "has ended" in refused.message
    assert _person(sqlite_database, session_id) is None
    assert _replies(sqlite_database) == []
    assert not sessions.already_done("block_actions:T1")


@pytest.mark.parametrize(
    "choice",
    [
        PickRole("<!channel> Boss"),
        PickRole("Member "),  # not exactly an offered role
        PickPlace("Nowhere"),
        PickRole("x" * 5000),
    ],
)
def test_values_the_message_does_not_offer_are_refused(
    sessions: SessionService, sqlite_database: Database, choice: CheckInChoice
) -> None:
    session_id = _start(sessions, area=None)
    refused = _click(sessions, session_id, choice, "T1")
    assert isinstance(refused, Refusal)
    assert "Change details" in refused.message
    assert _person(sqlite_database, session_id) is None
    assert _replies(sqlite_database) == []


def test_a_session_that_is_gone_is_refused(sessions: SessionService) -> None:
    refused = _click(sessions, 99999, PickRole("Member"), "T1")
    assert isinstance(refused, Refusal)
    assert "no longer exists" in refused.message


def test_a_role_enough_people_gave_is_offered_and_accepted(
    sessions: SessionService, sqlite_database: Database
) -> None:
    session_id = _start(sessions)
    for user in ("U7", "U8"):
        sessions.check_in(
            session_id=session_id,
            user_id=user,
            answers=CheckInAnswers(
                role="Steward", place=None, group_name=None, consent_to_quote=False
            ),
            delivery_key=None,
        )
    session = sessions.get(session_id)
    assert session is not None
    assert "Steward" not in sessions.check_in_choices(session).roles  # two people: not offered
    assert isinstance(_click(sessions, session_id, PickRole("Steward"), "T1"), Refusal)
    sessions.check_in(
        session_id=session_id,
        user_id="U9",
        answers=CheckInAnswers(role="Steward", place=None, group_name=None, consent_to_quote=False),
        delivery_key=None,
    )
    choices = sessions.check_in_choices(session)
    assert choices.roles[: len(DEFAULT_ROLES)] == DEFAULT_ROLES
    assert "Steward" in choices.roles
    assert isinstance(_click(sessions, session_id, PickRole("Steward"), "T2"), CheckedIn)


def test_places_are_offered_only_when_the_session_set_no_area(sessions: SessionService) -> None:
    with_area = sessions.get(_start(sessions, area="Durham"))
    assert with_area is not None
    assert sessions.check_in_choices(with_area).places == ()
    sessions.end(channel_id="C1", user_id="U0FAC", delivery_key=None)
    without = sessions.get(_start(sessions, area=None))
    assert without is not None
    assert sessions.check_in_choices(without).places == ("Durham",)  # the tour's areas


def test_a_first_check_in_from_a_click_is_followed_up(
    sessions: SessionService, sqlite_database: Database
) -> None:
    joined: list[str] = []
    checking_in = CheckingIn(sessions, on_check_in=[lambda c: joined.append(c.participant.user_id)])
    session_id = _start(sessions)
    checked = checking_in.choose(
        session_id=session_id,
        user_id="U0LATE",
        choice=PickRole("Member"),
        delivery_key="block_actions:T1",
        response_url=None,
    )
    assert isinstance(checked, CheckedIn)
    checking_in.follow_up(checked)
    assert joined == ["U0LATE"]
