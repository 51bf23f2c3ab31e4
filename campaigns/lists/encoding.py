"""Text encodings of CSV files, decided on evidence from the whole file.

Spreadsheets write CSV in whatever their machine uses: UTF-8 (with or without BOM), UTF-16
(Excel's "Unicode text", sometimes without BOM), Windows code pages 1250-1258, Mac Roman (Excel
for Mac's "CSV (Macintosh)"), KOI8-R, Shift_JIS, Big5, GB18030, EUC-KR, ISO-8859-x. Single-byte
code pages accept almost any bytes, so "it decodes" proves nothing: a cp1251 "Иван" decodes as
cp1252 "Èâàí" without an error. The decision is therefore:

1. `--encoding NAME` when given (the whole file must decode with it);
2. a byte-order mark (UTF-8/16/32), or UTF-16/32 recognised by its zero bytes when it has none;
3. UTF-8 when the whole file decodes as UTF-8 (ASCII included): other encodings almost never do;
4. otherwise charset-normalizer weighs every line holding a non-ASCII byte, from the whole file
   (ASCII lines say nothing), across the encodings above, and `campaigns.lists.plausibility` scores
   each reading as people's words (charset-normalizer alone ties on short texts). Candidates
   that read the evidence as the same text are one answer; readings equally plausible (Hebrew
   bytes read as clean Cyrillic or Greek letters too) are told apart by charset-normalizer's
   coherence (how well the letters fit the language) when one fits clearly best on enough
   letters. A single clear answer is used and named in the plan, anything less is an
   InputError listing the likely ones and `--encoding NAME` to choose.
"""

from __future__ import annotations

import codecs
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import charset_normalizer

from campaigns.lists.plausibility import implausibility
from dialer.errors import InputError

ENCODING_HINT = "--encoding NAME"
_CHUNK_BYTES = 1 << 20
_EVIDENCE_LINES = 1024  # non-ASCII lines weighed, sampled evenly from the whole file
_EVIDENCE_LINE_BYTES = 512  # a line's share of the evidence (one odd line cannot swamp it)
_READ_LINE_BYTES = 64 * 1024
_MAX_CHAOS = 0.2  # charset-normalizer's "mess" above which a reading is not believed
_MAX_IMPLAUSIBLE = 0.3  # a best reading worse than this is garbled whichever it is
_CLEAR_MARGIN = 0.04  # how much more plausible the winner must be than a different reading
# Readings equally plausible (Hebrew read as Hebrew, Cyrillic or Greek: all clean letters)
# are told apart by how well each fits its language's letter frequencies (charset-normalizer's
# coherence), when one fits clearly better: by this much, and this many times as well, on
# enough letters (on a few names coherence misleads: a wrong reading led by 0.1, 1.25 times).
_COHERENCE_LEAD = 0.15
_COHERENCE_RATIO = 1.35
_COHERENCE_MIN_LETTERS = 150

# Python codec name -> what a person calls it. The order breaks ties between equal readings.
LABELS = {
    "utf_8": "UTF-8",
    "utf_8_sig": "UTF-8 (with BOM)",
    "utf_16": "UTF-16",
    "utf_16_le": "UTF-16 LE (no BOM)",
    "utf_16_be": "UTF-16 BE (no BOM)",
    "utf_32": "UTF-32",
    "utf_32_le": "UTF-32 LE (no BOM)",
    "utf_32_be": "UTF-32 BE (no BOM)",
    "cp1252": "Windows-1252 (Western European)",
    "cp1250": "Windows-1250 (Central European)",
    "cp1251": "Windows-1251 (Cyrillic)",
    "cp1253": "Windows-1253 (Greek)",
    "cp1254": "Windows-1254 (Turkish)",
    "cp1255": "Windows-1255 (Hebrew)",
    "cp1256": "Windows-1256 (Arabic)",
    "cp1257": "Windows-1257 (Baltic)",
    "cp1258": "Windows-1258 (Vietnamese)",
    "mac_roman": "Mac Roman (Excel for Mac's CSV)",
    "koi8_r": "KOI8-R (Cyrillic)",
    "cp932": "Shift_JIS / Windows-932 (Japanese)",
    "big5": "Big5 (Traditional Chinese)",
    "gb18030": "GB18030 (Simplified Chinese)",
    "euc_kr": "EUC-KR (Korean)",
    "latin_1": "ISO-8859-1 (Latin-1)",
    "iso8859_2": "ISO-8859-2 (Central European)",
    "iso8859_5": "ISO-8859-5 (Cyrillic)",
    "iso8859_7": "ISO-8859-7 (Greek)",
    "iso8859_9": "ISO-8859-9 (Turkish)",
    "iso8859_15": "ISO-8859-15 (Latin-9)",
}
_WEIGHED = [name for name in LABELS if not name.startswith("utf")]
_BOMS = (  # UTF-32 first: its little-endian BOM starts with UTF-16's
    (codecs.BOM_UTF32_LE, "utf_32"),
    (codecs.BOM_UTF32_BE, "utf_32"),
    (codecs.BOM_UTF16_LE, "utf_16"),
    (codecs.BOM_UTF16_BE, "utf_16"),
    (codecs.BOM_UTF8, "utf_8_sig"),
)


