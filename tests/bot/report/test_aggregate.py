"""Tour report aggregation, checked against arithmetic done independently in the test."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from bot.report.aggregate import NOT_GIVEN, aggregate_polls, attribution, build_report
from bot.report.model import (
    AnonymousTally,
    PersonRow,
    PollRow,
    QuoteRow,
    ReportInput,
    SessionRow,
    VoteRow,
)

T0 = datetime(2031, 1, 10, 18, tzinfo=UTC)
GROUPS = ["CLP", "Union branch", None]
ROLES = ["Member", "Councillor", "Trade union member", None]


def _generated(seed: int) -> tuple[ReportInput, dict[tuple[int, str], tuple[str, str]]]:
    """Random sessions, people and named votes on one key, asked with options in other orders."""
    rng = random.Random(seed)
    data = ReportInput()
    who: dict[tuple[int, str], tuple[str, str]] = {}
    for sid in range(1, 6):
        group_type = rng.choice(["CLP", "Union branch"])
        data.sessions.append(
            SessionRow(sid, f"Session {sid}", T0 + timedelta(days=sid), None, group_type)
        )
        options = ["Agree", "Disagree", "Not sure"]
        rng.shuffle(options)
        data.polls.append(PollRow(sid, sid, "nhs", "Fund the NHS?", tuple(options), False, False))
        for p in range(rng.randint(0, 40)):
            user = f"U{sid}{p}"
            role, group = rng.choice(ROLES), rng.choice(GROUPS)
            data.people.append(PersonRow(sid, user, role, None, group))
            who[(sid, user)] = (role or NOT_GIVEN, group or group_type)
            if rng.random() < 0.8:
                data.votes.append(VoteRow(sid, user, rng.randrange(3)))
    return data, who


def test_overall_group_and_role_counts_match_a_recount() -> None:
    for seed in range(20):
        data, who = _generated(seed)
        [poll] = aggregate_polls(data)
        options = {p.id: p.options for p in data.polls}
        chosen = [(v.poll_id, v.user_id, options[v.poll_id][v.option_index]) for v in data.votes]
        overall = {s.label: s.count for s in poll.overall.shares}
        for label in ("Agree", "Disagree", "Not sure"):
            assert overall[label] == sum(1 for _, _, text in chosen if text == label)
        assert poll.overall.n == len(chosen)
        for result in poll.by_group:
            voters = [c for c in chosen if who[(c[0], c[1])][1] == result.name]
            assert result.n == len(voters)
            for share in result.shares:
                assert share.count == sum(1 for c in voters if c[2] == share.label)
        assert sum(r.n for r in poll.by_role) == len(chosen)
        for result in poll.by_role:
            assert result.n == sum(1 for c in chosen if who[(c[0], c[1])][0] == result.name)
        for session, result in poll.by_session:
            assert result.n == sum(1 for c in chosen if c[0] == session.id)
        for result in (poll.overall, *poll.by_group, *poll.by_role):
            if result.n:
                assert sum(s.percent for s in result.shares) == 100


def test_anonymous_polls_count_in_totals_but_not_in_breakdowns() -> None:
    data = ReportInput(
        sessions=[SessionRow(1, "A", T0, None, "CLP"), SessionRow(2, "B", T0, None, "Union")],
        people=[PersonRow(1, "U1", "Member", None, None), PersonRow(1, "U2", None, None, None)],
        polls=[
            PollRow(1, 1, "k", "Q?", ("Yes", "No"), False, False),
            PollRow(2, 2, "k", "Q?", ("no", "yes"), False, True),
        ],
        votes=[VoteRow(1, "U1", 0), VoteRow(1, "U2", 1)],
        anonymous=[AnonymousTally(2, voters=10, counts=(3, 7))],
    )
    [poll] = aggregate_polls(data)
    assert poll.overall.n == 12
    assert {s.label: s.count for s in poll.overall.shares} == {"Yes": 8, "No": 4}
    assert [(s.label, s.percent) for s in poll.overall.shares] == [("Yes", 67), ("No", 33)]
    assert poll.anonymous_answers == 10
    assert sum(r.n for r in poll.by_group) == 2
    assert [r.name for r in poll.by_group] == ["CLP"]  # falls back to the session's group
    assert [(r.name, r.n) for r in poll.by_role] == [("Member", 1), (NOT_GIVEN, 1)]


def test_multi_choice_counts_people_once_per_option() -> None:
    data = ReportInput(
        sessions=[SessionRow(1, "A", T0, None, None)],
        polls=[PollRow(1, 1, "m", "Pick", ("a", "b", "c"), True, False)],
        votes=[VoteRow(1, "U1", 0), VoteRow(1, "U1", 1), VoteRow(1, "U2", 1), VoteRow(1, "U2", 1)],
    )
    [poll] = aggregate_polls(data)
    assert poll.overall.n == 2
    assert [(s.count, s.percent) for s in poll.overall.shares] == [(1, 50), (2, 100), (0, 0)]


def test_a_poll_nobody_answered() -> None:
    data = ReportInput(
        sessions=[SessionRow(1, "A", T0, None, None)],
        polls=[PollRow(1, 1, "q", "Anyone?", ("Yes", "No"), False, False)],
    )
    [poll] = aggregate_polls(data)
    assert poll.overall.n == 0
    assert [s.percent for s in poll.overall.shares] == [0, 0]
    assert poll.by_session == ()


def test_themes_attendance_and_attribution() -> None:
    sessions = [
        SessionRow(1, "Durham", T0, "Durham", "CLP"),
        SessionRow(2, "Leeds", T0, None, None),
    ]
    data = ReportInput(
        sessions=sessions,
        people=[
            PersonRow(1, "U1", "Member", "Durham", None),
            PersonRow(2, "U1", "Member", "Leeds", "Union"),
            PersonRow(2, "U2", None, None, None),
        ],
        quotes=[
            QuoteRow(1, "Rents are too high", "Member", "Durham", ("Housing",)),
            QuoteRow(2, "Rent is half my wage", None, "Leeds", ("housing ", "Cost of living")),
            QuoteRow(2, "Buses never come", "Councillor", None, ()),
        ],
    )
    report = build_report(data, generated_at=T0)
    assert [(t.label, t.tagged, len(t.quotes)) for t in report.themes] == [
        ("Housing", True, 2),
        ("Cost of living", True, 1),
        ("buses, come", False, 1),
    ]
    assert report.themes[0].quotes[1].attribution == "Participant, Leeds"
    assert report.attendance.sessions == 2
    assert report.attendance.people == 2
    assert report.attendance.check_ins == 3
    assert dict(report.attendance.by_group) == {"CLP": 1, "Union": 1, NOT_GIVEN: 1}
    assert attribution("Member", "Stoke on Trent") == "Member, Stoke on Trent"


def test_zoom_answers_count_with_slacks_apart_and_break_down_by_the_matched_person() -> None:
    data = ReportInput(
        sessions=[SessionRow(1, "Durham", T0, None, "CLP")],
        people=[
            PersonRow(1, "U1", "Member", None, None),
            PersonRow(1, "zoom:matched", "Councillor", None, "Union branch"),
        ],
        polls=[
            PollRow(1, 1, "nhs", "Fund the NHS?", ("Agree", "Disagree"), False, False),
            PollRow(2, 1, "energy", "Public energy?", ("Yes", "No"), False, True),
        ],
        votes=[VoteRow(1, "U1", 0)],
        anonymous=[AnonymousTally(2, 3, (2, 1))],
        # A Zoom respondent matched to a checked-in person, and one nobody knows.
        zoom_votes=[VoteRow(1, "zoom:matched", 1), VoteRow(1, "zoom:guest", 0)],
        zoom_anonymous=[AnonymousTally(2, 2, (0, 2))],
    )
    nhs, energy = aggregate_polls(data)
    assert nhs.overall.n == 3
    assert [s.count for s in nhs.overall.shares] == [2, 1]
    slack, zoom = nhs.by_source
    assert (slack.name, slack.n, [s.count for s in slack.shares]) == ("Slack", 1, [1, 0])
    assert (zoom.name, zoom.n, [s.count for s in zoom.shares]) == ("Zoom", 2, [1, 1])
    roles = {r.name: [s.count for s in r.shares] for r in nhs.by_role}
    assert roles == {"Member": [1, 0], "Councillor": [0, 1], NOT_GIVEN: [1, 0]}
    groups = {r.name: r.n for r in nhs.by_group}
    assert groups == {"Union branch": 1, "CLP": 2}
    assert energy.overall.n == 5
    assert [s.count for s in energy.overall.shares] == [2, 3]
    assert [r.n for r in energy.by_source] == [3, 2]
    assert energy.anonymous_answers == 5


def test_a_tour_without_zoom_has_no_sources() -> None:
    data, _ = _generated(3)
    assert all(poll.by_source == () for poll in aggregate_polls(data))
