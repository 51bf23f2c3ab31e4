"""Uploaded files, kept under the state folder (DIALER_HOME/uploads) with generated names.

The name a browser sends is the client's to choose: `../../x`, `C:\\x`, a device name, a name
that is a different file on the next upload. So it is never a path here. A file is stored as
`<32 hex>.csv` or `<32 hex>.xlsx` (the suffix picked from what the file is, because the list
reader tells the formats apart by it), and the name the person gave it is kept as data beside
it, in `<32 hex>.json`, to be shown (escaped) and to name the campaign.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from dialer.errors import InputError

UPLOADS_FOLDER = "uploads"
_FILE_ID = re.compile(r"^[0-9a-f]{32}$")
_ZIP_MAGIC = b"PK\x03\x04"  # an .xlsx is a zip
_XLSX_SUFFIXES = (".xlsx", ".xlsm")
_MAX_DISPLAY_NAME_CHARS = 200


@dataclass(frozen=True)
class StoredFile:
    file_id: str
    display_name: str  # as the browser sent it: data, never a path
    path: Path
    size_bytes: int


def display_basename(display_name: str) -> str:
    """The last part of a name a browser sent (some send a whole Windows path)."""
    return PurePosixPath(display_name.replace("\\", "/")).name or "upload"


class UploadFolder:
    def __init__(self, root: Path) -> None:
        self.root = root

    def save(self, source: BinaryIO, display_name: str) -> StoredFile:
        """Copy an upload into the folder under a new generated name."""
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        file_id = secrets.token_hex(16)
        suffix = _suffix(source, display_name)
        path = self.root / f"{file_id}{suffix}"
        with path.open("xb") as out:  # x: never over an existing file
            shutil.copyfileobj(source, out)
        name = display_name.strip()[:_MAX_DISPLAY_NAME_CHARS] or "upload"
        size_bytes = path.stat().st_size
        meta = {"display_name": name, "file": path.name, "size_bytes": size_bytes}
        _write_json(self.root / f"{file_id}.json", meta)
        return StoredFile(file_id, name, path, size_bytes)

    def get(self, file_id: str) -> StoredFile:
        if not _FILE_ID.fullmatch(file_id):
            raise InputError(f"{file_id!r} is not an upload id: upload the file again.")
        try:
            meta = json.loads((self.root / f"{file_id}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise InputError(f"Upload {file_id} is gone: upload the file again.") from None
        path = self.root / PurePosixPath(str(meta["file"])).name
        return StoredFile(file_id, str(meta["display_name"]), path, int(meta["size_bytes"]))

    def discard(self, stored: StoredFile, *, keep_name: bool) -> None:
        """Delete the stored file; its note of the name it was given stays when `keep_name`
        (it names the campaign started from it), marked so that no sweep removes it."""
        stored.path.unlink(missing_ok=True)
        note = self.root / f"{stored.file_id}.json"
        if not keep_name:
            note.unlink(missing_ok=True)
            return
        meta = {"display_name": stored.display_name, "file": stored.path.name, "started": True}
        _write_json(note, {**meta, "size_bytes": stored.size_bytes})

    def display_name_of(self, path: Path) -> str | None:
        """The name a stored file was uploaded as, when `path` is one of ours."""
        if path.parent.resolve() != self.root.resolve() or not _FILE_ID.fullmatch(path.stem):
            return None
        try:
            return self.get(path.stem).display_name
        except InputError:
            return None


def _suffix(source: BinaryIO, display_name: str) -> str:
    head = source.read(len(_ZIP_MAGIC))
    source.seek(0)
    is_xlsx = head == _ZIP_MAGIC or display_name.lower().endswith(_XLSX_SUFFIXES)
    return ".xlsx" if is_xlsx else ".csv"


def _write_json(path: Path, data: dict[str, object]) -> None:
    """Whole or not at all: a reader never sees half a file."""
    partial = path.with_suffix(".json.tmp")
    partial.write_text(json.dumps(data), encoding="utf-8")
    os.replace(partial, path)
