"""Starting campaigns the way the page does, without HTTP (`dialer.web.runs`): the same campaign
as `dialer run`'s, Stop and Resume in embedded mode (a thread of this process) and in cluster
mode (a real `dialer worker` on Redis). The simulator's audit, every call it created, is the
ground truth for "called once"."""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from campaigns.backends import Services, open_services
from campaigns.dialing.campaign import derive_campaign_id
from campaigns.dialing.policy import DialPolicy, PollPolicy
from campaigns.dialing.windows import CallingWindow
from campaigns.lists.contacts import ContactList, ListOptions, open_contact_list
from campaigns.store.rows import CampaignState
from dialer.clock import SystemClock
from dialer.settings import Rate, Settings
from dialer.simulator.server import SimulatorHandle
from dialer.web.runs import AlreadyFinished, CampaignRuns, Notice, StartRequest, campaign_id_for
from dialer.web.uploads import UploadFolder
from tests.cli_support import dialer_env, run_dialer, wait_until
from tests.cluster_support import Workers, cluster_env, cluster_url, own_database
from tests.web_support import SPEED, web_settings

pytestmark = pytest.mark.integration

AGENT = "agent_demo"
ROWS = 20


@pytest.fixture
def sim(start_sim: Callable[..., SimulatorHandle]) -> SimulatorHandle:
    return start_sim(speed=SPEED)


def numbers_csv(path: Path, count: int = ROWS) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as file:
        rows = [[f"Person {n}", f"(206) 451-{n:04d}"] for n in range(count)]
        csv.writer(file).writerows([["Name", "Phone"], *rows])
    return path


def policy(settings: Settings, rate: Rate | None = None) -> DialPolicy:
    poll = PollPolicy(settings.poll_min_s, settings.poll_max_s)
    return DialPolicy(AGENT, agent_rate=rate, window=CallingWindow.parse("any"), poll=poll)


def uploaded(home: Path, original: Path) -> ContactList:
    """The list as the page keeps it: under a generated name in the uploads folder."""
    with original.open("rb") as source:
        stored = UploadFolder(home / "uploads").save(source, original.name)
    return open_contact_list(stored.path, ListOptions())


def state(services: Services, cid: str) -> CampaignState | None:
    meta = services.store.get_campaign(cid)
    return meta.state if meta else None


def called_once_each(sim: SimulatorHandle, rows: int = ROWS) -> None:
    calls = Counter(entry.to_number for entry in sim.sim.audit())
    assert len(calls) == rows and set(calls.values()) == {1}, calls


# --- the same campaign as `dialer run` ------------------------------------------------------


def test_a_campaign_started_here_is_the_one_dialer_run_and_dialer_status_see(
    tmp_path: Path, sim: SimulatorHandle, api_key: str
) -> None:
    original = numbers_csv(tmp_path / "lists" / "contacts.csv")
    home = tmp_path / "home"
    settings = web_settings(home, sim, api_key)
    contacts = uploaded(home, original)
    cid = campaign_id_for(contacts, "contacts.csv", AGENT)
    assert cid == derive_campaign_id(open_contact_list(original, ListOptions()), AGENT)
    services = open_services(settings, SystemClock())
    try:
        runs = CampaignRuns(services, SystemClock())
        request = StartRequest(contacts, "contacts.csv", policy(settings, Rate(20, 1)))
        started = runs.start(request)
        again = runs.start(request)  # a second click while it runs starts nothing
        assert again == replace(started, notice=Notice.ALREADY_RUNNING)
        wait_until(
            lambda: state(services, cid) is CampaignState.FINISHED,
            timeout_s=20,
            what="the campaign to finish",
        )
        with pytest.raises(AlreadyFinished, match=f"{cid}-2"):
            runs.start(request)
    finally:
        services.close()
    assert started.campaign_id == cid
    called_once_each(sim)
    env = dialer_env(home, base_url=sim.base_url, api_key=api_key)
    status = run_dialer(["status", cid], env)
    assert status.returncode == 0 and "finished" in status.stdout, status.output
    again = run_dialer(["run", str(original), "--agent", AGENT, "--window", "any"], env)
    assert again.returncode == 0 and "already finished" in again.stdout, again.output
    called_once_each(sim)  # the CLI found the page's campaign: nobody called twice