@dataclass(frozen=True)
class TextEncoding:
    codec: str  # a Python codec name
    how: str  # why it was chosen: "given", "byte-order mark", "decided", ...

    @property
    def label(self) -> str:
        return LABELS.get(self.codec, self.codec)

    def describe(self) -> str:
        """The plan's line: "read as Windows-1251 (Cyrillic)"."""
        return f"read as {self.label} ({self.how})"


def codec_name(name: str) -> str:
    """A user's encoding name (`cp1251`, `Windows-1251`, `MacRoman`...) as a codec name."""
    wanted = name.strip().lower().replace("-", "_").replace(" ", "_")
    aliases = {
        "macroman": "mac_roman",
        "macintosh": "mac_roman",
        "shift_jis": "cp932",
        "sjis": "cp932",
    }
    wanted = aliases.get(wanted.replace("_", ""), aliases.get(wanted, wanted))
    if wanted.startswith("windows_"):
        wanted = "cp" + wanted.removeprefix("windows_")
    try:
        return codecs.lookup(wanted).name.replace("-", "_")
    except LookupError:
        raise InputError(
            f"--encoding {name!r} is not an encoding name: give one such as utf-8, cp1251 "
            "(Windows-1251), mac_roman, cp932, big5 or utf-16."
        ) from None


def detect_encoding(path: Path, label: str, given: str | None = None) -> TextEncoding:
    """The encoding of the text file at `path`; `label` names the file in every message."""
    with path.open("rb") as file:
        head = file.read(64 * 1024)
    if given is not None:
        codec = codec_name(given)
        _check_decodes(path, codec, label, f"--encoding {given}")
        return TextEncoding(codec, "as given")
    for bom, codec in _BOMS:
        if head.startswith(bom):
            _check_decodes(path, codec, label, f"its {LABELS[codec]} byte-order mark")
            return TextEncoding(codec, "byte-order mark")
    if b"\0" in head:
        wide = _wide_without_bom(head)
        if wide is None:
            raise InputError(f"{label} is a binary file, not a CSV or .xlsx contact list.")
        _check_decodes(path, wide, label, f"its zero bytes ({LABELS[wide]})")
        return TextEncoding(wide, "by its zero bytes")
    if _decodes(path, "utf_8"):
        return TextEncoding("utf_8", "the whole file is valid UTF-8")
    return _weigh(path, label)


def _wide_without_bom(head: bytes) -> str | None:
    """UTF-16/32 text without a BOM: mostly ASCII, so one byte of each unit is text and the
    others are zero, in a fixed place."""
    head = head[: len(head) - len(head) % 4]
    if not head:
        return None
    for size, codec in ((4, "utf_32"), (2, "utf_16")):
        for place, order in ((0, "le"), (size - 1, "be")):
            units = [head[i : i + size] for i in range(0, len(head), size)]
            text = sum(1 for u in units if u[place] != 0)
            zero_rest = sum(1 for u in units if not any(u[:place] + u[place + 1 :]))
            if text >= 0.9 * len(units) and zero_rest >= 0.6 * len(units):
                return f"{codec}_{order}"
    # mostly non-Latin text (Cyrillic, CJK) has few zero bytes: the one reading as clean text
    for codec in ("utf_32_le", "utf_32_be", "utf_16_le", "utf_16_be"):
        if _reads_as_text(head, codec):
            return codec
    return None


def _reads_as_text(head: bytes, codec: str) -> bool:
    try:  # incremental: a character cut at the end of the head is not an error
        text = codecs.getincrementaldecoder(codec)().decode(head, final=False)
    except UnicodeDecodeError:
        return False
    control = sum(1 for ch in text if not ch.isprintable() and ch not in "\r\n\t")
    return bool(text) and control <= 0.01 * len(text) and ("\r" in text or "\n" in text)


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as file:
        while chunk := file.read(_CHUNK_BYTES):
            yield chunk


def _decodes(path: Path, codec: str) -> bool:
    return _first_error(path, codec) is None


