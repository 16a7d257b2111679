"""The run sheet library on a real database: versions, what is unchanged, what sessions used."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import col, select

from bot.clock import FixedClock
from bot.runsheets import PollStep, RunSheet, RunSheetLibrary, load_runsheet
from storage import repository as repo
from storage.db import Database
from storage.runsheets import RunSheetVersion

SOURCE = """\
name: tour
title: A tour
steps:
  - talk: Welcome
    duration: 5m
  - poll: Has the party drifted?
    key: union-roots
    options: [Agree, Disagree, Not sure]
"""


def _load(text: str) -> RunSheet:
    sheet = load_runsheet(text)
    assert isinstance(sheet, RunSheet), sheet
    return sheet


def _rows(database: Database) -> list[RunSheetVersion]:
    with database.read() as s:
        return list(s.exec(select(RunSheetVersion).order_by(col(RunSheetVersion.version))).all())


def test_add_stores_the_first_version_as_written(database: Database, clock: FixedClock) -> None:
    library = RunSheetLibrary(database, clock)
    added = library.add(_load(SOURCE), SOURCE)
    assert (added.name, added.version, added.created, added.step_count) == ("tour", 1, True, 2)
    [row] = _rows(database)
    assert (row.name, row.version, row.title, row.step_count) == ("tour", 1, "A tour", 2)
    assert row.source == SOURCE
    assert row.created_at == clock.now()
    assert RunSheet.model_validate_json(row.steps) == _load(SOURCE)


def test_comments_and_layout_are_not_a_new_version(database: Database, clock: FixedClock) -> None:
    library = RunSheetLibrary(database, clock)
    library.add(_load(SOURCE), SOURCE)
    relaid = (
        "# the same sheet, written differently\nname: tour\ntitle: A tour\nsteps:\n"
        "  - {talk: Welcome, duration: 300s}\n"
        "  - poll: Has the party drifted?\n    key: Union Roots\n"
        "    options:\n      - Agree\n      - Disagree\n      - Not  sure\n"
    )
    again = library.add(_load(relaid), relaid)
    assert (again.version, again.created) == (1, False)
    assert len(_rows(database)) == 1


def test_a_changed_sheet_is_a_new_version_and_the_old_one_stays(
    database: Database, clock: FixedClock
) -> None:
    library = RunSheetLibrary(database, clock)
    first = library.add(_load(SOURCE), SOURCE)
    clock.advance(timedelta(days=3))
    changed = SOURCE.replace("[Agree, Disagree, Not sure]", "[Agree, Disagree]")
    second = library.add(_load(changed), changed)
    assert (first.version, second.version, second.created) == (1, 2, True)
    v1, v2 = _rows(database)
    assert v1.source == SOURCE
    assert v2.source == changed
    latest = library.latest("tour")
    assert latest is not None
    assert (latest.id, latest.version) == (v2.id, 2)
    poll = latest.sheet.steps[1]
    assert isinstance(poll, PollStep)
    assert poll.options == ["Agree", "Disagree"]
    assert v1.id is not None
    old = library.get(v1.id)
    assert old is not None
    assert old.version == 1
    assert old.sheet == _load(SOURCE)


def test_unknown_names_and_ids(database: Database, clock: FixedClock) -> None:
    library = RunSheetLibrary(database, clock)
    assert library.latest("tour") is None
    assert library.get(404) is None
    assert library.list() == []


def test_list_shows_the_newest_versions_and_sessions_of_any_version(
    database: Database, clock: FixedClock
) -> None:
    library = RunSheetLibrary(database, clock)
    library.add(_load(SOURCE), SOURCE)
    other = SOURCE.replace("name: tour", "name: another-tour")
    library.add(_load(other), other)
    [v1] = [row for row in _rows(database) if row.name == "tour"]
    clock.advance(timedelta(days=1))
    changed = SOURCE.replace("Welcome", "Hello")
    library.add(_load(changed), changed)
    v2 = library.latest("tour")
    assert v2 is not None
    with database.transaction() as s:
        for number, runsheet_id in enumerate((v1.id, v2.id, v2.id)):
            session = repo.create_session(
                s,
                channel_id=f"C{number}",
                title="Meeting",
                area=None,
                group_type=None,
                zoom_meeting_id=None,
                started_by="U1",
                now=clock.now(),
            )
            session.runsheet_id = runsheet_id
    listed = library.list()
    assert [(x.name, x.version, x.title, x.step_count, x.sessions_used) for x in listed] == [
        ("another-tour", 1, "A tour", 2, 0),
        ("tour", 2, "A tour", 2, 3),
    ]
    assert listed[1].added_at == clock.now()
