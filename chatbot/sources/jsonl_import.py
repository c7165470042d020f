"""Import GitHub REST issue objects from a JSON Lines file into the store.

One issue object per line, as ``GET /repos/{owner}/{repo}/issues`` returns them; comments
may ride along under ``x_comments`` (a list of REST comment objects). A bad line is
reported by its number and skipped; every good line is kept. Pull requests are skipped.
Lines are read and saved as a stream, in the store's bounded batches, so a large import
never holds the write lock for long and never keeps the whole file in memory.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
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
    lines: dict[tuple[str, int], int] = field(default_factory=dict)
    """The line each ticket came from (the last, if a ticket is on several)."""


def iter_tickets(lines: Iterable[str], result: ImportResult) -> Iterator[Ticket]:
    """Tickets from JSON lines; problems go into ``result.errors`` with their line numbers."""
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            result.errors.append(ImportLineError(number, f"not JSON ({exc.msg})"))
            continue
        except (ValueError, RecursionError):  # a number too long, nesting too deep
            result.errors.append(ImportLineError(number, "not JSON that can be read"))
            continue
        if isinstance(data, dict) and data.get("pull_request"):
            result.pull_requests += 1
            continue
        try:
            ticket = ticket_from_rest(data)
        except (MappingError, ValueError) as exc:
            result.errors.append(ImportLineError(number, str(exc)))
            continue
        result.lines[ticket.key] = number
        yield ticket


def read_lines(lines: Iterable[str], result: ImportResult) -> list[Ticket]:
    """Every ticket of ``lines`` (see :func:`iter_tickets`)."""
    return list(iter_tickets(lines, result))


def import_file(path: Path, store: TicketStore) -> ImportResult:
    """Import ``path`` into ``store``; good lines are saved even when others are bad.

    The first saved ticket takes the store out of the demo; a file without one good line
    leaves the store as it was.
    """
    result = ImportResult()
    with path.open(encoding="utf-8", errors="replace") as lines:
        result.saved = store.save_tickets(iter_tickets(lines, result))
    for repo, number, error in result.saved.rejected:
        line = result.lines.get((repo, number), 0)
        result.errors.append(
            ImportLineError(line, f"{repo}#{number} was refused by the database ({error})")
        )
    result.errors.sort(key=lambda e: e.line)
    return result
