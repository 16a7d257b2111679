"""Zoom polls' rules without I/O: the limits, the body, matching and merging Zoom's answers."""

from __future__ import annotations

import pytest

from bot.polls.requests import PollRequest
from bot.zoom_polls.rules import (
    Matched,
    Merge,
    Response,
    match_answer,
    merge_answers,
    poll_body,
    responses_for,
    zoom_limit_problem,
)
from storage.zoom.people import zoom_user_id
from storage.zoom.polls import AnswerRow

OPTIONS = ("Agree", "Disagree", "Yes, strongly", "Not sure")


def _request(question: str = "Back the strike?", options: int = 2) -> PollRequest:
    return PollRequest(question=question, options=tuple(f"Option {n}" for n in range(options)))


# -- what Zoom can carry ---------------------------------------------------------------------


def test_a_question_of_64_characters_fits_and_65_is_refused_naming_the_limit() -> None:
    assert zoom_limit_problem(_request("Q" * 64)) is None
    problem = zoom_limit_problem(_request("Q" * 65))
    assert problem is not None
    assert "at most 64 characters" in problem
    assert "has 65" in problem


@pytest.mark.parametrize(("count", "fits"), [(2, True), (10, True), (11, False), (20, False)])
def test_zoom_takes_2_to_10_answers(count: int, fits: bool) -> None:
    problem = zoom_limit_problem(_request(options=count))
    assert (problem is None) is fits
    if not fits:
        assert problem is not None
        assert f"2 to 10 answers, and this poll has {count}" in problem


def test_the_body_uses_the_question_as_title_and_the_options_as_answers() -> None:
    body = poll_body(question="Back it?", options=["Yes", "No"], multi=True, anonymous=True)
    assert body == {
        "title": "Back it?",
        "anonymous": True,
        "questions": [{"name": "Back it?", "type": "multiple", "answers": ["Yes", "No"]}],
    }
    single = poll_body(question="Back it?", options=["Yes", "No"], multi=False, anonymous=False)
    assert single["questions"][0]["type"] == "single"


# -- matching an answer to the options -------------------------------------------------------


@pytest.mark.parametrize("answer", ["Agree", "agree", "  AGREE ", "Agree\n"])
def test_an_answer_matches_its_option_ignoring_case_and_spacing(answer: str) -> None:
    assert match_answer(answer, OPTIONS, multi=False) == Matched((0,), ())


def test_a_single_choice_answer_matching_no_option_is_unmatched_whole() -> None:
    assert match_answer("Agree, Disagree", OPTIONS, multi=False) == Matched(
        (), ("Agree, Disagree",)
    )
    assert match_answer("Maybe  later", OPTIONS, multi=False) == Matched((), ("Maybe later",))
    assert match_answer("   ", OPTIONS, multi=False) == Matched((), ())


@pytest.mark.parametrize(
    ("answer", "indexes"),
    [
        ("Agree;Disagree", (0, 1)),
        ("Agree; Not sure", (0, 3)),
        ("Agree,Disagree", (0, 1)),
        ("Disagree, Agree", (1, 0)),
        ("Yes, strongly", (2,)),  # an option holding a comma is one option
        ("Agree;Yes, strongly", (0, 2)),
        ("Yes, strongly, Agree", (2, 0)),
        ("Agree;Agree", (0,)),
    ],
)
def test_a_multiple_choice_answer_is_read_with_either_separator(
    answer: str, indexes: tuple[int, ...]
) -> None:
    assert match_answer(answer, OPTIONS, multi=True) == Matched(indexes, ())


def test_the_parts_of_a_multiple_choice_answer_matching_nothing_are_kept_together() -> None:
    assert match_answer("Agree; Maybe, later; Not sure", OPTIONS, multi=True) == Matched(
        (0, 3), ("Maybe, later",)
    )
    assert match_answer("Perhaps", OPTIONS, multi=True) == Matched((), ("Perhaps",))


# -- reading Zoom's answer -------------------------------------------------------------------


def _row(email: str | None, *details: dict[str, str]) -> dict[str, object]:
    return {"name": "Someone", "email": email, "question_details": list(details)}


def test_answers_belong_to_a_poll_by_polling_id_or_else_by_question() -> None:
    payload = {
        "questions": [
            _row("A@Example.org", {"question": "Q1", "answer": "Agree", "polling_id": "p1"}),
            _row("b@example.org", {"question": "Q1", "answer": "No", "polling_id": "other"}),
            _row("", {"question": " q1 ", "answer": "Disagree"}),
            _row(None, {"question": "Another", "answer": "Agree"}),
            "not a row",
        ]
    }
    assert responses_for(payload, zoom_poll_id="p1", question="Q1") == [
        Response("a@example.org", ("Agree",)),
        Response(None, ("Disagree",)),
    ]
    assert responses_for({"questions": None}, zoom_poll_id="p1", question="Q1") == []