# --- Stop and Resume ------------------------------------------------------------------------


def test_embedded_stop_then_resume_calls_everyone_once(
    tmp_path: Path, sim: SimulatorHandle, api_key: str
) -> None:
    home = tmp_path / "home"
    settings = web_settings(home, sim, api_key)
    contacts = uploaded(home, numbers_csv(tmp_path / "numbers.csv"))
    services = open_services(settings, SystemClock())
    try:
        runs = CampaignRuns(services, SystemClock())
        request = StartRequest(contacts, "numbers.csv", policy(settings, Rate(10, 1)))
        cid = runs.start(request).campaign_id
        wait_until(lambda: len(sim.sim.audit()) >= 3, timeout_s=10, what="3 calls")
        runs.stop(cid)
        wait_until(
            lambda: state(services, cid) is CampaignState.STOPPED, timeout_s=10, what="the stop"
        )
        assert not runs.is_running_here(cid) and len(sim.sim.audit()) < ROWS
        assert runs.resume(cid).notice is Notice.RESUMED
        wait_until(
            lambda: state(services, cid) is CampaignState.FINISHED,
            timeout_s=20,
            what="the resumed campaign to finish",
        )
    finally:
        services.close()
    called_once_each(sim)


def test_stopping_the_server_leaves_its_runs_stopped_and_resumable(
    tmp_path: Path, sim: SimulatorHandle, api_key: str
) -> None:
    home = tmp_path / "home"
    settings = web_settings(home, sim, api_key)
    contacts = uploaded(home, numbers_csv(tmp_path / "numbers.csv"))
    services = open_services(settings, SystemClock())
    try:
        runs = CampaignRuns(services, SystemClock())
        request = StartRequest(contacts, "numbers.csv", policy(settings, Rate(10, 1)))
        cid = runs.start(request).campaign_id
        wait_until(lambda: len(sim.sim.audit()) >= 2, timeout_s=10, what="2 calls")
        runs.stop_all(timeout_s=5.0)  # what `dialer serve` does after Ctrl-C
        assert state(services, cid) is CampaignState.STOPPED
        assert not runs.is_running_here(cid)
        resumed = CampaignRuns(services, SystemClock())  # the next `dialer serve`
        resumed.resume(cid)
        wait_until(
            lambda: state(services, cid) is CampaignState.FINISHED,
            timeout_s=20,
            what="the resumed campaign to finish",
        )
    finally:
        services.close()
    called_once_each(sim)


def test_cluster_start_stop_resume_through_a_real_worker(
    tmp_path: Path, sim: SimulatorHandle, api_key: str
) -> None:
    with own_database():
        settings = web_settings(tmp_path / "home", sim, api_key, redis_url=cluster_url())
        contacts = uploaded(settings.home, numbers_csv(tmp_path / "numbers.csv"))
        workers = Workers(cluster_env(sim.base_url, api_key, tmp_path), tmp_path)
        services = open_services(settings, SystemClock())
        try:
            workers.start(1)
            runs = CampaignRuns(services, SystemClock())
            request = StartRequest(contacts, "numbers.csv", policy(settings, Rate(10, 1)))
            cid = runs.start(request).campaign_id
            wait_until(lambda: len(sim.sim.audit()) >= 3, timeout_s=30, what="3 calls")
            runs.stop(cid)  # as the CLI's Ctrl-C: the state says stopping, the workers end it
            assert state(services, cid) is CampaignState.STOPPING
            wait_until(
                lambda: state(services, cid) is CampaignState.STOPPED,
                timeout_s=20,
                what="the workers to stop it",
            )
            assert len(sim.sim.audit()) < ROWS
            runs.resume(cid)
            wait_until(
                lambda: state(services, cid) is CampaignState.FINISHED,
                timeout_s=30,
                what="the workers to finish it",
            )
        finally:
            workers.stop_all()
            services.close()
    called_once_each(sim)
