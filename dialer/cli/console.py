"""What the command line says to a person: one way to print a message, and the `error:` and
`warning:` lines. Every command, the launcher and the progress lines print through `say`."""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

__all__ = ["error_text", "say", "say_error", "warning_text"]


def say(console: Console, message: str | Text) -> None:
    """Print a message as it is: paths, ids and API text are never read as rich markup or
    emoji codes (a file named `list [final].csv` stays so), and lines are never hard-wrapped
    (logs, long paths)."""
    console.print(message, markup=False, emoji=False, highlight=False, soft_wrap=True)


def error_text(message: object) -> Text:
    """`error: <message>`, the prefix in red on a terminal."""
    return Text.assemble(("error:", "bold red"), f" {message}")


def warning_text(message: object) -> Text:
    """`warning: <message>`, the prefix in yellow on a terminal."""
    return Text.assemble(("warning:", "yellow"), f" {message}")


def say_error(message: object) -> None:
    """`error: <message>` on stderr: how the CLI ends on an error."""
    say(Console(stderr=True), error_text(message))