def test_every_detail_of_a_respondent_for_the_poll_counts() -> None:
    payload = {
        "questions": [
            _row(
                "a@example.org",
                {"question": "Q1", "answer": "Agree", "polling_id": "p1"},
                {"question": "Q1", "answer": "Not sure", "polling_id": "p1"},
            )
        ]
    }
    assert responses_for(payload, zoom_poll_id="p1", question="Q1") == [
        Response("a@example.org", ("Agree", "Not sure"))
    ]


# -- merging ----------------------------------------------------------------------------------


def _merge(
    responses: list[Response],
    *,
    multi: bool = False,
    anonymous: bool = False,
    slack_voters: frozenset[str] = frozenset(),
    voter_emails: frozenset[str] = frozenset(),
    people: dict[str, str] | None = None,
) -> Merge:
    return merge_answers(
        responses,
        poll_id=7,
        options=OPTIONS,
        multi=multi,
        anonymous=anonymous,
        slack_voters=set(slack_voters),
        voter_emails=set(voter_emails),
        people=people or {},
    )


def test_a_zoom_respondent_matched_by_email_to_a_slack_voter_counts_once() -> None:
    merged = _merge(
        [Response("voter@example.org", ("Disagree",)), Response("new@example.org", ("Agree",))],
        slack_voters=frozenset({"U1"}),
        voter_emails=frozenset({"voter@example.org"}),
    )
    assert merged.duplicates == 1
    assert merged.added == 1
    assert merged.rows == (AnswerRow(zoom_user_id(email="new@example.org", identity=""), 0),)


def test_a_respondent_whose_matched_person_voted_in_slack_counts_once_too() -> None:
    # The presence helper matched this Zoom email to the Slack voter U1 (their Slack email is
    # not known here): still one person.
    merged = _merge(
        [Response("u1@zoom.example", ("Agree",))],
        slack_voters=frozenset({"U1"}),
        people={"u1@zoom.example": "U1"},
    )
    assert (merged.added, merged.duplicates, merged.rows) == (0, 1, ())


def test_named_answers_are_stored_under_the_matched_person_or_a_zoom_only_id() -> None:
    merged = _merge(
        [
            Response("member@example.org", ("Agree",)),
            Response(None, ("Disagree",)),
            Response(None, ("Maybe",)),
        ],
        people={"member@example.org": "U9"},
    )
    guest = zoom_user_id(email=None, identity="zoom-poll:7:1")
    odd = zoom_user_id(email=None, identity="zoom-poll:7:2")
    assert merged.rows == (
        AnswerRow("U9", 0),
        AnswerRow(guest, 1),
        AnswerRow(odd, None, "Maybe"),
    )
    assert merged.added == 2  # an answer matching no option is shown, not counted


def test_the_same_person_twice_in_zoom_counts_once() -> None:
    merged = _merge(
        [Response("a@example.org", ("Agree",)), Response("a@example.org", ("Disagree",))]
    )
    assert merged.added == 1
    assert [row.option_index for row in merged.rows] == [0]


def test_a_single_choice_poll_keeps_one_choice_and_a_multiple_one_all() -> None:
    two = [Response("a@example.org", ("Agree", "Disagree"))]
    assert [r.option_index for r in _merge(two).rows] == [0]
    assert [r.option_index for r in _merge(two, multi=True).rows] == [0, 1]


def test_anonymous_polls_merge_as_counts_with_no_respondent() -> None:
    merged = _merge(
        [
            Response("a@example.org", ("Agree",)),
            Response("b@example.org", ("agree",)),
            Response(None, ("Disagree",)),
            Response(None, ("Maybe",)),
            Response(None, ("maybe",)),
            Response("voter@example.org", ("Agree",)),
        ],
        anonymous=True,
        voter_emails=frozenset({"voter@example.org"}),
    )
    assert merged.rows == (
        AnswerRow(None, 0, None, 2),
        AnswerRow(None, 1, None, 1),
        AnswerRow(None, None, "Maybe", 1),
        AnswerRow(None, None, "maybe", 1),
    )
    assert all(row.user_id is None for row in merged.rows)
    assert (merged.added, merged.duplicates) == (3, 1)
