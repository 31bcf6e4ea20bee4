"""The one way the benches print their results: a table, a row per measure, the verdict last."""

from __future__ import annotations

from typing import Sequence


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    widths = [max(len(str(row[i])) for row in [*rows, headers]) for i in range(len(headers))]
    print(" | ".join(str(cell).ljust(width) for cell, width in zip(headers, widths)))
    print("-+-".join("-" * width for width in widths))
    for row in rows:
        print(" | ".join(str(cell).ljust(width) for cell, width in zip(row, widths)))
