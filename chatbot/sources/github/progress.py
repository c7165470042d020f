"""A rich progress display for ``chatbot sync``: one bar per repository and feed.

Drawn on stderr, only when stderr is a terminal; it disappears when the sync ends, and
the summary line stays.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from chatbot.sources.github.report import Progress as ProgressCallback
from chatbot.sources.github.report import ProgressEvent


class RichSyncProgress:
    """Turns the sync's :class:`ProgressEvent` calls into rich progress bars."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._tasks: dict[tuple[str, str], TaskID] = {}

    def __call__(self, event: ProgressEvent) -> None:
        """Show how far one feed has got."""
        key = (event.repo, event.feed)
        if key not in self._tasks:
            self._tasks[key] = self._progress.add_task(f"{event.repo} {event.feed}", total=None)
        total = event.done if event.finished else event.total
        self._progress.update(self._tasks[key], completed=event.done, total=total)


@contextmanager
def sync_progress(console: Console | None = None) -> Iterator[ProgressCallback | None]:
    """A progress callback drawing bars on a terminal, or None when not on one."""
    console = console or Console(stderr=True)
    if not console.is_terminal:
        yield None
        return
    columns = (
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        yield RichSyncProgress(progress)
