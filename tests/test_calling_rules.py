"""Calling rules per place (`--rules FILE`): the file's reader refuses every mistake with one
message naming the file, the rule and what to write; the most specific rule governs a number;
a rule's window, days and dates hold together with `--window`, in every zone of the number."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import phonenumbers
import pytest
from phonenumbers.geodata import GEOCODE_DATA

from campaigns.dialing.calling_gate import CallingGate, next_allowed, window_text
from campaigns.dialing.policy import DialPolicy
from campaigns.dialing.rules import CallingRules
from campaigns.dialing.rules_file import MAX_RULES_FILE_BYTES, read_rules, rules_from_json
from campaigns.dialing.windows import CallingWindow
from campaigns.lists.nanp_areas import places_of_area_code
from campaigns.plan import PlanTally, build_plan, format_plan
from campaigns.schedule.schedule_file import load_schedule_file
from campaigns.store.rows import NewRow, RowStatus
from dialer.errors import InputError

EXAMPLE = Path(__file__).parent.parent / "examples" / "calling-rules.toml"
NY, LA, BERLIN = "America/New_York", "America/Los_Angeles", "Europe/Berlin"
ANY = CallingWindow.parse("any")

RULES = """
[default]
window = "10:00-18:00"

[rules.US]
window = "08:00-21:00"
no_calls_on = ["12-25", "2026-11-26"]

[rules."US-FL"]
window = "08:00-20:00"
days = "mon-sat"

[rules."+1-305"]
window = "09:00-19:00"
days = ["mon", "tue", "wed", "thu", "fri"]

[rules.DE]
days = "mon-sat"
"""


def rules_of(tmp_path: Path, text: str = RULES, name: str = "rules.toml") -> CallingRules:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return read_rules(path)


def at(zone: str, text: str) -> float:
    """Epoch seconds of a local time in a zone: `at(NY, "2026-12-01 08:59")`."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone)).timestamp()


# --- the reader -----------------------------------------------------------------------------


def test_the_example_file_reads_and_says_it_is_no_legal_advice() -> None:
    rules = read_rules(EXAMPLE)
    assert {"US", "US-FL", "+1-305", "DE"} <= set(rules.rules) and rules.default is not None
    assert "NOT LEGAL ADVICE" in EXAMPLE.read_text(encoding="utf-8").splitlines()[0]


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("[rules.US\nwindow = 1", ["not valid TOML", "line"]),
        ('[rules.US]\nwindow = "08:00-21:00"\n[extra]\nx = 1', ["unknown key 'extra'"]),
        ('[rules.US]\nwindows = "08:00-21:00"', ["rule 'US'", "unknown key 'windows'"]),
        ('[rules.US]\nwindow = "25:00-26:00"', ["rule 'US'", '"window"', "HH:MM-HH:MM"]),
        ('[rules.US]\nwindow = "09:00-09:00"', ["rule 'US'", '"window"']),
        ("[rules.US]\nwindow = 9", ["rule 'US'", '"window"', "in quotes"]),
        ('[rules."US-FL"]\ndays = "funday"', ["rule 'US-FL'", '"days"', "'funday' is not a day"]),
        ('[rules."US-FL"]\ndays = []', ["rule 'US-FL'", "at least one day"]),
        ('[rules.DE]\nno_calls_on = ["2026-02-30"]', ["rule 'DE'", "no_calls_on", "2026-02-30"]),
        ('[rules.DE]\nno_calls_on = ["13-01"]', ["rule 'DE'", "'13-01' is not such a date"]),
        ('[rules.DE]\nno_calls_on = "12-25"', ["rule 'DE'", "write a list of dates"]),
        ('[rules."US-ZZ"]\nwindow = "any"', ["'US-ZZ'", "not a US state or Canadian province"]),
        ('[rules.XX]\nwindow = "any"', ["'XX' names no place", '"+1-305"']),
        ('[rules."+1-105"]\nwindow = "any"', ["'+1-105' names no place"]),
        ('[rules.default]\nwindow = "any"', ["write the default rule as [default]"]),
        ('[rules.us]\nwindow = "any"\n[rules.US]\nwindow = "any"', ["given twice"]),
        ("rules = 3", ['"rules" must be tables']),
        ("# nothing", ["no rules"]),
        ('[default]\nwindow = "any"\nnote = 3', ["[default]", '"note"']),
    ],
)
def test_a_bad_rules_file_is_one_message_naming_file_rule_and_fix(
    tmp_path: Path, text: str, names: list[str]
) -> None:
    with pytest.raises(InputError) as caught:
        rules_of(tmp_path, text, name="my rules.toml")
    message = str(caught.value)
    assert message.startswith("--rules ") and "my rules.toml" in message
    assert "\n" not in message
    for name in names:
        assert name in message


