"""Poll logic without Slack: parsing, keys, tally maths, coalescing."""

from __future__ import annotations

import itertools
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import Session, select

from bot.parsing import UsageError
from bot.polls import (
    DEFAULT_DURATION,
    FORM_DURATION,
    FORM_KEY,
    FORM_OPTIONS,
    FORM_QUESTION,
    BatchWriter,
    Coalescer,
    FormProblem,
    PollRequest,
    bar_cells,
    check_duration,
    derive_key,
    normalise_key,
    parse_poll_text,
    read_form,
    slug,
)
from storage.db import Database
from storage.models import Delivery
from tests.harness.waiting import eventually

NOW = datetime(2031, 11, 21, 18, 30, tzinfo=UTC)

# Text a facilitator could type inside quotes: anything but quotes, backslashes and escapes
# Slack would have applied.
quotable = st.text(
    alphabet=st.characters(blacklist_characters='"“”„＂\\&<>', blacklist_categories=["Cs"]),
    min_size=1,
    max_size=60,
).filter(lambda s: s.strip() and " ".join(s.split()))


def _quoted(text: str) -> str:
    return f'"{text}"'


def test_a_full_command_becomes_a_request() -> None:
    request = parse_poll_text(
        '“Should we back the strike?” "Yes" "No" "Not sure" --time 1m30s --multi '
        "--anonymous --hide-results --key Strike_Support"
    )
    assert request == PollRequest(
        question="Should we back the strike?",
        options=("Yes", "No", "Not sure"),
        duration=timedelta(seconds=90),
        multi=True,
        anonymous=True,
        hide_results=True,
        key="strike-support",
    )


def test_defaults() -> None:
    request = parse_poll_text('"Lunch?" "Pizza" "Salad"')
    assert isinstance(request, PollRequest)
    assert request.duration == DEFAULT_DURATION == timedelta(minutes=2)
    assert (request.multi, request.anonymous, request.hide_results) == (False, False, False)
    assert request.key == "lunch"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Missing the question and at least 2 options."),
        ('"Lunch?"', "Missing at least 2 options."),
        ('"Lunch?" "Pizza"', "Missing 1 more option."),
        ('"Lunch?" "a" "A"', "The option “A” is given twice"),
        ('"Lunch?" "a  b" "a b"', "The option “a b” is given twice"),
        ('"Lunch?" "a" ""', "The option is empty."),
        ('"Lunch?" "a" "b" --time 9s', "between 10s and 24h; got 9s"),
        ('"Lunch?" "a" "b" --time 24h1s', "between 10s and 24h; got 24h1s"),
        ('"Lunch?" "a" "b" --multi --multi', "given twice"),
        ('"Lunch?" "a" "b" --key ***', "--key needs letters or digits"),
        ('"Lunch?" "a" "b" --key ' + "k" * 65, "The --key value is 65 characters long"),
    ],
)
def test_bad_commands_say_what_is_wrong(text: str, message: str) -> None:
    error = parse_poll_text(text)
    assert isinstance(error, UsageError)
    assert message in error.message
    assert error.usage.startswith("/poll ")
    assert error.example.startswith("/poll ")


def test_the_limits_are_inclusive() -> None:
    twenty = " ".join(_quoted(f"o{n}") for n in range(20))
    assert isinstance(parse_poll_text(f'"{"q" * 3000}" {twenty} --time 10s'), PollRequest)
    assert isinstance(parse_poll_text(f'"q" "{"o" * 300}" "b" --time 24h'), PollRequest)
    assert isinstance(parse_poll_text(f'"q" "{"o" * 301}" "b"'), UsageError)
    assert isinstance(parse_poll_text(f'"q" {twenty} "o21"'), UsageError)


def test_option_whitespace_is_collapsed_but_the_question_keeps_its_lines() -> None:
    request = parse_poll_text('"Line one\nline two" " Pizza\n with  olives " "Salad"')
    assert isinstance(request, PollRequest)
    assert request.question == "Line one\nline two"
    assert request.options == ("Pizza with olives", "Salad")


@given(
    question=quotable,
    options=st.lists(
        quotable, min_size=2, max_size=20, unique_by=lambda s: " ".join(s.split()).casefold()
    ),
    multi=st.booleans(),
)
def test_any_quoted_question_and_options_round_trip(
    question: str, options: list[str], multi: bool
) -> None:
    text = " ".join(_quoted(part) for part in (question, *options))
    request = parse_poll_text(text + (" --multi" if multi else ""))
    assert isinstance(request, PollRequest), request
    assert request.question == question.strip()
    assert request.options == tuple(" ".join(o.split()) for o in options)
    assert request.multi is multi
    assert request.key == derive_key(question.strip())


