"""The two statistics of the summary figures, shared by the analysis and the store.

``analysis.metrics`` takes them over durations computed from tickets; the store takes them over
the one column of durations it fetches where its database has no percentile function (SQLite).
Both must give the same figure for the same durations, so both call these.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence


def percentile(values: Sequence[float], share: float = 0.9) -> float | None:
    """The nearest-rank percentile: the ceil(share × n)-th smallest value, None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(math.ceil(share * len(ordered)), 1)
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float | None:
    """The median (the mean of the two middle values for an even count), None if empty."""
    return statistics.median(values) if values else None
