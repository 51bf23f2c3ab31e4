"""A plan on the page runs in a child process with a deadline (issue 15).

Before: the plan ran in a thread of `dialer serve`; a list built to be slow (a 4.9 KB .xlsx
declaring A1:XFD1048576) kept the page from answering for hours, and SIGTERM left the server
waiting for that request (it stopped only when the plan ended). After: past
DIALER_UI_PLAN_TIMEOUT_S the child is killed and the page says what to do; SIGTERM stops the
server within its grace period, the child with it, and nothing is left behind.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.cli_support import DIALER, dialer_env, wait_until
from tests.test_web_serve import free_port
from tests.web_support import TOKEN, WebServer, csrf_of, signed_in, web_server, web_settings

pytestmark = pytest.mark.integration

SLOW_ROWS = 300_000  # a plan of several seconds on any machine: longer than the deadlines here


def slow_csv(path: Path, rows: int = SLOW_ROWS) -> Path:
    with path.open("w", encoding="utf-8") as out:
        out.write("Name,Phone\n")
        out.writelines(f"Person {i},+1206{i % 10_000_000:07d}\n" for i in range(rows))
    return path


def dimension_bomb(path: Path) -> Path:
    """A tiny .xlsx whose <dimension> claims every cell of a sheet (A1:XFD1048576)."""
    sheet = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<dimension ref="A1:XFD1048576"/><sheetData>'
        '<row r="1"><c r="A1" t="inlineStr"><is><t>Phone</t></is></c></row>'
        '<row r="2"><c r="A2" t="inlineStr"><is><t>+12064513657</t></is></c></row>'
        # the sheet's last row: a reader that fills the gap builds a million 16,384-cell rows
        '<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>x</t></is></c></row>'
        "</sheetData></worksheet>"
    )
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
            'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
        ),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
        ),
        "xl/worksheets/sheet1.xml": sheet,
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return path


def upload(client: httpx.Client, path: Path) -> str:
    csrf = csrf_of(client.get("/new").text)
    answer = client.post(
        "/new",
        data={"csrf": csrf, "agent_id": "agent_demo", "window": "any"},
        files={"contacts": (path.name, path.read_bytes(), "application/octet-stream")},
    )
    assert answer.status_code == 303, answer.text
    return str(answer.headers["location"])


@pytest.fixture
def quick_deadline(tmp_path: Path, api_key: str) -> Iterator[WebServer]:
    settings = web_settings(tmp_path / "home", None, api_key, ui_plan_timeout_s=1.0)
    with web_server(settings) as server:
        yield server


def test_a_plan_past_its_deadline_is_stopped_and_the_page_says_what_to_do(
    quick_deadline: WebServer, tmp_path: Path
) -> None:
    client = signed_in(quick_deadline.root_url)
    client.timeout = httpx.Timeout(30.0)
    plan_url = upload(client, slow_csv(tmp_path / "slow.csv"))
    page = client.get(plan_url)
    assert page.status_code == 400, page.text
    assert "took longer than 1 s" in page.text and "Split it" in page.text
    assert "DIALER_UI_PLAN_TIMEOUT_S" in page.text
    assert str(quick_deadline.settings.home) not in page.text and "uploads/" not in page.text
    assert not _plan_children(os.getpid())  # the child was killed, not left running
    # Start and the list of invalid rows read the list again only once a plan succeeded
    start = client.post(plan_url + "/start", data={"csrf": csrf_of(client.get("/new").text)})
    assert start.status_code == 303 and start.headers["location"] == plan_url
    assert client.get(plan_url + "/invalid").headers["location"] == plan_url


def test_a_dimension_bomb_is_answered_within_the_deadline_never_a_500(
    quick_deadline: WebServer, tmp_path: Path
) -> None:
    client = signed_in(quick_deadline.root_url)
    client.timeout = httpx.Timeout(30.0)
    page = client.get(upload(client, dimension_bomb(tmp_path / "bomb.xlsx")))
    assert page.status_code in (200, 400), page.text
    assert "Traceback" not in page.text and "Internal Server Error" not in page.text


def _plan_children(parent_pid: int) -> list[int]:
    """Live plan child processes of `parent_pid` (read from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = next(line.split()[1] for line in status.splitlines() if line.startswith("PPid"))
        state = next(line.split()[1] for line in status.splitlines() if line.startswith("State"))
        if int(ppid) == parent_pid and b"dialer.web.plan_child" in cmdline and state != "Z":
            found.append(int(entry.name))
    return found


def test_sigterm_stops_dialer_serve_promptly_mid_plan(tmp_path: Path) -> None:
    port = free_port()
    env = dialer_env(tmp_path / "home", DIALER_UI_TOKEN=TOKEN, DIALER_UI_PLAN_TIMEOUT_S="600")
    proc = subprocess.Popen(
        [str(DIALER), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    root = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _answers(root), timeout_s=30, what="dialer serve to answer")
        client = signed_in(root)
        client.timeout = httpx.Timeout(120.0)
        plan_url = upload(client, slow_csv(tmp_path / "slow.csv", rows=3 * SLOW_ROWS))
        answers: list[object] = []
        asking = threading.Thread(target=lambda: answers.append(_get(client, plan_url)))
        asking.start()
        wait_until(lambda: bool(_plan_children(proc.pid)), timeout_s=30, what="the plan's child")
        children = _plan_children(proc.pid)
        proc.send_signal(signal.SIGTERM)
        wait_until(lambda: proc.poll() is not None, timeout_s=15, what="serve to exit")
        asking.join(30)
    finally:
        if proc.poll() is None:
            proc.kill()
        _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "Server stopped." in err
    assert all(not Path(f"/proc/{pid}").exists() or _zombie(pid) for pid in children)


def _get(client: httpx.Client, url: str) -> object:
    try:
        return client.get(url).status_code
    except httpx.HTTPError as exc:  # the server went away mid-request: expected here
        return exc


def _zombie(pid: int) -> bool:
    try:
        return "State:\tZ" in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True


def _answers(root: str) -> bool:
    try:
        return httpx.get(root + "/healthz", timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False