@given(st.text(max_size=200))
def test_derived_keys_are_stable_slugs(question: str) -> None:
    key = derive_key(question)
    assert key == derive_key(question)
    assert 0 < len(key) <= 64
    assert key == slug(key)  # already normalised: lower-case letters, digits, single dashes
    assert normalise_key(key) == key


def test_derived_keys_ignore_case_punctuation_and_accents() -> None:
    assert derive_key("Should we back the strike?") == derive_key("  should WE back — the strike")
    assert derive_key("Café politique") == "cafe-politique"
    assert derive_key("🎉🎉") == derive_key("🎉🎉") != derive_key("🎈")
    assert derive_key("🎉🎉").startswith("poll-")
    long = derive_key("word " * 40)
    assert len(long) <= 60
    assert not long.endswith("-")
    assert long.endswith("word")


@given(count=st.integers(0, 500), voters=st.integers(0, 500), width=st.integers(1, 40))
def test_bar_cells_are_proportional_and_never_hide_a_vote(
    count: int, voters: int, width: int
) -> None:
    count = min(count, voters)
    cells = bar_cells(count, voters, width)
    assert 0 <= cells <= width
    assert (cells == 0) == (count == 0)
    if voters:
        exact = width * count / voters
        # Rounded to the nearest cell, except that one vote always shows as one cell.
        assert abs(cells - exact) <= 0.5 or (cells == 1 and 0 < exact < 1)
    if count == voters and voters:
        assert cells == width


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", DEFAULT_DURATION),
        ("45s", timedelta(seconds=45)),
        (" 1h30m ", timedelta(minutes=90)),
        ("0s", "between 10s and 24h; got 0s"),
        ("3d", "“3d” is not a duration"),
        ("banana", "“banana” is not a duration"),
    ],
)
def test_form_durations(text: str, expected: timedelta | str) -> None:
    result = check_duration(text)
    if isinstance(expected, timedelta):
        assert result == expected
    else:
        assert isinstance(result, str)
        assert expected in result


def test_the_form_uses_the_same_rules() -> None:
    def form(**changes: object) -> PollRequest | FormProblem:
        values: dict[str, object] = {
            "question": "Lunch?",
            "options_text": "Pizza\n\nSalad\n",
            "duration_text": "2m",
            "multi": False,
            "anonymous": True,
            "hide_results": False,
            "key_text": None,
        }
        values.update(changes)
        return read_form(**values)  # type: ignore[arg-type]

    assert form() == PollRequest(
        "Lunch?", ("Pizza", "Salad"), timedelta(minutes=2), False, True, False, "lunch"
    )
    assert form(key_text="Lunch 2").key == "lunch-2"  # type: ignore[union-attr]
    assert form(question=None) == FormProblem(FORM_QUESTION, "The question is empty.")
    assert form(options_text="Pizza\npizza").field == FORM_OPTIONS  # type: ignore[union-attr]
    assert form(options_text="\n".join(str(n) for n in range(21))).field == FORM_OPTIONS  # type: ignore[union-attr]
    assert form(duration_text="1 fortnight").field == FORM_DURATION  # type: ignore[union-attr]
    assert form(key_text="***").field == FORM_KEY  # type: ignore[union-attr]
    assert form(question="q" * 3001).field == FORM_QUESTION  # type: ignore[union-attr]


# ---------------------------------------------------------------------------
# Coalescer


class FakeTime:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _coalescer(
    interval: float = 2.0, spacing: float = 0.0
) -> tuple[Coalescer, FakeTime, list[tuple[float, int]]]:
    time = FakeTime()
    flushed: list[tuple[float, int]] = []

    def flush(key: int) -> bool:
        flushed.append((time.now, key))
        return True

    coalescer = Coalescer(
        flush,
        interval=interval,
        spacing=spacing,
        monotonic=time,
        background=False,
    )
    return coalescer, time, flushed


def _run_until_idle(coalescer: Coalescer, time: FakeTime) -> None:
    """Let the flusher wake exactly when it asks to, until nothing is pending."""
    while (wait := coalescer.run_due()) is not None:
        time.now += wait


