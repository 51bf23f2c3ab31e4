"""Text from strangers made safe for one log line (or one terminal line).

A webhook's event name or call id, a file name, an API message: any of them may hold a newline
(a forged second log line), an ANSI escape (a terminal rewritten under the reader's eyes) or
a bidi override. `printable` shows each such character as a visible escape and cuts the text
to a length, so one field is always one bounded piece of one line.
"""

from __future__ import annotations

import unicodedata

MAX_CHARS = 200
# Unicode categories never printed as they are: controls (C0, DEL, C1), format characters
# (bidi overrides, zero-width joiners), line and paragraph separators, surrogates, unassigned.
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})


def printable(value: object, max_chars: int = MAX_CHARS) -> str:
    """`value` as text on one line: hidden characters escaped (\\n, \\x1b, \\u202e), the
    whole cut to `max_chars` with an ellipsis."""
    text = value if isinstance(value, str) else str(value)
    if len(text) > max_chars:
        text = text[:max_chars] + "…"
    if text.isprintable():  # the common case, checked in C
        return text
    return "".join(_escaped(char) for char in text)


def _escaped(char: str) -> str:
    if char == " " or unicodedata.category(char) not in _HIDDEN_CATEGORIES:
        return char
    return char.encode("unicode_escape").decode("ascii")
