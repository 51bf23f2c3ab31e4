"""Contact list loading: messy good lists in several encodings and delimiters, the bad corpus."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from campaigns.lists.contacts import ListOptions, open_contact_list, unique_keys
from campaigns.store.rows import RowStatus
from dialer.errors import InputError

CORPUS = Path(__file__).parent / "corpus"

# The messy list every file in corpus/good holds (tests/corpus/good/README says how it is
# written): padded and repeated headers, numbers in many forms, cells that look like formulas,
# quotes, delimiters and a newline inside cells, ids with leading zeros.
MESSY_HEADERS = [" ID ", "Name", " Phone ", "Name", "Note"]
MESSY_ROWS = [
    ["00123", "Zoë Smith", "(415) 555-1234", "Zo", "=1+2"],
    ["00124", 'Doe, "Jim"', "415.555.1234", "", '=HYPERLINK("x")'],
    ["007", "Line\nbreak", "+44 20 7946 0958", "x", "café; bar|baz\tqux"],
    ["0008", "Jürgen", "0044 20 7946 0958", "", ""],
    ["9", "François", "+1 613 555 0123", "", "Canada"],
    ["10", "Nobody", "not a phone", "", ""],
    ["11", "Empty", "", "", ""],
    ["12", "Ext", "+1 415 555 9876 ext. 12", "", ""],
    ["13", "Short", "123", "", ""],
    ["014", "Ünïcödé", "+49 30 901820", "", "+1 is not a phone column"],
]
MESSY_OUTCOMES = [
    (RowStatus.PENDING, "+14155551234", ""),
    (RowStatus.DUPLICATE, "+14155551234", "same number as row 2"),
    (RowStatus.PENDING, "+442079460958", ""),
    (RowStatus.DUPLICATE, "+442079460958", "same number as row 4"),
    (RowStatus.PENDING, "+16135550123", ""),
    (RowStatus.INVALID, "", "not a number"),
    (RowStatus.INVALID, "", "empty"),
    (RowStatus.INVALID, "", "has an extension"),
    (RowStatus.INVALID, "", "too short"),
    (RowStatus.PENDING, "+4930901820", ""),
]
GOOD_FILES = sorted((CORPUS / "good").glob("messy_*"))


def write_messy(path: Path, encoding: str, delimiter: str) -> None:
    """The messy list as a file, with blank lines between some rows."""
    text = io.StringIO()
    writer = csv.writer(text, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(MESSY_HEADERS)
    for number, row in enumerate(MESSY_ROWS):
        writer.writerow(row)
        if number in (1, 4):
            text.write("\r\n" if number == 1 else delimiter * 4 + "\r\n")
    path.write_bytes(text.getvalue().encode(encoding))


def test_the_good_corpus_holds_every_encoding_and_delimiter() -> None:
    assert len(GOOD_FILES) >= 4


@pytest.mark.parametrize("path", GOOD_FILES, ids=lambda p: p.name)
def test_messy_list_reads_every_cell_exactly(path: Path) -> None:
    contacts = open_contact_list(path, ListOptions())
    rows = list(contacts.rows())
    assert contacts.headers == MESSY_HEADERS
    assert contacts.keys == ["ID", "Name", "Phone", "Name_2", "Note"]
    assert contacts.phone_index == 2
    assert [row.cells for row in rows] == MESSY_ROWS
    assert [(row.status, row.to_number, row.error) for row in rows] == MESSY_OUTCOMES
    assert [row.idx for row in rows] == list(range(len(MESSY_ROWS)))


@pytest.mark.parametrize(
    ("encoding", "delimiter"),
    [("utf-8", ","), ("utf-8-sig", ";"), ("utf-16", "\t"), ("cp1252", "|"), ("cp1252", ",")],
)
def test_messy_list_in_any_encoding_and_delimiter(
    tmp_path: Path, encoding: str, delimiter: str
) -> None:
    path = tmp_path / "messy.csv"
    write_messy(path, encoding, delimiter)
    rows = list(open_contact_list(path, ListOptions()).rows())
    assert [row.cells for row in rows] == MESSY_ROWS
    assert [row.status for row in rows] == [status for status, _, _ in MESSY_OUTCOMES]


def test_variables_leave_out_the_phone_column_and_empty_cells() -> None:
    contacts = open_contact_list(GOOD_FILES[0], ListOptions())
    first, second = list(contacts.rows())[:2]
    assert first.variables == {"ID": "00123", "Name": "Zoë Smith", "Name_2": "Zo", "Note": "=1+2"}
    assert second.variables == {"ID": "00124", "Name": 'Doe, "Jim"', "Note": '=HYPERLINK("x")'}


def test_named_columns_match_ignoring_padding_and_case() -> None:
    options = ListOptions(phone_column="phone", variables=["id", "Name_2"])
    contacts = open_contact_list(GOOD_FILES[0], options)
    assert contacts.phone_index == 2
    assert next(iter(contacts.rows())).variables == {"ID": "00123", "Name_2": "Zo"}


def test_zones_come_from_the_number_or_the_timezone_column(tmp_path: Path) -> None:
    path = tmp_path / "zones.csv"
    path.write_text(
        "phone,zone\n+1 212 555 0100,\n+1 415 555 0100,Europe/Paris\n+1 305 555 0100,Mars/Base\n",
        encoding="utf-8",
    )
    rows = list(open_contact_list(path, ListOptions(timezone_column="zone")).rows())
    assert [row.zones for row in rows] == [("America/New_York",), ("Europe/Paris",), ()]
    assert (rows[2].status, rows[2].error) == (RowStatus.INVALID, "unknown time zone 'Mars/Base'")


def test_suppressed_rows_come_before_duplicates(tmp_path: Path) -> None:
    suppress = tmp_path / "dnc.txt"
    suppress.write_text("do not call\n+1 (415) 555-1234\n\nnot a number\n", encoding="utf-8")
    contacts = open_contact_list(GOOD_FILES[0], ListOptions(suppress=suppress))
    rows = list(contacts.rows())
    assert [(row.status, row.error) for row in rows[:2]] == [
        (RowStatus.SUPPRESSED, "on the suppression list"),
        (RowStatus.SUPPRESSED, "on the suppression list"),
    ]


def test_suppression_csv_with_a_phone_column_and_an_empty_one(tmp_path: Path) -> None:
    suppress = tmp_path / "dnc.csv"
    suppress.write_text("name;Mobile\nX;+44 20 7946 0958\n", encoding="utf-8")
    rows = list(open_contact_list(GOOD_FILES[0], ListOptions(suppress=suppress)).rows())
    assert [row.status for row in rows[2:4]] == [RowStatus.SUPPRESSED] * 2
    suppress.write_text("", encoding="utf-8")
    rows = list(open_contact_list(GOOD_FILES[0], ListOptions(suppress=suppress)).rows())
    assert RowStatus.SUPPRESSED not in {row.status for row in rows}


def test_short_rows_are_padded_and_google_contacts_is_recognised(tmp_path: Path) -> None:
    path = tmp_path / "google.csv"
    path.write_text("Name,Given Name,Phone 1 - Value,Notes\nAnn,A,+1 212 555 0100\n", "utf-8")
    contacts = open_contact_list(path, ListOptions())
    (row,) = contacts.rows()
    assert contacts.phone_index == 2
    assert row.cells == ["Ann", "A", "+1 212 555 0100", ""]


def test_rows_rereads_the_file_and_fingerprint_is_its_sha256() -> None:
    contacts = open_contact_list(GOOD_FILES[0], ListOptions())
    assert list(contacts.rows()) == list(contacts.rows())
    assert len(contacts.fingerprint()) == 64


def test_unique_keys() -> None:
    assert unique_keys(["Name", " Name ", "", "Name_2"]) == [
        "Name",
        "Name_2",
        "column_3",
        "Name_2_2",
    ]


def test_xlsx_cells_read_as_a_person_sees_them(tmp_path: Path) -> None:
    path = tmp_path / "list.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["id", "phone", "zip", "joined", "score", "ok"])
    sheet.append(["00123", 4155551234, 2134, datetime(2024, 3, 5), 2.5, True])
    sheet.append([None, None, None, None, None, None])
    sheet.append(["7", "+44 20 7946 0958", 90210, date(2024, 3, 6), 3.0, False])
    sheet["C2"].number_format = "00000"
    book.save(path)
    rows = list(open_contact_list(path, ListOptions()).rows())
    assert [row.cells for row in rows] == [
        ["00123", "4155551234", "02134", "2024-03-05", "2.5", "TRUE"],
        ["7", "+44 20 7946 0958", "90210", "2024-03-06", "3", "FALSE"],
    ]
    assert [row.to_number for row in rows] == ["+14155551234", "+442079460958"]


# --- the bad corpus: one file per case, each refused with one clear message --------------------


@dataclass(frozen=True)
class Bad:
    fragment: str  # what the message must say
    options: ListOptions = field(default_factory=ListOptions)
    as_suppression: bool = False  # the file is given to --suppress with a good list
    names_file: bool = True  # option errors name the option instead


BAD_CASES = {
    "a_directory.csv": Bad("is a directory"),
    "bad_region.csv": Bad("--region 'XX'", ListOptions(region="XX"), names_file=False),
    "binary.csv": Bad("binary file"),
    "blank_lines_only.csv": Bad("is empty"),
    "does-not-exist.csv": Bad("does not exist"),
    "empty.csv": Bad("is empty"),
    "header_only.csv": Bad("no data rows"),
    "missing_named_column.csv": Bad(
        "--phone-column 'Cell Number'", ListOptions(phone_column="Cell Number")
    ),
    "missing_timezone_column.csv": Bad("--timezone-column 'tz'", ListOptions(timezone_column="tz")),
    "missing_variable.csv": Bad("--variables 'Nmae'", ListOptions(variables=["Nmae"])),
    "no_phone_column.csv": Bad("--phone-column NAME"),
    "not_really.xlsx": Bad("not a readable .xlsx"),
    "old_format.xls": Bad("old-style .xls"),
    "ragged_row.csv": Bad("row 3 has 4 cells but the header has 2 columns"),
    "suppress_binary.txt": Bad("binary file", as_suppression=True),
    "suppress_no_phone_column.csv": Bad("none is named like a phone column", as_suppression=True),
    "unclosed_quote.csv": Bad("quoted whole"),
    "ambiguous_encoding.csv": Bad("--encoding NAME"),
}


def test_every_bad_file_has_a_case() -> None:
    assert {p.name for p in (CORPUS / "bad").iterdir()} | {"does-not-exist.csv"} == set(BAD_CASES)


@pytest.mark.parametrize("name", sorted(BAD_CASES))
def test_bad_corpus(name: str) -> None:
    case = BAD_CASES[name]
    path = CORPUS / "bad" / name
    contacts_path, options = path, case.options
    if case.as_suppression:
        contacts_path, options = GOOD_FILES[0], ListOptions(suppress=path)
    with pytest.raises(InputError) as caught:
        list(open_contact_list(contacts_path, options).rows())
    message = str(caught.value)
    assert case.fragment in message
    assert (name in message) == case.names_file
    assert "\n" not in message and "Traceback" not in message