def test_the_first_change_is_shown_at_once_and_a_burst_costs_one_more_update() -> None:
    coalescer, time, flushed = _coalescer()
    coalescer.mark(1)
    assert coalescer.run_due() is None
    assert flushed == [(100.0, 1)]
    for _ in range(50):  # a burst within the next 2 s
        time.now += 0.03
        coalescer.mark(1)
        assert coalescer.run_due() == pytest.approx(102.0 - time.now)
    assert flushed == [(100.0, 1)]
    time.now = 102.0
    coalescer.run_due()
    assert flushed == [(100.0, 1), (102.0, 1)]
    time.now = 110.0  # quiet again: the next change is shown at once
    coalescer.mark(1)
    coalescer.run_due()
    assert flushed[-1] == (110.0, 1)


def test_polls_are_coalesced_independently_and_forgotten_when_closed() -> None:
    coalescer, time, flushed = _coalescer()
    coalescer.mark(1)
    coalescer.mark(2)
    coalescer.run_due()
    time.now += 0.5
    coalescer.mark(1)
    coalescer.mark(2)
    coalescer.forget(2)
    assert set(coalescer.pending()) == {1}
    time.now += 5
    coalescer.run_due()
    assert [key for _, key in flushed] == [1, 2, 1]


def test_busy_polls_share_one_budget_of_updates_in_turn() -> None:
    """Slack limits chat.update per workspace: three polls' updates come `spacing` apart."""
    coalescer, time, flushed = _coalescer(interval=2.0, spacing=1.5)
    for key in (1, 2, 3):
        coalescer.mark(key)
    _run_until_idle(coalescer, time)
    assert flushed == [(100.0, 1), (101.5, 2), (103.0, 3)]
    # All three keep changing: each is shown in turn, earliest due first, 1.5 s apart.
    for key in (1, 2, 3):
        coalescer.mark(key)
    _run_until_idle(coalescer, time)
    assert flushed[3:] == [(104.5, 1), (106.0, 2), (107.5, 3)]


def test_a_flush_that_sent_nothing_leaves_the_budget_to_the_others() -> None:
    time = FakeTime()
    flushed: list[tuple[float, int]] = []

    def flush(key: int) -> bool:
        flushed.append((time.now, key))
        return key != 1  # poll 1 has no message to update yet

    coalescer = Coalescer(flush, interval=2.0, spacing=1.5, monotonic=time, background=False)
    for key in (1, 2, 3):
        coalescer.mark(key)
    _run_until_idle(coalescer, time)
    assert flushed == [(100.0, 1), (100.0, 2), (101.5, 3)]


def test_one_poll_alone_keeps_its_own_interval() -> None:
    coalescer, time, flushed = _coalescer(interval=2.0, spacing=1.5)
    coalescer.mark(1)
    _run_until_idle(coalescer, time)
    time.now += 0.1
    coalescer.mark(1)
    _run_until_idle(coalescer, time)
    assert flushed == [(100.0, 1), (102.0, 1)]


def test_a_slow_update_pushes_the_next_one_back() -> None:
    """Spacing counts from the end of an update, so two never reach Slack too close."""
    time = FakeTime()
    ends: list[float] = []
    coalescer: Coalescer

    def slow_flush(key: int) -> bool:
        time.now += 1.5  # e.g. a 429 retried after Retry-After
        coalescer.mark(key)  # a vote arrives while the update is in flight
        ends.append(time.now)
        return True

    coalescer = Coalescer(slow_flush, interval=2.0, monotonic=time, background=False)
    coalescer.mark(1)
    coalescer.run_due()
    assert coalescer.pending() == {1: ends[0] + 2.0}


def test_a_failing_flush_does_not_stop_the_others() -> None:
    time = FakeTime()
    seen: list[int] = []

    def flush(key: int) -> bool:
        seen.append(key)
        if key == 1:
            raise RuntimeError("chat.update failed")
        return True

    coalescer = Coalescer(flush, monotonic=time, background=False)
    coalescer.mark(1)
    coalescer.mark(2)
    coalescer.run_due()
    assert sorted(seen) == [1, 2]


