"""Loading run sheets from YAML: the example, and each bad case as one line naming its line."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.runsheets import (
    BreakoutStep,
    PollStep,
    RunSheet,
    SheetProblems,
    load_runsheet,
    read_runsheet_file,
)
from bot.runsheets.loading import MAX_FILE_BYTES, MAX_PROBLEM_LINES

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "labour-listening-tour.yaml"


def _problems(text: str) -> tuple[str, ...]:
    result = load_runsheet(dedent(text))
    assert isinstance(result, SheetProblems), result
    return result.lines


def _one_problem(text: str) -> str:
    lines = _problems(text)
    assert len(lines) == 1, lines
    return lines[0]


def _sheet(text: str) -> RunSheet:
    result = load_runsheet(dedent(text))
    assert isinstance(result, RunSheet), result
    return result


def _poll(options: str = "[Agree, Disagree]", extra: str = "") -> str:
    return f"""\
        name: tour
        steps:
          - poll: Has the party drifted?
            key: union-roots
            options: {options}
        {extra}"""


def test_the_example_is_valid() -> None:
    sheet = read_runsheet_file(EXAMPLE)
    assert isinstance(sheet, RunSheet), sheet
    assert sheet.name == "labour-listening-tour"
    assert sheet.outline() == "12 steps (3 talks, 4 polls, 2 breakout rounds, 3 notes)"
    polls = {step.poll: step for step in sheet.steps if isinstance(step, PollStep)}
    assert polls["Has the party drifted too far from its trade union roots?"].options == [
        "Agree",
        "Disagree",
        "Not sure",
    ]
    community = polls[
        "Should the party use community organising to reconnect with working-class communities?"
    ]
    assert community.options == ["Yes", "No", "Not sure"]
    assert polls["How would you describe yourself?"].options == [
        "Working class",
        "Middle class",
        "Other",
        "Prefer not to say",
    ]
    rounds = [step for step in sheet.steps if isinstance(step, BreakoutStep)]
    assert {step.mode for step in rounds} == {"mix:place", "random"}
    assert all(step.breakout for step in rounds)
    assert isinstance(sheet.steps[-1], PollStep)  # it closes with a poll


def test_yes_no_on_off_stay_text() -> None:
    sheet = _sheet(_poll("[Yes, No, on, off, 'true', Not sure]"))
    poll = sheet.steps[0]
    assert isinstance(poll, PollStep)
    assert poll.options == ["Yes", "No", "on", "off", "true", "Not sure"]


def test_only_true_and_false_are_booleans() -> None:
    poll = _sheet(_poll(extra="    multi: true\n            anonymous: false")).steps[0]
    assert isinstance(poll, PollStep)
    assert (poll.multi, poll.anonymous) == (True, False)
    line = _one_problem(_poll(extra="    multi: yes"))
    assert line == "line 6: step 1 (poll): multi: true or false is wanted here, not “yes”"


def test_a_clock_time_is_not_a_duration() -> None:
    line = _one_problem(_poll(extra="    duration: 1:30"))
    assert line.startswith("line 6: step 1 (poll): duration: “1:30” is not a duration")
    assert "1m30s" in line


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            """\
            name: tour
            steps:
              - talk: Welcome
                durtion: 5m
            """,
            "line 4: step 1 (talk): unknown field “durtion” (did you mean duration?) — allowed: "
            "talk, speaker, duration",
            id="unknown step field",
        ),
        pytest.param(
            "name: tour\nagenda: []\nsteps: [{note: hi}]\n",
            "line 2: unknown field “agenda” — allowed: name, title, steps",
            id="unknown top-level field",
        ),
        pytest.param(
            _poll(extra="    hide_results: 'no'"),
            "line 6: step 1 (poll): hide_results: true or false is wanted here, not “no”",
            id="string for a bool",
        ),
        pytest.param(
            _poll(extra="    duration: 2"),
            "line 6: step 1 (poll): duration: 2 alone is not a duration: write 2m for minutes or "
            "2s for seconds (a poll runs between 10s and 24h)",
            id="number for a duration",
        ),
        pytest.param(
            _poll("[Agree]"),
            "line 5: step 1 (poll): options: a poll needs at least 2 options; you gave only one",
            id="one option",
        ),
        pytest.param(
            _poll("[" + ", ".join(f"option {n}" for n in range(21)) + "]"),
            "line 5: step 1 (poll): options: a poll has at most 20 options; you gave 21",
            id="21 options",
        ),
        pytest.param(
            _poll("[Agree, agree ]"),
            "line 5: step 1 (poll): options: the option “agree” is given twice; every option "
            "must be different",
            id="the same option twice",
        ),
        pytest.param(
            _poll(extra="    duration: -2m"),
            "line 6: step 1 (poll): duration: a duration cannot be negative (a poll runs between "
            "10s and 24h)",
            id="negative duration",
        ),
        pytest.param(
            _poll(extra="    duration: 0s"),
            "line 6: step 1 (poll): duration: a poll runs between 10s and 24h; this is 0s",
            id="zero duration",
        ),
        pytest.param(
            """\
            name: tour
            steps:
              - breakout: Why?
                rooms: 2
                duration: 0m
            """,
            "line 5: step 1 (breakout): duration: a breakout round runs between 1m and 3h; this "
            "is 0s",
            id="zero round duration",
        ),
        pytest.param(
            """\
            name: tour
            steps:
              - poll: First?
                key: union-roots
                options: [a, b]
              - poll: Second?
                key: Union Roots
                options: [a, b]
            """,
            "line 7: step 2 (poll): key: the key “union-roots” is already used by the poll "
            "“First?”; each poll in a run sheet needs its own key",
            id="duplicate poll key",
        ),
        pytest.param(
            """\
            name: tour
            steps:
              - poll: First?
                options: [a, b]
            """,
            "line 3: step 1 (poll): key is missing — every poll in a run sheet needs a key "
            "(letters, digits, dashes), like key: union-roots, so the tour report puts its "
            "answers together across sessions",
            id="poll without a key",
        ),
        pytest.param(
            """\
            name: tour
            steps:
              - talk: Welcome
                speaker: Chair
                talk: Welcome again
            """,
            "line 5: “talk” is given twice here (first on line 3) — give each key once",
            id="duplicate mapping key",
        ),
        pytest.param(
            "name: tour\nsteps:\n  - talk: Welcome\n  -\ttalk: Tabbed\n",
            "line 4: a tab — indent with spaces",
            id="tab",
        ),
        pytest.param(
            "name: &name tour\nsteps: [{note: hi}]\n",
            "line 1: an anchor (&name) — run sheets do not use anchors or aliases",
            id="anchor",
        ),
        pytest.param(
            "name: tour\nsteps: [*welcome]\n",
            "line 2: an alias (*welcome) — write the value out again; run sheets do not use "
            "anchors or aliases",
            id="alias",
        ),
        pytest.param(
            "name: tour\nsteps: [{note: hi}]\n---\nname: other\n",
            "line 3: a second document (---) — a file holds one run sheet",
            id="several documents",
        ),
        pytest.param(
            "", "line 1: the file is empty — a run sheet starts with name: and steps:", id="empty"
        ),
        pytest.param(
            "# only a comment\n\n",
            "line 1: the file is empty — a run sheet starts with name: and steps:",
            id="only comments",
        ),
        pytest.param(
            "- talk: Welcome\n",
            "line 1: a run sheet is a mapping with name:, title: and steps:, not a list",
            id="top level is a list",
        ),
        pytest.param(
            "name: tour\nsteps: [{note: hi}\n",
            "line 3, column 1: expected ',' or ']', but got '<stream end>' (while parsing a flow "
            "sequence that began on line 2)",
            id="syntax error",
        ),
        pytest.param(
            "name: tour\nsteps:\n  - speaker: Chair\n",
            "line 3: step 1: a step needs exactly one of talk, poll, breakout, note; this one has "
            "none (its keys: speaker)",
            id="step with no kind",
        ),
        pytest.param(
            "name: tour\nsteps:\n  - talk: Welcome\n    note: hi\n",
            "line 3: step 1: a step needs exactly one of talk, poll, breakout, note; this one has "
            "talk and note",
            id="step with two kinds",
        ),
        pytest.param(
            "name: tour\nsteps:\n  - breakout: Why?\n    rooms: 3\n    size: 4\n",
            "line 3: step 1 (breakout): give exactly one of rooms: (how many rooms) or size: "
            "(people per room)",
            id="rooms and size",
        ),
        pytest.param(
            "name: tour\nsteps:\n  - breakout: Why?\n    size: 1\n",
            "line 4: step 1 (breakout): size: between 2 and 1,000 people per room; this is 1",
            id="size of one",
        ),
        pytest.param(
            "name: tour\nsteps:\n  - breakout: Why?\n    rooms: 2\n    mode: mix:colour\n",
            "line 5: step 1 (breakout): mode: unknown attribute “colour” in mix:colour: people "
            "check in with a role, place and group, so use mix:role, mix:place or mix:group",
            id="unknown mode",
        ),
        pytest.param(
            "name: Labour Tour\nsteps: [{note: hi}]\n",
            "line 1: name: “Labour Tour” is not a run sheet name: use lower-case letters, digits "
            "and dashes, like labour-listening-tour",
            id="bad name",
        ),
        pytest.param(
            "name: tour\nsteps: []\n",
            "line 2: steps: a run sheet has 1 to 100 steps; this one has 0",
            id="no steps",
        ),
        pytest.param(
            "name: tour\nsteps:\n  - talk: 2026\n",
            "line 3: step 1 (talk): talk: text is wanted here, not the number 2026 — put it in "
            "quotes to keep it as text",
            id="number for text",
        ),
        pytest.param(
            "name: tour\nsteps:\n  - note:\n",
            "line 3: step 1 (note): note is empty",
            id="empty note",
        ),
    ],
)
def test_each_bad_case_is_one_line_naming_where_and_what_is_allowed(
    text: str, expected: str
) -> None:
    assert _one_problem(text) == expected


def test_every_problem_is_reported_in_file_order() -> None:
    lines = _problems(
        """\
        name: tour
        steps:
          - poll: First?
            key: a
            options: [Yes]
            multi: maybe
          - talk: Hi
            durtion: 5m
          - poll: Again?
            key: a
            options: [x, y]
        """
    )
    assert [line.split(":", 1)[0] for line in lines] == [
        "line 5",
        "line 6",
        "line 8",
        "line 10",
    ]


def test_problems_are_capped_at_twenty_lines() -> None:
    steps = "".join(f"  - talk: Talk {n}\n    durtion: 5m\n" for n in range(25))
    lines = _problems(f"name: tour\nsteps:\n{steps}")
    assert len(lines) == MAX_PROBLEM_LINES + 1
    assert lines[-1] == "… and 5 more"
    assert lines[0].startswith("line 4: step 1 (talk): unknown field “durtion”")


def test_a_tab_on_several_lines_names_each() -> None:
    lines = _problems("name:\ttour\nsteps:\n  - talk: Hi\n  - note:\tthere\n")
    assert lines == ("line 1: a tab — indent with spaces", "line 4: a tab — indent with spaces")


def test_missing_file(tmp_path: Path) -> None:
    assert read_runsheet_file(tmp_path / "nope.yaml") == SheetProblems(("no such file",))


def test_a_folder_is_not_a_file(tmp_path: Path) -> None:
    result = read_runsheet_file(tmp_path)
    assert result == SheetProblems(("is a folder, not a run sheet file",))


def test_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: tour\nsteps:\n  - talk: Café\n".encode("latin-1"))
    result = read_runsheet_file(path)
    assert result == SheetProblems(
        ("line 3: this is not UTF-8 text — save the file as UTF-8 and try again",)
    )


def test_a_file_over_one_megabyte_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text("name: tour\nsteps: [{note: hi}]\n" + "#" * MAX_FILE_BYTES)
    result = read_runsheet_file(path)
    assert isinstance(result, SheetProblems)
    [line] = result.lines
    assert line.endswith("a run sheet file is at most 1 MB (1,048,576 bytes)")


def test_a_byte_order_mark_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes("\ufeffname: tour\nsteps: [{note: hi}]\n".encode())
    assert isinstance(read_runsheet_file(path), RunSheet)


def test_a_list_where_text_is_wanted_says_how_to_write_it() -> None:
    assert _one_problem("name: tour\nsteps:\n  talk: Welcome\n") == (
        "line 2: steps: a list is wanted here, each step on a line starting with - "
        "(like - talk: Welcome); not a mapping (key: value lines)"
    )
    assert _one_problem(_poll("Agree, Disagree")) == (
        "line 5: step 1 (poll): options: a list is wanted here, like [Agree, Disagree, Not sure]; "
        "not “Agree, Disagree”"
    )


def test_a_control_character_names_its_line() -> None:
    assert _one_problem("name: tour\nsteps:\n  - note: a\x01b\n") == (
        "line 3: a control character (#x0001) — a run sheet holds printable text only"
    )


YAMLISH = st.text(alphabet=st.sampled_from(list("ab-: \n[]{},&*!#'\"|>?~0123456789\t")))
FIELDS = st.sampled_from(
    [
        "name: tour\n",
        "steps:\n",
        "  - poll: Q\n",
        "    key: k\n",
        "    options: [a, b]\n",
        "  - breakout: P\n",
        "    rooms: 2\n",
        "  - talk: T\n",
        "    duration: 2m\n",
        "  - note: n\n",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(YAMLISH, FIELDS), max_size=12).map("".join))
def test_any_text_is_a_sheet_or_problem_lines(text: str) -> None:
    result = load_runsheet(text)
    if isinstance(result, SheetProblems):
        assert 1 <= len(result.lines) <= MAX_PROBLEM_LINES + 1
        for line in result.lines[:MAX_PROBLEM_LINES]:
            assert line.startswith("line "), line
            assert "\n" not in line
    else:
        assert isinstance(result, RunSheet)


@pytest.mark.parametrize("escape", ["\\ud800", "\\0"])
def test_text_no_database_can_hold_is_refused_with_its_line(escape: str) -> None:
    problems = load_runsheet(f'name: x\nsteps:\n  - note: "a{escape}b"\n')
    assert isinstance(problems, SheetProblems)
    assert problems.lines == (
        "line 3: this text has a NUL character or a lone surrogate escape (like \\ud800); "
        "remove it",
    )


def test_a_device_is_not_read() -> None:
    problems = read_runsheet_file(Path("/dev/zero"))
    assert isinstance(problems, SheetProblems)
    assert problems.lines == ("is not a regular file, not a run sheet file",)


def test_deep_nesting_is_refused_before_parsing() -> None:
    problems = load_runsheet("name: x\nsteps: " + "[" * 10_000 + "\n")
    assert isinstance(problems, SheetProblems)
    assert problems.lines == (
        "line 2: lists or mappings nested more than 32 deep — a run sheet needs two or three",
    )
