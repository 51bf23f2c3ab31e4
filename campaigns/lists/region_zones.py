"""Time zones of the regions that share a calling code with others, from the tz database.

phonenumbers gives a number's zones by its prefix; where its data has no entry for the prefix,
or the number is of a kind it gives no place for (mobile, VoIP, toll-free), the answer is every
zone of the calling code: a Barbados number (+1 246 310-1234) would ring in all 42 zones of +1,
from Guam to Newfoundland, and no calling window holds in all of them. A number's region is
known though (`phonenumbers.region_code_for_number`: BB), so it gets its region's zones
instead. phonenumbers has no region -> zones table, nor has `zoneinfo`; pytz is not a
dependency. This is the tz database's own (`zone.tab`, tzdata 2025b) for every region of
a calling code that several regions share (+1, +7, +39, +44, +47, +61, +212, +262, +290, +358,
+590, +599); Tristan da Cunha (TA, +290) has no zone of its own there and keeps +290's.
tests/test_phones.py checks it against the system's zone.tab where there is one.
"""

from __future__ import annotations

from functools import cache

_ZONES: dict[str, str] = {
    # +1: US AG AI AS BB BM BS CA DM DO GD GU JM KN KY LC MP MS PR SX TC TT VC VG VI
    "US": (
        "America/Adak America/Anchorage America/Boise America/Chicago America/Denver "
        "America/Detroit America/Indiana/Indianapolis America/Indiana/Knox "
        "America/Indiana/Marengo America/Indiana/Petersburg America/Indiana/Tell_City "
        "America/Indiana/Vevay America/Indiana/Vincennes America/Indiana/Winamac America/Juneau "
        "America/Kentucky/Louisville America/Kentucky/Monticello America/Los_Angeles "
        "America/Menominee America/Metlakatla America/New_York America/Nome "
        "America/North_Dakota/Beulah America/North_Dakota/Center America/North_Dakota/New_Salem "
        "America/Phoenix America/Sitka America/Yakutat Pacific/Honolulu"
    ),
    "AG": "America/Antigua",
    "AI": "America/Anguilla",
    "AS": "Pacific/Pago_Pago",
    "BB": "America/Barbados",
    "BM": "Atlantic/Bermuda",
    "BS": "America/Nassau",
    "CA": (
        "America/Atikokan America/Blanc-Sablon America/Cambridge_Bay America/Creston "
        "America/Dawson America/Dawson_Creek America/Edmonton America/Fort_Nelson "
        "America/Glace_Bay America/Goose_Bay America/Halifax America/Inuvik America/Iqaluit "
        "America/Moncton America/Rankin_Inlet America/Regina America/Resolute America/St_Johns "
        "America/Swift_Current America/Toronto America/Vancouver America/Whitehorse "
        "America/Winnipeg"
    ),
    "DM": "America/Dominica",
    "DO": "America/Santo_Domingo",
    "GD": "America/Grenada",
    "GU": "Pacific/Guam",
    "JM": "America/Jamaica",
    "KN": "America/St_Kitts",
    "KY": "America/Cayman",
    "LC": "America/St_Lucia",
    "MP": "Pacific/Saipan",
    "MS": "America/Montserrat",
    "PR": "America/Puerto_Rico",
    "SX": "America/Lower_Princes",
    "TC": "America/Grand_Turk",
    "TT": "America/Port_of_Spain",
    "VC": "America/St_Vincent",
    "VG": "America/Tortola",
    "VI": "America/St_Thomas",
    # +7: RU KZ
    "RU": (
        "Asia/Anadyr Asia/Barnaul Asia/Chita Asia/Irkutsk Asia/Kamchatka Asia/Khandyga "
        "Asia/Krasnoyarsk Asia/Magadan Asia/Novokuznetsk Asia/Novosibirsk Asia/Omsk Asia/Sakhalin "
        "Asia/Srednekolymsk Asia/Tomsk Asia/Ust-Nera Asia/Vladivostok Asia/Yakutsk "
        "Asia/Yekaterinburg Europe/Astrakhan Europe/Kaliningrad Europe/Kirov Europe/Moscow "
        "Europe/Samara Europe/Saratov Europe/Ulyanovsk Europe/Volgograd"
    ),
    "KZ": "Asia/Almaty Asia/Aqtau Asia/Aqtobe Asia/Atyrau Asia/Oral Asia/Qostanay Asia/Qyzylorda",
    # +39: IT VA
    "IT": "Europe/Rome",
    "VA": "Europe/Vatican",
    # +44: GB GG IM JE
    "GB": "Europe/London",
    "GG": "Europe/Guernsey",
    "IM": "Europe/Isle_of_Man",
    "JE": "Europe/Jersey",
    # +47: NO SJ
    "NO": "Europe/Oslo",
    "SJ": "Arctic/Longyearbyen",
    # +61: AU CC CX
    "AU": (
        "Antarctica/Macquarie Australia/Adelaide Australia/Brisbane Australia/Broken_Hill "
        "Australia/Darwin Australia/Eucla Australia/Hobart Australia/Lindeman Australia/Lord_Howe "
        "Australia/Melbourne Australia/Perth Australia/Sydney"
    ),
    "CC": "Indian/Cocos",
    "CX": "Indian/Christmas",
    # +212: MA EH
    "MA": "Africa/Casablanca",
    "EH": "Africa/El_Aaiun",
    # +262: RE YT
    "RE": "Indian/Reunion",
    "YT": "Indian/Mayotte",
    # +290: SH TA
    "SH": "Atlantic/St_Helena",
    # +358: FI AX
    "FI": "Europe/Helsinki",
    "AX": "Europe/Mariehamn",
    # +590: GP BL MF
    "GP": "America/Guadeloupe",
    "BL": "America/St_Barthelemy",
    "MF": "America/Marigot",
    # +599: CW BQ
    "CW": "America/Curacao",
    "BQ": "America/Kralendijk",
}


@cache
def region_zones(region: str) -> tuple[str, ...]:
    """`"BB"` -> `("America/Barbados",)`; `()` for a region not in the table."""
    return tuple(_ZONES.get(region, "").split())
