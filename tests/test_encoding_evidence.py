"""Encodings on evidence (issue 20): Hebrew lists told from Cyrillic and Greek readings by how
well their letters fit the language, Chinese text's own punctuation not taken for a wrong code
page's marks, and the unsure message's samples cut on a character boundary."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from campaigns.lists.contacts import ListOptions, open_contact_list
from campaigns.lists.encoding import _unsure_message
from campaigns.lists.plausibility import implausibility
from dialer.errors import InputError

FIRST = [
    "דוד",
    "משה",
    "יוסף",
    "אברהם",
    "יצחק",
    "יעקב",
    "שרה",
    "רבקה",
    "רחל",
    "לאה",
    "מרים",
    "אסתר",
    "חנה",
    "נועה",
    "תמר",
    "יעל",
    "אורי",
]
LAST = [
    "כהן",
    "לוי",
    "מזרחי",
    "פרץ",
    "ביטון",
    "אברהם",
    "פרידמן",
    "שפירא",
    "אזולאי",
    "דהן",
    "אוחיון",
    "גבאי",
    "חדד",
    "עמר",
]
CITIES = ["תל אביב", "ירושלים", "חיפה", "באר שבע", "נתניה", "אשדוד", "רמת גן", "הרצליה"]


def hebrew_list(tmp_path: Path, rows: int, seed: int) -> tuple[Path, str]:
    rng = random.Random(seed)
    lines = ["שם,טלפון,עיר"] + [
        f"{rng.choice(FIRST)} {rng.choice(LAST)},+972 50 {rng.randrange(10**6, 10**7)},"
        f"{rng.choice(CITIES)}"
        for _ in range(rows)
    ]
    text = "\n".join(lines) + "\n"
    path = tmp_path / f"hebrew_{rows}_{seed}.csv"
    path.write_bytes(text.encode("cp1255"))
    return path, text


@pytest.mark.parametrize("rows", [20, 50, 200, 2000])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_hebrew_list_reads_as_windows_1255(tmp_path: Path, rows: int, seed: int) -> None:
    """cp1255, cp1251, cp1253 and KOI8-R all read it as clean letters of one script; only the
    Hebrew reading fits its language (charset-normalizer's coherence 0.6-0.8 against 0.5)."""
    path, text = hebrew_list(tmp_path, rows, seed)
    contacts = open_contact_list(path, ListOptions(region="IL"))
    assert "read as Windows-1255 (Hebrew)" in contacts.reading_note
    first = next(contacts.rows())
    assert first.cells == text.splitlines()[1].split(",")
    assert first.to_number.startswith("+97250")


def test_a_few_hebrew_names_are_too_little_evidence_to_choose(tmp_path: Path) -> None:
    path, _ = hebrew_list(tmp_path, 3, 0)
    with pytest.raises(InputError, match="--encoding cp1255") as caught:
        open_contact_list(path, ListOptions(region="IL"))
    assert "Windows-1255 (Hebrew)" in str(caught.value)


@pytest.mark.parametrize(
    "text",
    [
        "雲嘉南濱海國家風景區管理處，「雲嘉南濱海國家風景區」。",
        "開放時間：全天開放；（週一至週日）、免費！",
        "《台灣》【景點】〔說明〕『注意』？",
        "山田・太郎，東京都",
        "週一~週五 08:00~17:00 $100",
    ],
)
def test_cjk_punctuation_is_punctuation(text: str) -> None:
    assert implausibility(text) == 0.0


def test_full_width_latin_letters_are_not_accents() -> None:
    assert implausibility("ｗｗｗ．ｔｒａｖｅｌ，景點ａｂｃｄｅｆｇ") == 0.0
    assert implausibility("JosŽ MŸller") > 0.3  # a wrong code page still shows


def test_unsure_message_cuts_its_sample_on_a_character_boundary() -> None:
    line = "id,景點編號,景點中文名稱,景點特色詳細文字簡述,開放時間,景點之管理權責單位代碼"
    evidence = line.encode("big5") + b"\n"
    assert evidence[:60].decode("big5", "replace").endswith("\ufffd")  # 60 bytes split a 點
    message = _unsure_message("contact list x.csv", ["big5", "cp1252"], evidence)
    assert "\ufffd" not in message.split("cp1252")[0]
    assert "'id,景點編號,景點中文名稱,景點特色詳細文字簡述,開放時間,景點'" in message
