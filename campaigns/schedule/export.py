"""One report over many runs of a scheduled campaign: every outcome row of every run dated in a
range, the run's local date first (`run_date`), and one Summary sheet over the whole range.

The runs are found in the store by their ids, `{NAME}-{YYYY-MM-DD}`, so no campaign file is
needed. Different days' lists may have different columns: the export's input columns are the
union of the runs' headers (made unique and stripped, as the list reader does) in first-seen
order, and each row's cells sit under its own header's name, empty where its list had no such
column. The result columns follow, as in every report (campaigns/report/writer.py writes it).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path

from campaigns.lists.contacts import unique_keys
from campaigns.report.rows import ReportRow, report_rows
from campaigns.report.summary import RUN_DATE_COLUMN
from campaigns.report.summary_sheet import ReportInfo
from campaigns.report.writer import write_report
from campaigns.schedule.scheduled_campaign import run_id
from campaigns.store.rows import CampaignMeta, RowStore


@dataclass(frozen=True)
class DatedRun:
    day: date
    meta: CampaignMeta


def find_runs(store: RowStore, name: str, since: date, until: date) -> list[DatedRun]:
    """`name`'s runs dated `since` .. `until` (both included), oldest first."""
    runs: list[DatedRun] = []
    day = since
    while day <= until:
        meta = store.get_campaign(run_id(name, day))
        if meta is not None:
            runs.append(DatedRun(day, meta))
        day += timedelta(days=1)
    return runs


def union_columns(runs: Sequence[DatedRun]) -> list[str]:
    """Every run's input columns, each once, in the order they were first seen."""
    seen: dict[str, None] = {}
    for run in runs:
        seen.update(dict.fromkeys(unique_keys(run.meta.headers)))
    return list(seen)


def export_rows(
    store: RowStore, runs: Sequence[DatedRun], columns: list[str]
) -> Iterator[ReportRow]:
    for run in runs:
        keys = unique_keys(run.meta.headers)
        rows = report_rows(store.iter_rows(run.meta.campaign_id), run.meta.state)
        for row in rows:
            by_column = dict(zip(keys, row.cells, strict=False))
            cells = [run.day.isoformat(), *(by_column.get(c, "") for c in columns)]
            yield replace(row, cells=cells)


def write_export(
    store: RowStore, name: str, runs: Sequence[DatedRun], path: Path
) -> dict[str, int]:
    """Write the export at `path` (.csv or .xlsx), whole or not at all; the rows by status."""
    columns = union_columns(runs)
    return write_report(
        path, [RUN_DATE_COLUMN, *columns], export_rows(store, runs, columns), _info(name, runs)
    )


def _info(name: str, runs: Sequence[DatedRun]) -> ReportInfo:
    """The Summary's campaign lines, for the whole range."""
    first, last = runs[0], runs[-1]
    states = Counter(str(run.meta.state) for run in runs)
    ended = [run.meta.ended_at for run in runs]
    return ReportInfo(
        campaign_id=f"{name}: {len(runs)} runs, {first.day.isoformat()} to {last.day.isoformat()}",
        agent_id=", ".join(sorted({run.meta.agent_id for run in runs})),
        source=f"{first.meta.source} ... {last.meta.source}"
        if len(runs) > 1
        else first.meta.source,
        state=", ".join(f"{state} {n}" for state, n in states.most_common()),
        started_at=min((run.meta.started_at for run in runs if run.meta.started_at), default=None),
        ended_at=max(ended) if all(ended) else None,
    )