def test_a_rules_file_over_a_megabyte_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "huge.toml"
    path.write_text("# " + "x" * MAX_RULES_FILE_BYTES + "\n[rules.US]\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"huge\.toml.*at most 1,000,000 bytes"):
        read_rules(path)


@pytest.mark.parametrize("nesting", ["a = " + "[" * 100_000, "a = " + "{b = " * 50_000])
def test_a_rules_file_nested_thousands_deep_is_one_message(tmp_path: Path, nesting: str) -> None:
    with pytest.raises(InputError, match=r"deep\.toml: nested too deep"):
        rules_of(tmp_path, nesting, name="deep.toml")


def test_a_rules_file_not_utf8_or_missing_is_one_message(tmp_path: Path) -> None:
    path = tmp_path / "latin.toml"
    path.write_bytes('[rules.US]\nnote = "caf\xe9"\n'.encode("latin-1"))
    with pytest.raises(InputError, match=r"latin\.toml: not UTF-8"):
        read_rules(path)
    with pytest.raises(InputError, match=r"gone\.toml: cannot read it"):
        read_rules(tmp_path / "gone.toml")


def test_days_and_dates_in_every_form(tmp_path: Path) -> None:
    rules = rules_of(
        tmp_path,
        '[rules.US]\ndays = "fri-mon, Wednesday"\nno_calls_on = ["02-29", 2026-07-03]\n',
    )
    rule = rules.rules["US"]
    assert rule.days_text == "Mon, Wed, Fri-Sun"
    assert rule.no_calls_on == frozenset({"02-29", "2026-07-03"})


def test_rules_stored_with_the_policy_come_back_the_same(tmp_path: Path) -> None:
    rules = rules_of(tmp_path)
    policy = DialPolicy(agent_id="a", rules=rules)
    again = DialPolicy.from_json(json.loads(json.dumps(policy.to_json())))
    assert again.rules == rules and again == policy
    assert rules_from_json(rules.to_json()) == rules
    assert DialPolicy.from_json({**policy.to_json(), "rules": None}).rules is None


# --- which rule governs a number -------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "rule"),
    [
        ("+13055550100", "+1-305"),  # the area code's own rule
        ("+17865550100", "US-FL"),  # Miami too, but 786 has no rule: the state's
        ("+12125550100", "US"),  # New York: no state rule, the country's
        ("+14155550100", "US"),
        ("+4930123456", "DE"),
        ("+442079460958", "default"),  # no GB rule: the default
        ("+15145550100", "default"),  # Canada: no CA or CA-QC rule
    ],
)
def test_the_most_specific_rule_governs(tmp_path: Path, number: str, rule: str) -> None:
    assert rules_of(tmp_path).name_for(number) == rule


def test_a_shared_country_code_is_told_apart_when_a_rule_needs_it(tmp_path: Path) -> None:
    rules = rules_of(tmp_path, '[rules.GB]\ndays = "mon-fri"\n[rules.AU]\ndays = "mon-sat"\n')
    assert rules.name_for("+442079460958") == "GB"
    assert rules.name_for("+441481256789") == "none"  # Guernsey (+44 1481): not GB's rule
    assert rules.name_for("+61289876543") == "AU"
    assert rules.name_for("+61891621234") == "none"  # the Cocos Islands (+61 8 9162)


def test_without_a_default_a_number_no_rule_matches_has_none(tmp_path: Path) -> None:
    rules = rules_of(tmp_path, '[rules.DE]\ndays = "mon-sat"\n')
    assert rules.governing("+442079460958") == () and rules.name_for("+14155550100") == "none"


