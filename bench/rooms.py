"""Benchmark: assign 1,000 people to 100 breakout rooms with mix:group after 3 earlier rounds.

Run from the repository root:

    .venv/bin/python bench/rooms.py [--people 1000] [--rooms 100] [--rounds 3] [--repeat 5]

The people have roles, places and groups drawn from skewed distributions (a few big groups, a
long tail of small ones), like a real tour; a few are facilitators. The earlier rounds use the same
mode, each with the history of the rounds before it, as the bot does.

Printed for the measured round: time (best and median of --repeat runs), room sizes, facilitators
per room, repeated pairs (and, for scale, what a history-blind assignment would repeat), and the
diversity of each room in group (distinct groups over people with a group: 1.0 means all differ),
summarised over the rooms, with same-group pairs against the fewest the group sizes allow.
Exit code 1 when the time target is missed.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections import Counter
from itertools import combinations
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.assignment import (  # noqa: E402
    Mode,
    Person,
    assign_rooms,
    diversity,
    pair_history,
    repeated_pairs,
)

TARGET_SECONDS = 1.0
MODE = Mode("mix", "group")
GROUPS = [
    "Unison",
    "GMB",
    "Unite",
    "CWU",
    "Durham CLP",
    "Sunderland CLP",
    "Stoke CLP",
    "Leeds CLP",
    "Young Labour",
    "Councillors",
    "Co-op Party",
    "BAME Labour",
    "LGBT+ Labour",
    "Disability Labour",
    "Labour Women",
]
ROLES = ["Member", "Trade union member", "Councillor", "Branch officer", "Supporter", "Guest"]
PLACES = ["Durham", "Sunderland", "Stoke on Trent", "Leeds", "Newcastle", "Hull", "Wigan"]


def make_people(count: int, facilitators: int, rng: random.Random) -> list[Person]:
    """A crowd with skewed group sizes; about one in twenty gave no group."""
    weights = [1 / (rank + 1) for rank in range(len(GROUPS))]
    people = []
    for index in range(count):
        group = rng.choices(GROUPS, weights)[0] if rng.random() > 0.05 else None
        people.append(
            Person(
                user_id=f"U{index:05d}",
                role=rng.choice(ROLES),
                place=rng.choice(PLACES),
                group=group,
                facilitator=index < facilitators,
            )
        )
    return people


def fewest_same_group_pairs(groups: Counter[str], rooms: int) -> int:
    """Same-group pairs if every group were spread perfectly evenly over the rooms."""
    total = 0
    for count in groups.values():
        base, extra = divmod(count, rooms)
        total += extra * (base + 1) * base // 2 + (rooms - extra) * base * (base - 1) // 2
    return total


def same_group_pairs(rooms: list[list[str]], group_of: dict[str, str]) -> int:
    """Pairs sharing a room and a (known) group."""
    return sum(
        1
        for room in rooms
        for a, b in combinations(room, 2)
        if group_of[a] and group_of[a] == group_of[b]
    )


def summary(values: list[float]) -> str:
    """min / median / mean / max."""
    return (
        f"min {min(values):.2f}  median {statistics.median(values):.2f}  "
        f"mean {statistics.fmean(values):.2f}  max {max(values):.2f}"
    )


def main() -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--rooms", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3, help="earlier rounds")
    parser.add_argument("--facilitators", type=int, default=12)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    people = make_people(args.people, args.facilitators, rng)
    group_of = {p.user_id: p.value("group") for p in people}
    earlier: list[list[list[str]]] = []
    for number in range(1, args.rounds + 1):
        started = time.perf_counter()
        rooms = assign_rooms(
            people, args.rooms, mode=MODE, seed=args.seed + number, history=pair_history(earlier)
        )
        print(f"earlier round {number}: {1000 * (time.perf_counter() - started):.0f} ms")
        earlier.append(rooms)

    history = pair_history(earlier)
    seed = args.seed + args.rounds + 1
    timings = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        rooms = assign_rooms(people, args.rooms, mode=MODE, seed=seed, history=history)
        timings.append(time.perf_counter() - started)
    blind = assign_rooms(people, args.rooms, mode=MODE, seed=seed)  # no history, for scale

    sizes = [len(room) for room in rooms]
    facilitators = {p.user_id for p in people if p.facilitator}
    per_room = [len(facilitators & set(room)) for room in rooms]
    groups = Counter(g for g in group_of.values() if g)
    room_diversity = [diversity([group_of[u] for u in room]) for room in rooms]
    distinct = [len({group_of[u] for u in room if group_of[u]}) for room in rooms]
    pairs = sum(len(room) * (len(room) - 1) // 2 for room in rooms)
    met = sum(len(others) for others in history.values()) // 2

    print()
    print(
        f"{args.people:,} people ({len(facilitators)} facilitators, {len(groups)} groups, "
        f"largest {groups.most_common(1)[0][1]}) into {args.rooms} rooms, {MODE.label}, "
        f"after {args.rounds} rounds ({met:,} pairs already met)"
    )
    print(
        f"time:              best {1000 * min(timings):.0f} ms, median "
        f"{1000 * statistics.median(timings):.0f} ms over {args.repeat} runs "
        f"(target <= {TARGET_SECONDS:.0f} s)"
    )
    print(f"room sizes:        {min(sizes)} to {max(sizes)} (spread {max(sizes) - min(sizes)})")
    print(f"facilitators/room: {min(per_room)} to {max(per_room)}")
    print(
        f"repeated pairs:    {repeated_pairs(rooms, history)} of {pairs:,} pairs in rooms "
        f"(history-blind assignment: {repeated_pairs(blind, history)})"
    )
    print(f"diversity/room:    {summary(room_diversity)}  (distinct groups / people with one)")
    print(
        f"groups/room:       {summary([float(d) for d in distinct])}; "
        f"rooms with all-different groups: {sum(1 for d in room_diversity if d == 1.0)}"
    )
    print(
        f"same-group pairs:  {same_group_pairs(rooms, group_of)} "
        f"(fewest the group sizes allow: {fewest_same_group_pairs(groups, args.rooms)})"
    )
    met_target = min(timings) <= TARGET_SECONDS
    print(f"target met:        {'yes' if met_target else 'NO'}")
    return 0 if met_target else 1


if __name__ == "__main__":
    sys.exit(main())
