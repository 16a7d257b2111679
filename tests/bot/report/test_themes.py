"""Quotes without a theme tag, grouped by similarity."""

from __future__ import annotations

from bot.report.themes import UNGROUPED, group_by_similarity

HOUSING = [
    "Rents in Durham are far too high for young people",
    "Young people cannot afford the rents here",
    "Private rents keep rising and young people leave",
]
BUSES = [
    "The buses stop at six so I cannot get to evening shifts",
    "Cancelled buses mean I miss shifts at work",
]
LONER = "My dog likes the new park"


def _label_of(groups: list, index: int) -> str:
    return next(g.label for g in groups if index in g.members)


def test_similar_quotes_end_up_together_and_are_labelled_by_their_words() -> None:
    texts = [*HOUSING, *BUSES, LONER]
    groups = group_by_similarity(texts)
    assert sorted(i for g in groups for i in g.members) == list(range(len(texts)))
    housing = {_label_of(groups, i) for i in range(3)}
    buses = {_label_of(groups, i) for i in (3, 4)}
    assert len(housing) == 1
    assert len(buses) == 1
    assert housing != buses
    assert "rents" in housing.pop()
    assert "buses" in buses.pop()  # labels use the words people wrote, not stems
    assert _label_of(groups, 5) == UNGROUPED  # like nothing else


def test_groups_are_deterministic_and_largest_first() -> None:
    texts = [*BUSES, *HOUSING, LONER]
    groups = group_by_similarity(texts)
    assert groups == group_by_similarity(texts)
    assert [len(g.members) for g in groups] == [3, 2, 1]
    assert groups[-1].label == UNGROUPED


def test_texts_without_words_go_to_other() -> None:
    groups = group_by_similarity(["🙂🙂", "the and of", *BUSES])
    other = next(g for g in groups if g.label == UNGROUPED)
    assert other.members == [0, 1]


def test_only_stop_words_and_nothing_at_all() -> None:
    assert group_by_similarity([]) == []
    assert [g.label for g in group_by_similarity(["the", "and"])] == [UNGROUPED]
    assert [g.members for g in group_by_similarity(["Buses are late"])] == [[0]]


def test_many_quotes_use_bounded_memory_and_still_group() -> None:
    texts = [f"{HOUSING[i % 3]} number {i}" for i in range(1600)] + [
        f"{BUSES[i % 2]} number {i}" for i in range(1600)
    ]
    groups = group_by_similarity(texts)
    assert sum(len(g.members) for g in groups) == len(texts)
    assert 2 <= len(groups) <= 50
