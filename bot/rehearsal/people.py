"""The simulated people of a rehearsal: who they are, how they check in, vote and report back.

Everything is drawn from one seeded random generator, so a rehearsal with the same seed shows
the same people making the same choices.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

FIRST_NAMES = (
    "Aisha", "Ben", "Carys", "Dev", "Eilidh", "Femi", "Grace", "Harun", "Imogen", "Jack",
    "Kerry", "Liam", "Maya", "Niall", "Olu", "Priya", "Rhys", "Sian", "Tom", "Uzma",
    "Viv", "Wes", "Yasmin", "Zac",
)  # fmt: skip
LAST_INITIALS = "ABCDEFGHJKLMNPRSTW"
# Weighted like a branch meeting: mostly members, some union members and councillors.
ROLES = (
    ("Member", 46), ("Trade union member", 22), ("Branch officer", 10), ("Councillor", 8),
    ("Supporter", 10), ("Guest", 4),
)  # fmt: skip
PLACES = (
    ("Durham", 18), ("Stoke-on-Trent", 14), ("Redcar", 10), ("Bolton", 14), ("Wrexham", 10),
    ("Hastings", 10), ("Barrow", 8), ("Swindon", 16),
)  # fmt: skip
GROUPS = (("CLP", 50), ("Trade union branch", 25), ("Young Labour", 15), ("Co-op Party", 10))
CONSENT_SHARE = 0.7

REPORT_OPENINGS = (
    "We agreed the party has to be seen in our towns between elections, not only at them.",
    "The room was split, but everyone wanted the party to listen before it asks for votes.",
    "People spoke about closed high streets and buses that no longer run after six.",
    "Most of us felt the link with the unions is still there but rarely shown.",
)
QUOTES = (
    "If we're not on the doorstep in March, nobody believes us in May.",
    "My union branch does more organising than the party does round here.",
    "People don't feel talked down to when you turn up and help.",
    "Bring back the ward meetings that actually decide something.",
    "The young ones want to be asked, not told.",
    "Community organising works when it's about bins and buses, not slogans.",
)


@dataclass(frozen=True)
class Person:
    """One simulated participant."""

    user_id: str
    name: str
    role: str
    place: str
    group: str
    consent: bool
    lean: float  # 0..1: where they sit on every question's first-to-last option scale

    @property
    def described(self) -> str:
        """How the transcript names them: "Maya K (Member, Durham)"."""
        return f"{self.name} ({self.role}, {self.place})"


def _weighted(rng: random.Random, table: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([name for name, _ in table], weights=[w for _, w in table])[0]


def cast(count: int, rng: random.Random) -> list[Person]:
    """`count` people with varied roles, places and groups."""
    people = []
    for number in range(1, count + 1):
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_INITIALS)}"
        people.append(
            Person(
                user_id=f"U0REH{number:04d}",
                name=name,
                role=_weighted(rng, ROLES),
                place=_weighted(rng, PLACES),
                group=_weighted(rng, GROUPS),
                consent=rng.random() < CONSENT_SHARE,
                lean=rng.betavariate(2.0, 2.6),
            )
        )
    return people


def choose(person: Person, options: int, rng: random.Random, *, multi: bool) -> list[int]:
    """The option(s) a person picks: near their lean, with some noise (a plausible spread)."""
    if options <= 0:
        return []
    spot = min(options - 1, max(0, int((person.lean + rng.gauss(0, 0.22)) * options)))
    picked = {spot}
    if multi and options > 2 and rng.random() < 0.4:
        picked.add(min(options - 1, spot + 1))
    return sorted(picked)


def will_vote(rng: random.Random) -> bool:
    """Not everyone votes in every poll."""
    return rng.random() < 0.92


def report_back(rng: random.Random, prompt: str) -> tuple[str, list[str]]:
    """A room's report-back: a summary and one or two quotes."""
    summary = f"{rng.choice(REPORT_OPENINGS)} On “{prompt[:120]}”, we came back to local presence."
    return summary, rng.sample(QUOTES, k=rng.choice((1, 2)))
