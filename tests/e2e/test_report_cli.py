"""`listening-bot report` and `export` on generated data, checked by independent arithmetic."""

from __future__ import annotations

import copy
import json
import re
import shutil
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bot.cli import main
from bot.report.export import spreadsheet_safe
from bot.report.small_groups import rows_to_hide
from storage import repository as repo
from storage.db import Database
from storage.migrate import upgrade
from tests.harness.tour_data import Truth, generate_tour


@pytest.fixture(scope="module")
def _generated_tour(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Truth]:
    """The tour, written once for the module (it takes seconds): a SQLite file and its truth."""
    path = tmp_path_factory.mktemp("tour") / "tour.db"
    db = Database(f"sqlite:///{path}")
    upgrade(db.engine)
    truth = generate_tour(db, sessions=4, people=30, polls=4, report_backs=24, seed=7)
    db.dispose()  # the last connection to close checkpoints the write-ahead log into the file
    assert not Path(f"{path}-wal").exists(), "the tour's database is not one file"
    return path, truth


@pytest.fixture
def tour(
    sqlite_url: str, _generated_tour: tuple[Path, Truth], monkeypatch: pytest.MonkeyPatch
) -> tuple[Database, Truth]:
    """This test's own copy of the tour, which it may add to."""
    path, truth = _generated_tour
    shutil.copyfile(path, str(make_url(sqlite_url).database))
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    return Database(sqlite_url), copy.deepcopy(truth)


def _run(*args: str) -> int:
    return main(["--env-file", "/nonexistent/.env", *args])


def _overall_rows(md: str, question: str) -> dict[str, tuple[int, int]]:
    """{option: (percent, count)} from the overall table under a poll's heading."""
    section = md.split(f"### {question}", 1)[1].split("###", 1)[0]
    rows = re.findall(r"^\| (.+?) \| (\d+)% \((\d[\d,]*)\) \|$", section, re.MULTILINE)
    return {label: (int(p), int(c.replace(",", ""))) for label, p, c in rows}


