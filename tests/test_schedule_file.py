"""Campaign files: what a TOML file says, and every mistake named by file, campaign and key."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from campaigns.schedule.schedule_file import load_schedule_file
from campaigns.schedule.scheduled_campaign import Missing, run_id
from dialer.errors import InputError
from dialer.settings import Rate

FULL = """
max_attempts_per_number_per_day = 3

[defaults]
agent = "agent_abc123"
timezone = "America/New_York"
window = "09:00-20:00"
skip_reached_within = "7d"

[campaigns.reminders]
schedule = "0 9 * * MON-FRI"
contacts = "data/reminders-{date}.csv"
report = "reports/{name}/{date}.xlsx"
rate = "30/min"
max_active = 5
redial = { busy = 2 }
redial_after = "2h"
variables = ["FirstName", "Balance"]
phone_column = "Mobile"
region = "gb"
timezone_column = "Zone"
suppress = "/srv/dnc.csv"
webhooks = true

[campaigns.surveys]
schedule = "30 14 * * SAT"
timezone = "Europe/London"
contacts = "/srv/surveys.csv"
missing = "fail"
skip_reached_within = "off"
variables = "Name, City"
"""

BASE = """
[campaigns.a]
schedule = "0 9 * * *"
timezone = "UTC"
agent = "agent_1"
contacts = "a.csv"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "campaigns.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_full_file(tmp_path: Path) -> None:
    file = load_schedule_file(write(tmp_path, FULL))
    assert file.names == ["reminders", "surveys"]
    assert file.max_attempts_per_number_per_day == 3
    reminders, surveys = file.campaigns
    day = date(2026, 11, 27)
    assert reminders.run_id(day) == "reminders-2026-11-27"
    assert reminders.contacts_path(day) == tmp_path / "data" / "reminders-2026-11-27.csv"
    assert reminders.report_path(day) == tmp_path / "reports" / "reminders" / "2026-11-27.xlsx"
    assert reminders.zone_name == "America/New_York"
    policy = reminders.policy
    assert (policy.agent_id, policy.max_active, policy.window.text) == (
        "agent_abc123",
        5,
        "09:00-20:00",
    )
    assert policy.agent_rate == Rate(30, 60) and policy.redial == {"busy": 2}
    assert policy.redial_after_s == 7200 and reminders.max_attempts_per_run == 3
    options = reminders.list_options_on(day)
    assert options.variables == ["FirstName", "Balance"] and options.region == "GB"
    assert (options.phone_column, options.timezone_column) == ("Mobile", "Zone")
    assert options.suppress == Path("/srv/dnc.csv")
    assert reminders.skip_reached_within_days == 7 and reminders.missing is Missing.SKIP
    assert reminders.webhooks and not surveys.webhooks
    # the campaign's own values win over [defaults]
    assert surveys.zone_name == "Europe/London" and surveys.skip_reached_within_days is None
    assert surveys.missing is Missing.FAIL and surveys.contacts_path(day) == Path(
        "/srv/surveys.csv"
    )
    assert surveys.report_path(day) == tmp_path / "reports" / "surveys" / "2026-11-27.csv"
    assert surveys.list_options_on(day).variables == ["Name", "City"]
    assert surveys.policy.window.text == "09:00-20:00"  # from [defaults]


def test_the_history_keys(tmp_path: Path) -> None:
    text = BASE + 'recall_after = "2d"\nin_doubt = "unknown"\nmax_calls = "7/7d"\n'
    (campaign,) = load_schedule_file(write(tmp_path, text)).campaigns
    policy = campaign.policy
    assert (policy.recall_after_s, policy.in_doubt, policy.max_calls) == (
        172800.0,
        "unknown",
        "7/7d",
    )
    (default,) = load_schedule_file(write(tmp_path, BASE)).campaigns
    assert default.policy.recall_after_s == 20 * 3600 and default.policy.max_calls == ""


def test_the_example_file_is_valid() -> None:
    example = Path(__file__).resolve().parent.parent / "examples" / "schedule.toml"
    assert load_schedule_file(example).names


def test_run_ids_are_name_and_local_date() -> None:
    assert run_id("reminders", date(2026, 3, 8)) == "reminders-2026-03-08"