@settings(max_examples=200)
@given(
    votes=st.lists(
        st.tuples(st.floats(0, 5, allow_nan=False), st.sampled_from([7, 8, 9])),
        min_size=1,
        max_size=60,
    ),
    spacing=st.sampled_from([0.0, 1.5]),
)
def test_updates_are_spaced_and_every_change_is_shown_soon(
    votes: list[tuple[float, int]], spacing: float
) -> None:
    """Votes on three polls arrive at arbitrary times; the flusher wakes when it asked to."""
    interval = 2.0
    coalescer, time, flushed = _coalescer(interval=interval, spacing=spacing)
    marks: list[tuple[float, int]] = []
    for gap, key in votes:
        # Run any flush that falls due before the next vote, at its due time.
        target = time.now + gap
        while (wait := coalescer.run_due()) is not None and time.now + wait <= target:
            time.now += wait
        time.now = target
        coalescer.mark(key)
        marks.append((time.now, key))
    _run_until_idle(coalescer, time)
    tolerance = 1e-9
    times = [at for at, _ in flushed]
    # At most one update per poll per interval, and no two updates closer than `spacing`.
    assert all(b - a >= spacing - tolerance for a, b in itertools.pairwise(times))
    for key in (7, 8, 9):
        mine = [at for at, k in flushed if k == key]
        assert all(b - a >= interval - tolerance for a, b in itertools.pairwise(mine))
    # Every vote is shown: within one interval alone, plus a turn of each poll when shared.
    keys = len({key for _, key in votes})
    bound = interval + keys * spacing if spacing else interval
    for at, key in marks:
        assert any(at <= shown <= at + bound + tolerance for shown, k in flushed if k == key)


def test_the_background_flusher_runs_and_stops_when_idle() -> None:
    done = threading.Event()
    seen: list[int] = []

    def flush(key: int) -> bool:
        seen.append(key)
        done.set()
        return True

    coalescer = Coalescer(flush, interval=0.01)
    coalescer.mark(3)
    assert done.wait(5)
    assert seen == [3]
    for _ in range(500):
        if coalescer._thread is None:
            break
        threading.Event().wait(0.01)
    assert coalescer._thread is None


# ---------------------------------------------------------------------------
# BatchWriter (group commit)


def test_the_batch_writer_commits_every_item_before_answering(sqlite_database: Database) -> None:
    batches: list[int] = []
    gate = threading.Event()

    def apply(db: Session, item: int) -> int:
        gate.wait(5)  # hold the first transaction open so the rest queue up behind it
        db.add(Delivery(key=f"item-{item}", received_at=NOW))
        return item * 10

    writer: BatchWriter[int, int] = BatchWriter(sqlite_database, apply)
    original = writer._write

    def counting(batch: list[Any]) -> None:
        batches.append(len(batch))
        original(batch)

    writer._write = counting  # type: ignore[method-assign]
    with ThreadPoolExecutor(max_workers=40) as pool:
        futures = [pool.submit(writer.write, n) for n in range(40)]
        try:
            # Every item is either in the transaction held open or queued behind it.
            eventually(
                lambda: sum(batches) + len(writer._waiting) == 40, what="all 40 items queued"
            )
        finally:
            gate.set()
        results = [f.result(timeout=10) for f in futures]
    assert results == [n * 10 for n in range(40)]
    assert sum(batches) == 40
    assert len(batches) < 40  # the waiting items went in together
    with sqlite_database.read() as db:
        assert len(db.exec(select(Delivery)).all()) == 40


def test_one_failing_item_does_not_sink_its_batch(sqlite_database: Database) -> None:
    gate = threading.Event()

    def apply(db: Session, item: int) -> int:
        gate.wait(5)
        if item == 3:
            raise ValueError("bad item")
        db.add(Delivery(key=f"item-{item}", received_at=NOW))
        return item

    writer: BatchWriter[int, int] = BatchWriter(sqlite_database, apply)
    batches: list[int] = []
    original = writer._write

    def counting(batch: list[Any]) -> None:
        batches.append(len(batch))
        original(batch)

    writer._write = counting  # type: ignore[method-assign]
    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = {n: pool.submit(writer.write, n) for n in range(8)}
        try:
            eventually(lambda: sum(batches) + len(writer._waiting) == 8, what="all 8 items queued")
        finally:
            gate.set()
        with pytest.raises(ValueError, match="bad item"):
            futures[3].result(timeout=10)
        assert [futures[n].result(timeout=10) for n in range(8) if n != 3] == [0, 1, 2, 4, 5, 6, 7]
    with sqlite_database.read() as db:
        keys = {d.key for d in db.exec(select(Delivery)).all()}
    assert keys == {f"item-{n}" for n in range(8) if n != 3}


def test_a_lone_write_happens_in_the_callers_own_thread(sqlite_database: Database) -> None:
    threads: list[int] = []

    def apply(db: Session, item: int) -> int:
        threads.append(threading.get_ident())
        return item + 1

    writer: BatchWriter[int, int] = BatchWriter(sqlite_database, apply)
    assert writer.write(1) == 2
    assert writer.write(2) == 3
    assert threads == [threading.get_ident()] * 2
