"""The .xlsx reader against the libraries and against what a spreadsheet shows: openpyxl for the
values of a workbook a program wrote, LibreOffice (headless, converting to CSV) for the text a
person sees in each cell, and the bench's measurement in a tiny form."""

from __future__ import annotations

import csv
import shutil
import subprocess
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from campaigns.lists.xlsx import XlsxLimits, XlsxReader
from dialer.errors import InputError
from tests.bench import xlsx_read
from tests.xlsx_support import sheet_xml, write_xlsx

ROWS = [
    ["Name", "Phone", "Count", "Zip", "Joined", "Price", "Flag"],
    ["Zoë", 14155550123, 42, 123, date(2024, 3, 5), 12.5, True],
    ["Line\nbreak", "+44 20 7946 0958", -7, 99999, datetime(2024, 3, 5, 9, 30), 0.1, False],
    ["", "", None, None, None, None, None],
    ["Last", "415-555-0100", 10**12, 5, date(1999, 12, 31), 1234.5678, None],
]


def openpyxl_workbook(path: Path) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in ROWS:
        sheet.append(row)
    for cell in sheet["D"][1:]:
        cell.number_format = "00000"
    for cell in sheet["E"][1:]:
        cell.number_format = "yyyy-mm-dd"
    workbook.save(path)
    return path


def test_reads_what_openpyxl_reads(tmp_path: Path) -> None:
    path = openpyxl_workbook(tmp_path / "list.xlsx")
    ours = [cells for _, cells in XlsxReader(path).rows()]
    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    theirs = [
        [_shown(v, c.number_format) for c, v in zip(row, (c.value for c in row), strict=True)]
        for row in workbook.worksheets[0].iter_rows()
    ]
    theirs = [[*r[: max((i + 1 for i, v in enumerate(r) if v), default=0)]] for r in theirs]
    assert ours == [r for r in theirs if r]


def _shown(value: object, number_format: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        return (
            value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
        )
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and set(number_format) == {"0"}:
        return str(value).zfill(len(number_format))
    return str(value)


@pytest.mark.integration
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) not installed")
def test_digits_are_those_libreoffice_shows(tmp_path: Path) -> None:
    rows = [
        ["Name", "Phone", "Padded", "Fixed"],
        ["Ann", ("n", "14155550123", 0), ("n", "4155550124", 2), ("n", "12", 1)],
        ["Bob", ("n", "1.4155550125E10", 0), ("n", "123", 2), ("n", "7", 1)],
    ]
    path = write_xlsx(tmp_path / "digits.xlsx", sheet_xml(rows))
    profile = f"-env:UserInstallation=file://{tmp_path}/lo-profile"
    subprocess.run(
        [
            "soffice",
            profile,
            "--headless",
            "--convert-to",
            # UTF-8, cells saved as shown (token 9), formulas as values
            "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true,false",
            "--outdir",
            str(tmp_path),
            str(path),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    with (tmp_path / "digits.csv").open(encoding="utf-8", newline="") as file:
        shown = list(csv.reader(file))
    assert [cells for _, cells in XlsxReader(path).rows()] == shown


def test_limits_name_themselves(tmp_path: Path) -> None:
    wide = [["Name", "Phone"], ["A" * 50, "+1 415 555 0100"]]
    path = write_xlsx(tmp_path / "wide.xlsx", sheet_xml(wide))
    with pytest.raises(InputError, match="over 40 characters, the limit for one cell"):
        list(XlsxReader(path, XlsxLimits(cell_chars=40)).rows())
    with pytest.raises(InputError, match="past the limit of 1 columns"):
        list(XlsxReader(path, XlsxLimits(columns=1)).rows())


def test_bench_measures_every_reader(tmp_path: Path) -> None:
    figures, detail = xlsx_read.measure(200, tmp_path)
    assert {f.row for f in figures} >= {"xlsx read: dialer reader", "xlsx read: openpyxl read-only"}
    assert all(f.values["rows_per_s"] > 0 for f in figures)
    assert detail["rows"] == 200
