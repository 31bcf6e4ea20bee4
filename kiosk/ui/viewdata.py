"""Small pure helpers that turn core records into what a screen shows."""

from __future__ import annotations

from typing import Any, List, Optional, Tuple


def grid_rows(stats: Any) -> List[Tuple[Any, List[bool]]]:
    """The streak grid's weeks as (start date, seven booleans), oldest first."""
    if stats is None:
        return []
    return [(week.start, list(week.days)) for week in stats.weeks]


def weekly_pain(stats: Any) -> List[Optional[float]]:
    if stats is None:
        return []
    return [week.avg_pain for week in stats.weeks]


def has_pain(stats: Any) -> bool:
    return any(value is not None for value in weekly_pain(stats))


def latest_pain_text(stats: Any) -> str:
    values = [value for value in weekly_pain(stats) if value is not None]
    return f"{values[-1]:.1f}" if values else "–"
