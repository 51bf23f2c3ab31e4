"""Time zones of regions that share a calling code (issue 20): a Barbados number rings in
America/Barbados, not in the 42 zones of +1, so a calling window opens for it; a number whose
prefix phonenumbers places keeps that place's zone."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import phonenumbers
import pytest
from phonenumbers.timezone import time_zones_for_number

from campaigns.dialing.windows import CallingWindow
from campaigns.lists.phones import PhoneReader
from campaigns.lists.region_zones import region_zones

ZONE_TAB = Path("/usr/share/zoneinfo/zone.tab")
SHARED = sorted(
    region
    for regions in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.values()
    if len(regions) > 1
    for region in regions
    if region != "001"
)


@pytest.mark.parametrize(
    ("region", "text", "zones"),
    [
        ("BB", "310-1234", ("America/Barbados",)),  # VoIP: no place in phonenumbers' data
        ("US", "+1 246 310-1234", ("America/Barbados",)),
        ("US", "+1 246 234 5678", ("America/Barbados",)),
        ("BM", "441 299 1234", ("Atlantic/Bermuda",)),
        ("US", "+1 268 464 1234", ("America/Antigua",)),  # a mobile
        ("GG", "07781 123456", ("Europe/Guernsey",)),
        ("US", "+61 8 9162 1234", ("Indian/Cocos",)),
        ("US", "+1 415 555 0100", ("America/Los_Angeles",)),  # a known area code keeps its zone
        ("US", "+1 212 555 0100", ("America/New_York",)),
        ("CA", "416 555 0100", ("America/Toronto",)),
    ],
)
def test_a_number_rings_in_its_region_not_its_whole_calling_code(
    region: str, text: str, zones: tuple[str, ...]
) -> None:
    assert PhoneReader(region).read(text).zones == zones


def test_numbers_of_no_place_get_their_regions_zones() -> None:
    reader = PhoneReader("US")
    us = reader.read("+1 800 555 0199").zones  # toll-free: no area, but a US number
    assert "America/New_York" in us and "Pacific/Guam" not in us and "America/Toronto" not in us
    kz = reader.read("+7 701 234 5678").zones  # a Kazakh mobile: not Moscow's
    assert "Asia/Almaty" in kz and "Europe/Moscow" not in kz
    assert "Asia/Almaty" not in reader.read("+7 912 345 67 89").zones  # a Russian one


def test_the_calling_window_opens_for_a_barbados_number() -> None:
    window = CallingWindow.parse("09:00-17:00")
    now = datetime(2025, 3, 12, 14, 0, tzinfo=UTC).timestamp()  # 10:00 in Barbados
    barbados = PhoneReader("BB").read("310-1234").zones
    assert window.next_open(barbados, now) == now
    every_zone_of_plus_1 = time_zones_for_number(
        phonenumbers.parse("+1 246 310-1234")
    )  # what the number got before: Guam and Pago Pago too, never all inside 09:00-17:00
    assert len(every_zone_of_plus_1) == 42
    assert window.next_open(every_zone_of_plus_1, now) is None


@pytest.mark.parametrize("region", SHARED)
def test_every_region_of_a_shared_calling_code_has_its_zones(region: str) -> None:
    zones = region_zones(region)
    if region == "TA":  # Tristan da Cunha: no zone of its own in the tz database
        assert zones == ()
        return
    assert zones, f"{region} has no zones in campaigns/lists/region_zones.py"
    for zone in zones:
        ZoneInfo(zone)  # a zone this system knows


@pytest.mark.skipif(not ZONE_TAB.is_file(), reason=f"no tz database country table at {ZONE_TAB}")
def test_the_table_is_the_tz_databases_own() -> None:
    by_region: dict[str, set[str]] = {}
    for line in ZONE_TAB.read_text("utf-8").splitlines():
        if line and not line.startswith("#"):
            region, _, zone, *_ = line.split("\t")
            by_region.setdefault(region, set()).add(zone)
    differ = {
        region: sorted(by_region.get(region, set()) ^ set(region_zones(region)))
        for region in SHARED
        if by_region.get(region, set()) != set(region_zones(region))
    }
    assert not differ, (
        f"{ZONE_TAB} differs from campaigns/lists/region_zones.py: {differ}; "
        "update the table from that file"
    )
