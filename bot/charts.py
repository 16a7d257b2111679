"""PNG charts drawn with matplotlib's Agg backend, from plain data (no database, no Slack)."""

from __future__ import annotations

import io
import textwrap
import warnings
from collections.abc import Sequence

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

# User text is full of emoji the bundled font lacks; they are drawn as boxes, which is fine,
# and a warning per glyph per chart would only bury real problems in the log.
warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from font", category=UserWarning)

BAR_COLOUR = "#1d3557"
LABEL_WIDTH = 38  # characters per line of an option label
LABEL_LINES = 2
TITLE_WIDTH = 70
TITLE_LINES = 3


def _wrap(text: str, width: int, lines: int) -> str:
    """Text wrapped to `lines` lines of `width`, the rest replaced by "…"."""
    flat = " ".join(text.split()) or " "
    wrapped = textwrap.wrap(flat, width=width, max_lines=lines, placeholder=" …")
    return "\n".join(wrapped) or " "


def bar_chart_png(
    title: str,
    labels: Sequence[str],
    counts: Sequence[int],
    *,
    total: int,
    percents: Sequence[int] | None = None,
    note: str = "",
) -> bytes:
    """A horizontal bar chart of `counts` as shares of `total`, as PNG bytes.

    Args:
        title: shown on top (wrapped, long titles shortened with "…").
        labels: one per bar, top to bottom.
        counts: how many chose each label.
        total: what the percentages are a share of (e.g. how many voted).
        percents: the percentages to print, when the caller rounds them its own way;
            by default each count's share of `total`, rounded.
        note: a line under the chart, e.g. "of 42 who voted".
    """
    if len(labels) != len(counts) or (percents is not None and len(percents) != len(counts)):
        raise ValueError("one count (and percentage) per label")
    shares = (
        list(percents)
        if percents is not None
        else [round(100 * count / total) if total else 0 for count in counts]
    )
    rows = max(len(labels), 1)
    figure = Figure(figsize=(8, 1.6 + 0.55 * rows), dpi=100, layout="constrained")
    # The canvas renders the figure; creating it attaches Agg without touching pyplot's state,
    # so charts can be drawn from any thread.
    canvas = FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    positions = list(range(len(labels)))
    axes.barh(positions, list(counts), color=BAR_COLOUR)
    # parse_math=False: a "$" in user text must not switch matplotlib into TeX mode.
    axes.set_yticks(
        positions,
        [_wrap(label, LABEL_WIDTH, LABEL_LINES) for label in labels],
        parse_math=False,
    )
    axes.invert_yaxis()  # first option on top, as in the message
    axes.set_xlim(0, max([*counts, 1]) * 1.25)
    axes.xaxis.set_visible(False)
    for side in ("top", "right", "bottom"):
        axes.spines[side].set_visible(False)
    for position, count, share in zip(positions, counts, shares, strict=True):
        axes.text(
            count, position, f"  {share}% ({count})", va="center", fontsize=10, parse_math=False
        )
    figure.suptitle(
        _wrap(title, TITLE_WIDTH, TITLE_LINES), x=0.02, ha="left", fontsize=12, parse_math=False
    )
    if note:
        figure.supxlabel(note, x=0.02, ha="left", fontsize=9, color="#555555", parse_math=False)
    buffer = io.BytesIO()
    canvas.print_png(buffer)
    return buffer.getvalue()
