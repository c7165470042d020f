"""The report's chart: received and resolved per day (bars) and the open backlog (a line), as PNG.

Drawn from the report model only: ``Report.opened_per_day`` gives each day's received and
resolved counts, and ``Report.figures.backlog`` the backlog at the end of the period. The
backlog at the end of each earlier day follows exactly by walking back::

    backlog(end of day d - 1) = backlog(end of day d) - received(d) + resolved(d)

Days after the report was generated (the rest of a period in progress) have no backlog yet,
so the line stops at today. A period with no tickets still gets a chart: empty bars and a
flat backlog line, so every report has one and every surface can link it.

matplotlib is imported inside :func:`render_chart` only (it costs about 0.35 s), so importing
the renderers or the CLI does not pay for it. It draws on a ``Figure`` with the Agg canvas,
never through pyplot's global state, and the PNG carries no software tag or timestamp: the
same report gives the same bytes.
"""

from __future__ import annotations

import io
import math
import threading
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from chatbot.core.report import Report

if TYPE_CHECKING:
    from matplotlib.axes import Axes

#: The file name the chart has where one name is needed (a Discord attachment).
CHART_FILENAME = "chart.png"
#: The chart's alternative text, and its link text in the Markdown report.
CHART_ALT = "Received and resolved per day"

MAX_TICKS = 12
WIDTH_INCHES, HEIGHT_INCHES, DPI = 10.0, 4.5, 100
RECEIVED_COLOR, RESOLVED_COLOR, BACKLOG_COLOR = "#4e79a7", "#59a14f", "#e15759"
#: matplotlib's settings (rcParams) are global: one chart is drawn at a time, so that charts
#: drawn in several threads at once (Slack answers draw off the event loop) stay identical.
_DRAWING = threading.Lock()


@dataclass(frozen=True, kw_only=True, slots=True)
class ChartSeries:
    """What the chart plots, one entry per day of the period.

    ``backlog`` is the number of open tickets at the end of each day, None for days that
    have not ended when the report was generated (after today).
    """

    days: tuple[date, ...]
    received: tuple[int, ...]
    resolved: tuple[int, ...]
    backlog: tuple[int | None, ...]


def chart_series(report: Report) -> ChartSeries:
    """The per-day series of ``report``'s chart (pure, no matplotlib)."""
    rows = report.opened_per_day or tuple(
        (day.isoformat(), 0, 0) for day in report.period.each_day()
    )
    days = tuple(date.fromisoformat(day) for day, _, _ in rows)
    received = tuple(opened for _, opened, _ in rows)
    resolved = tuple(closed for _, _, closed in rows)
    today = report.generated_at.astimezone(report.period.zone).date()
    backlog: list[int | None] = []
    level = report.figures.backlog
    for day, opened, closed in reversed(rows):
        backlog.append(None if date.fromisoformat(day) > today else max(level, 0))
        level -= opened - closed
    return ChartSeries(
        days=days, received=received, resolved=resolved, backlog=tuple(reversed(backlog))
    )


def tick_positions(count: int, most: int = MAX_TICKS) -> list[int]:
    """Which of ``count`` days get a label: every day up to ``most``, else every n-th day."""
    if count <= most:
        return list(range(count))
    step = math.ceil(count / most)
    if step > 7:
        step = 7 * math.ceil(step / 7)  # whole weeks read better on long periods
    return list(range(0, count, step))


def day_label(day: date, count: int) -> str:
    """``Mon 04-21`` for a week or less, ``04-21`` up to a quarter, ``2025-04-21`` beyond."""
    if count <= 7:
        return f"{day:%a} {day:%m-%d}"
    if count <= 92:
        return f"{day:%m-%d}"
    return day.isoformat()


def chart_title(report: Report) -> str:
    """``Received and resolved per day — last-week (2025-04-21 to 2025-04-27 (UTC))``."""
    period = report.period
    label = period.label or period.slug
    return f"{CHART_ALT} — {label} ({period.describe()})".replace("$", r"\$")


def render_chart(report: Report) -> bytes:
    """The chart of ``report`` as PNG bytes; the same report always gives the same bytes."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    series = chart_series(report)
    count = len(series.days)
    with _DRAWING, matplotlib.rc_context({"font.family": "DejaVu Sans", "font.size": 9}):
        figure = Figure(figsize=(WIDTH_INCHES, HEIGHT_INCHES), dpi=DPI)
        FigureCanvasAgg(figure)
        bars: Axes = figure.add_subplot()
        xs = list(range(count))
        width = 0.4
        bars.bar(
            [x - width / 2 for x in xs],
            series.received,
            width,
            label="Received",
            color=RECEIVED_COLOR,
        )
        bars.bar(
            [x + width / 2 for x in xs],
            series.resolved,
            width,
            label="Resolved",
            color=RESOLVED_COLOR,
        )
        tallest = max([*series.received, *series.resolved, 1])
        bars.set_ylim(0, tallest * 1.15)
        bars.yaxis.set_major_locator(MaxNLocator(integer=True))
        bars.set_ylabel("Tickets per day")
        bars.set_xlim(-0.6, count - 0.4)
        ticks = tick_positions(count)
        bars.set_xticks(ticks, [day_label(series.days[i], count) for i in ticks])
        bars.set_xlabel(f"Day ({report.period.tz})")
        bars.set_title(chart_title(report))
        line: Axes = bars.twinx()
        known = [(x, b) for x, b in zip(xs, series.backlog, strict=True) if b is not None]
        if known:
            line.plot(
                [x for x, _ in known],
                [b for _, b in known],
                color=BACKLOG_COLOR,
                marker="o" if count <= 31 else None,
                markersize=3,
                linewidth=1.8,
                label="Open backlog (end of day)",
            )
        highest = max([b for _, b in known] + [1])
        line.set_ylim(0, highest * 1.15)
        line.yaxis.set_major_locator(MaxNLocator(integer=True))
        line.set_ylabel("Open backlog")
        handles: list[Any] = []
        labels: list[str] = []
        for axes in (bars, line):
            found, names = axes.get_legend_handles_labels()
            handles += found
            labels += names
        bars.legend(  # below the axes, where it hides no bar and no point of the line
            handles,
            labels,
            loc="upper center",
            bbox_to_anchor=(0.5, -0.12),
            ncol=3,
            fontsize=8,
            frameon=False,
        )
        figure.tight_layout()
        out = io.BytesIO()
        figure.savefig(out, format="png", metadata={"Software": None})
    return out.getvalue()
