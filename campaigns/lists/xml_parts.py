"""Parsing the XML parts of an untrusted file with expat, within bounds: no DTD or entity
(refused, never expanded), a cap on the bytes inflated, and on the different element names
(expat keeps every one it meets: 1.5 million names took 634 MB and two minutes)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import IO
from xml.parsers import expat

FEED_BYTES = 256 * 1024
MAX_NAMES = 4096  # different element names in one part; a real one uses a few dozen


class Refused(Exception):
    """Raised inside expat handlers; becomes an InputError with the file's name."""


def too_many_names(what: str) -> str:
    return (
        f"{what} uses over {MAX_NAMES:,} different element names, the limit: it is not a "
        "spreadsheet's"
    )


class NameBudget:
    """A start handler that refuses a part once it has used too many element names."""

    def __init__(self, part: str, start: Callable[..., None]) -> None:
        self.part = part
        self.start = start
        self.names: set[str] = set()

    def __call__(self, tag: str, attrs: dict[str, str]) -> None:
        if tag not in self.names:
            if len(self.names) >= MAX_NAMES:
                raise Refused(too_many_names(f"part {self.part}"))
            self.names.add(tag)
        self.start(tag, attrs)


def safe_parser(name: str) -> expat.XMLParserType:
    parser = expat.ParserCreate(namespace_separator="}")
    parser.buffer_text = True

    def refuse(*_: object) -> None:
        raise Refused(f"part {name} declares a DTD or entities, which no spreadsheet writes")

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    return parser


def feed(parser: expat.XMLParserType, part: IO[bytes], name: str, limit: int) -> Iterator[None]:
    inflated = 0
    while chunk := part.read(FEED_BYTES):
        inflated += len(chunk)
        if inflated > limit:
            raise Refused(f"part {name} inflates past {limit:,} bytes, the limit")
        parser.Parse(chunk, False)
        yield
    parser.Parse(b"", True)
    yield
