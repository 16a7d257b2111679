"""Breakout room assignment: pure functions of the people present, no database, no Slack.

Modes:
- ``random``: anyone with anyone.
- ``mix:<attr>``: every room as varied as possible in ``role``, ``place`` or ``group``: each value
  is spread over the rooms as evenly as the numbers allow.
- ``group:<attr>``: people with the same value together (union members with union members).

What every assignment keeps (the hypothesis tests in tests/bot/test_assignment_properties.py
check each one):
- Room sizes differ by at most one, in every mode.
- Facilitators are spread: the number of facilitators per room differs by at most one, so no room
  gets a second facilitator while another has none.
- Earlier rounds: pairs who already shared a room are kept apart where the mode allows. After the
  rooms are built, a local search swaps people between rooms (and moves them between a larger and
  a smaller room) until no single swap or move reduces the repeated pairs without making the mode
  worse. It stops early only after `max_evaluations` tries, which the bench never comes near.
- The same people, mode, history and seed give the same rooms, in whatever order people are given.

The trade-off in ``group`` mode: room sizes win over togetherness. Sizes still differ by at most
one, so a value with more people than a room fills whole rooms and its remainder shares a room
with other values, and small values are packed together to fill rooms. Values are placed largest
first, each as one piece into the room that fits it most tightly, and split only when no room has
space for the whole remainder. Every split fills a room, so across all values the number of
(value, room) pieces is at most the number of values plus the number of rooms minus one.

People who gave no value for the attribute count as neither alike nor different: in ``mix`` mode
they do not make a room less varied, and in ``group`` mode they fill the places left over.
Facilitators are placed first and stay spread; in ``group`` mode they are not grouped.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Literal

ATTRIBUTES = ("role", "place", "group")
ModeKind = Literal["random", "mix", "group"]
Attribute = Literal["role", "place", "group"]

# A person's value is compared case- and space-insensitively ("Unison " is "unison").
UNKNOWN = ""
DEFAULT_MAX_EVALUATIONS = 600_000


@dataclass(frozen=True)
class Mode:
    """How rooms are formed: random, or mixed or grouped by one check-in attribute."""

    kind: ModeKind = "random"
    attribute: Attribute | None = None

    def __post_init__(self) -> None:
        """Reject a mode that names no attribute, or names one for random."""
        if (self.kind == "random") != (self.attribute is None):
            raise ValueError(f"mode {self.kind!r} with attribute {self.attribute!r}")

    @property
    def label(self) -> str:
        """The mode as typed: random, mix:group, group:role."""
        return self.kind if self.attribute is None else f"{self.kind}:{self.attribute}"


RANDOM = Mode()


def parse_mode(text: str) -> Mode:
    """Read random, mix:<attr> or group:<attr>.

    Raises:
        ValueError: with a message for the user, for an unknown mode or attribute.
    """
    lowered = text.strip().lower()
    if lowered == "random":
        return RANDOM
    kind_text, colon, attribute_text = lowered.partition(":")
    kind = _KINDS.get(kind_text)
    if not colon or kind is None:
        raise ValueError(f"Unknown mode “{text[:40]}”: use random, mix:<attr> or group:<attr>.")
    attribute = _ATTRIBUTE_NAMES.get(attribute_text.strip())
    if attribute is None:
        shown = attribute_text.strip()[:40]
        raise ValueError(
            f"Unknown attribute “{shown}” in {kind}:{shown}: people check in with a role, "
            f"place and group, so use {kind}:role, {kind}:place or {kind}:group."
        )
    return Mode(kind, attribute)


_KINDS: dict[str, ModeKind] = {"mix": "mix", "group": "group"}
_ATTRIBUTE_NAMES: dict[str, Attribute] = {
    "role": "role",
    "roles": "role",
    "place": "place",
    "places": "place",
    "group": "group",
    "groups": "group",
}


@dataclass(frozen=True)
class Person:
    """Someone present, with their check-in attributes."""

    user_id: str
    role: str | None = None
    place: str | None = None
    group: str | None = None
    facilitator: bool = False

    def value(self, attribute: Attribute) -> str:
        """The normalised value of an attribute; UNKNOWN when not given."""
        raw = {"role": self.role, "place": self.place, "group": self.group}[attribute]
        return " ".join((raw or "").split()).casefold()


# user id -> user id -> how many earlier rounds the two shared a room
History = Mapping[str, Mapping[str, int]]


def pair_history(rounds: Iterable[Iterable[Iterable[str]]]) -> dict[str, dict[str, int]]:
    """Who shared a room with whom in earlier rounds, and how often."""
    met: dict[str, dict[str, int]] = {}
    for rooms in rounds:
        for room in rooms:
            for a, b in combinations(sorted(set(room)), 2):
                met.setdefault(a, {})[b] = met.get(a, {}).get(b, 0) + 1
                met.setdefault(b, {})[a] = met.get(b, {}).get(a, 0) + 1
    return met


def balanced_sizes(people: int, rooms: int) -> list[int]:
    """Room sizes that differ by at most one, larger rooms first."""
    base, extra = divmod(people, rooms)
    return [base + 1 if index < extra else base for index in range(rooms)]


def rooms_for_size(people: int, size: int) -> int:
    """How many rooms keep every room at `size` people or fewer."""
    return max(1, -(-people // size))


def repeated_pairs(rooms: Sequence[Sequence[str]], history: History) -> int:
    """How many pairs now sharing a room already shared one in an earlier round."""
    return sum(
        1 for room in rooms for a, b in combinations(room, 2) if history.get(a, {}).get(b, 0) > 0
    )


def diversity(values: Sequence[str]) -> float:
    """How varied a room is: distinct known values over the most there could be (1.0 = all differ).

    A room whose people gave no value at all counts as fully varied.
    """
    known = [value for value in values if value != UNKNOWN]
    if not known:
        return 1.0
    return len(set(known)) / len(known)


def assign_rooms(
    people: Sequence[Person],
    rooms: int,
    *,
    mode: Mode = RANDOM,
    seed: int = 0,
    history: History | None = None,
    max_evaluations: int = DEFAULT_MAX_EVALUATIONS,
) -> list[list[str]]:
    """Split people into `rooms` rooms.

    Args:
        people: everyone present (distinct user ids).
        rooms: how many rooms, between 1 and len(people).
        mode: random, mix:<attr> or group:<attr>.
        seed: the same seed (and inputs) gives the same rooms.
        history: pairs who met in earlier rounds of the session (see `pair_history`).
        max_evaluations: a cap on the swaps the local search tries (a safety net for time).

    Returns:
        Room member lists (user ids, sorted), larger rooms first.

    Raises:
        ValueError: rooms out of range, or a user id given twice.
    """
    ordered = sorted(people, key=lambda p: p.user_id)
    if len({p.user_id for p in ordered}) != len(ordered):
        raise ValueError("a person is listed twice")
    if not 1 <= rooms <= len(ordered):
        raise ValueError(f"cannot make {rooms} rooms from {len(ordered)} people")
    layout = _Layout(ordered, rooms, mode, random.Random(seed), history or {})
    layout.place_facilitators()
    if mode.kind == "random":
        layout.place_individually(layout.others(), by_value=False)
    elif mode.kind == "mix":
        known = [p for p in layout.others() if layout.counted[p]]
        layout.place_individually(layout.by_group_size(known), by_value=True)
        layout.place_individually(
            [p for p in layout.others() if not layout.counted[p]], by_value=False
        )
    else:
        layout.place_groups()
    layout.improve(max_evaluations)
    return [sorted(ordered[p].user_id for p in members) for members in layout.members]


class _Layout:
    """Rooms being built, with the counts that make each change cheap to evaluate."""

    def __init__(
        self,
        people: Sequence[Person],
        rooms: int,
        mode: Mode,
        rng: random.Random,
        history: History,
    ) -> None:
        self.mode = mode
        self.rng = rng
        count = len(people)
        self.facilitator = [p.facilitator for p in people]
        attribute = mode.attribute
        self.value = [p.value(attribute) if attribute else UNKNOWN for p in people]
        # Who counts towards the mode: known values; in group mode facilitators are spread
        # instead of grouped, so they do not count either.
        self.counted = [
            value != UNKNOWN and not (mode.kind == "group" and p.facilitator)
            for p, value in zip(people, self.value, strict=True)
        ]
        self.capacity = balanced_sizes(count, rooms)
        self.size = [0] * rooms
        self.members: list[set[int]] = [set() for _ in range(rooms)]
        self.room_of = [-1] * count
        self.value_count: list[dict[str, int]] = [{} for _ in range(rooms)]
        # Ties go to rooms in a seeded order, so equal choices still depend only on the seed.
        self.rank = list(range(rooms))
        rng.shuffle(self.rank)
        index = {p.user_id: i for i, p in enumerate(people)}
        self.met: list[list[tuple[int, int]]] = [[] for _ in range(count)]
        for i, person in enumerate(people):
            for other, times in sorted(history.get(person.user_id, {}).items()):
                j = index.get(other)
                if j is not None and j != i and times > 0:
                    self.met[i].append((j, times))
        # conflict[p][r]: how often p met the people now in room r before.
        self.conflict: list[dict[int, int]] = [{} for _ in range(count)]

    # -- building -------------------------------------------------------------

    def others(self) -> list[int]:
        """Everyone who is not a facilitator, in a seeded order."""
        found = [p for p in range(len(self.room_of)) if not self.facilitator[p]]
        self.rng.shuffle(found)
        return found

    def by_group_size(self, people: list[int]) -> list[int]:
        """People ordered by how common their value is (most common first), ties by value."""
        sizes: dict[str, int] = {}
        for p in people:
            sizes[self.value[p]] = sizes.get(self.value[p], 0) + 1
        return sorted(people, key=lambda p: (-sizes[self.value[p]], self.value[p]))

    def place(self, person: int, room: int) -> None:
        """Put a person in a room, updating every count."""
        self.room_of[person] = room
        self.members[room].add(person)
        self.size[room] += 1
        if self.counted[person]:
            counts = self.value_count[room]
            counts[self.value[person]] = counts.get(self.value[person], 0) + 1
        for other, times in self.met[person]:
            table = self.conflict[other]
            table[room] = table.get(room, 0) + times

    def remove(self, person: int) -> int:
        """Take a person out of their room; returns the room."""
        room = self.room_of[person]
        self.room_of[person] = -1
        self.members[room].discard(person)
        self.size[room] -= 1
        if self.counted[person]:
            self.value_count[room][self.value[person]] -= 1
        for other, times in self.met[person]:
            self.conflict[other][room] -= times
        return room

    def place_facilitators(self) -> None:
        """Spread facilitators: each room gets the floor or ceiling of their share."""
        facilitators = [p for p in range(len(self.room_of)) if self.facilitator[p]]
        self.rng.shuffle(facilitators)
        rooms = len(self.capacity)
        base, extra = divmod(len(facilitators), rooms)
        # The extra ones go to the larger rooms (listed first), which always have space.
        quota = [base + 1 if r < extra else base for r in range(rooms)]
        for person in facilitators:
            open_rooms = [r for r in range(rooms) if quota[r] > 0]
            room = min(open_rooms, key=lambda r: (self.conflict[person].get(r, 0), self.rank[r]))
            quota[room] -= 1
            self.place(person, room)

    def place_individually(self, people: list[int], *, by_value: bool) -> None:
        """Place people one by one: fewest of their value, fewest earlier pairs, most space."""
        rooms = range(len(self.capacity))
        for person in people:
            value = self.value[person]
            conflict = self.conflict[person]
            room = min(
                (r for r in rooms if self.size[r] < self.capacity[r]),
                key=lambda r: (
                    self.value_count[r].get(value, 0) if by_value else 0,
                    conflict.get(r, 0),
                    self.size[r] - self.capacity[r],
                    self.rank[r],
                ),
            )
            self.place(person, room)

    def place_groups(self) -> None:
        """Group mode: each value as one piece where it fits best, split only when it must."""
        groups: dict[str, list[int]] = {}
        fillers: list[int] = []
        for person in self.others():
            if self.counted[person]:
                groups.setdefault(self.value[person], []).append(person)
            else:
                fillers.append(person)
        rooms = range(len(self.capacity))
        for value in sorted(groups, key=lambda v: (-len(groups[v]), v)):
            remaining = groups[value]
            while remaining:
                space = {r: self.capacity[r] - self.size[r] for r in rooms}
                fitting = [r for r in rooms if space[r] >= len(remaining)]
                if fitting:
                    room = min(fitting, key=lambda r: (space[r], self.rank[r]))
                else:
                    room = max(rooms, key=lambda r: (space[r], -self.rank[r]))
                # Within a value, the people with the fewest earlier pairs in the room go there.
                scores = {p: self.conflict[p].get(room, 0) for p in remaining}
                remaining.sort(key=scores.__getitem__)
                chunk, remaining = remaining[: space[room]], remaining[space[room] :]
                for person in chunk:
                    self.place(person, room)
        self.place_individually(fillers, by_value=False)

    # -- improving --------------------------------------------------------------

    def _mode_move(self, person: int, source: int, target: int) -> int:
        """How moving a person from source to target changes the mode's cost."""
        if not self.counted[person] or self.mode.kind == "random":
            return 0
        value = self.value[person]
        there = self.value_count[target].get(value, 0)
        here = self.value_count[source].get(value, 0)
        if self.mode.kind == "mix":
            # Same-value pairs in a room: lose (here - 1), gain `there`.
            return there - (here - 1)
        # Group: (value, room) pieces: one fewer if the person was alone, one more if new there.
        return (1 if there == 0 else 0) - (1 if here == 1 else 0)

    def _mode_swap(self, a: int, room_a: int, b: int, room_b: int) -> int:
        """How swapping a (in room_a) with b (in room_b) changes the mode's cost."""
        if self.mode.kind == "random":
            return 0
        if self.counted[a] and self.counted[b] and self.value[a] == self.value[b]:
            return 0
        return self._mode_move(a, room_a, room_b) + self._mode_move(b, room_b, room_a)

    def _weight(self, a: int, b: int) -> int:
        for other, times in self.met[a]:
            if other == b:
                return times
        return 0

    def _is_target(self, person: int) -> bool:
        """Whether a person is in a repeated pair, or (mix) their value is crowded in their room."""
        room = self.room_of[person]
        if self.conflict[person].get(room, 0) > 0:
            return True
        if self.mode.kind != "mix" or not self.counted[person]:
            return False
        value = self.value[person]
        here = self.value_count[room].get(value, 0)
        fewest = min(counts.get(value, 0) for counts in self.value_count)
        return here - fewest >= 2

    def improve(self, max_evaluations: int) -> None:
        """Swap and move people while that lowers (mode cost, repeated pairs)."""
        if not any(self.met) and self.mode.kind != "mix":
            return
        budget = max_evaluations
        order = list(range(len(self.room_of)))
        self.rng.shuffle(order)
        changed = True
        while changed and budget > 0:
            changed = False
            for a in order:
                if budget <= 0:
                    break
                if not self._is_target(a):
                    continue
                found, spent = self._improve_one(a, order, budget)
                budget -= spent
                changed = changed or found

    def _improve_one(self, a: int, order: list[int], budget: int) -> tuple[bool, int]:
        """Apply the first move or swap of `a` that helps; returns (applied, evaluations)."""
        room_a = self.room_of[a]
        conflict_a = self.conflict[a]
        here = conflict_a.get(room_a, 0)
        spent = 0
        if not self.facilitator[a] and self.size[room_a] > min(self.size):
            # A move from a larger room to a smaller one keeps sizes within one.
            for room_b in range(len(self.capacity)):
                spent += 1
                if self.size[room_b] >= self.size[room_a]:
                    continue
                gain = (self._mode_move(a, room_a, room_b), conflict_a.get(room_b, 0) - here)
                if gain < (0, 0):
                    self.remove(a)
                    self.place(a, room_b)
                    return True, spent
        for b in order:
            if spent >= budget:
                break
            room_b = self.room_of[b]
            if room_b == room_a or self.facilitator[b] != self.facilitator[a]:
                continue
            spent += 1
            mode = self._mode_swap(a, room_a, b, room_b)
            if mode > 0:
                continue
            shared = 2 * self._weight(a, b) if conflict_a.get(room_b, 0) else 0
            after = conflict_a.get(room_b, 0) + self.conflict[b].get(room_a, 0) - shared
            before = here + self.conflict[b].get(room_b, 0)
            if (mode, after - before) < (0, 0):
                self.remove(a)
                self.remove(b)
                self.place(a, room_b)
                self.place(b, room_a)
                return True, spent
        return False, spent
