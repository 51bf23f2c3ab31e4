"""A run's dialing options as a person writes them, whichever door they come by: `dialer run`'s
flags, a campaign file's keys, the page's form fields. One place turns them into the run's
`DialPolicy`, with the same parsers and defaults, so the same text means the same run from any
door; and one place writes a policy back as the `dialer run` flags that make the same run (the
command printed to call a list again)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from campaigns.dialing.policy import (
    DEFAULT_VERIFY_AFTER_S,
    DialPolicy,
    PollPolicy,
    parse_in_doubt,
    parse_redial,
)
from campaigns.dialing.rules import CallingRules
from campaigns.dialing.spend import parse_min_balance
from campaigns.dialing.windows import CallingWindow
from campaigns.lists.contacts import ListOptions
from campaigns.store.history import DEFAULT_RECALL_AFTER_S, CallCap
from dialer.durations import parse_duration_s
from dialer.errors import InputError
from dialer.settings import Rate

DEFAULT_MAX_ACTIVE = 10
DEFAULT_WINDOW = "08:00-21:00"
DEFAULT_REDIAL_AFTER = "30m"
DEFAULT_IN_DOUBT = "verify"
T = TypeVar("T")

# How a door names an option in its messages: `dialer run`'s flags, the campaign file's keys.
FLAGS: Mapping[str, str] = {
    "rate": "--rate",
    "redial": "--redial",
    "redial_after": "--redial-after",
    "recall_after": "--recall-after",
    "in_doubt": "--in-doubt",
    "max_calls": "--max-calls",
    "min_balance": "--min-balance",
}
KEY_NAMES: Mapping[str, str] = {option: option for option in FLAGS}


class OptionError(InputError):
    """A value that cannot be used; `option` says which (a field name of `DialOptions`), so a
    door can say where it was written."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(message)
        self.option = option


@dataclass(frozen=True)
class DialOptions:
    """The options as written (None: not given, the default applies)."""

    agent_id: str
    rate: str | None = None  # None: the account's call limit
    max_active: int = DEFAULT_MAX_ACTIVE
    window: str = DEFAULT_WINDOW
    redial: str | None = None  # busy=N,no_answer=N,failed=N
    redial_after: str = DEFAULT_REDIAL_AFTER
    recall_after: str | None = None  # None: DEFAULT_RECALL_AFTER_S; "0": the guard is off
    in_doubt: str = DEFAULT_IN_DOUBT
    max_calls: str | None = None  # 7/7d
    min_balance: str | None = None
    rules: CallingRules | None = None  # read by the door: its path is relative to that door
    names: Mapping[str, str] = field(default_factory=lambda: FLAGS, compare=False)  # messages

    def policy(
        self, poll: PollPolicy | None = None, verify_after_s: float = DEFAULT_VERIFY_AFTER_S
    ) -> DialPolicy:
        """The run's policy; a wrong value is an OptionError naming the option as `names` do."""
        return DialPolicy(
            agent_id=self.agent_id,
            agent_rate=self._parsed("rate", lambda t, n: Rate.parse(t, name=n), self.rate),
            max_active=self.max_active,
            window=self._given("window", lambda t, n: CallingWindow.parse(t), self.window),
            redial=self._parsed("redial", lambda t, n: parse_redial(t), self.redial) or {},
            redial_after_s=self._duration("redial_after", self.redial_after),
            poll=poll or PollPolicy(),
            recall_after_s=DEFAULT_RECALL_AFTER_S
            if self.recall_after is None
            else self._duration("recall_after", self.recall_after),
            in_doubt=self._given("in_doubt", lambda t, n: parse_in_doubt(t), self.in_doubt),
            verify_after_s=verify_after_s,
            max_calls=self._parsed(
                "max_calls", lambda t, n: CallCap.parse(t, name=n).text, self.max_calls
            )
            or "",
            min_balance=self._parsed(
                "min_balance", lambda t, n: parse_min_balance(t, name=n), self.min_balance
            ),
            rules=self.rules,
        )

    def _duration(self, option: str, text: str) -> float:
        return self._given(option, lambda t, n: parse_duration_s(t, name=n), text)

    def _parsed(self, option: str, parse: Callable[[str, str], T], text: str | None) -> T | None:
        return None if text is None else self._given(option, parse, text)

    def _given(self, option: str, parse: Callable[[str, str], T], text: str) -> T:
        """`parse(text, the option's name)`; its InputError said as an OptionError."""
        try:
            return parse(text, self.names.get(option, option))
        except InputError as exc:
            raise OptionError(option, str(exc)) from None


def run_flags(
    policy: DialPolicy, list_options: ListOptions, *, webhooks: bool = False
) -> list[str]:
    """The `dialer run` flags (after its CONTACTS) that call a list as `policy` and
    `list_options` say; the defaults are left out."""
    words = ["--agent", policy.agent_id]
    words += ["--window", policy.window.text, "--max-active", str(policy.max_active)]
    if policy.agent_rate is not None:
        words += ["--rate", str(policy.agent_rate)]
    if policy.redial:
        words += ["--redial", ",".join(f"{s}={n}" for s, n in policy.redial.items())]
        words += ["--redial-after", f"{policy.redial_after_s:g}s"]
    if policy.recall_after_s != DEFAULT_RECALL_AFTER_S:
        words += ["--recall-after", f"{policy.recall_after_s:g}s"]
    if policy.in_doubt != DEFAULT_IN_DOUBT:
        words += ["--in-doubt", policy.in_doubt]
    if policy.max_calls:
        words += ["--max-calls", policy.max_calls]
    if policy.min_balance is not None:
        words += ["--min-balance", f"{policy.min_balance:g}"]
    if policy.rules is not None:
        words += ["--rules", policy.rules.source]
    if webhooks:
        words.append("--webhooks")
    return words + _list_flags(list_options)


def _list_flags(options: ListOptions) -> list[str]:
    words: list[str] = []
    for flag, value in (
        ("--phone-column", options.phone_column),
        ("--region", options.region),
        ("--variables", ",".join(options.variables) if options.variables else None),
        ("--timezone-column", options.timezone_column),
        ("--suppress", str(options.suppress) if options.suppress else None),
    ):
        if value:
            words += [flag, value]
    return words
