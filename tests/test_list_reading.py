"""Lists as they come (issue 20): encodings, regions' numbers, phones where people put them,
.xlsx read faithfully. Each case in-process for its rows; the plan line and report rows
through `dialer run --dry-run` are in tests/test_list_commands.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from campaigns.lists.contacts import ListOptions, open_contact_list
from campaigns.schedule.schedule_file import load_schedule_file
from campaigns.store.rows import NewRow, RowStatus
from dialer.errors import InputError
from tests.xlsx_support import sheet_xml, write_xlsx

CORPUS = Path(__file__).parent / "corpus"
PENDING, INVALID = RowStatus.PENDING, RowStatus.INVALID


def rows_of(path: Path, **options: object) -> list[NewRow]:
    return list(open_contact_list(path, ListOptions(**options)).rows())  # type: ignore[arg-type]


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


# --- encodings ----------------------------------------------------------------------------------

RUSSIAN = "Имя,Телефон\nИван Петров,+7 912 345 67 89\nМария Сидорова,+7 912 345 67 88\n"


@pytest.mark.parametrize(
    ("text", "encoding", "label"),
    [
        (RUSSIAN, "cp1251", "Windows-1251 (Cyrillic)"),
        (RUSSIAN, "koi8_r", "KOI8-R (Cyrillic)"),
        ("Name,Phone\nJosé García,+34 600 000 001\nMüller,+49 30 901820\n", "mac_roman", "Mac"),
        ("姓名,電話\n陳大文,+886 2 2345 6789\n林小美,+886 2 2345 6788\n", "big5", "Big5"),
        ("Jméno,Telefon\nŽofie Čapková,+420 601 123 456\n", "cp1250", "Windows-1250"),
        (
            "Name,Phone\nJürgen Müller,+49 30 901820\nFrançois Lefèvre,+33 1 23 45 67 89\n",
            "cp1252",
            "Windows-1252",
        ),
        ("名前,電話\n山田太郎,+81 3 1234 5678\n", "cp932", "Shift_JIS"),
        ("이름,전화\n김철수,+82 2 1234 5678\n", "euc_kr", "EUC-KR"),
        ("Όνομα,Τηλέφωνο\nΓιώργος Παπαδόπουλος,+30 21 0123 4567\n", "cp1253", "Greek"),
        ("Name,Phone\nZoë,+1 415 555 0100\n", "utf-16-le", "UTF-16 LE (no BOM)"),
        ("Name,Phone\nZoë,+1 415 555 0100\n", "utf-32-le", "UTF-32 LE (no BOM)"),
    ],
)
def test_encoding_is_decided_from_the_file(
    tmp_path: Path, text: str, encoding: str, label: str
) -> None:
    path = write(tmp_path, "list.csv", text, encoding)
    contacts = open_contact_list(path, ListOptions())
    first = next(contacts.rows())
    assert first.cells == text.splitlines()[1].split(",")
    assert label in contacts.reading_note


def test_the_first_accent_far_into_the_file_still_counts(tmp_path: Path) -> None:
    filler = "".join(f"Person {i},+1 415 555 {i:04d}\n" for i in range(4000))  # > 64 KiB
    path = write(
        tmp_path, "mac.csv", "Name,Phone\n" + filler + "José,+34 600 000 001\n", "mac_roman"
    )
    rows = rows_of(path)
    assert rows[-1].cells[0] == "José"


def test_an_unsure_encoding_is_exit_2_with_the_candidates(tmp_path: Path) -> None:
    path = CORPUS / "bad" / "ambiguous_encoding.csv"
    with pytest.raises(InputError) as caught:
        rows_of(path)
    message = str(caught.value)
    assert "--encoding NAME" in message and "--encoding cp1252" in message
    assert rows_of(path, encoding="cp1250")[0].cells[0] == "Leč"
    assert rows_of(path, encoding="windows-1252")[0].cells[0] == "Leè"


def test_a_wrong_encoding_option_says_where(tmp_path: Path) -> None:
    path = write(tmp_path, "list.csv", "Name,Phone\n陳大文,+886 2 2345 6789\n", "big5")
    with pytest.raises(InputError, match="does not decode as UTF-8"):
        rows_of(path, encoding="utf-8")
    with pytest.raises(InputError, match="--encoding 'klingon'"):
        rows_of(path, encoding="klingon")


def test_once_refused_files_now_read() -> None:
    (row,) = rows_of(CORPUS / "good" / "shift_jis_no_bom.csv")
    assert row.status == PENDING
    assert rows_of(CORPUS / "good" / "utf16le_no_bom.csv")


# --- delimiters, sep= and title lines -----------------------------------------------------------


def test_excel_sep_line_is_honoured(tmp_path: Path) -> None:
    path = write(tmp_path, "sep.csv", "sep=;\nName;Phone;Note\nAnn;+1 415 555 0100;a,b\n")
    contacts = open_contact_list(path, ListOptions())
    assert contacts.headers == ["Name", "Phone", "Note"]
    (row,) = contacts.rows()
    assert row.cells == ["Ann", "+1 415 555 0100", "a,b"]
    assert "sep= line" in contacts.reading_note


def test_a_semicolon_table_under_a_title_line(tmp_path: Path) -> None:
    body = "".join(f"P{i};+1 415 555 {i:04d};x, y\n" for i in range(5))
    path = write(tmp_path, "title.csv", "Contacts export, March 2025\nName;Phone;Note\n" + body)
    contacts = open_contact_list(path, ListOptions())
    assert contacts.headers == ["Name", "Phone", "Note"]
    assert [r.status for r in contacts.rows()] == [PENDING] * 5
    assert "1 title line above the header left out" in contacts.reading_note


def test_delimiter_option(tmp_path: Path) -> None:
    path = write(tmp_path, "list.txt", "Name|Phone\nAnn, B|+1 415 555 0100\n")
    assert rows_of(path, delimiter="pipe")[0].cells == ["Ann, B", "+1 415 555 0100"]
    with pytest.raises(InputError, match="--delimiter"):
        rows_of(path, delimiter=";;")


# --- the phone where people put it --------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        "Contact Phone Number",
        "Phone1Number",
        "Telefon",
        "Téléphone",
        "Teléfono",
        "Handy",
        "Celular",
        "Mobil",
        "電話",
        "MOBILEPHONE",
        "Mobile Phone Number",
        "Business Phone",
        "Primary Phone",
        "Telefonnummer",
        "Телефон",
        "携帯電話",
    ],
)
def test_phone_headers_in_many_languages(tmp_path: Path, header: str) -> None:
    path = write(tmp_path, "list.csv", f"Name,{header},Email\nAnn,+1 415 555 0100,a@b.c\n")
    assert open_contact_list(path, ListOptions()).phone_index == 1


@pytest.mark.parametrize("header", ["Phone 1 - Type", "Phone Ext", "Fax", "Account Number"])
def test_headers_about_phones_are_not_phone_columns(tmp_path: Path, header: str) -> None:
    path = write(tmp_path, "list.csv", f"Name,{header}\nAnn,Mobile\n")
    with pytest.raises(InputError, match="no phone column"):
        open_contact_list(path, ListOptions())


def test_google_contacts_second_number_and_multi_value_cells(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "google.csv",
        "Name,Phone 1 - Type,Phone 1 - Value,Phone 2 - Type,Phone 2 - Value\n"
        "Ann,Work,+1 650-253-0000 ::: +44 20 7031 3000,,\n"
        "Bob,,,Mobile,+44 20 7031 3001\n"
        "Cy,Work,123 ::: +1 650-253-0002,,\n",
    )
    ann, bob, cy = rows_of(path)
    assert (ann.status, ann.to_number) == (PENDING, "+16502530000")
    assert "2 numbers in the cell: the first callable one is called" in ann.error
    assert (bob.status, bob.to_number) == (PENDING, "+442070313001")
    assert "'Phone 1 - Value' empty" in bob.error
    assert (cy.to_number, cy.status) == ("+16502530002", PENDING)


def test_mobile_first_and_phone_columns_option(tmp_path: Path) -> None:
    text = "Name,Phone,Mobile Phone\nAnn,+1 415 555 0100,+1 415 555 0101\nBob,+1 415 555 0102,\n"
    path = write(tmp_path, "list.csv", text)
    assert [r.to_number for r in rows_of(path)] == ["+14155550101", "+14155550102"]
    chosen = rows_of(path, phone_columns=["Phone", "Mobile Phone"])
    assert [r.to_number for r in chosen] == ["+14155550100", "+14155550102"]
    with pytest.raises(InputError, match="--phone-columns 'Pager'"):
        rows_of(path, phone_columns=["Pager"])


def test_salesforce_footer_lines_are_kept_as_invalid_rows_with_the_reason(tmp_path: Path) -> None:
    text = (
        '"Full Name","MOBILEPHONE"\n"Ann","+1 415 555 0100"\n"Bob","+1 415 555 0101"\n\n'
        '"Copyright (c) 2000-2025 salesforce.com, inc. All rights reserved."\n'
        '"Confidential Information - Do Not Distribute"\n'
        '"Generated By:  Jane Doe  3/14/2025 10:12 AM"\n"Acme Inc."\n'
    )
    rows = rows_of(write(tmp_path, "report.csv", text))
    assert [r.status for r in rows] == [PENDING, PENDING] + [INVALID] * 4
    assert all("footer line of the export" in r.error for r in rows[2:])


def test_pandas_decimals_and_e_notation_are_explained(tmp_path: Path) -> None:
    text = "Name,Phone\nAnn,14155550123.0\nBob,4.4207946e+11\n"
    ann, bob = rows_of(write(tmp_path, "pandas.csv", text))
    assert (ann.status, ann.to_number) == (PENDING, "+14155550123")
    assert "saved as a decimal" in ann.error
    assert bob.status == INVALID and "E+ notation" in bob.error


def test_every_region_reads_its_own_national_numbers(tmp_path: Path) -> None:
    path = write(tmp_path, "bb.csv", "Name,Phone\nAnn,310-1234\n")
    assert rows_of(path, region="BB")[0].to_number == "+12463101234"


# --- .xlsx --------------------------------------------------------------------------------------


def test_xlsx_rows_past_an_understated_dimension_formulas_and_digits(tmp_path: Path) -> None:
    rows = [
        ["Name", "Phone", "Born"],
        ["Ann", ("n", "14155550123", 0), ("n", "45000", 3)],
        ["Bob", ("=", "A1&B1")],
        ["Cy", ("n", "4155550124", 2)],  # format 00000000000
        ["Di", ("n", "1.4155550125E10", 0)],
        *[[f"P{i}", f"+1 415 555 {i:04d}"] for i in range(6)],
    ]
    path = write_xlsx(tmp_path / "list.xlsx", sheet_xml(rows, dimension="A1:C2"))
    read = rows_of(path)
    assert len(read) == 10
    assert read[0].cells == ["Ann", "14155550123", "2023-03-15"]
    assert read[1].status == INVALID and "formula (=A1&B1)" in read[1].error
    assert read[2].cells[1] == "04155550124"
    assert read[3].to_number == "+14155550125"


def test_a_slash_inside_one_number_is_not_two_numbers(tmp_path: Path) -> None:
    path = write(tmp_path, "de.csv", "Name,Telefon\nAnn,0171/1234567\nBob,030/12\n")
    ann, bob = rows_of(path, region="DE")
    assert ann.to_number == "+491711234567"
    assert bob.status == INVALID and "numbers in the cell" not in bob.error


def test_phone_column_and_phone_columns_together_is_one_clear_error(tmp_path: Path) -> None:
    path = write(tmp_path, "list.csv", "Name,Phone,Mobile\nAnn,+1 415 555 0100,\n")
    with pytest.raises(InputError, match="both given"):
        rows_of(path, phone_column="Phone", phone_columns=["Mobile", "Phone"])


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-32-be"])
def test_wide_text_without_a_bom_even_when_mostly_not_latin(tmp_path: Path, encoding: str) -> None:
    text = "Имя,Телефон\nИван Петров,+7 912 345 67 89\n陳大文,+886 2 2345 6789\n"
    rows = rows_of(write(tmp_path, "wide.csv", text, encoding))
    assert [r.cells[0] for r in rows] == ["Иван Петров", "陳大文"]


def test_random_bytes_are_still_binary(tmp_path: Path) -> None:
    (tmp_path / "x.csv").write_bytes(bytes(range(256)) * 64)
    with pytest.raises(InputError, match="binary file"):
        rows_of(tmp_path / "x.csv")


def test_utf8_mixed_with_another_encoding_says_where(tmp_path: Path) -> None:
    text = "Name,Phone\nJosé,+34 600 000 001\nRenée,+33 1 23 45 67 89\nZoë,+1 415 555 0100\n"
    path = tmp_path / "mixed.csv"
    path.write_bytes(text.encode("utf-8") + "Müller,+49 30 901820\n".encode("cp1252"))
    where = len(text.encode("utf-8")) + 1  # the ü of Müller
    with pytest.raises(InputError, match=f"mostly UTF-8 but byte {where} is not"):
        rows_of(path)


def test_campaign_files_take_the_reading_keys(tmp_path: Path) -> None:
    path = tmp_path / "campaigns.toml"
    path.write_text(
        '[campaigns.ru]\nschedule = "0 9 * * *"\ntimezone = "Europe/Moscow"\n'
        'agent = "agent_x"\ncontacts = "list.csv"\nencoding = "cp1251"\ndelimiter = ";"\n'
        'phone_columns = ["Мобильный", "Телефон"]\n',
        "utf-8",
    )
    options = load_schedule_file(path).campaign("ru").list_options
    assert (options.encoding, options.delimiter) == ("cp1251", ";")
    assert options.phone_columns == ["Мобильный", "Телефон"]
