"""The first sheet of an .xlsx, streamed as rows of text, within bounds a stranger cannot move.

Why not openpyxl: in read-only mode it stops at the row the sheet's `<dimension>` declares (rows
past an understated one are lost without a word) and sizes work by it (a 5 KB file declaring
A1:XFD1048576 takes hours); it loads every shared string before a limit can be checked, and
with data_only a formula without a saved value reads as empty. This reader is expat driven by
handlers (measured in `make bench`: see README), and:

- trusts no declared size: rows are read until the sheet ends, `<dimension>` is ignored;
- checks the zip before inflating it: member count, each part's declared size and compression
  ratio, then counts the bytes actually inflated (a lying header is caught as it lies);
- checks cell size, column count and shared strings (count and total size) as they are read,
  never holding more than one cell over the limit;
- refuses any DTD or entity declaration (no entity is ever expanded);
- reads a number as the digits a person sees: 14155550123 not 1.4155550123E10, zero-padded
  where the format pads (`00000`), fixed decimals where it fixes them, dates as ISO dates;
- gives a formula without a saved value as its formula text (`=A1&B1`), never as empty.

Every refusal is an InputError naming the file and the limit.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from xml.parsers.expat import ExpatError

from campaigns.lists.xlsx_cells import CellFormats, cell_text, column_index
from campaigns.lists.xml_parts import (
    MAX_NAMES,
    NameBudget,
    Refused,
    feed,
    safe_parser,
    too_many_names,
)
from dialer.errors import InputError

_CACHED_NAMES = 4096  # column letters remembered


# What to do when a workbook is refused: what a person can always do with a spreadsheet.
_REMEDY = "open it in a spreadsheet, save it as CSV (UTF-8) and use that file"


@dataclass(frozen=True)
class XlsxLimits:
    part_bytes: int = 512 << 20  # one inflated XML part (a sheet of ~2 million rows)
    small_part_bytes: int = 16 << 20  # workbook, relationships, styles
    ratio: int = 400  # inflated / compressed; real sheets compress ~10-30x
    members: int = 10_000
    cell_chars: int = 32_767  # Excel's own limit for a cell
    columns: int = 1_024
    shared_strings: int = 4_000_000
    shared_chars: int = 64 << 20


_MAIN_RELS = "xl/_rels/workbook.xml.rels"


class XlsxReader:
    def __init__(self, path: Path, limits: XlsxLimits | None = None) -> None:
        self.path = path
        self.limits = limits or XlsxLimits()

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """Every row that has a cell, with its sheet row number, cells as text."""
        try:
            with zipfile.ZipFile(self.path) as archive:
                self._check_archive(archive)
                sheet, date1904, parts = self._first_sheet(archive)
                names = set(archive.namelist())
                styles = parts.get("styles", "xl/styles.xml")
                shared = parts.get("sharedStrings", "xl/sharedStrings.xml")
                formats = self._formats(archive, date1904, styles if styles in names else None)
                strings = self._shared_strings(archive, shared if shared in names else None)
                yield from self._sheet_rows(archive, sheet, formats, strings)
        except Refused as error:
            message = str(error)
            if "save" not in message:  # a limit or a refusal that does not yet say what to do
                message += ("; " if ": " in message else ": ") + _REMEDY
            raise InputError(f"{self.path}: {message}") from None
        except (zipfile.BadZipFile, KeyError, EOFError, OSError, ExpatError, ValueError):
            raise InputError(
                f"{self.path} is not a readable .xlsx workbook: open it in a spreadsheet and save "
                "it as .xlsx (or as CSV, and name it .csv)."
            ) from None

    # --- the archive ------------------------------------------------------------------------

    def _check_archive(self, archive: zipfile.ZipFile) -> None:
        infos = archive.infolist()
        if len(infos) > self.limits.members:
            raise Refused(f"holds {len(infos):,} parts, over the limit of {self.limits.members:,}")
        for info in infos:
            if info.file_size > self.limits.part_bytes:
                raise Refused(
                    f"part {info.filename} inflates to {info.file_size:,} bytes, over the limit "
                    f"of {self.limits.part_bytes:,}: save the list as CSV instead"
                )
            ratio = info.file_size // max(info.compress_size, 1)
            if info.file_size > (1 << 20) and ratio > self.limits.ratio:
                raise Refused(
                    f"part {info.filename} is compressed {ratio:,} to 1, over the limit of "
                    f"{self.limits.ratio} to 1 (a zip bomb, not a sheet)"
                )

    def _parse(
        self,
        archive: zipfile.ZipFile,
        name: str,
        limit: int,
        handlers: dict[str, Callable[..., None]],
        counts_names: bool = False,  # the handlers refuse too many element names themselves
    ) -> Iterator[None]:
        """Feeds part `name` to an expat parser with `handlers`; yields after each chunk.
        Expat remembers every element name it meets: a part may use only so many."""
        parser = safe_parser(name)
        for event, handler in handlers.items():
            setattr(parser, event, handler)
        start = handlers.get("StartElementHandler")
        if start is not None and not counts_names:
            parser.StartElementHandler = NameBudget(name, start)
        with archive.open(name) as part:
            yield from feed(parser, part, name, limit)

    def _first_sheet(self, archive: zipfile.ZipFile) -> tuple[str, bool, dict[str, str]]:
        """The first sheet's part, whether dates count from 1904, and the workbook's other
        parts by kind (`styles`, `sharedStrings`), as its relationships name them."""
        sheets: list[str] = []
        date1904 = [False]

        def start(tag: str, attrs: dict[str, str]) -> None:
            local = tag.rsplit("}", 1)[-1].rsplit(":", 1)[-1]
            if local == "sheet":
                rid = next((v for k, v in attrs.items() if k.endswith("id") and k != "sheetId"), "")
                sheets.append(rid)
            elif local == "workbookPr":
                date1904[0] = attrs.get("date1904", "0") in ("1", "true")

        for _ in self._parse(
            archive, "xl/workbook.xml", self.limits.small_part_bytes, {"StartElementHandler": start}
        ):
            pass
        targets, kinds = self._relationships(archive)
        if not sheets or sheets[0] not in targets:
            raise Refused("has no worksheet: save the list as .xlsx from a spreadsheet")
        return targets[sheets[0]], date1904[0], kinds

    def _relationships(self, archive: zipfile.ZipFile) -> tuple[dict[str, str], dict[str, str]]:
        targets: dict[str, str] = {}
        kinds: dict[str, str] = {}

        def start(tag: str, attrs: dict[str, str]) -> None:
            if tag.rsplit("}", 1)[-1] == "Relationship" and "Id" in attrs:
                target = attrs.get("Target", "")
                target = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
                targets[attrs["Id"]] = target
                kinds[attrs.get("Type", "").rsplit("/", 1)[-1]] = target

        for _ in self._parse(
            archive, _MAIN_RELS, self.limits.small_part_bytes, {"StartElementHandler": start}
        ):
            pass
        return targets, kinds

    def _formats(self, archive: zipfile.ZipFile, date1904: bool, name: str | None) -> CellFormats:
        formats = CellFormats(date1904)
        if name is None:
            return formats
        in_xfs = [False]

        def start(tag: str, attrs: dict[str, str]) -> None:
            local = tag.rsplit("}", 1)[-1]
            if local == "numFmt":
                formats.add_format(int(attrs.get("numFmtId", "0")), attrs.get("formatCode", ""))
            elif local == "cellXfs":
                in_xfs[0] = True
            elif local == "xf" and in_xfs[0]:
                formats.add_style(int(attrs.get("numFmtId", "0")))

        def end(tag: str) -> None:
            if tag.rsplit("}", 1)[-1] == "cellXfs":
                in_xfs[0] = False

        for _ in self._parse(
            archive,
            name,
            self.limits.small_part_bytes,
            {"StartElementHandler": start, "EndElementHandler": end},
        ):
            pass
        return formats

    def _shared_strings(self, archive: zipfile.ZipFile, name: str | None) -> list[str]:
        if name is None:
            return []
        strings: list[str] = []
        text = _Text(self.limits.cell_chars, "a shared string")
        total = [0]
        depth_in_rph = [0]  # phonetic runs (<rPh>) are not part of the text

        def start(tag: str, attrs: dict[str, str]) -> None:
            local = tag.rsplit("}", 1)[-1]
            if local == "si":
                text.reset()
            elif local == "t" and not depth_in_rph[0]:
                text.on = True
            elif local == "rPh":
                depth_in_rph[0] += 1

        def end(tag: str) -> None:
            local = tag.rsplit("}", 1)[-1]
            if local == "t":
                text.on = False
            elif local == "rPh":
                depth_in_rph[0] -= 1
            elif local == "si":
                value = text.value()
                total[0] += len(value)
                if total[0] > self.limits.shared_chars:
                    raise Refused(
                        f"its shared strings hold over {self.limits.shared_chars:,} characters, "
                        "the limit: save the list as CSV instead"
                    )
                if len(strings) >= self.limits.shared_strings:
                    raise Refused(
                        f"holds over {self.limits.shared_strings:,} shared strings, the limit: "
                        "save the list as CSV instead"
                    )
                strings.append(value)

        for _ in self._parse(
            archive,
            name,
            self.limits.part_bytes,
            {
                "StartElementHandler": start,
                "EndElementHandler": end,
                "CharacterDataHandler": text.add,
            },
        ):
            pass
        return strings

    def _sheet_rows(
        self, archive: zipfile.ZipFile, sheet: str, formats: CellFormats, strings: list[str]
    ) -> Iterator[tuple[int, list[str]]]:
        state = _SheetState(self.limits, formats, strings)
        for _ in self._parse(
            archive,
            sheet,
            self.limits.part_bytes,
            {
                "StartElementHandler": state.start,
                "EndElementHandler": state.end,
                "CharacterDataHandler": state.text.add,
            },
            counts_names=True,
        ):
            yield from state.done
            state.done.clear()


class _Text:
    """Character data of one element, refused once it passes `limit` characters."""

    def __init__(self, limit: int, what: str) -> None:
        self.limit = limit
        self.what = what
        self.on = False
        self.parts: list[str] = []
        self.size = 0

    def reset(self) -> None:
        self.parts.clear()
        self.size = 0
        self.on = False

    def add(self, data: str) -> None:
        if not self.on:
            return
        self.size += len(data)
        if self.size > self.limit:
            raise Refused(
                f"{self.what} is over {self.limit:,} characters, the limit for one cell "
                "(Excel's own): it is not a contact list's cell"
            )
        self.parts.append(data)

    def value(self) -> str:
        return "".join(self.parts)


class _SheetState:
    """Builds rows from a sheet's elements; finished rows wait in `done`."""

    def __init__(self, limits: XlsxLimits, formats: CellFormats, strings: list[str]) -> None:
        self.limits = limits
        self.formats = formats
        self.strings = strings
        self.text = _Text(limits.cell_chars, "a cell")
        self.done: list[tuple[int, list[str]]] = []
        self.row_number = 0
        self.cells: dict[int, str] = {}
        self.next_column = 0
        self.cell: dict[str, str] = {}
        self.value = ""
        self.formula = ""
        self.in_is = False
        # per-element work dominates the read: names and columns are worked out once each
        self._locals: dict[str, str] = {}
        self._columns: dict[str, int] = {}

    def _local(self, tag: str) -> str:
        local = self._locals.get(tag)
        if local is None:
            if len(self._locals) >= MAX_NAMES:
                raise Refused(too_many_names("the sheet"))
            local = self._locals[tag] = tag.rsplit("}", 1)[-1]
        return local

    def start(self, tag: str, attrs: dict[str, str]) -> None:  # counts names itself
        local = self._local(tag)
        if local == "row":
            self.row_number = int(attrs.get("r", self.row_number + 1))
            self.cells, self.next_column = {}, 0
        elif local == "c":
            self.cell, self.value, self.formula, self.in_is = attrs, "", "", False
        elif local in ("v", "f") or (local == "t" and self.in_is):
            self.text.reset()
            self.text.on = True
        elif local == "is":
            self.in_is = True
            self.value = ""

    def end(self, tag: str) -> None:
        local = self._local(tag)
        if local == "v":
            self.value = self.text.value()
        elif local == "f":
            self.formula = self.text.value()
        elif local == "t" and self.in_is:
            self.value += self.text.value()
        elif local == "c":
            self._end_cell()
        elif local == "row" and self.cells:
            width = max(self.cells) + 1
            self.done.append((self.row_number, [self.cells.get(i, "") for i in range(width)]))
        if local in ("v", "f", "t"):
            self.text.on = False

    def _column(self, ref: str) -> int:
        letters = ref.rstrip("0123456789")
        column = self._columns.get(letters)
        if column is None:
            column = column_index(letters[:8])  # XFD is 3 letters; 8 is past any limit
            if len(self._columns) < _CACHED_NAMES:
                self._columns[letters] = column
        return column

    def _end_cell(self) -> None:
        ref = self.cell.get("r")
        column = self._column(ref) if ref else self.next_column
        if column >= self.limits.columns:
            raise Refused(
                f"row {self.row_number} has a cell in column {column + 1:,}, past the limit of "
                f"{self.limits.columns:,} columns"
            )
        self.next_column = column + 1
        text = cell_text(
            self.cell.get("t", "n"),
            self.value,
            self.formula,
            int(self.cell.get("s", "0")),
            self.formats,
            self.strings,
        )
        if text:
            self.cells[column] = text
