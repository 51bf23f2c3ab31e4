"""`printable`: a stranger's text as one bounded piece of one log line."""

from __future__ import annotations

import pytest

from dialer.printable import printable


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("call_1", "call_1"),
        ("Björn 陈伟 ½", "Björn 陈伟 ½"),
        ("a\nb", "a\\nb"),
        ("\x1b[2J", "\\x1b[2J"),
        ("evil\u202etxt.exe", "evil\\u202etxt.exe"),
        ("line\u2028sep\r", "line\\u2028sep\\r"),
        ("\x00\x7f\x85", "\\x00\\x7f\\x85"),
    ],
)
def test_hidden_characters_are_shown_as_escapes(text: str, shown: str) -> None:
    assert printable(text) == shown


def test_every_code_point_comes_out_printable_by_pythons_own_rule() -> None:
    """str.isprintable is the library's rule; the non-ASCII spaces it flags are kept as is."""
    for code_point in [*range(0x3400), *range(0xD800, 0x10000), 0xE0001, 0x10FFFF]:
        char = chr(code_point)
        out = printable(char)
        assert "\n" not in out and "\r" not in out and "\x1b" not in out
        assert out.isprintable() or out.isspace(), hex(code_point)


def test_long_text_is_cut() -> None:
    assert printable("x" * 1000, 10) == "x" * 10 + "…"
    assert printable(12345) == "12345"