@pytest.mark.parametrize(
    ("text", "where", "fragment"),
    [
        (BASE + 'windw = "any"\n', "campaign 'a', key 'windw'", "not a campaign key"),
        (BASE + "max_attempts_per_number_per_day = 1\n", "key 'max_attempts", "top of the file"),
        ('colour = "red"\n' + BASE, "key 'colour'", "not a campaign file key"),
        ('[defaults]\nwindow = "25:00-26:00"\n' + BASE, "[defaults], key 'window'", "HH:MM"),
        ("[defaults]\nfoo = 1\n" + BASE, "[defaults], key 'foo'", "not a campaign key"),
        (BASE.replace("0 9 * * *", "0 9 * *"), "campaign 'a', key 'schedule'", "five fields"),
        (BASE.replace("UTC", "Mars/Base"), "campaign 'a', key 'schedule'", "time zone"),
        (BASE.replace('agent = "agent_1"', ""), "campaign 'a' has no 'agent'", "[defaults]"),
        (BASE.replace("a.csv", "a-{day}.csv"), "campaign 'a', key 'contacts'", "{date}"),
        (BASE.replace("a.csv", "a-{date.csv"), "campaign 'a', key 'contacts'", "brace"),
        (BASE + 'max_active = "ten"\n', "campaign 'a', key 'max_active'", "whole number"),
        (BASE + 'rate = "fast"\n', "campaign 'a', key 'rate'", "N/min"),
        (BASE + 'redial = "busy=x"\n', "campaign 'a', key 'redial'", "busy=N"),
        (BASE + 'redial = { busy = "2" }\n', "campaign 'a', key 'redial'", "whole numbers"),
        (BASE + 'redial_after = "soon"\n', "campaign 'a', key 'redial_after'", "30m"),
        (BASE + 'region = "XX"\n', "campaign 'a', key 'region'", "region code"),
        (BASE + "variables = [1, 2]\n", "campaign 'a', key 'variables'", "column names"),
        (BASE + 'report = "out.txt"\n', "campaign 'a', key 'report'", ".csv or .xlsx"),
        (BASE + 'webhooks = "yes"\n', "campaign 'a', key 'webhooks'", "true or false"),
        (BASE + 'missing = "maybe"\n', "campaign 'a', key 'missing'", '"skip" or "fail"'),
        (BASE + 'skip_reached_within = "36h"\n', "key 'skip_reached_within'", "whole days"),
        (BASE.replace('"agent_1"', "7"), "campaign 'a', key 'agent'", "as text"),
        (BASE + 'recall_after = "soon"\n', "campaign 'a', key 'recall_after'", "duration"),
        (BASE + 'in_doubt = "maybe"\n', "campaign 'a', key 'in_doubt'", "verify"),
        (BASE + 'max_calls = "7"\n', "campaign 'a', key 'max_calls'", "7/7d"),
        (
            "max_attempts_per_number_per_day = 1\n" + BASE + "redial = { busy = 1 }\n",
            "campaign 'a', key 'redial'",
            "2 times",
        ),
        ("max_attempts_per_number_per_day = 0\n" + BASE, "max_attempts", "at least 1"),
        (BASE.replace("campaigns.a", 'campaigns."a b"'), "campaign 'a b'", "letters, digits"),
        ("[campaigns]\na = 3\n", "campaign 'a'", "must be a table"),
        ("[defaults]\n", "names no campaign", "[campaigns.NAME]"),
        ("[campaigns.a\n", "not valid TOML", "line"),
    ],
)
def test_every_mistake_names_the_file_the_campaign_and_the_key(
    tmp_path: Path, text: str, where: str, fragment: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(InputError) as caught:
        load_schedule_file(path)
    message = str(caught.value)
    assert str(path) in message and where in message and fragment in message, message


def test_a_missing_file_and_an_unknown_campaign_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        load_schedule_file(tmp_path / "nope.toml")
    file = load_schedule_file(write(tmp_path, BASE))
    with pytest.raises(InputError, match="no campaign 'b': its campaigns are a"):
        file.campaign("b")