def test_an_area_code_of_several_provinces_is_governed_by_each_ones_rule(tmp_path: Path) -> None:
    text = '[rules."CA-NS"]\nwindow = "09:00-20:00"\n[rules.CA]\nwindow = "08:00-21:00"\n'
    rules = rules_of(tmp_path, text)
    # 902: Nova Scotia and Prince Edward Island; PE has no rule, so Canada's governs it
    assert rules.name_for("+19025550100") == "CA-NS+CA"
    assert rules.name_for("+14165550100") == "CA"


def test_the_area_code_table_agrees_with_phonenumbers_geocoder() -> None:
    """Own data, checked: every area code the geocoder names at the area-code level is in the
    table under that state or province (the geocoder's names, not codes, mapped here)."""
    names = {  # the geocoder's names -> ISO 3166-2 codes
        "Alabama": "US-AL",
        "Alaska": "US-AK",
        "Arizona": "US-AZ",
        "Arkansas": "US-AR",
        "California": "US-CA",
        "Colorado": "US-CO",
        "Connecticut": "US-CT",
        "Delaware": "US-DE",
        "Florida": "US-FL",
        "Georgia": "US-GA",
        "Hawaii": "US-HI",
        "Idaho": "US-ID",
        "Illinois": "US-IL",
        "Indiana": "US-IN",
        "Iowa": "US-IA",
        "Kansas": "US-KS",
        "Kentucky": "US-KY",
        "Louisiana": "US-LA",
        "Maine": "US-ME",
        "Maryland": "US-MD",
        "Massachusetts": "US-MA",
        "Michigan": "US-MI",
        "Minnesota": "US-MN",
        "Mississippi": "US-MS",
        "Missouri": "US-MO",
        "Montana": "US-MT",
        "Nebraska": "US-NE",
        "Nevada": "US-NV",
        "New Hampshire": "US-NH",
        "New Jersey": "US-NJ",
        "New Mexico": "US-NM",
        "New York": "US-NY",
        "North Carolina": "US-NC",
        "North Dakota": "US-ND",
        "Ohio": "US-OH",
        "Oklahoma": "US-OK",
        "Oregon": "US-OR",
        "Pennsylvania": "US-PA",
        "Rhode Island": "US-RI",
        "South Carolina": "US-SC",
        "South Dakota": "US-SD",
        "Tennessee": "US-TN",
        "Texas": "US-TX",
        "Utah": "US-UT",
        "Vermont": "US-VT",
        "Virginia": "US-VA",
        "Washington State": "US-WA",
        "West Virginia": "US-WV",
        "Wisconsin": "US-WI",
        "Wyoming": "US-WY",
        "Washington D.C.": "US-DC",
        "Alberta": "CA-AB",
        "British Columbia": "CA-BC",
        "British Colombia": "CA-BC",
        "Manitoba": "CA-MB",
        "New Brunswick": "CA-NB",
        "Newfoundland and Labrador": "CA-NL",
        "Nova Scotia/Prince Edward Island": "CA-NS CA-PE",
        "Ontario": "CA-ON",
        "Quebec": "CA-QC",
        "Saskatchewan": "CA-SK",
        "Northwest Territories/Nunavut/Yukon": "CA-NT CA-NU CA-YT",
    }
    checked = 0
    for npa in range(200, 1000):
        number = phonenumbers.parse(f"+1{npa}5550100")
        region = phonenumbers.region_code_for_number(number)
        description = GEOCODE_DATA.get(f"1{npa}", {}).get("en")
        if region not in ("US", "CA") or not description:
            continue
        expected = names.get(description)
        if expected is None and ", " in description:  # "Miami, FL": the state's code
            expected = f"{region}-{description.rsplit(', ', 1)[1]}"
        assert expected is not None, (npa, description)
        assert places_of_area_code(str(npa)) == tuple(expected.split()), (npa, description)
        checked += 1
    assert checked > 350
    # codes the geocoder has no area-level name for, filled by hand
    assert [places_of_area_code(c) for c in ("203", "310", "713", "718", "905")] == [
        ("US-CT",),
        ("US-CA",),
        ("US-TX",),
        ("US-NY",),
        ("CA-ON",),
    ]
    assert places_of_area_code("800") == ()  # toll-free: no state


# --- the gate: the rule with --window, days, dates, zones ------------------------------------


