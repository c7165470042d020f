"""Import GitHub REST issue objects from a JSON Lines file into the store.

One issue object per line, as ``GET /repos/{owner}/{repo}/issues`` returns them; comments
may ride along under ``x_comments`` (a list of REST comment objects). A bad line is
reported by its number and skipped; every good line is kept. Pull requests are skipped.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from chatbot.core.errors import ImportLineError
from chatbot.core.models import Ticket
from chatbot.core.ports import SaveStats, TicketStore
from chatbot.sources.rest import MappingError, ticket_from_rest


@dataclass(kw_only=True, slots=True)
class ImportResult:
    """What an import did."""

    saved: SaveStats = field(default_factory=SaveStats)
    pull_requests: int = 0
    errors: list[ImportLineError] = field(default_factory=list)


def read_lines(lines: Iterable[str], result: ImportResult) -> list[Ticket]:
    """Tickets from JSON lines; problems go into ``result.errors`` with their line numbers."""
    tickets: list[Ticket] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            result.errors.append(ImportLineError(number, f"not JSON ({exc.msg})"))
            continue
        if isinstance(data, dict) and data.get("pull_request"):
            result.pull_requests += 1
            continue
        try:
            tickets.append(ticket_from_rest(data))
        except (MappingError, ValueError) as exc:
            result.errors.append(ImportLineError(number, str(exc)))
    return tickets


def import_file(path: Path, store: TicketStore) -> ImportResult:
    """Import ``path`` into ``store``; good lines are saved even when others are bad."""
    result = ImportResult()
    with path.open(encoding="utf-8", errors="replace") as lines:
        tickets = read_lines(lines, result)
    result.saved = store.save_tickets(tickets)
    return result
