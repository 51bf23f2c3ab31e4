"""Bad input through the installed `dialer run`: each refused with exit 2 and one message that
names the file, row, option or variable, and never a traceback.

No API is reachable (VOXPRIA_BASE_URL points at a closed port, no key is set): input is judged
before anything is sent, so a case that reached the API would exit 1 and fail. The cases run as
subprocesses all at once (each mostly waits for its imports), then each is checked on its own.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.cli_support import DIALER, Done, dialer_env

pytestmark = pytest.mark.integration  # runs `dialer` processes (all at once: `make test`
# hands a module to one xdist worker, so they run once)

CORPUS = Path(__file__).parent / "corpus" / "bad"
GOOD_LIST = Path(__file__).parent / "corpus" / "good" / "messy_utf8_comma.csv"
CLOSED_PORT_URL = "http://127.0.0.1:9/api/v1"  # the discard port: nothing listens


@dataclass(frozen=True)
class Case:
    names: str  # what the message must name: the file, row, option or variable
    contacts: Callable[[Path], Path] = lambda tmp: GOOD_LIST
    options: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    usage_error: bool = False  # refused by click's own option parsing (its format)


def corpus(name: str) -> Callable[[Path], Path]:
    return lambda tmp: CORPUS / name


def missing(tmp: Path) -> Path:
    return tmp / "no such list.csv"


CASES = {
    "missing file": Case("no such list.csv", missing),
    "a directory": Case("a_directory.csv", corpus("a_directory.csv")),
    "empty file": Case("empty.csv", corpus("empty.csv")),
    "blank lines only": Case("blank_lines_only.csv", corpus("blank_lines_only.csv")),
    "header only": Case("header_only.csv", corpus("header_only.csv")),
    "binary file": Case("binary.csv", corpus("binary.csv")),
    "ragged row": Case("row 3", corpus("ragged_row.csv")),
    "unclosed quote": Case("unclosed_quote.csv: cannot read line", corpus("unclosed_quote.csv")),
    "not an xlsx": Case("not_really.xlsx", corpus("not_really.xlsx")),
    "no phone column": Case("--phone-column", corpus("no_phone_column.csv")),
    "bad --region": Case("--region", options=("--region", "XX")),
    "bad --phone-column": Case("--phone-column 'Mobile'", options=("--phone-column", "Mobile")),
    "bad --window": Case("--window", options=("--window", "25:00-26:00")),
    "bad --rate": Case("--rate", options=("--rate", "fast")),
    "bad --redial": Case("--redial", options=("--redial", "busy=x")),
    "bad --redial-after": Case("--redial-after", options=("--redial-after", "soon")),
    "bad --recall-after": Case("--recall-after", options=("--recall-after", "soon")),
    "bad --in-doubt": Case("--in-doubt", options=("--in-doubt", "maybe")),
    "bad --report extension": Case("--report", options=("--report", "outcomes.txt")),
    "bad --campaign": Case("--campaign", options=("--campaign", "no spaces please")),
    "bad --suppress file": Case("suppress_binary.txt", options=("--suppress", "SUPPRESS")),
    "a campaign file as --rules": Case(  # a likely mix-up: the keys are not a rules file's
        "schedule.toml: unknown key",
        options=("--rules", str(Path(__file__).parent.parent / "examples" / "schedule.toml")),
    ),
    "DIALER_MAX_CALLS=often": Case("DIALER_MAX_CALLS", env={"DIALER_MAX_CALLS": "often"}),
    "bad --max-active": Case("--max-active", options=("--max-active", "0"), usage_error=True),
    "no --agent": Case("--agent", options=("--no-agent",), usage_error=True),
    "VOXPRIA_CALL_LIMIT=fast": Case("VOXPRIA_CALL_LIMIT", env={"VOXPRIA_CALL_LIMIT": "fast"}),
    "VOXPRIA_REQUEST_LIMIT=1000": Case(
        "VOXPRIA_REQUEST_LIMIT", env={"VOXPRIA_REQUEST_LIMIT": "1000"}
    ),
}


def command(case: Case, tmp: Path) -> list[str]:
    options = [o.replace("SUPPRESS", str(CORPUS / "suppress_binary.txt")) for o in case.options]
    agent = [] if "--no-agent" in options else ["--agent", "agent_demo"]
    options = [o for o in options if o != "--no-agent"]
    report = ["--report", str(tmp / "out.csv")] if "--report" not in options else []
    return [str(DIALER), "run", str(case.contacts(tmp)), *agent, *report, *options]


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Done]:
    """Every case run at once; the results by case name."""
    tmp = tmp_path_factory.mktemp("cli-input")
    running = {}
    for name, case in CASES.items():
        env = dialer_env(tmp / "home", base_url=CLOSED_PORT_URL, **case.env)
        running[name] = subprocess.Popen(
            command(case, tmp),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
    results = {}
    for name, proc in running.items():
        stdout, stderr = proc.communicate(timeout=60)
        results[name] = Done(proc.returncode, stdout, stderr, 0.0)
    return results


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_exits_2_with_one_message(name: str, outcomes: dict[str, Done]) -> None:
    case, done = CASES[name], outcomes[name]
    assert done.returncode == 2, done.output
    assert "Traceback" not in done.stdout + done.stderr, done.output
    assert done.stdout == "", f"printed more than the error:\n{done.output}"
    assert case.names in done.stderr, done.output
    if case.usage_error:
        assert done.stderr.count("Error:") == 1, done.output
    else:
        assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1, done.output
