"""The writer of ``reports/``: Markdown and JSON files, weekly reports linking their dailies.

Layout (under the reports folder)::

    daily/2025-04-22/report.md, report.json, report.png
    weekly/2025-W17/report.md, report.json, report.png   links ../../daily/<day>/report.md
    monthly/2025-04/report.md, report.json, report.png
    quarterly/2025-Q2/report.md, ...           yearly/2025/report.md, ...
    custom/2025-04-21_2025-04-23/report.md, ...

``report.png`` is the chart (:func:`~chatbot.render.chart.render_chart`); the Markdown
links it by its name, relative to the Markdown file, so the folder can be moved whole.

Writing a weekly report also writes every daily report of that week up to today, so its
links never point at a missing file (the seed generator's weekly reports missed dailies).
Those dailies are offline analyses, and say so: only the weekly report asks the model, so
a weekly run waits for one answer, not eight. ``chatbot report <day>`` still asks for a day.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from chatbot.core.periods import Period, day_period
from chatbot.core.report import DailyLink, Report
from chatbot.render import render_json, render_markdown
from chatbot.render.chart import render_chart
from chatbot.service import ReportService

FOLDERS = {
    "day": "daily",
    "week": "weekly",
    "month": "monthly",
    "quarter": "quarterly",
    "year": "yearly",
    "range": "custom",
}


@dataclass(frozen=True, kw_only=True, slots=True)
class Written:
    """The files written for one report."""

    report: Report
    markdown: Path
    json: Path
    chart: Path | None = None


def folder_for(period: Period, root: Path) -> Path:
    """Where the files of ``period`` go."""
    name = period.slug if period.kind != "range" else f"{period.start}_{period.end}"
    return root / FOLDERS[period.kind] / name


def _write_atomically(path: Path, content: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = content.encode("utf-8") if isinstance(content, str) else content
    with tempfile.NamedTemporaryFile("wb", dir=path.parent, delete=False, suffix=".tmp") as tmp:
        tmp.write(data)
    os.replace(tmp.name, path)


def write_report(report: Report, root: Path) -> Written:
    """Write ``report`` as Markdown, JSON and its chart (PNG) into its folder under ``root``.

    The chart is written first, so the Markdown never links a missing image.
    """
    folder = folder_for(report.period, root)
    markdown, data = folder / "report.md", folder / "report.json"
    chart = markdown.with_suffix(".png")
    _write_atomically(chart, render_chart(report))
    _write_atomically(markdown, render_markdown(report, chart=chart.name))
    _write_atomically(data, render_json(report))
    return Written(report=report, markdown=markdown, json=data, chart=chart)


def write_period(service: ReportService, period: Period, root: Path) -> list[Written]:
    """Build and write the report of ``period``; for a week, its dailies first."""
    written: list[Written] = []
    links: list[DailyLink] = []
    if period.kind == "week":
        today = service.calendar().today
        for day in period.each_day():
            if day > today:
                break
            daily = service.build_report(
                day_period(day, tz=period.tz, week_start=period.week_start), use_model=False
            )
            done = write_report(daily, root)
            written.append(done)
            links.append(
                DailyLink(day=day.isoformat(), path=f"../../daily/{day.isoformat()}/report.md")
            )
    report = service.build_report(period, daily_links=links)
    written.append(write_report(report, root))
    return written