def _first_error(path: Path, codec: str) -> int | None:
    """The offset of the first byte that does not decode, or None."""
    decoder = codecs.getincrementaldecoder(codec)()
    offset = 0
    try:
        for chunk in _chunks(path):
            decoder.decode(chunk)
            offset += len(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as error:
        return offset + max(error.start, 0)
    return None


def _check_decodes(path: Path, codec: str, label: str, why: str) -> None:
    bad = _first_error(path, codec)
    if bad is not None:
        raise InputError(
            f"{label} does not decode as {LABELS.get(codec, codec)} (chosen by {why}) at byte "
            f"{bad:,}: give the file's encoding with {ENCODING_HINT}, or save it as CSV UTF-8."
        )


def _evidence(path: Path) -> bytes:
    """Lines holding a non-ASCII byte, from the whole file: all of them up to a bound, past it
    a uniform sample (reservoir, seeded: the same file always gives the same answer)."""
    chosen: list[bytes] = []
    seen = 0
    rng = random.Random(0)
    with path.open("rb") as file:
        for line in iter(lambda: file.readline(_READ_LINE_BYTES), b""):
            if line.isascii():
                continue
            seen += 1
            slot = seen - 1 if seen <= _EVIDENCE_LINES else rng.randrange(seen)
            if slot < _EVIDENCE_LINES:
                piece = _cut(line)
                if seen <= _EVIDENCE_LINES:
                    chosen.append(piece)
                else:
                    chosen[slot] = piece
    return b"".join(chosen)


def _cut(line: bytes) -> bytes:
    """A line shortened at a space, comma, tab or semicolon: bytes that are never the second
    half of a double-byte character (Shift_JIS, Big5, GB18030, EUC-KR), so none is split."""
    if len(line) > _EVIDENCE_LINE_BYTES:
        cut = max(line.rfind(sep, 0, _EVIDENCE_LINE_BYTES) for sep in (b" ", b",", b"\t", b";"))
        line = line[: cut if cut > 0 else 0]
    return line.rstrip(b"\r\n") + b"\n"


def _weigh(path: Path, label: str) -> TextEncoding:
    evidence = _evidence(path)
    _refuse_mixed_utf8(path, label, evidence)
    results = charset_normalizer.from_bytes(
        evidence, cp_isolation=_WEIGHED, threshold=_MAX_CHAOS, explain=False
    )
    # Readings that give the same text are one answer (cp1252 and latin_1 on "é").
    readings: dict[str, tuple[float, str, float]] = {}  # text -> (score, codec, coherence)
    for match in results:
        # of the code pages giving this same text, the most common one names it
        same = [_codec(name) for name in match.could_be_from_charset or [match.encoding]]
        known = [name for name in _WEIGHED if name in same]
        if not known:
            continue
        codec = known[0]
        text = str(match)
        score = implausibility(text) + 0.5 * match.chaos
        best = readings.get(text)
        if best is None or (score, _WEIGHED.index(codec)) < (best[0], _WEIGHED.index(best[1])):
            readings[text] = (score, codec, match.coherence)
    ranked = sorted(readings.values())
    if ranked and ranked[0][0] <= _MAX_IMPLAUSIBLE:
        tied = [r for r in ranked if r[0] - ranked[0][0] < _CLEAR_MARGIN]
        if len(tied) == 1:
            return TextEncoding(ranked[0][1], "decided from the whole file")
        letters = sum(1 for ch in evidence.decode("latin_1") if not ch.isascii())
        if letters >= _COHERENCE_MIN_LETTERS and (fits := _fits_its_language_best(tied)):
            return TextEncoding(fits, "decided from the whole file, by its language")
    raise InputError(_unsure_message(label, [codec for _, codec, _ in ranked[:4]], evidence))


def _fits_its_language_best(tied: list[tuple[float, str, float]]) -> str | None:
    """Of readings equally plausible, the one whose letters fit its language clearly best."""
    by_fit = sorted(tied, key=lambda reading: reading[2], reverse=True)
    best, second = by_fit[0][2], by_fit[1][2]
    if best - second >= _COHERENCE_LEAD and best >= _COHERENCE_RATIO * second:
        return by_fit[0][1]
    return None


def _refuse_mixed_utf8(path: Path, label: str, evidence: bytes) -> None:
    """Mostly UTF-8 with a few bytes that are not: two encodings in one file (rows pasted from
    another export). No single encoding reads it; say where it breaks."""
    text = evidence.decode("utf_8", "replace")
    bad = text.count("\ufffd")
    good = sum(1 for ch in text if not ch.isascii()) - bad
    if bad and good >= 3 * bad:
        offset = _first_error(path, "utf_8") or 0
        raise InputError(
            f"{label} is mostly UTF-8 but byte {offset:,} is not: the file mixes two encodings "
            "(rows pasted from another export?). Open it in a spreadsheet, fix the garbled row, "
            f"save it as CSV UTF-8; or force one reading with {ENCODING_HINT}."
        )


def _codec(name: str) -> str:
    return codecs.lookup(name).name.replace("-", "_")


def _unsure_message(label: str, candidates: list[str], evidence: bytes) -> str:
    if not candidates:
        return (
            f"{label} is not UTF-8 and reads as no encoding the dialer knows: give its encoding "
            f"with {ENCODING_HINT} (e.g. --encoding cp1251), or save it as CSV UTF-8."
        )
    sample = evidence.split(b"\n", 1)[0][:60]
    shown = "; ".join(
        f"{LABELS[c]} (--encoding {c}): {_sample_text(sample, c)!r}" for c in candidates
    )
    return (
        f"{label} is not UTF-8 and its encoding is not clear. Likely: {shown}. Choose with "
        f"{ENCODING_HINT}, or save the file as CSV UTF-8."
    )


def _sample_text(sample: bytes, codec: str) -> str:
    """The sample's text in `codec`, cut on a character boundary: a character the byte limit
    split in two is left out, not shown as \ufffd."""
    return codecs.getincrementaldecoder(codec)("replace").decode(sample, final=False).strip()
