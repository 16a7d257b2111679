"""Properties of room assignment, checked with hypothesis against independent cost functions."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from itertools import combinations

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bot.assignment import (
    UNKNOWN,
    Mode,
    Person,
    assign_rooms,
    balanced_sizes,
    pair_history,
    repeated_pairs,
)

VALUES = [None, "Unison", "unison ", "GMB", "Unite", "CLP", "Councillors", "Youth"]
MODES = [
    Mode(),
    Mode("mix", "group"),
    Mode("mix", "role"),
    Mode("group", "group"),
    Mode("group", "place"),
]
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def people_lists(draw: st.DrawFn, min_size: int = 1, max_size: int = 30) -> list[Person]:
    """Distinct people with attributes drawn from a small pool so values repeat."""
    count = draw(st.integers(min_size, max_size))
    facilitator_share = draw(st.sampled_from([0.0, 0.1, 0.4]))
    people = []
    for i in range(count):
        people.append(
            Person(
                user_id=f"U{i:03d}",
                role=draw(st.sampled_from(VALUES)),
                place=draw(st.sampled_from(VALUES[:4])),
                group=draw(st.sampled_from(VALUES)),
                facilitator=draw(st.floats(0, 1)) < facilitator_share,
            )
        )
    return people


@st.composite
def earlier_rounds(draw: st.DrawFn, people: Sequence[Person]) -> list[list[list[str]]]:
    """Up to three earlier rounds: random partitions of random subsets of the people."""
    rounds = []
    for _ in range(draw(st.integers(0, 3))):
        present = [p.user_id for p in people if draw(st.booleans()) or len(people) < 4]
        if not present:
            continue
        order = draw(st.permutations(present))
        rooms = draw(st.integers(1, len(order)))
        rounds.append([list(order[r::rooms]) for r in range(rooms)])
    return rounds


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[Person], int, Mode, int, list[list[list[str]]]]:
    people = draw(people_lists())
    rooms = draw(st.integers(1, len(people)))
    mode = draw(st.sampled_from(MODES))
    seed = draw(st.integers(0, 2**31 - 1))
    return people, rooms, mode, seed, draw(earlier_rounds(people))


def _value(person: Person, mode: Mode) -> str:
    assert mode.attribute is not None
    return " ".join((getattr(person, mode.attribute) or "").split()).casefold()


def _mode_cost(rooms: Sequence[Sequence[str]], people: dict[str, Person], mode: Mode) -> int:
    """Written independently of the module: same-value pairs (mix) or value pieces (group)."""
    if mode.kind == "random":
        return 0
    total = 0
    for room in rooms:
        values = [
            _value(people[u], mode)
            for u in room
            if _value(people[u], mode) != UNKNOWN
            and not (mode.kind == "group" and people[u].facilitator)
        ]
        counts = Counter(values)
        if mode.kind == "mix":
            total += sum(c * (c - 1) // 2 for c in counts.values())
        else:
            total += len(counts)
    return total


def _repeat_cost(rooms: Sequence[Sequence[str]], history: dict[str, dict[str, int]]) -> int:
    return sum(history.get(a, {}).get(b, 0) for room in rooms for a, b in combinations(room, 2))


def _neighbours(
    rooms: list[list[str]], people: dict[str, Person]
) -> list[tuple[int, int, list[list[str]]]]:
    """Every single swap (same facilitator status) and every move from a larger room to a
    smaller one (non-facilitators), as (room a, room b, the two changed rooms)."""
    found = []
    sizes = [len(r) for r in rooms]
    for ra, rb in combinations(range(len(rooms)), 2):
        for a in rooms[ra]:
            for b in rooms[rb]:
                if people[a].facilitator != people[b].facilitator:
                    continue
                new_a = [u for u in rooms[ra] if u != a] + [b]
                new_b = [u for u in rooms[rb] if u != b] + [a]
                found.append((ra, rb, [new_a, new_b]))
        for big, small in ((ra, rb), (rb, ra)):
            if sizes[big] <= sizes[small]:
                continue
            for a in rooms[big]:
                if people[a].facilitator:
                    continue
                new_big = [u for u in rooms[big] if u != a]
                found.append((big, small, [new_big, [*rooms[small], a]]))
    return found


@SETTINGS
@given(scenarios())
def test_everyone_is_placed_once_and_sizes_differ_by_at_most_one(
    scenario: tuple[list[Person], int, Mode, int, list[list[list[str]]]],
) -> None:
    people, rooms, mode, seed, earlier = scenario
    result = assign_rooms(people, rooms, mode=mode, seed=seed, history=pair_history(earlier))
    assert len(result) == rooms
    placed = [u for room in result for u in room]
    assert sorted(placed) == sorted(p.user_id for p in people)
    sizes = [len(room) for room in result]
    assert max(sizes) - min(sizes) <= 1
    assert sorted(sizes, reverse=True) == balanced_sizes(len(people), rooms)


@SETTINGS
@given(scenarios())
def test_facilitators_are_spread(
    scenario: tuple[list[Person], int, Mode, int, list[list[list[str]]]],
) -> None:
    people, rooms, mode, seed, earlier = scenario
    facilitators = {p.user_id for p in people if p.facilitator}
    result = assign_rooms(people, rooms, mode=mode, seed=seed, history=pair_history(earlier))
    per_room = [len(facilitators & set(room)) for room in result]
    # never two in one room while a room has none
    assert not (max(per_room) >= 2 and min(per_room) == 0)
    assert max(per_room) - min(per_room) <= 1


@SETTINGS
@given(scenarios(), st.randoms(use_true_random=False))
def test_same_inputs_and_seed_give_the_same_rooms_in_any_order(
    scenario: tuple[list[Person], int, Mode, int, list[list[list[str]]]],
    shuffler: random.Random,
) -> None:
    people, rooms, mode, seed, earlier = scenario
    history = pair_history(earlier)
    first = assign_rooms(people, rooms, mode=mode, seed=seed, history=history)
    shuffled = list(people)
    shuffler.shuffle(shuffled)
    again = assign_rooms(shuffled, rooms, mode=mode, seed=seed, history=history)
    assert again == first


@SETTINGS
@given(scenarios())
def test_no_single_swap_or_move_avoids_a_repeat_without_hurting_the_mode(
    scenario: tuple[list[Person], int, Mode, int, list[list[list[str]]]],
) -> None:
    people, rooms, mode, seed, earlier = scenario
    history = pair_history(earlier)
    by_id = {p.user_id: p for p in people}
    result = assign_rooms(people, rooms, mode=mode, seed=seed, history=history)
    for ra, rb, changed in _neighbours(result, by_id):
        before = [result[ra], result[rb]]
        mode_delta = _mode_cost(changed, by_id, mode) - _mode_cost(before, by_id, mode)
        repeat_delta = _repeat_cost(changed, history) - _repeat_cost(before, history)
        assert not (mode_delta <= 0 and repeat_delta < 0), (ra, rb, changed)
        if mode.kind == "mix":
            assert mode_delta >= 0, (ra, rb, changed)


@SETTINGS
@given(scenarios())
def test_group_mode_splits_values_only_when_sizes_force_it(
    scenario: tuple[list[Person], int, Mode, int, list[list[list[str]]]],
) -> None:
    people, rooms, _mode, seed, earlier = scenario
    mode = Mode("group", "group")
    result = assign_rooms(people, rooms, mode=mode, seed=seed, history=pair_history(earlier))
    by_id = {p.user_id: p for p in people}
    values = {_value(p, mode) for p in people if not p.facilitator} - {UNKNOWN}
    pieces = _mode_cost(result, by_id, mode)
    # every split fills a room, so at most one extra piece per room but the last
    assert pieces <= len(values) + rooms - 1


@SETTINGS
@given(
    st.integers(1, 6),
    st.integers(1, 6),
    st.lists(st.sampled_from(["A", "B", "C", "D"]), min_size=1, max_size=4, unique=True),
    st.integers(0, 1000),
)
def test_group_mode_keeps_values_whole_when_they_fill_rooms_exactly(
    size: int, rooms: int, names: list[str], seed: int
) -> None:
    assume(len(names) <= rooms)
    # each value has exactly one room's worth of people; the rest are fillers with no value
    people = [Person(f"U{name}{i}", group=name) for name in names for i in range(size)] + [
        Person(f"UX{i}") for i in range(size * (rooms - len(names)))
    ]
    result = assign_rooms(people, rooms, mode=Mode("group", "group"), seed=seed)
    for name in names:
        holding = [room for room in result if any(u.startswith(f"U{name}") for u in room)]
        assert len(holding) == 1


@SETTINGS
@given(st.integers(2, 8), st.integers(2, 8), st.integers(0, 10_000), st.integers(0, 3))
def test_repeats_are_avoided_when_a_fresh_arrangement_exists(
    earlier_rooms: int, rooms: int, seed: int, extra: int
) -> None:
    # k people per earlier room and at least k rooms now: sending each earlier room's people
    # to different rooms is possible, so no pair should meet again.
    per_room = rooms
    people = [Person(f"U{i:03d}") for i in range(earlier_rooms * per_room + extra)]
    ids = [p.user_id for p in people]
    earlier = [[ids[r::earlier_rooms] for r in range(earlier_rooms)]]
    assume(max(len(room) for room in earlier[0]) <= rooms)
    history = pair_history(earlier)
    result = assign_rooms(people, rooms, seed=seed, history=history)
    assert repeated_pairs(result, history) == 0


@SETTINGS
@given(people_lists(min_size=2), st.integers(0, 10_000))
def test_mix_spreads_each_value_evenly_without_history(people: list[Person], seed: int) -> None:
    people = [Person(p.user_id, group=p.group) for p in people]  # no facilitators
    mode = Mode("mix", "group")
    rooms = max(1, len(people) // 3)
    result = assign_rooms(people, rooms, mode=mode, seed=seed)
    for value in {_value(p, mode) for p in people} - {UNKNOWN}:
        counts = [
            sum(1 for u in room if _value(_find(people, u), mode) == value) for room in result
        ]
        assert max(counts) - min(counts) <= 1, (value, result)


def _find(people: list[Person], user_id: str) -> Person:
    return next(p for p in people if p.user_id == user_id)
