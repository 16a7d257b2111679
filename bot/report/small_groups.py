"""Small groups: which rows of a breakdown to hide so that nobody is singled out.

A breakdown (by group, role, place, session or source) shows rows that together make a total
that is printed too. A row of fewer than `min_group` people is hidden ("fewer than 5"), and so
are as many of the next smallest rows as it takes for the hidden rows to stay hidden: the total
minus the shown rows is the hidden rows' sum, so hiding one row alone gives it away, and two
hidden rows of 1 and 2 people give away a group of 3 (all 3 chose No: so did each of them).

Across sessions (the tour report), small groups are hidden per session first, then added up:
`merge_small` puts each session's hidden rows of a poll (per source and attribute) and of its
check-ins together in one row, `SMALL_GROUPS`, whose people still count in every total. A purge
stores just these rows, so no stored row holds a small group, and a tour row is the sum of the
rows each session shows, so it cannot be subtracted from a session's own summary. The tour's
rows are then hidden as above, the `SMALL_GROUPS` row always (it reads "not shown").

The tallies' totals are never changed, only what is shown of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from itertools import zip_longest
from typing import Any

from bot.report.model import (
    BreakdownRow,
    PollAggregate,
    Result,
    SessionRow,
    TourAttendance,
    TourReport,
)
from storage.privacy.tables import GROUP, PLACE, ROLE, SMALL_GROUPS

SOURCE = "source"  # a poll's Slack and Zoom rows, as `merge_small` takes them (never stored)


def rows_to_hide(
    counts: Sequence[int], *, min_group: int, merged: int | None = None
) -> frozenset[int]:
    """The rows of a breakdown to hide, by index.

    The rule: every row with 1 to `min_group - 1` people is hidden. Then, while the hidden rows
    are fewer than two or hold fewer than `min_group` people together, the smallest shown row
    with people is hidden too (of equal rows, the one listed later). The total is assumed
    known, so the hidden rows' sum is known; with two or more hidden rows holding at least
    `min_group` people, no single hidden row, nor a group smaller than `min_group`, can be
    worked out by subtraction. Rows of 0 people are always shown: they single out nobody, and
    hiding them would protect nobody (a reader may know they are empty). When every row with
    people is hidden, what they hold together is the total, which is shown anyway.

    Args:
        counts: the number of people in each row (their total is the breakdown's total).
        min_group: the smallest number of people a shown row may hold; 1 shows everything.
        merged: the row, if any, that holds rows hidden before (`SMALL_GROUPS`): it is always
            hidden, and with `min_group` people or more it is enough cover on its own (it is
            itself two or more hidden rows, or a session's whole breakdown).

    Returns:
        The indices of the rows to hide (empty when nothing is small).
    """
    hidden = {index for index, count in enumerate(counts) if 0 < count < min_group}
    if merged is not None and counts[merged] > 0:
        hidden.add(merged)
    if not hidden:
        return frozenset()
    candidates = sorted(
        (index for index, count in enumerate(counts) if count > 0 and index not in hidden),
        key=lambda index: (counts[index], -index),
    )
    for index in candidates:
        held = sum(counts[i] for i in hidden)
        if held >= min_group and (len(hidden) >= 2 or merged in hidden):
            break
        hidden.add(index)
    return frozenset(hidden)


def merged_index(names: Sequence[str]) -> int | None:
    """Which row of a breakdown is the `SMALL_GROUPS` one, if any."""
    return names.index(SMALL_GROUPS) if SMALL_GROUPS in names else None


def _merge_one(rows: Sequence[BreakdownRow], min_group: int) -> list[BreakdownRow]:
    """One breakdown's rows, those `rows_to_hide` hides put together in one `SMALL_GROUPS` row."""
    ordered = sorted(rows, key=lambda row: (row.value == SMALL_GROUPS, row.value))
    hide = rows_to_hide(
        [row.people for row in ordered],
        min_group=min_group,
        merged=merged_index([row.value for row in ordered]),
    )
    if not hide:
        return ordered
    hidden = [row for index, row in enumerate(ordered) if index in hide]
    columns = zip_longest(*(row.counts for row in hidden), fillvalue=0)
    counts = tuple(sum(column) for column in columns)
    bucket = replace(
        hidden[0], value=SMALL_GROUPS, people=sum(row.people for row in hidden), counts=counts
    )
    return [*(row for index, row in enumerate(ordered) if index not in hide), bucket]


def merge_small(rows: Iterable[BreakdownRow], *, min_group: int) -> list[BreakdownRow]:
    """Rows of one or more sessions with each breakdown's small groups (and the rows hidden
    with them) put together: per session, poll, source and attribute (role, place, group, or
    `SOURCE`), and per session and attribute for check-ins. Their people and counts are added
    up in one `SMALL_GROUPS` row, so every total stays. Other rows (`ELSEWHERE`) are kept as
    they are. Rows merged before (a purge's) are merged again harmlessly: what this returns it
    returns unchanged, so a purge's stored rows and the rows it was given add up the same.

    The rows of a breakdown are taken in order of their values (rows_to_hide breaks ties by
    order), so the result does not depend on the order rows were read in.
    """
    breakdowns: dict[tuple[int, int | None, str, str], list[BreakdownRow]] = {}
    kept: list[BreakdownRow] = []
    for row in rows:
        if row.dimension in (ROLE, PLACE, GROUP, SOURCE):
            key = (row.session_id, row.poll_id, row.source, row.dimension)
            breakdowns.setdefault(key, []).append(row)
        else:
            kept.append(row)
    merged = [row for each in breakdowns.values() for row in _merge_one(each, min_group)]
    return [*merged, *kept]


NOT_SHOWN = "not shown"  # a row hidden so that a small one cannot be worked out from it
IN_SMALL_GROUPS = "In small groups"  # what the `SMALL_GROUPS` row is called where it is shown
SMALL_GROUPS_NOTE = (
    "Each session's are set apart first (with any row that would give them away) and added up "
    "in the row “In small groups”, so a row counts only the sessions that showed it."
)


def fewer_than(min_group: int) -> str:
    """What a small group's hidden row reads instead of its figures: "fewer than 5"."""
    return f"fewer than {min_group}"


def hidden_as(count: int, min_group: int, name: str = "") -> str:
    """What a hidden row reads: "fewer than 5" for a small group, "not shown" for a larger
    row hidden with it (so that the small one cannot be worked out by subtraction) and for the
    `SMALL_GROUPS` row (named `name`), whatever it holds."""
    return fewer_than(min_group) if count < min_group and name != SMALL_GROUPS else NOT_SHOWN


def hidden_note(min_group: int) -> str:
    """The note shown wherever something was hidden."""
    return f"Groups of fewer than {min_group} people are not shown."


def shown_name(name: str) -> str:
    """A row's name as shown: the `SMALL_GROUPS` row's is `IN_SMALL_GROUPS`."""
    return IN_SMALL_GROUPS if name == SMALL_GROUPS else name


def hidden_result(result: Result, min_group: int) -> Result:
    """A row with its name and what it reads only: no n, no counts, no percentages."""
    label = hidden_as(result.n, min_group, result.name)
    return Result(name=shown_name(result.name), n=0, shares=(), hidden=True, hidden_label=label)


def suppress_results(results: Sequence[Result], *, min_group: int) -> tuple[Result, ...]:
    """The rows of one breakdown, small ones (and their complements) hidden, and the
    `SMALL_GROUPS` row always."""
    hide = rows_to_hide(
        [result.n for result in results],
        min_group=min_group,
        merged=merged_index([result.name for result in results]),
    )
    return tuple(
        hidden_result(result, min_group) if index in hide else result
        for index, result in enumerate(results)
    )


def suppress_counts(
    rows: Sequence[tuple[str, int | str]], *, min_group: int
) -> tuple[tuple[str, int | str], ...]:
    """(name, count) rows of a head count, a hidden row's count replaced by what it reads (the
    `SMALL_GROUPS` row always hidden, named `IN_SMALL_GROUPS`)."""
    counts = [count if isinstance(count, int) else 0 for _, count in rows]
    hide = rows_to_hide(counts, min_group=min_group, merged=merged_index([n for n, _ in rows]))
    return tuple(
        (shown_name(name), hidden_as(counts[index], min_group, name))
        if index in hide
        else (name, count)
        for index, (name, count) in enumerate(rows)
    )


def suppress_sessions(
    rows: Sequence[tuple[SessionRow, Result]], *, min_group: int
) -> tuple[tuple[SessionRow, Result], ...]:
    """A poll's rows by session, small sessions (and their complements) hidden."""
    shown = suppress_results([result for _, result in rows], min_group=min_group)
    return tuple((session, result) for (session, _), result in zip(rows, shown, strict=True))


def suppress_poll(aggregate: PollAggregate, *, min_group: int) -> PollAggregate:
    """A poll's breakdowns with small rows hidden; its overall result as it was."""
    return replace(
        aggregate,
        by_group=suppress_results(aggregate.by_group, min_group=min_group),
        by_role=suppress_results(aggregate.by_role, min_group=min_group),
        by_session=suppress_sessions(aggregate.by_session, min_group=min_group),
        by_source=suppress_results(aggregate.by_source, min_group=min_group),
    )


def suppress_attendance(attendance: TourAttendance, *, min_group: int) -> TourAttendance:
    """Check-ins by role and group with small rows hidden; the totals as they were."""
    return replace(
        attendance,
        by_role=suppress_counts(attendance.by_role, min_group=min_group),
        by_group=suppress_counts(attendance.by_group, min_group=min_group),
    )


def poll_hides(aggregate: PollAggregate) -> bool:
    """Whether any row of a poll's breakdowns is hidden."""
    sessions = (result for _, result in aggregate.by_session)
    rows = (*aggregate.by_group, *aggregate.by_role, *aggregate.by_source, *sessions)
    return any(result.hidden for result in rows)


def attendance_hides(attendance: TourAttendance) -> bool:
    """Whether any row of the attendance is hidden."""
    return any(isinstance(count, str) for _, count in (*attendance.by_role, *attendance.by_group))


def suppress_report(report: TourReport, *, min_group: int) -> TourReport:
    """The tour report with every breakdown's small rows hidden, and whether any was."""
    polls = tuple(suppress_poll(poll, min_group=min_group) for poll in report.polls)
    attendance = suppress_attendance(report.attendance, min_group=min_group)
    hid = attendance_hides(attendance) or any(map(poll_hides, polls))
    merged = any(
        name == IN_SMALL_GROUPS for name, _ in (*attendance.by_role, *attendance.by_group)
    ) or any(
        result.name == IN_SMALL_GROUPS and result.hidden
        for poll in polls
        for result in (*poll.by_group, *poll.by_role, *poll.by_source)
    )
    note = f"{hidden_note(min_group)} {SMALL_GROUPS_NOTE}" if merged else hidden_note(min_group)
    return replace(report, polls=polls, attendance=attendance, hidden_note=note if hid else "")


def suppress_document(document: dict[str, Any], *, min_group: int) -> dict[str, Any]:
    """A session export (bot.report.export) with its polls' Slack and Zoom rows of small
    groups hidden. The lists of people (participants, votes, room members) are the organisers'
    own record, person by person, and stay as they are."""
    polls = []
    hid = False
    for poll in document["polls"]:
        sources = poll["by_source"]
        hide = rows_to_hide([source["n"] for source in sources], min_group=min_group)
        hid = hid or bool(hide)
        polls.append(
            {
                **poll,
                "by_source": [
                    {
                        **source,
                        "n": None,
                        "hidden": hidden_as(source["n"], min_group),
                        "options": [],
                    }
                    if index in hide
                    else source
                    for index, source in enumerate(sources)
                ],
            }
        )
    return {
        **document,
        "polls": polls,
        "small_groups": {
            "min_group": min_group,
            "note": hidden_note(min_group) if hid else None,
        },
    }
