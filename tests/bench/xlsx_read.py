"""The .xlsx read rate: the dialer's reader (campaigns/lists/xlsx.py) beside openpyxl in read-only
mode and, when installed, python-calamine, on one generated contact list.

The dialer's reader was chosen on these figures and on what the others cannot do within
bounds (README, "Lists as they come"): openpyxl stops at `<dimension>` and loads shared strings
unchecked; calamine builds the whole sheet in memory and reads an unsaved formula as empty.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import openpyxl
import xlsxwriter

from campaigns.lists.xlsx import XlsxReader
from tests.bench.procs import say
from tests.bench.results import EMBEDDED, Figure

Reader = Callable[[Path], Iterable[Any]]


def write_list(path: Path, rows: int) -> Path:
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = workbook.add_worksheet()
    sheet.write_row(0, 0, ["Name", "Phone", "Company", "Balance", "Note"])
    for i in range(1, rows + 1):
        sheet.write_row(i, 0, [f"Person {i}", f"+1 415 555 {i % 10_000:04d}", f"Co {i % 97}"])
        sheet.write_number(i, 3, i * 1.5)
        sheet.write_string(i, 4, "called before" if i % 3 else "")
    workbook.close()
    return path


def _openpyxl(path: Path) -> Iterable[Any]:
    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        yield from workbook.worksheets[0].iter_rows(values_only=True)
    finally:
        workbook.close()


def _calamine(path: Path) -> Iterable[Any]:
    module = importlib.import_module("python_calamine")
    workbook = module.CalamineWorkbook.from_path(str(path))
    yield from workbook.get_sheet_by_index(0).to_python()


def _dialer(path: Path) -> Iterable[Any]:
    return XlsxReader(path).rows()


def _rate(reader: Reader, path: Path, rows: int) -> float:
    started = time.perf_counter()
    count = sum(1 for _ in reader(path))
    elapsed = time.perf_counter() - started
    assert count >= rows, f"read {count} of {rows + 1} rows"
    return rows / elapsed


def measure(rows: int, work: Path) -> tuple[list[Figure], dict[str, Any]]:
    path = write_list(work / "bench-list.xlsx", rows)
    readers: dict[str, Reader] = {"dialer reader": _dialer, "openpyxl read-only": _openpyxl}
    try:
        importlib.import_module("python_calamine")
        readers["python-calamine"] = _calamine
    except ImportError:
        say("xlsx read: python-calamine not installed, not measured")
    figures, detail = [], {"rows": rows, "file_bytes": path.stat().st_size}
    for name, reader in readers.items():
        rate = _rate(reader, path, rows)
        detail[name] = rate
        figures.append(
            Figure(f"xlsx read: {name}", EMBEDDED, {"rows_per_s": rate}, f"{rate:,.0f} rows/s")
        )
    return figures, detail


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        for figure in measure(100_000, Path(folder))[0]:
            print(figure.row, figure.text)
