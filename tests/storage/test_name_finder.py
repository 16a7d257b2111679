"""Erasure's name finder: the same names as the standing-alone pattern finds, one at a time,
for texts like those stored (mentions, keys, targets, JSON, emails in sentences)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from storage.privacy.people import NameFinder, matcher

_NAME = st.text(alphabet="abU1.@:+-_", min_size=1, max_size=8)
_GLUE = st.sampled_from(["", " ", ".", "@", ":", "<@", ">", '"', "-", "x", ". ", ",", "é"])


def _alone(name: str, text: str) -> bool:
    pattern, _ = matcher(frozenset([name]))
    return pattern.search(text) is not None


@settings(max_examples=400, deadline=None)
@given(names=st.lists(_NAME, min_size=1, max_size=6, unique=True), data=st.data())
def test_it_finds_exactly_the_names_standing_alone(names: list[str], data: st.DataObject) -> None:
    parts = data.draw(st.lists(st.one_of(st.sampled_from(names), _GLUE, _NAME), max_size=12))
    text = "".join(parts)
    assert NameFinder(names)(text) == {n for n in names if _alone(n, text)}


def test_the_stored_shapes() -> None:
    find = NameFinder(["U0PAT1", "pat@example.org", "zoom:ab12"])
    assert find("Ask <@U0PAT1> or pat@example.org.") == {"U0PAT1", "pat@example.org"}
    assert find('{"user":"zoom:ab12"} user:U0PAT1:note') == {"zoom:ab12", "U0PAT1"}
    # Inside another's longer id or email: not them.
    assert find("U0PAT12 jopat@example.org pat@example.org.uk") == set()
    assert find(None) == set()
    assert NameFinder([])("U0PAT1") == set()


def test_thousands_of_names_cost_no_more_per_text_than_a_few() -> None:
    """What a purge does: one finder for every name of its sessions, then many texts. Its work
    per text does not grow with the names: it looks up the same pieces of each text."""
    many = NameFinder([f"U0P{n:05d}" for n in range(20_000)])
    few = NameFinder(["U0P00001"])
    text = "Ask U0P00001 and U0P19999 about <@U0P00077> (user:U0P00123:note) " * 3
    assert many(text) == {"U0P00001", "U0P19999", "U0P00077", "U0P00123"}
    assert few(text) == {"U0P00001"}
    assert many.run.pattern == few.run.pattern  # the same pieces of text are looked up
