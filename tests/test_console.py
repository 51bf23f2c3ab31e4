"""`say`: what the CLI prints reaches the person as it was written (paths, ids, API text)."""

from __future__ import annotations

import io

from rich.console import Console
from rich.text import Text

from dialer.cli.console import error_text, say, warning_text


def _said(*messages: str | Text) -> str:
    out = io.StringIO()
    console = Console(file=out, width=20, force_terminal=False)
    for message in messages:
        say(console, message)
    return out.getvalue()


def test_a_path_with_brackets_and_colons_prints_as_it_is() -> None:
    path = "/data/list [final] :smile: [bold]x[/bold].csv"
    assert _said(path) == path + "\n"


def test_a_long_line_is_never_hard_wrapped() -> None:
    line = "Report: " + "/very/long/folder" * 5 + "/report.csv"
    assert _said(line) == line + "\n"


def test_errors_and_warnings_carry_their_prefix() -> None:
    assert _said(error_text("no such file"), warning_text("balance 0")) == (
        "error: no such file\nwarning: balance 0\n"
    )
