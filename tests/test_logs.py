"""Log lines: human by default, one JSON object per line with DIALER_LOG_FORMAT=json, the
campaign/row/call/event fields on the records that have them, and no secret ever written."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from dialer.errors import SettingsError
from dialer.logs import log_context, setup_logging
from dialer.settings import Settings

KEY = "agl_sk_live_" + "9f8e7d6c5b4a" * 2


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.captureWarnings(False)


def test_json_lines_carry_the_context_and_parse_one_by_one(restore_logging: None) -> None:
    out = io.StringIO()
    setup_logging(logging.INFO, "json", [KEY], stream=out)
    log = logging.getLogger("dialer.engine")
    with log_context(campaign="camp-1"):
        log.info("call created", extra={"event": "call_created", "row": 7, "call_id": "c_1"})
        log.warning("two\nlines, and the key %s", KEY)
    try:
        raise RuntimeError(f"the API said no to {KEY}")
    except RuntimeError:
        log.exception("failed")
    log.info("outside any campaign")
    text = out.getvalue()
    entries = [json.loads(line) for line in text.splitlines()]
    assert len(entries) == 4
    first = entries[0]
    assert (first["campaign"], first["row"], first["call_id"], first["event"]) == (
        "camp-1", 7, "c_1", "call_created",
    )  # fmt: skip
    assert entries[1]["campaign"] == "camp-1" and "two\nlines" in entries[1]["message"]
    assert "RuntimeError" in entries[2]["exc"]
    assert "campaign" not in entries[3]
    assert KEY not in text and "********" in text


def test_text_is_the_default_and_redacts_too(restore_logging: None) -> None:
    assert Settings.from_env({}).log_format == "text"
    out = io.StringIO()
    setup_logging(logging.INFO, Settings.from_env({}).log_format, [KEY], stream=out)
    logging.getLogger("dialer.x").info("sent with %s", KEY)
    line = out.getvalue().strip()
    assert line.endswith("INFO dialer.x: sent with ********")
    with pytest.raises(json.JSONDecodeError):
        json.loads(line)


@pytest.mark.parametrize(
    ("name", "value"),
    [("DIALER_LOG_FORMAT", "xml"), ("DIALER_METRICS_PORT", "http"),
     ("DIALER_METRICS_PORT", "70000"), ("DIALER_SHIFT_QUEUE", "a queue")],
)  # fmt: skip
def test_a_bad_operations_setting_is_named(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


@pytest.mark.integration
def test_the_cli_refuses_a_bad_log_format_with_exit_2(tmp_path: Path) -> None:
    dialer = str(Path(sys.executable).with_name("dialer"))
    env = {"DIALER_LOG_FORMAT": "yaml", "DIALER_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([dialer, "status"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "DIALER_LOG_FORMAT='yaml'" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.integration
def test_a_json_run_logs_json_and_never_the_key(tmp_path: Path) -> None:
    """`dialer run --simulate --verbose` with JSON logs: every log line on stderr is an object."""
    dialer = str(Path(sys.executable).with_name("dialer"))
    contacts = tmp_path / "list.csv"
    contacts.write_text("name,phone\n" + "".join(f"P{i},+1212555{i:04d}\n" for i in range(5)))
    env = {
        "DIALER_LOG_FORMAT": "json", "DIALER_HOME": str(tmp_path / "state"),
        "VOXPRIA_API_KEY": KEY, "VOXPRIA_CALL_LIMIT": "20/s", "VOXPRIA_REQUEST_LIMIT": "100/s",
        "PATH": "/usr/bin:/bin",
    }  # fmt: skip
    done = subprocess.run(
        [dialer, "run", str(contacts), "--agent", "agent_demo", "--simulate", "--window", "any",
         "--quiet", "--verbose"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert KEY not in done.stderr + done.stdout
    entries = [json.loads(line) for line in done.stderr.splitlines()]
    assert any(e.get("event") == "call_created" and e.get("row") for e in entries)