def test_the_rule_and_the_window_both_apply(tmp_path: Path) -> None:
    gate = CallingGate(CallingWindow.parse("08:30-19:30"), rules_of(tmp_path))
    fl = "+17865550100"  # US-FL: 08:00-20:00 Mon-Sat; with the window: 08:30-19:30
    tue = "2026-12-01"
    assert gate.closed(fl, (NY,), at(NY, f"{tue} 08:30")) is None
    assert gate.closed(fl, (NY,), at(NY, f"{tue} 19:29")) is None
    closed = gate.closed(fl, (NY,), at(NY, f"{tue} 08:10"))
    assert closed is not None and closed.opens_at == at(NY, f"{tue} 08:30")
    assert closed.reason.startswith("outside calling rule US-FL (08:00-20:00, Mon-Sat)")
    assert "--window 08:30-19:30" in closed.reason and "next allowed Tue 2026-12-01 08:30" in (
        closed.reason
    )
    late = gate.closed(fl, (NY,), at(NY, f"{tue} 19:45"))
    assert late is not None and late.opens_at == at(NY, "2026-12-02 08:30")


def test_a_day_without_calls_waits_for_the_next_allowed_day(tmp_path: Path) -> None:
    gate = CallingGate(ANY, rules_of(tmp_path))
    miami = "+13055550100"  # +1-305: 09:00-19:00 Mon-Fri
    closed = gate.closed(miami, (NY,), at(NY, "2026-12-05 10:00"))  # a Saturday
    assert closed is not None and closed.opens_at == at(NY, "2026-12-07 09:00")  # Monday
    assert "Mon-Fri" in closed.reason and "+1-305" in closed.reason
    berlin = "+4930123456"  # DE: any hour, Mon-Sat
    sunday = gate.closed(berlin, (BERLIN,), at(BERLIN, "2026-12-06 12:00"))
    assert sunday is not None and sunday.opens_at == at(BERLIN, "2026-12-07 00:00")


def test_dates_without_calls_yearly_and_once(tmp_path: Path) -> None:
    gate = CallingGate(ANY, rules_of(tmp_path))
    ny = "+12125550100"  # US: 08:00-21:00, not on 12-25 (every year) nor 2026-11-26
    for year in ("2026", "2031"):
        closed = gate.closed(ny, (NY,), at(NY, f"{year}-12-25 12:00"))
        assert closed is not None and closed.opens_at == at(NY, f"{year}-12-26 08:00")
    thanksgiving = gate.closed(ny, (NY,), at(NY, "2026-11-26 12:00"))
    assert thanksgiving is not None and thanksgiving.opens_at == at(NY, "2026-11-27 08:00")
    assert gate.closed(ny, (NY,), at(NY, "2027-11-26 12:00")) is None  # once, not yearly


def test_a_number_in_several_zones_is_called_only_when_all_are_inside(tmp_path: Path) -> None:
    gate = CallingGate(ANY, rules_of(tmp_path))
    us = "+12125550100"  # US: 08:00-21:00; 08:00 in Los Angeles is 11:00 in New York
    closed = gate.closed(us, (NY, LA), at(NY, "2026-12-01 09:00"))
    assert closed is not None and closed.opens_at == at(LA, "2026-12-01 08:00")
    assert gate.closed(us, (NY, LA), at(NY, "2026-12-01 11:00")) is None


def test_rules_and_a_window_that_never_meet_never_allow_a_call(tmp_path: Path) -> None:
    rules = rules_of(tmp_path)
    gate = CallingGate(CallingWindow.parse("06:00-08:00"), rules)  # before US-FL's 08:00
    closed = gate.closed("+17865550100", (NY,), at(NY, "2026-12-01 07:00"))
    assert closed is not None and closed.opens_at is None
    assert "no call allowed in the next 31 days" in closed.reason


def test_without_a_governing_rule_the_window_alone_holds_and_names_nothing(
    tmp_path: Path,
) -> None:
    rules = rules_of(tmp_path, '[rules.DE]\ndays = "mon-sat"\n')
    window = CallingWindow.parse("08:00-21:00")
    gate, plain = CallingGate(window, rules), CallingGate(window, None)
    for g in (gate, plain):
        closed = g.closed("+12125550100", (NY,), at(NY, "2026-12-01 07:00"))
        assert closed is not None and closed.reason == ""
        assert closed.opens_at == window.next_open((NY,), at(NY, "2026-12-01 07:00"))


