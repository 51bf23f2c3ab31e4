"""Writes the hostile list files into a folder: `python -m tests.corpus.hostile.make_hostile DIR`.

Generated, never committed: each is small on disk and large, slow or dangerous once read.
`CASES` says what `dialer run --dry-run` must answer for each (tests/test_hostile_lists.py).
"""

from __future__ import annotations

import random
import string
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.xlsx_support import NS, sheet_xml, write_xlsx

_ROWS = [["Name", "Phone"], *[[f"Person {i}", f"+1 415 555 {i:04d}"] for i in range(1, 10)]]


@dataclass(frozen=True)
class Hostile:
    make: Callable[[Path], None]
    exit_code: int
    says: str  # a fragment of the answer (stderr for exit 2, stdout for exit 0)


def _dimension_bomb(path: Path) -> None:
    # The shape that kept a reader trusting <dimension> busy for hours: the sheet "spans" every
    # cell, and its last row really is the sheet's last, so a reader filling the gap between
    # row 3 and row 1,048,576 builds a million rows of 16,384 cells.
    sheet = sheet_xml(_ROWS[:3], dimension="A1:XFD1048576")
    far_row = '<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>Last</t></is></c></row>'
    write_xlsx(path, sheet.replace("</sheetData>", far_row + "</sheetData>"))


def _understated_dimension(path: Path) -> None:
    write_xlsx(path, sheet_xml(_ROWS, dimension="A1:B2"))


def _shared_string_bomb(path: Path) -> None:
    # one 100,000-character string of varied letters: compresses like text, not like a bomb
    text = "".join(random.Random(5).choices(string.ascii_letters, k=100_000))
    shared = f'<sst xmlns="{NS}" count="1" uniqueCount="1"><si><t>{text}</t></si></sst>'
    write_xlsx(path, sheet_xml([["Name", "Phone"], [("s", 0), "+1 415 555 0100"]]), shared)


def _zip_bomb(path: Path) -> None:
    padding = " " * (200 << 20)  # 200 MB of blanks inside the sheet: deflates ~1000 to 1
    write_xlsx(path, sheet_xml(_ROWS).replace("<sheetData>", padding + "<sheetData>"))


def _dtd_entities(path: Path) -> None:
    laughs = '<!DOCTYPE worksheet [<!ENTITY a "hahahahahahahahahahaha">' + "".join(
        f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9)
    )
    sheet = sheet_xml([["Name", "Phone"], ["&j;", "+1 415 555 0100"]], head=laughs + "]>")
    write_xlsx(path, sheet.replace("&amp;j;", "&j;"))


def _far_column(path: Path) -> None:
    sheet = sheet_xml(_ROWS[:3]).replace("</row>", '<c r="XFD1"><v>1</v></c></row>', 1)
    write_xlsx(path, sheet)


def _many_names(path: Path) -> None:
    """100,000 distinct element names: expat remembers each (1.5 million took 634 MB)."""
    names = "".join(f"<n{i}/>" for i in range(100_000))
    write_xlsx(path, sheet_xml(_ROWS[:3]).replace("</row>", names + "</row>", 1))


def _long_line(path: Path) -> None:
    path.write_bytes(b"Name,Phone\n" + b"x" * (20 << 20))  # one line of 20 MB


def _long_cell(path: Path) -> None:
    path.write_bytes(b'Name,Phone\n"' + b"y\n" * (200 << 10) + b'",+14155550100\n')


def _not_a_zip(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")


CASES = {
    "dimension_bomb.xlsx": Hostile(_dimension_bomb, 0, "3 rows read"),
    "understated_dimension.xlsx": Hostile(_understated_dimension, 0, "9 rows read"),
    "shared_string_bomb.xlsx": Hostile(_shared_string_bomb, 2, "32,767 characters"),
    "zip_bomb.xlsx": Hostile(_zip_bomb, 2, "zip bomb"),
    "dtd_entities.xlsx": Hostile(_dtd_entities, 2, "declares a DTD"),
    "far_column.xlsx": Hostile(_far_column, 2, "limit of 1,024 columns"),
    "many_names.xlsx": Hostile(_many_names, 2, "different element names"),
    "long_line.csv": Hostile(_long_line, 2, "longer than 4,194,304 characters"),
    "long_cell.csv": Hostile(_long_cell, 2, "longer than 131,072 characters"),
    "no_workbook.xlsx": Hostile(_not_a_zip, 2, "not a readable .xlsx"),
}


def make_all(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, case in CASES.items():
        case.make(folder / name)
        paths[name] = folder / name
    return paths


if __name__ == "__main__":
    for path in make_all(Path(sys.argv[1])).values():
        print(path, path.stat().st_size)