def test_markdown_report_figures_match_a_recount(
    tour: tuple[Database, Truth], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, truth = tour
    out = tmp_path / "report.md"
    assert _run("report", "--out", str(out)) == 0
    assert "wrote" in capsys.readouterr().out
    md = out.read_text()
    # named poll: count the truth ourselves
    chosen = Counter(text for (key, _, _), text in truth.named.items() if key == "nhs")
    n = sum(chosen.values())
    rows = _overall_rows(md, "Should the NHS get more funding?")
    assert {label: count for label, (_, count) in rows.items()} == dict(chosen)
    assert sum(p for p, _ in rows.values()) == 100
    for percent, count in rows.values():
        assert abs(percent - 100 * count / n) < 1
    assert f"Overall (n = {n:,})" in md
    # anonymous poll: totals only (no breakdown can be made without a link to people)
    rows = _overall_rows(md, "Public ownership of energy?")
    assert {label: count for label, (_, count) in rows.items()} == truth.anonymous["energy"]
    energy = md.split("### Public ownership of energy?", 1)[1].split("###", 1)[0]
    assert "By group" not in energy
    assert "By role" not in energy
    assert f"Overall (n = {truth.anonymous_voters['energy']:,})" in energy
    # attendance
    assert f"- Check-ins (a person at two sessions counts twice): {4 * 30}" in md
    # quotes: consented ones verbatim, never the others
    for text in set(truth.consented_quotes):
        assert text in md
    for text in set(truth.withheld_quotes) - set(truth.consented_quotes):
        assert text not in md


def _rows(table: str) -> dict[str, list[str]]:
    """First cell -> other cells of a Markdown table's body rows."""
    rows = {}
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and not set(line) <= set("|-: "):
            rows[cells[0]] = cells[1:]
    rows.pop(next(iter(rows)), None)  # the header row
    return rows


Vote = tuple[int, str, str]  # (session id, user id, the option chosen)


def _added_up(
    votes: list[Vote], attribute: Callable[[int, str], str], min_group: int = 5
) -> tuple[dict[str, list[str]], bool]:
    """What a tour report's rows by one attribute add up: each session's rows of people who
    chose, but those the session's small groups hide (in order of their names), which go
    together in the row "In small groups". Returns the choices per row, and whether any went."""
    added: dict[str, list[str]] = defaultdict(list)
    merged = False
    for sid in sorted({s for s, _, _ in votes}):
        here = [(attribute(s, u), t) for s, u, t in votes if s == sid]
        people = Counter(name for name, _ in here)
        names = sorted(people)
        hide = rows_to_hide([people[name] for name in names], min_group=min_group)
        merged = merged or bool(hide)
        for i, name in enumerate(names):
            if i not in hide:
                added[name] += [t for n, t in here if n == name]
    return added, merged


def test_breakdowns_match_a_recount(tour: tuple[Database, Truth], tmp_path: Path) -> None:
    _, truth = tour
    out = tmp_path / "report.md"
    assert _run("report", "--out", str(out)) == 0
    md = out.read_text()
    section = md.split("### Should the NHS get more funding?", 1)[1].split("###", 1)[0]
    by_group = _rows(section.split("By group", 1)[1].split("By role", 1)[0])
    by_role = _rows(section.split("By role", 1)[1].split("By session", 1)[0])
    by_session = _rows(section.split("By session", 1)[1])
    votes = [(sid, user, text) for (key, sid, user), text in truth.named.items() if key == "nhs"]
    options = section.split("| Group | n |", 1)[1].split("\n", 1)[0].strip(" |").split(" | ")

    def check(row: list[str], chosen: list[str]) -> None:
        n = len(chosen)
        assert int(row[0].replace(",", "")) == n
        percents = [int(cell.rstrip("%")) for cell in row[1:]]
        assert sum(percents) == 100
        for option, percent in zip(options, percents, strict=True):
            assert abs(percent - 100 * chosen.count(option) / n) < 1

    def group_of(sid: int, user: str) -> str:
        return str(truth.attributes[(sid, user)][1])

    def role_of(sid: int, user: str) -> str:
        return truth.attributes[(sid, user)][0] or "Not given"

    for rows, attribute in ((by_group, group_of), (by_role, role_of)):
        added, merged = _added_up(votes, attribute)
        hidden = {"In small groups": ["not shown", *["–"] * len(options)]} if merged else {}
        assert {name: row for name, row in rows.items() if name not in added} == hidden
        for name, chosen in added.items():
            check(rows[name], chosen)
    for title, row in by_session.items():
        number = int(title.rsplit(" ", 1)[1])
        sid = truth.session_ids[number - 1]
        assert int(row[0]) == sid
        check(row[2:], [t for s, _, t in votes if s == sid])


HOSTILE = "<script>alert(1)</script> <img src=x onerror=alert(2)> [x](http://evil.example) |"


def _add_hostile_content(db: Database, truth: Truth) -> None:
    from storage.rooms import NewQuote
    from tests.harness.tour_data import add_closed_poll, add_report_backs

    with db.transaction() as s:
        session = repo.get_session(s, session_id=truth.session_ids[0])
        assert session is not None
        session.title = HOSTILE
        s.add(session)
        now = session.started_at
    add_closed_poll(
        db,
        session_id=truth.session_ids[0],
        channel_id="C000000",
        question=HOSTILE,
        options=[HOSTILE, "No"],
        votes={"U0000000": 0},
        now=now,
    )
    add_closed_poll(
        db,
        session_id=truth.session_ids[0],
        channel_id="C000000",
        question="Did anyone answer?",
        options=["Yes", "No"],
        votes={},
        now=now,
    )
    add_report_backs(
        db,
        session_id=truth.session_ids[0],
        reports=[("ok", [], [NewQuote(HOSTILE, HOSTILE, HOSTILE, True)], [HOSTILE])],
        now=now,
    )


def test_html_report_is_self_contained_and_escapes_hostile_text(
    tour: tuple[Database, Truth], tmp_path: Path
) -> None:
    db, truth = tour
    _add_hostile_content(db, truth)
    out = tmp_path / "report.html"
    assert _run("report", "--since", "2031-01-01", "--until", "2031-12-31", "--out", str(out)) == 0
    html = out.read_text()
    assert "<script" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert not re.search(r'(src|href)="(?!data:image/png;base64,)', html)
    assert "url(" not in html
    assert "@import" not in html
    assert html.count('src="data:image/png;base64,') == 5  # a chart per answered poll key
    assert "Nobody answered." in html


def test_markdown_report_escapes_hostile_text(tour: tuple[Database, Truth], tmp_path: Path) -> None:
    db, truth = tour
    _add_hostile_content(db, truth)
    out = tmp_path / "report.md"
    assert _run("report", "--out", str(out)) == 0
    md = out.read_text()
    assert "<script>" not in md
    assert "](http://evil" not in md
    assert "\\<script\\>alert\\(1\\)\\</script\\>" in md
    assert "Nobody answered." in md


def test_session_filter_narrows_the_report(tour: tuple[Database, Truth], tmp_path: Path) -> None:
    _, truth = tour
    out = tmp_path / "one.md"
    assert _run("report", "--session", str(truth.session_ids[0]), "--out", str(out)) == 0
    assert "- Sessions: 1" in out.read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["report", "--since", "2040-01-01", "--out", "r.md"], "no sessions match"),
        (["report", "--out", "report.pdf"], "must end in .html or .md"),
        (["report", "--since", "2031-05-01", "--until", "2031-04-01", "--out", "r.md"], "before"),
        (["report", "--out", "/proc/no/such/dir/report.md"], "cannot write"),
        (["export", "--session", "999", "--format", "json", "--out", "x.json"], "no session 999"),
        (["export", "--session", "1", "--format", "json", "--out", "/proc/nope/x.json"], "cannot"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    tour: tuple[Database, Truth],
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    assert _run(*args) == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "args",
    [
        ["report", "--since", "21/11/2026", "--out", "r.md"],
        ["report", "--until", "banana", "--out", "r.md"],
        ["export", "--session", "abc", "--format", "json", "--out", "x"],
        ["export", "--session", "1", "--format", "xml", "--out", "x"],
    ],
)
def test_malformed_arguments_are_refused(
    tour: tuple[Database, Truth], capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    with pytest.raises(SystemExit) as raised:
        _run(*args)
    assert raised.value.code == 2
    assert "listening-bot" in capsys.readouterr().err


def test_json_export_has_everything_and_aggregates_only_for_anonymous(
    tour: tuple[Database, Truth], tmp_path: Path
) -> None:
    _, truth = tour
    sid = truth.session_ids[1]
    out = tmp_path / "s.json"
    assert _run("export", "--session", str(sid), "--format", "json", "--out", str(out)) == 0
    document = json.loads(out.read_text())
    assert document["session"]["id"] == sid
    assert len(document["participants"]) == 30
    polls = {p["key"]: p for p in document["polls"]}
    assert polls["energy"]["anonymous"] is True
    assert polls["energy"]["votes"] == []
    named = [
        (user, text) for (key, s, user), text in truth.named.items() if key == "nhs" and s == sid
    ]
    assert sorted((v["user_id"], v["option"]) for v in polls["nhs"]["votes"]) == sorted(named)
    assert polls["nhs"]["n"] == len(named)
    text = out.read_text()
    for quote in set(truth.withheld_quotes) - set(truth.consented_quotes):
        assert quote not in text
    assert document["rounds"]
    assert all(room["report_backs"] for r in document["rounds"] for room in r["rooms"][:1])


def test_csv_and_markdown_exports(tour: tuple[Database, Truth], tmp_path: Path) -> None:
    _, truth = tour
    sid = str(truth.session_ids[0])
    folder = tmp_path / "csv"
    assert _run("export", "--session", sid, "--format", "csv", "--out", str(folder)) == 0
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted(
        [
            "session.csv",
            "participants.csv",
            "poll_results.csv",
            "poll_sources.csv",
            "votes.csv",
            "rooms.csv",
            "report_backs.csv",
            "quotes.csv",
        ]
    )
    assert len((folder / "participants.csv").read_text().splitlines()) == 31
    rows = (folder / "participants.csv").read_text()
    assert "user_id,role" in rows
    md = tmp_path / "s.md"
    assert _run("export", "--session", sid, "--format", "md", "--out", str(md)) == 0
    assert md.read_text().startswith("# Listening session 1")


@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1", "'+1"),
        ("@cmd", "'@cmd"),
        ("-2", "'-2"),
        ("Plain", "Plain"),
        (3, 3),
        (None, None),
    ],
)
def test_csv_cells_cannot_run_as_formulas(cell: object, safe: object) -> None:
    assert spreadsheet_safe(cell) == safe
