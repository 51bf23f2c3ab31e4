"""A stored campaign's outcome report rows, read the cheapest way the report's format allows.

`StoredReport` is what `write_report` takes for a campaign in a store. Iterated, it gives
`ReportRow`s (`report_rows` over the store's rows), which the XLSX writer needs. The CSV writer
asks it for records instead (`csv_batches`, campaigns/report_csv.CsvBatches): the store gives
each row as its cells followed by the result columns (`RowStore.iter_report_lines`, in SQLite
one JSON array per row decoded a batch at a time), and those lists are the lines the csv module
writes. No object is made per row: on a million rows that is most of the time a report took.
Both give the same file: rows still in flight take their status and error from `report_rows`
itself (tests/test_report_records.py compares the two).
"""

from __future__ import annotations

from collections.abc import Iterator
from operator import itemgetter

from campaigns.report.csv_file import Record
from campaigns.report.rows import RESULT_COLUMNS, ReportRow, report_rows
from campaigns.report.summary import SummaryCounter
from campaigns.store.rows import LEFT_TO_DO, CampaignState, ReportLines, Row, RowStatus, RowStore

# Statuses whose report status depends on the campaign's state (campaigns.report.rows.report_rows).
_LEFT_TO_DO = frozenset(s.value for s in LEFT_TO_DO)  # as the stored lines spell statuses
_FIELD_AT = {name: offset for offset, name in enumerate(RESULT_COLUMNS)}


class StoredReport:
    """The report rows of campaign `campaign_id` in `store`, streamed in input order."""

    def __init__(
        self, store: RowStore, campaign_id: str, state: CampaignState, reason: str = ""
    ) -> None:
        self._store = store
        self._campaign_id = campaign_id
        self._state = state
        self._reason = reason

    def __iter__(self) -> Iterator[ReportRow]:
        rows = self._store.iter_report_rows(self._campaign_id)
        return report_rows(rows, self._state, self._reason)

    def csv_batches(self, width: int, counter: SummaryCounter) -> Iterator[list[Record]]:
        status_of = itemgetter(width + _FIELD_AT["status"])
        duration_of = itemgetter(width + _FIELD_AT["duration"])
        for batch in self._store.iter_report_lines(self._campaign_id, RESULT_COLUMNS):
            lines = batch.lines
            if list(map(len, lines)).count(width + len(RESULT_COLUMNS)) != len(lines):
                _fit_cells(lines, width)
            if not _LEFT_TO_DO.isdisjoint(batch.statuses):
                self._show_where_in_flight_rows_stand(batch, width)
            counter.add_batch(list(map(status_of, lines)), map(duration_of, lines))
            yield lines

    def _show_where_in_flight_rows_stand(self, batch: ReportLines, width: int) -> None:
        """The status and error the report shows for rows not final (see `report_rows`)."""
        status_at, error_at = width + _FIELD_AT["status"], width + _FIELD_AT["error"]
        attempts_at = width + _FIELD_AT["attempts"]
        for line, status, live in zip(
            batch.lines, batch.statuses, batch.live_statuses, strict=True
        ):
            if status not in _LEFT_TO_DO:
                continue
            row = Row(
                0,
                line[:width],
                line[width + _FIELD_AT["to_number"]],
                RowStatus(status),
                error=line[error_at],
                attempts=int(line[attempts_at]),
                live_status=live,
            )
            shown = next(report_rows((row,), self._state, self._reason))
            line[status_at], line[error_at] = shown.status, shown.error


def _fit_cells(lines: list[Record], width: int) -> None:
    """Pad (or cut) each line's cells to `width`, so the result columns sit under their names
    (the loader keeps rows to the header's width: this is for older stores)."""
    results = len(RESULT_COLUMNS)
    for i, line in enumerate(lines):
        cells = line[:-results]
        if len(cells) != width:
            lines[i] = (cells + [""] * (width - len(cells)))[:width] + line[-results:]
