"""A large contact list of mixed real-world formats, for the million-row measurements.

    python -m tests.bench.big_list OUT.csv ROWS

Numbers as people keep them in a CRM export: US/Canadian numbers in five written forms,
British, German, French and Australian numbers in international and `00` form, a few
invalid, empty and repeated ones. Other cells hold accents, commas, quotes, newlines and
formula-looking text, so the report's quoting and escaping are exercised. Deterministic
(seeded): the same rows every time.
"""

from __future__ import annotations

import csv
import random
import sys
from pathlib import Path

HEADERS = ["id", "phone", "first_name", "last_name", "email", "zip", "note"]
_US_AREAS = (212, 415, 312, 713, 305, 206, 617, 303, 602, 404, 604, 416, 514)
_NAMES = ("Ann", "José", "Zoë", "Björn", "Li", "O'Neil", "Mary-Kate", "Nguyễn")
_NOTES = ("", "", "", "call after 5", 'said "maybe"', "line one\nline two", "=1+2", "@home")


def _us(rng: random.Random, form: int) -> str:
    digits = f"{rng.choice(_US_AREAS)}{rng.randrange(200, 999)}{rng.randrange(10_000):04d}"
    forms = (
        f"+1{digits}",
        f"({digits[:3]}) {digits[3:6]}-{digits[6:]}",
        f"{digits[:3]}.{digits[3:6]}.{digits[6:]}",
        digits,
        f"1-{digits[:3]}-{digits[3:6]}-{digits[6:]}",
    )
    return forms[form % len(forms)]


def _abroad(rng: random.Random, form: int) -> str:
    kind = form % 5
    if kind == 0:
        return f"+44 20 7{rng.randrange(100, 999)} {rng.randrange(10_000):04d}"
    if kind == 1:
        return f"0044 7{rng.randrange(400, 999)} {rng.randrange(100_000, 999_999)}"
    if kind == 2:
        return f"+49 30 {rng.randrange(1_000_000, 9_999_999)}"
    if kind == 3:
        return f"+33 6 {rng.randrange(10, 99)} {rng.randrange(10, 99)} {rng.randrange(10, 99)} 12"
    return f"+61 4{rng.randrange(10, 99)} {rng.randrange(100, 999)} {rng.randrange(100, 999)}"


def phone_cell(rng: random.Random, i: int, earlier: list[str]) -> str:
    roll = rng.random()
    if roll < 0.02:
        return rng.choice(("", "n/a", "555-0100", "+1 212", "call me", "12345678901234567890"))
    if roll < 0.05 and earlier:
        return rng.choice(earlier)  # a repeat: a duplicate row
    if roll < 0.20:
        return _abroad(rng, i)
    return _us(rng, i)


def write_big_list(path: Path, rows: int, seed: int = 16) -> None:
    rng = random.Random(seed)
    recent: list[str] = []
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(HEADERS)
        for i in range(rows):
            phone = phone_cell(rng, i, recent)
            if len(recent) < 1000:
                recent.append(phone)
            else:
                recent[i % 1000] = phone
            first = _NAMES[i % len(_NAMES)]
            writer.writerow(
                [
                    f"{i:07d}",
                    phone,
                    first,
                    "Smith, Jr" if i % 7 == 0 else "Smith",
                    f"{first.lower()}{i}@example.org",
                    f"{rng.randrange(100_000):05d}",
                    _NOTES[i % len(_NOTES)],
                ]
            )


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    write_big_list(Path(sys.argv[1]), int(sys.argv[2]))
