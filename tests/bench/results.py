"""Figures, their targets, the one printed table and the JSON document.

A `Figure` is one cell: a row (what is measured), a column (who: the dialer in a mode, or an
alternative), its values by name (with units in the names) and the target it is held to, if any.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

EMBEDDED = "embedded"
CLUSTER = "cluster"  # the cluster mode whatever its workers (the Redis store)
CLUSTER_1 = "cluster 1w"
CLUSTER_2 = "cluster 2w"
CLUSTER_3 = "cluster 3w"
CELERY_RATE_LIMIT = "rate_limit 2w"  # Celery's own rate_limit, 2 worker processes
CELERY_NOOP = "no-op 2w"  # a Celery task that does nothing, 2 worker processes
PLAIN_LOOP = "plain loop"
FLOOR = "floor"  # the least a program could spend on the same work (pandas, phonenumbers)
COLUMNS = (
    EMBEDDED,
    CLUSTER,
    CLUSTER_1,
    CLUSTER_2,
    CLUSTER_3,
    CELERY_RATE_LIMIT,
    CELERY_NOOP,
    PLAIN_LOOP,
    FLOOR,
)
MET, MISSED = "ok", "MISS"

Bounds = Mapping[str, tuple[float | None, float | None]]  # value name -> (lowest, highest)


@dataclass(frozen=True)
class Target:
    text: str  # as shown in the table, e.g. "<= 1.5"
    bounds: Bounds

    def met(self, values: Mapping[str, float]) -> bool:
        return all(
            (low is None or values[name] >= low) and (high is None or values[name] <= high)
            for name, (low, high) in self.bounds.items()
        )


@dataclass(frozen=True)
class Figure:
    row: str
    column: str
    values: dict[str, float]
    text: str  # the cell, e.g. "0.999" or "38.2 s, 640 MB"
    target: Target | None = None
    note: str = ""
    cause: str = ""  # a missed target's measured cause (tests/bench/causes.py)
    cause_detail: dict[str, Any] = field(default_factory=dict)  # its figures, for the JSON

    @property
    def met(self) -> bool | None:
        return None if self.target is None else self.target.met(self.values)

    def cell(self) -> str:
        return self.text if self.met is None else f"{self.text} {MET if self.met else MISSED}"

    def to_json(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "column": self.column,
            "values": self.values,
            "text": self.text,
            "target": self.target.text if self.target else None,
            "met": self.met,
            "note": self.note,
            "cause": self.cause or None,
            "cause_detail": self.cause_detail or None,
        }


@dataclass
class Results:
    figures: list[Figure] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)  # each measurement's setup and raw data
    errors: list[str] = field(default_factory=list)

    def add(self, figures: Iterable[Figure], name: str, detail: Any) -> None:
        self.figures.extend(figures)
        self.details[name] = detail


def render_table(figures: Sequence[Figure]) -> str:
    rows: dict[str, dict[str, Figure]] = {}
    for figure in figures:
        rows.setdefault(figure.row, {})[figure.column] = figure
    columns = [c for c in COLUMNS if any(c in cells for cells in rows.values())]
    header = ["figure", "target", *columns]
    lines = [header]
    for row, cells in rows.items():
        target = next((f.target.text for f in cells.values() if f.target), "")
        lines.append([row, target, *(cells[c].cell() if c in cells else "-" for c in columns)])
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    text = [_line(line, widths) for line in lines]
    text.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(text)


def render_causes(figures: Sequence[Figure]) -> list[str]:
    """One line per figure with a measured cause: the missed targets' (or every probed one's)."""
    lines = []
    for figure in figures:
        if figure.cause:
            verdict = {True: MET, False: MISSED, None: "not judged"}[figure.met]
            lines.append(f"{figure.row} ({figure.text}, {verdict}): {figure.cause}")
    return lines


def _line(cells: Sequence[str], widths: Sequence[int]) -> str:
    first = [cells[0].ljust(widths[0]), cells[1].ljust(widths[1])]
    rest = [cell.rjust(width) for cell, width in zip(cells[2:], widths[2:], strict=True)]
    return "  ".join(first + rest).rstrip()


def write_json(path: Path, results: Results, context: Mapping[str, Any]) -> None:
    document = {
        **context,
        "figures": [f.to_json() for f in results.figures],
        "details": results.details,
        "errors": results.errors,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8")
