"""A quick CLI: `dialer --help` and `--version` load no command's heavy imports (each command
imports what it needs when it runs), and the commands of other modules, imported only when
they run, are listed with their own help. The start time itself is measured by `make bench`."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest

from dialer.cli.lazy import LazyGroup
from dialer.cli.main import cli
from tests.cli_support import DIALER

# What costs start-up time and no `--help` needs (measured with python -X importtime).
HEAVY = (
    "openpyxl",
    "xlsxwriter",
    "phonenumbers",
    "httpx",
    "redis",
    "celery",
    "starlette",
    "uvicorn",
    "rich",
    "charset_normalizer",
    "campaigns.lists.contacts",
    "campaigns.report.writer",
    "dialer.cli.run",
    "importlib.metadata",  # the version is dialer.__version__
    "sqlite3",
)


@pytest.mark.parametrize("argv", [["--help"], ["--version"]], ids=" ".join)
@pytest.mark.integration
def test_help_and_version_import_nothing_heavy(argv: list[str]) -> None:
    probe = (
        "import sys\n"
        "from dialer.cli.main import cli\n"
        "try:\n"
        f"    cli.main({argv!r}, standalone_mode=False)\n"
        "finally:\n"
        f"    print(sorted(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stderr.strip().splitlines()[-1] == "[]", done.stderr
    assert done.stdout  # the help or the version was printed


@pytest.mark.integration  # importing every command's module may start a helper process
def test_lazy_commands_are_listed_with_their_own_help() -> None:
    assert isinstance(cli, LazyGroup) and cli.lazy
    for name, lazy in cli.lazy.items():
        command = lazy.load()
        own = command.get_short_help_str(limit=1000)
        listed = click.Command(name, help=lazy.short_help).get_short_help_str(limit=1000)
        assert listed == own, f"`dialer --help` lists {name} as {listed!r}; its help: {own!r}"


@pytest.mark.integration
def test_help_lists_every_command_and_each_one_runs_its_own_help() -> None:
    done = subprocess.run([DIALER, "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    ctx = click.Context(cli)
    for name in cli.list_commands(ctx):
        assert f"  {name} " in done.stdout
    for name in cli.lazy:
        sub = subprocess.run([DIALER, name, "--help"], capture_output=True, text=True, timeout=60)
        assert sub.returncode == 0 and "Usage:" in sub.stdout, sub.stderr
