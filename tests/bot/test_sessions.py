"""SessionService rules on a real SQLite file."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.clock import FixedClock
from bot.config import load_settings
from bot.parsing import UsageError
from bot.sessions import (
    CheckedIn,
    CheckInAnswers,
    Duplicate,
    Refusal,
    SessionService,
    StartRequest,
    clean_answer,
    parse_start_text,
)
from storage import repository as repo
from storage.db import Database
from storage.models import ListeningSession

REQUEST = StartRequest(title="Durham", area="Durham", group_type="CLP", zoom_meeting_id=None)


def _service(db: Database, clock: FixedClock, **settings: str) -> SessionService:
    return SessionService(db, load_settings(env_file=None, **settings), clock)


def _start(service: SessionService, user: str = "U0FAC") -> ListeningSession:
    started = service.start(channel_id="C1", user_id=user, request=REQUEST, delivery_key=None)
    assert isinstance(started, ListeningSession)
    return started


def test_deliveries_older_than_an_hour_are_pruned(
    sqlite_database: Database, clock: FixedClock
) -> None:
    service = _service(sqlite_database, clock)
    with sqlite_database.transaction() as s:
        repo.record_delivery(s, key="stale", now=clock.now() - timedelta(minutes=61))
        repo.record_delivery(s, key="fresh", now=clock.now() - timedelta(minutes=59))
    assert service.prune_deliveries() == 1
    assert not service.already_done("stale")
    assert service.already_done("fresh")


def test_facilitators_are_the_starter_then_the_global_list(
    sqlite_database: Database, clock: FixedClock
) -> None:
    service = _service(sqlite_database, clock, FACILITATORS="U0BOSS,U0FAC")
    session = _start(service, user="U0FAC")
    assert service.facilitators(session) == ["U0FAC", "U0BOSS"]
    assert service.is_facilitator("U0BOSS", session)
    assert not service.is_facilitator("U0ANY", session)
    assert not service.is_facilitator("U0ANY", None)  # with a list, only listed people start


def test_without_a_list_anyone_may_start(sqlite_database: Database, clock: FixedClock) -> None:
    service = _service(sqlite_database, clock)
    assert service.is_facilitator("U0ANY", None)
    session = _start(service, user="U0ANY")
    assert service.is_facilitator("U0ANY", session)
    assert not service.is_facilitator("U0OTHER", session)


def test_check_in_form_prefills_from_the_session_then_the_person(
    sqlite_database: Database, clock: FixedClock
) -> None:
    service = _service(sqlite_database, clock)
    session = _start(service)
    assert session.id is not None
    form = service.check_in_form(session_id=session.id, user_id="U1")
    assert not isinstance(form, Refusal)
    assert (form.role, form.place, form.group_name, form.returning) == (
        None,
        "Durham",
        "CLP",
        False,
    )
    answers = CheckInAnswers(
        role="  Trade   union member ", place="Sunderland", group_name="", consent_to_quote=True
    )
    done = service.check_in(session_id=session.id, user_id="U1", answers=answers, delivery_key="k")
    assert isinstance(done, CheckedIn)
    assert done.participant.role == "Trade union member"  # spaces folded
    assert done.participant.group_name is None  # empty means not given
    again = service.check_in(session_id=session.id, user_id="U1", answers=answers, delivery_key="k")
    assert isinstance(again, Duplicate)
    form = service.check_in_form(session_id=session.id, user_id="U1")
    assert not isinstance(form, Refusal)
    assert (form.role, form.place, form.group_name, form.consent_to_quote, form.returning) == (
        "Trade union member",
        "Sunderland",
        "CLP",  # an answer left empty falls back to the session's group
        True,
        True,
    )


def test_role_suggestions_put_the_typed_text_first(
    sqlite_database: Database, clock: FixedClock
) -> None:
    service = _service(sqlite_database, clock)
    assert service.role_suggestions("coun") == ["coun", "Councillor"]
    assert service.role_suggestions("councillor") == ["Councillor"]
    assert service.role_suggestions("")[:2] == ["Member", "Trade union member"]
    assert service.role_suggestions("x" * 500) == ["x" * 75]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(None, None), ("", None), ("   ", None), (" a  b ", "a b"), ("x" * 100, "x" * 80)],
)
def test_clean_answer(raw: str | None, expected: str | None) -> None:
    assert clean_answer(raw, 80) == expected


def test_roles_typed_by_fewer_than_three_people_are_not_suggested(
    sqlite_database: Database, clock: FixedClock
) -> None:
    service = _service(sqlite_database, clock)
    session = _start(service)
    assert session.id is not None
    for number, role in enumerate(["Shop steward"] * 3 + ["Mayor of Smalltown"]):
        service.check_in(
            session_id=session.id,
            user_id=f"U{number}",
            answers=CheckInAnswers(role=role, place=None, group_name=None, consent_to_quote=False),
            delivery_key=None,
        )
    suggestions = service.role_suggestions("")
    assert "Shop steward" in suggestions
    assert "Mayor of Smalltown" not in suggestions


@given(st.text(max_size=300))
def test_parse_start_text_never_raises(text: str) -> None:
    result = parse_start_text(text)
    assert isinstance(result, StartRequest | UsageError)
    if isinstance(result, StartRequest):
        assert 0 < len(result.title) <= 150
