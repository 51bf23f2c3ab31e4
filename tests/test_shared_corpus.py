"""Every file of the public CSV corpora in ../shared/corpus/ (its README names them), read as a
contact list: the report rows' cells must be the corpus's expected parse.

Our reader's documented rules apply on top of the expected parse: the first row is the header,
blank rows are not rows, short rows are padded, trailing empty cells dropped, and a header-only
file or a row with more filled cells than the header is one clear InputError. Where a corpus
expects something our rules deliberately do otherwise, DEVIATIONS says what and why.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from campaigns.lists.contacts import ListOptions, open_contact_list
from campaigns.lists.tables import open_table
from campaigns.report.rows import dry_run_rows
from dialer.errors import InputError

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
pytestmark = pytest.mark.skipif(
    not SHARED.is_dir(), reason=f"the shared corpus is not at {SHARED} (a checkout without it)"
)

# Vectors whose expected parse our rules change, and why.
DEVIATIONS = {
    "Mixed slash n and slash r": "PapaParse's one-newline-style-per-file rule (README errata): "
    "a lone CR ends a row here, as in Excel and Python's csv",
    "spaces between closing quote": "a quoted cell followed by spaces is refused in one message "
    "naming the line (strict quoting: an unclosed quote must never swallow the file)",
    "spaces after closing quote": "as above",
    "test_read_nul": "a NUL byte makes a file binary, refused in one message: contact lists "
    "never hold one",
}


def _vectors(name: str) -> list[dict[str, Any]]:
    path = SHARED / name
    return json.loads(path.read_text("utf-8")) if path.is_file() else []


VECTORS = [
    pytest.param(v, id=f"{v['suite']}:{v['description']}")
    for name in ("PapaParse/papa-vectors.json", "cpython/test_csv-vectors.json")
    for v in _vectors(name)
]


def report_cells(path: Path) -> tuple[list[str], list[list[str]]]:
    """The header and the dry run's report cells, the first column taken as the phone's."""
    header = next(open_table(path, "corpus file").records(), (0, ["column_1"]))[1]
    contacts = open_contact_list(path, ListOptions(phone_column=header[0] or "column_1"))
    return contacts.headers, [row.cells for row in dry_run_rows(contacts.rows())]


def expected_under_our_rules(data: list[list[str]]) -> tuple[list[str], list[list[str]]] | None:
    """The corpus's rows as our rules read them; None when our rules refuse the file."""
    rows = [row for row in data if any(cell.strip() for cell in row)]
    if len(rows) < 2:
        return None
    header, body = rows[0], rows[1:]
    width = len(header)
    if any(any(cell.strip() for cell in row[width:]) for row in body):
        return None
    return header, [(row + [""] * width)[:width] for row in body]


@pytest.mark.parametrize("vector", VECTORS)
def test_parser_vectors(vector: dict[str, Any], tmp_path: Path) -> None:
    if any(key in vector["description"] for key in DEVIATIONS):
        pytest.skip(DEVIATIONS[next(k for k in DEVIATIONS if k in vector["description"])])
    path = tmp_path / "vector.csv"
    path.write_bytes(vector["input"].encode("utf-8"))
    expected = expected_under_our_rules(vector["data"])
    try:
        got = report_cells(path)
    except InputError as error:
        assert expected is None or vector["errors"], f"refused: {error}"
        assert "\n" not in str(error)
        return
    if vector["errors"]:
        return  # malformed in the corpus's view: a reading without a traceback is what we owe
    assert expected is not None, f"read {got} where our rules refuse"
    assert got == expected


def _spectrum() -> list[Path]:
    return sorted((SHARED / "csv-spectrum" / "csvs").glob("*.csv"))


@pytest.mark.parametrize("path", _spectrum(), ids=lambda p: p.name)
def test_csv_spectrum(path: Path) -> None:
    expected = json.loads((path.parent.parent / "json" / f"{path.stem}.json").read_text("utf-8"))
    expected = expected if isinstance(expected, list) else [expected]
    headers, rows = report_cells(path)
    got = [dict(zip(headers, row, strict=True)) for row in rows]
    if path.stem == "location_coordinates":  # erratum in the README: the JSON's phone differs
        phone = "Contact Phone Number"
        got = [{k: v for k, v in row.items() if k != phone} for row in got]
        expected = [{k: v for k, v in row.items() if k != phone} for row in expected]
    assert got == expected


def _csvw() -> list[Path]:
    """Every expected parse of the CSVW tests: each names its data file (test028.json is the
    parse of countries.csv), so a data file is read whatever it is called."""
    return sorted((SHARED / "csvw" / "tests").glob("*.json"))


def _csvw_table(expected_path: Path) -> tuple[Path, list[dict[str, Any]]]:
    """The data file an expected parse describes (its table's url, in the same folder), and
    the rows it expects."""
    (table,) = json.loads(expected_path.read_text("utf-8"))["tables"]
    name = table["url"].rsplit("/", 1)[-1]
    return expected_path.parent / name, [row["describes"][0] for row in table["row"]]


@pytest.mark.parametrize("expected_path", _csvw(), ids=lambda p: p.name)
def test_csvw(expected_path: Path) -> None:
    path, expected = _csvw_table(expected_path)
    assert path.is_file(), f"{expected_path.name} describes {path.name}, not in the corpus"
    headers, rows = report_cells(path)
    got = [dict(zip(headers, row, strict=True)) for row in rows]
    assert [{k: v for k, v in r.items() if k in e} for r, e in zip(got, expected, strict=True)] == [
        {k: str(v) for k, v in e.items() if not isinstance(v, dict | list)} for e in expected
    ]


def test_every_csvw_data_file_has_its_expected_parse_read() -> None:
    folder = SHARED / "csvw" / "tests"
    read = {_csvw_table(path)[0].name for path in _csvw()}
    data = {path.name for path in folder.glob("*.csv")}
    assert read == data, f"CSVW data files without an expected parse: {sorted(data - read)}"


def _horror() -> list[Path]:
    folder = SHARED / "messytables" / "horror"
    return sorted(folder.iterdir()) if folder.is_dir() else []  # no corpus: the module skips


@pytest.mark.parametrize("path", _horror(), ids=lambda p: p.name)
def test_messytables_horror_reads_or_says_why(path: Path) -> None:
    """No expected parse ships with these: each is read whole, or refused in one message."""
    try:
        headers, rows = report_cells(path)
    except InputError as error:
        assert "\n" not in str(error) and path.name in str(error)
        return
    assert headers and rows
    assert all(len(row) == len(headers) for row in rows)


def test_a_big5_file_with_chinese_punctuation_reads_as_big5() -> None:
    """messytables' characters.csv: Chinese text full of ，。「」、 was refused as unsure (its
    punctuation counted as a wrong code page's symbols inside words)."""
    path = SHARED / "messytables" / "horror" / "characters.csv"
    contacts = open_contact_list(path, ListOptions(phone_column="id"))
    assert "read as Big5 (Traditional Chinese)" in contacts.reading_note
    assert contacts.headers[1] == "景點編號"
