"""How plausible a decoded text is as people's names and words: the tie-breaker between code
pages that charset-normalizer scores alike on the short texts contact lists are.

A wrong single-byte code page leaves marks a person sees at once: a capital inside a word
(`JosŽ`, `MŸller`), a symbol inside a word (`Šťastn˝`), scripts mixed in one word, and
letters no single language uses together (`Ünďcödé`). The score counts them per word holding
a non-ASCII character, and adds how many languages the whole text's accented letters need.
"""

from __future__ import annotations

import re
import unicodedata
from itertools import pairwise

# Accented Latin letters of the languages written in the code pages weighed.
_LANGUAGES = [
    frozenset(letters)
    for letters in (
        "äöüß",  # German
        "àâæçéèêëîïôœùûüÿ",  # French
        "áéíñóúü",  # Spanish
        "áâãàçéêíóôõú",  # Portuguese
        "àèéìíîòóùú",  # Italian
        "éëïóöüè",  # Dutch
        "åäöæøéü",  # Scandinavian, Finnish
        "áðéíóúýþæö",  # Icelandic
        "áčďéěíňóřšťúůýž",  # Czech
        "áäčďéíĺľňóôŕšťúýž",  # Slovak
        "ąćęłńóśźż",  # Polish
        "áéíóöőúüű",  # Hungarian
        "ăâîșțşţ",  # Romanian
        "čćđšž",  # Croatian, Slovene, Serbian
        "çğıöşüâîİ",  # Turkish
        "ąčęėįšųūž",  # Lithuanian
        "āčēģīķļņšūž",  # Latvian
        "äöõüšž",  # Estonian
    )
]
_ACCENTED = frozenset().union(*_LANGUAGES)
# CJK and full-width punctuation (，。、「」（）！？：；《》【】・...) separates words as ASCII
# punctuation does: it is how Chinese and Japanese text is written, not a wrong code page's mark.
_CJK_PUNCTUATION = (
    "\u3000-\u303f"  # CJK symbols and punctuation: 、。「」『』【】《》〔〕
    "\u30fb"  # katakana middle dot ・
    "\ufe30-\ufe4f\ufe50-\ufe6b"  # CJK compatibility and small forms
    "\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65"  # full-width ！（），：；？ ...
)
_WORD_SPLIT = re.compile(rf"[\s\d,;|\t\"'.()+\-/:@_=<>\[\]{{}}!?&*#%~$^`\\{_CJK_PUNCTUATION}]+")


def implausibility(text: str) -> float:
    """0 for text that reads like people's words; more for each sign of a wrong code page."""
    words = [w for w in _WORD_SPLIT.split(text) if w and not w.isascii()]
    if not words:
        return 0.0
    bad = sum(1 for word in words if _odd_word(word))
    accented = {ch for word in words for ch in word.lower() if _is_accented_latin(ch)}
    accented -= set("abcdefghijklmnopqrstuvwxyz")
    return bad / len(words) + 0.1 * max(_languages_needed(accented) - 1, 0)


def _base(ch: str) -> str:
    return unicodedata.normalize("NFKD", ch)[0].lower()


def _is_accented_latin(ch: str) -> bool:
    """A Latin letter beyond a-z (é, ª, Ž); full-width ａ-ｚ of CJK text are not accents."""
    return "a" <= _base(ch) <= "z" and unicodedata.east_asian_width(ch) != "F"


def _script(ch: str) -> str:
    if unicodedata.east_asian_width(ch) == "F":
        return "CJK"  # full-width ａ-ｚ, ０-９: written within Chinese and Japanese text
    name = unicodedata.name(ch, "")
    for script in ("LATIN", "CYRILLIC", "GREEK", "HEBREW", "ARABIC", "HANGUL", "THAI"):
        if name.startswith(script):
            return script
    if name.startswith(("CJK", "HIRAGANA", "KATAKANA")):
        return "CJK"
    return "OTHER"


def _odd_word(word: str) -> bool:
    letters = [ch for ch in word if ch.isalpha() or unicodedata.category(ch)[0] == "M"]
    if any(not ch.isalpha() and unicodedata.category(ch)[0] not in "MN" for ch in word):
        return True  # a symbol inside a word: ¸ ˇ ¯ ˝ ‰ ...
    if len({_script(ch) for ch in letters if not ch.isascii()} | _ascii_script(letters)) > 1:
        return True
    if any(ch.isupper() and not ch.isascii() and prev.islower() for prev, ch in pairwise(word)):
        return True
    return _languages_needed({ch for ch in word.lower() if not ch.isascii()} & _ACCENTED) > 1


def _ascii_script(letters: list[str]) -> set[str]:
    return {"LATIN"} if any(ch.isascii() for ch in letters) else set()


def _languages_needed(accented: set[str]) -> int:
    """How many languages' alphabets it takes to hold these letters (greedy cover)."""
    left, needed = set(accented), 0
    while left:
        best = max(_LANGUAGES, key=lambda language: len(left & language))
        if not left & best:
            return needed + len(left)  # letters no listed language has
        left -= best
        needed += 1
    return needed