def test_next_allowed_is_reused_until_it_comes(tmp_path: Path) -> None:
    rules = rules_of(tmp_path)
    gate = CallingGate(ANY, rules)
    saturday = at(NY, "2026-12-05 10:00")
    first = gate.closed("+13055550100", (NY,), saturday)
    again = gate.closed("+13055550199", (NY,), saturday + 3600)
    assert first is not None and again is not None and first.opens_at == again.opens_at
    governing = rules.governing("+13055550100")
    assert next_allowed(ANY, governing, (NY,), saturday + 3600) == first.opens_at


def test_the_attempt_logs_window_names_both(tmp_path: Path) -> None:
    rules = rules_of(tmp_path)
    window = CallingWindow.parse("08:30-21:00")
    assert window_text(window, rules.governing("+17865550100")) == "08:30-20:00, Mon-Sat"
    assert window_text(ANY, rules.governing("+4930123456")) == "any, Mon-Sat"
    late = CallingWindow.parse("20:00-02:00")
    assert window_text(late, rules.governing("+12125550100")) == "20:00-02:00 and 08:00-21:00"


# --- the plan --------------------------------------------------------------------------------


def test_the_plan_counts_ready_rows_by_rule(tmp_path: Path) -> None:
    rules = rules_of(tmp_path)
    numbers = ["+13055550100"] * 2 + ["+17865550100"] * 3 + ["+442079460958"] + ["+12125550100"]
    rows = [NewRow(i, [n], n, RowStatus.PENDING, zones=(NY,)) for i, n in enumerate(numbers)]
    rows.append(NewRow(len(rows), ["x"], "", RowStatus.INVALID))
    tally = PlanTally(rules)
    for row in rows:
        tally.add(row)
    plan = tally.plan(CallingWindow.parse("08:00-21:00"), at(NY, "2026-12-01 09:00"), 10, 100)
    assert plan.rules is not None
    assert [(o.rule, o.ready_rows) for o in plan.rules] == [
        ("US-FL", 3),
        ("+1-305", 2),
        ("default", 1),
        ("US", 1),
    ]
    lines = format_plan(plan).splitlines()
    at_rules = lines.index("Calling rules of ready rows (with --window, in each one's local time):")
    assert lines[at_rules + 1].split() == ["US-FL", "3", "rows", "open", "now"]
    assert lines[at_rules + 3].split()[:4] == ["default", "1", "row", "opens"]  # at 10:00 in NY
    assert "(Tue 10:00 America/New_York)" in lines[at_rules + 3]
    assert build_plan(rows, ANY, 0.0, 10, 100).rules is None  # no rules: no such lines


# --- the campaign-file key -------------------------------------------------------------------

CAMPAIGN_FILE = """
[campaigns.a]
schedule = "0 9 * * *"
timezone = "UTC"
agent = "agent_1"
contacts = "a.csv"
"""


def test_a_campaign_files_rules_key_is_read_relative_to_it(tmp_path: Path) -> None:
    folder = tmp_path / "plans"
    folder.mkdir()
    (folder / "rules").mkdir()
    (folder / "rules" / "places.toml").write_text(RULES, encoding="utf-8")
    path = folder / "campaigns.toml"
    path.write_text(CAMPAIGN_FILE + 'rules = "rules/places.toml"\n', encoding="utf-8")
    (campaign,) = load_schedule_file(path).campaigns
    assert campaign.policy.rules is not None
    assert campaign.policy.rules.name_for("+17865550100") == "US-FL"
    path.write_text(CAMPAIGN_FILE, encoding="utf-8")
    assert load_schedule_file(path).campaigns[0].policy.rules is None


def test_a_bad_rules_file_in_a_campaign_file_names_both(tmp_path: Path) -> None:
    (tmp_path / "places.toml").write_text('[rules.US]\ndays = "someday"\n', encoding="utf-8")
    path = tmp_path / "campaigns.toml"
    path.write_text(CAMPAIGN_FILE + 'rules = "places.toml"\n', encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_schedule_file(path)
    message = str(caught.value)
    assert "campaigns.toml: campaign 'a', key 'rules'" in message
    assert "places.toml: rule 'US'" in message and "'someday' is not a day" in message
