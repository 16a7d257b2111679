"""Room assignment by example: modes, sizes, history and the errors it refuses."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.assignment import (
    RANDOM,
    Mode,
    Person,
    assign_rooms,
    balanced_sizes,
    diversity,
    pair_history,
    parse_mode,
    repeated_pairs,
    rooms_for_size,
)


@pytest.mark.parametrize(
    ("text", "mode"),
    [
        ("random", RANDOM),
        ("RANDOM", RANDOM),
        ("mix:group", Mode("mix", "group")),
        ("mix:groups", Mode("mix", "group")),
        ("group:role", Mode("group", "role")),
        ("Group:Place", Mode("group", "place")),
    ],
)
def test_parse_mode(text: str, mode: Mode) -> None:
    assert parse_mode(text) == mode
    assert parse_mode(mode.label) == mode


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("mix:colour", "Unknown attribute “colour” in mix:colour"),
        ("group:", "Unknown attribute “”"),
        ("shuffle", "Unknown mode “shuffle”"),
        ("split:role", "Unknown mode “split:role”"),
    ],
)
def test_parse_mode_refuses_unknown_modes_and_attributes(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_mode(text)


def test_a_mode_needs_an_attribute_unless_random() -> None:
    with pytest.raises(ValueError, match="mode"):
        Mode("mix")
    with pytest.raises(ValueError, match="mode"):
        Mode("random", "role")


@pytest.mark.parametrize(
    ("people", "rooms", "sizes"),
    [(10, 3, [4, 3, 3]), (9, 3, [3, 3, 3]), (1, 1, [1]), (5, 5, [1, 1, 1, 1, 1])],
)
def test_balanced_sizes(people: int, rooms: int, sizes: list[int]) -> None:
    assert balanced_sizes(people, rooms) == sizes


@pytest.mark.parametrize(("people", "size", "rooms"), [(10, 4, 3), (8, 4, 2), (3, 4, 1)])
def test_rooms_for_size_keeps_rooms_at_or_under_the_size(
    people: int, size: int, rooms: int
) -> None:
    assert rooms_for_size(people, size) == rooms


def test_pair_history_counts_meetings() -> None:
    met = pair_history([[["A", "B", "C"]], [["A", "B"], ["C"]]])
    assert met["A"]["B"] == 2
    assert met["B"]["C"] == 1
    assert "C" not in met.get("C", {})
    assert repeated_pairs([["A", "B"], ["C", "D"]], met) == 1


def test_diversity() -> None:
    assert diversity(["a", "b", "c"]) == 1.0
    assert diversity(["a", "a", "b", "b"]) == 0.5
    assert diversity(["", ""]) == 1.0


def test_refuses_impossible_requests() -> None:
    people = [Person("A"), Person("B")]
    with pytest.raises(ValueError, match="cannot make 3 rooms from 2 people"):
        assign_rooms(people, 3)
    with pytest.raises(ValueError, match="cannot make 0 rooms"):
        assign_rooms(people, 0)
    with pytest.raises(ValueError, match="listed twice"):
        assign_rooms([Person("A"), Person("A")], 1)


def test_different_seeds_give_different_rooms() -> None:
    people = [Person(f"U{i:02d}") for i in range(20)]
    results = {tuple(map(tuple, assign_rooms(people, 4, seed=seed))) for seed in range(10)}
    assert len(results) > 1


def test_mix_puts_one_of_each_group_in_every_room() -> None:
    people = [Person(f"U{i:02d}", group=g) for i, g in enumerate("ABCD" * 5)]
    rooms = assign_rooms(people, 5, mode=Mode("mix", "group"), seed=1)
    by_id = {p.user_id: p.group or "" for p in people}
    assert all(sorted(by_id[u] for u in room) == list("ABCD") for room in rooms)


def test_group_keeps_values_together_and_balances_sizes() -> None:
    # 6 union members, 3 councillors, 3 with no group: 3 rooms of 4
    people = (
        [Person(f"UU{i}", group="Unison") for i in range(6)]
        + [Person(f"UC{i}", group="Councillors") for i in range(3)]
        + [Person(f"UX{i}") for i in range(3)]
    )
    rooms = assign_rooms(people, 3, mode=Mode("group", "group"), seed=2)
    assert sorted(len(room) for room in rooms) == [4, 4, 4]
    union_rooms = [room for room in rooms if any(u.startswith("UU") for u in room)]
    assert len(union_rooms) == 2  # 6 people cannot fit one room of 4
    councillor_rooms = [room for room in rooms if any(u.startswith("UC") for u in room)]
    assert len(councillor_rooms) == 1


def test_values_match_whatever_their_case_and_spacing() -> None:
    groups = ["Unison", " unison ", "GMB", "gmb"]
    people = [Person(f"U{i}", group=g) for i, g in enumerate(groups)]
    for seed in range(20):
        rooms = assign_rooms(people, 2, mode=Mode("mix", "group"), seed=seed)
        # as one value each, "Unison" and " unison " are mixed apart, as are GMB and gmb
        assert sorted(sorted(room) for room in rooms) in (
            [["U0", "U2"], ["U1", "U3"]],
            [["U0", "U3"], ["U1", "U2"]],
        )


def test_facilitators_go_one_per_room() -> None:
    people = [Person(f"UF{i}", facilitator=True) for i in range(3)] + [
        Person(f"U{i:02d}") for i in range(9)
    ]
    for mode in (RANDOM, Mode("mix", "role"), Mode("group", "role")):
        rooms = assign_rooms(people, 3, mode=mode, seed=7)
        assert [sum(u.startswith("UF") for u in room) for room in rooms] == [1, 1, 1]


def test_a_second_round_meets_new_people() -> None:
    people = [Person(f"U{i:02d}") for i in range(16)]
    first = assign_rooms(people, 4, seed=1)
    history = pair_history([first])
    second = assign_rooms(people, 4, seed=1, history=history)
    assert repeated_pairs(second, history) == 0
    third = assign_rooms(people, 4, seed=1, history=pair_history([first, second]))
    assert repeated_pairs(third, pair_history([first, second])) == 0


_SCRIPT = """
import json
from bot.assignment import Mode, Person, assign_rooms, pair_history
people = [Person(f"U{i:03d}", role="ab"[i % 2], group="xyz"[i % 3] if i % 7 else None,
                 facilitator=i % 11 == 0) for i in range(60)]
history = pair_history([assign_rooms(people, 6, seed=1)])
print(json.dumps([assign_rooms(people, 6, mode=m, seed=3, history=history)
                  for m in (Mode(), Mode("mix", "group"), Mode("group", "role"))]))
"""


def test_the_same_seed_gives_the_same_rooms_in_another_process() -> None:
    # A restarted bot must rebuild the same rooms: nothing may depend on string hashing.
    root = str(Path(__file__).resolve().parents[2])
    outputs = {
        subprocess.run(
            [sys.executable, "-c", _SCRIPT],
            env={**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": root},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2", "12345")
    }
    assert len(outputs) == 1
