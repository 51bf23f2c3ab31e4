"""A report's file: its format from the extension, written whole or not at all."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Literal

from dialer.errors import DialerError, InputError

REPORT_EXTENSIONS: tuple[str, ...] = (".csv", ".xlsx")


class ReportWriteError(DialerError):
    """The report could not be written at its path (exit 1); an older report there is kept."""


def check_report_path(path: Path) -> None:
    """Fail early, before any call is made, on a report path that cannot be one."""
    _report_format(path)
    if path.is_dir():
        raise InputError(
            f"--report {path}: that is a folder. Give a file path ending in .csv or .xlsx."
        )


def _report_format(path: Path) -> Literal["csv", "xlsx"]:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix == ".xlsx":
        return "xlsx"
    raise InputError(
        f"--report {path}: the report is written as .csv or .xlsx, chosen by the extension; "
        f"give a path ending in one of {', '.join(REPORT_EXTENSIONS)}."
    )


def _write_failure_message(path: Path, exc: OSError, campaign_id: str) -> str:
    again = f"run `dialer report {campaign_id} --out {path}`" if campaign_id else "run it again"
    if isinstance(exc, IsADirectoryError):
        return (
            f"cannot write the report {path}: a folder has that name. "
            f"Choose a file path ending in .csv or .xlsx, then {again}."
        )
    if isinstance(exc, PermissionError):
        return (
            f"cannot write the report {path}: permission denied. If it is open in Excel or "
            f"another program, close it; otherwise make its folder writable or choose another "
            f"path. Then {again}. Any older report there is unchanged."
        )
    reason = exc.strerror or str(exc)
    return (
        f"cannot write the report {path}: {reason}. Fix that (free disk space, choose another "
        f"path), then {again}. Any older report there is unchanged."
    )


@contextlib.contextmanager
def _atomic_output(path: Path) -> Iterator[IO[bytes]]:
    """A binary file that becomes `path` only if the block completes without an error."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp_path = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    # O_EXCL: never write through a file (or link) someone else put there; 0o600: a report
    # holds names and numbers, readable by its owner alone.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(temp_path, flags, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp_path, path)
    except BaseException:
        temp_path.unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable (POSIX; Windows has no such call). Best effort: the
    report is already in place, and some file systems refuse to sync a folder."""
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
