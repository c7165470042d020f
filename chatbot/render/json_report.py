"""The report as JSON: the same numbers as every other rendering, machine-readable."""

from __future__ import annotations

import json
from typing import Any

from chatbot.core.report import Figures, Report, TicketRef
from chatbot.render.summary import theme_summary

SCHEMA = "support-report/1"


def _ref(ref: TicketRef) -> dict[str, Any]:
    return {
        "repo": ref.repo,
        "number": ref.number,
        "title": ref.title,
        "url": ref.url,
        "state": ref.state,
        "state_changed_since": ref.since or None,
    }


def _figures(figures: Figures | None) -> dict[str, Any] | None:
    if figures is None:
        return None
    return {
        "received": figures.received,
        "resolved": figures.resolved,
        "still_open": figures.still_open,
        "backlog": figures.backlog,
        "answered": figures.answered,
        "median_first_response_hours": _round(figures.median_first_response_hours),
        "median_resolution_hours": _round(figures.median_resolution_hours),
        "p90_first_response_hours": _round(figures.p90_first_response_hours),
        "p90_resolution_hours": _round(figures.p90_resolution_hours),
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def report_to_dict(report: Report) -> dict[str, Any]:
    """The report as plain JSON-ready data."""
    period = report.period
    previous = report.previous_period
    return {
        "schema": SCHEMA,
        "generated_at": report.generated_at.isoformat(),
        "period": {
            "label": period.label,
            "kind": period.kind,
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
            "tz": period.tz,
        },
        "previous_period": None
        if previous is None
        else {
            "start": previous.start.isoformat(),
            "end": previous.end.isoformat(),
            "until": None if report.previous_until is None else report.previous_until.isoformat(),
            "same_elapsed_time": report.previous_until is not None,
        },
        "repos": list(report.repos),
        "analysis": report.analysis_note,
        "summary": _figures(report.figures),
        "previous_summary": _figures(report.previous),
        "most_active_tickets": [
            {
                **_ref(a.ticket),
                "activity_level": round(a.score, 2),
                "weight": round(a.weight, 3),
                "recency": round(a.recency, 3),
                "idle_days": round(a.idle_days, 2),
                "why": a.why,
                "parts": [
                    {
                        "name": p.name,
                        "count": round(p.count, 3),
                        "weight": p.weight,
                        "points": round(p.points, 3),
                    }
                    for p in a.parts
                ],
            }
            for a in report.most_active
        ],
        "active_tickets": report.active_total,
        "waiting_for_first_reply": {
            "total": report.waiting_total,
            "tickets": [
                {**_ref(w.ticket), "waiting_hours": _round(w.hours)} for w in report.waiting
            ],
        },
        "ticket_breakdown": [
            {
                "dimension": b.dimension,
                "category": b.value,
                "received": b.received,
                "resolved": b.resolved,
                "pending": b.pending,
            }
            for b in report.breakdown
        ],
        "common_issues": [
            {
                "title": t.title,
                "summary": theme_summary(t),
                "other": t.other,
                "count": t.count,
                "opened": t.opened,
                "still_open": t.still_open,
                "estimated": t.estimated,
                "previous_period": t.previous,
                "previous_period_estimated": t.previous_estimated,
                "terms": list(t.terms),
                "tickets": [_ref(r) for r in t.tickets],
            }
            for t in report.themes
        ],
        "recommendations": [
            {"text": r.text, "tickets": [_ref(t) for t in r.tickets]}
            for r in report.recommendations
        ],
        "per_day": [
            {"day": day, "opened": opened, "resolved": closed}
            for day, opened, closed in report.opened_per_day
        ],
        "daily_reports": [{"day": d.day, "path": d.path} for d in report.daily_links],
    }


def render_json(report: Report) -> str:
    """The report as an indented JSON document."""
    return json.dumps(report_to_dict(report), indent=2, ensure_ascii=False) + "\n"
