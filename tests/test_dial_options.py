"""One place builds a run's options (campaigns/dial_options.py): the same values written as
`dialer run` flags, as campaign-file keys or as the page's fields make the same policy, and the
flags printed to call a list again make the policy they were written from."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from campaigns.dial_options import DialOptions, OptionError, run_flags
from campaigns.dialing.policy import DialPolicy
from campaigns.lists.contacts import ListOptions
from campaigns.schedule.schedule_file import load_schedule_file
from dialer.cli.main import dial_options
from dialer.cli.main import run as run_command
from dialer.errors import InputError
from dialer.settings import Settings
from dialer.web.drafts import DraftOptions

FLAGS = [
    "--agent", "agent_x", "--rate", "30/min", "--max-active", "4", "--window", "09:00-17:00",
    "--redial", "busy=2,no_answer=1", "--redial-after", "45m", "--recall-after", "2h",
    "--in-doubt", "unknown", "--max-calls", "7/7d", "--min-balance", "5",
]  # fmt: skip


def flags_params(words: list[str]) -> dict[str, object]:
    """`dialer run list.csv WORDS` as click reads it."""
    return dict(run_command.make_context("run", ["list.csv", *words]).params)


def flags_policy(words: list[str]) -> DialPolicy:
    return dial_options(flags_params(words)).policy()


def test_flags_and_file_keys_make_the_same_policy(tmp_path: Path) -> None:
    file = tmp_path / "campaigns.toml"
    file.write_text(
        "[campaigns.reminders]\n"
        'schedule = "0 9 * * *"\ntimezone = "UTC"\ncontacts = "list-{date}.csv"\n'
        'agent = "agent_x"\nrate = "30/min"\nmax_active = 4\nwindow = "09:00-17:00"\n'
        'redial = { busy = 2, no_answer = 1 }\nredial_after = "45m"\nrecall_after = "2h"\n'
        'in_doubt = "unknown"\nmax_calls = "7/7d"\nmin_balance = "5"\n',
        encoding="utf-8",
    )
    from_file = load_schedule_file(file).campaign("reminders").policy
    assert from_file == flags_policy(FLAGS)


def test_the_page_fields_make_the_policy_of_the_same_flags() -> None:
    fields = DraftOptions(
        agent_id="agent_x",
        rate="30/min",
        max_active="4",
        window="09:00-17:00",
        redial={"busy": "2", "no_answer": "1", "failed": "0"},
        redial_after="45m",
        recall_after="2h",
    )
    page = fields.policy(Settings())
    words = FLAGS[: FLAGS.index("--in-doubt")]  # the page has no in-doubt, cap or balance field
    assert page == replace(flags_policy(words), poll=page.poll)  # polls: from the settings


def test_the_flags_printed_for_a_policy_make_that_policy() -> None:
    policy = flags_policy(FLAGS)
    words = run_flags(policy, ListOptions(region="GB", phone_column="Mobile"))
    assert flags_policy(words) == policy
    params = flags_params(words)
    assert (params["region"], params["phone_column"]) == ("GB", "Mobile")


def test_a_wrong_value_names_the_option_as_its_door_does() -> None:
    with pytest.raises(OptionError, match=r"^--redial-after 'soon'") as flag:
        DialOptions("agent_x", redial_after="soon").policy()
    assert flag.value.option == "redial_after"
    with pytest.raises(InputError, match=r"^Redial after 'soon'"):
        DraftOptions(agent_id="agent_x", redial_after="soon").policy(Settings())
