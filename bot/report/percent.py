"""Percentages that agree with their own n."""

from __future__ import annotations

from collections.abc import Sequence


def whole_percentages(counts: Sequence[int], n: int, *, exclusive: bool) -> list[int]:
    """Whole-number percentages of `n` for each count.

    Args:
        counts: how many chose each option.
        n: how many answered (the base every percentage is a share of).
        exclusive: single-choice answers, where the shares must add up to exactly 100; they are
            rounded by largest remainder so rounding never makes a table disagree with itself.
            Multiple-choice shares are rounded one by one (they may add up to more than 100).

    Returns:
        One percentage per count; all zeros when nobody answered.
    """
    if n <= 0:
        return [0 for _ in counts]
    exact = [100 * count / n for count in counts]
    floors = [int(value) for value in exact]
    if not exclusive or sum(counts) != n:
        return [int(value + 0.5) for value in exact]
    missing = 100 - sum(floors)
    # Hand the missing points to the largest remainders; ties go to the larger count, then order.
    order = sorted(
        range(len(counts)), key=lambda i: (exact[i] - floors[i], counts[i], -i), reverse=True
    )
    for i in order[:missing]:
        floors[i] += 1
    return floors
