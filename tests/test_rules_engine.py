"""The engine and calling rules, with a clock set just before a rule opens: a row outside its
rule waits (pending, due at the rule's opening, its error naming the rule), is called once the
rule allows it (and the wait is then forgotten), in both stores, against the simulator over HTTP.
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from campaigns.dialing.rules_file import read_rules
from campaigns.store.rows import RowStatus, RowStore
from tests.cli_support import wait_until
from tests.engine_support import (
    CID,
    OffsetClock,
    create,
    fast_policy,
    make_engine,
    new_rows,
    run_to_end,
)
from tests.simulator_server import StartSim

NY = ZoneInfo("America/New_York")
OPENS = datetime(2026, 12, 1, 8, 0, tzinfo=NY).timestamp()  # a Tuesday, 08:00 in New York
WAIT_S = 4.0  # the engine's clock starts this long before the Florida rule opens
FLORIDA = ["+17865550100", "+17865550101", "+17865550102"]
NEW_YORK = "+12125550100"  # no rule for New York in this file: --window (any) alone


@pytest.mark.integration
def test_a_row_waits_for_its_rule_then_is_called_when_it_opens(
    tmp_path: Path, api_key: str, start_sim: StartSim, store: RowStore
) -> None:
    rules_path = tmp_path / "rules.toml"
    rules_path.write_text('[rules."US-FL"]\nwindow = "08:00-20:00"\ndays = "mon-sat"\n')
    sim = start_sim(speed=600.0, outcome_weights={"completed": 1.0})
    policy = replace(fast_policy(600.0), rules=read_rules(rules_path))
    create(store, new_rows([*FLORIDA, NEW_YORK], zones=("America/New_York",)), policy)
    clock = OffsetClock(OPENS - WAIT_S - time.time())
    engine = make_engine(store, sim, api_key, policy, clock=clock)

    for _ in range(4):  # each row claimed once: Florida's wait, New York's call
        engine.dial_next()
    waiting = [r for r in store.iter_rows(CID) if r.to_number in FLORIDA]
    assert all(r.status is RowStatus.PENDING and r.not_before == OPENS for r in waiting)
    assert all(
        r.error.startswith("outside calling rule US-FL (08:00-20:00, Mon-Sat)") for r in waiting
    )
    assert [e.to_number for e in sim.sim.audit()] == [NEW_YORK]

    wait_until(lambda: clock.now() >= OPENS, timeout_s=WAIT_S + 5, what="the rule to open")

    def florida_live() -> bool:
        engine.dial_next()
        rows = [r for r in store.iter_rows(CID) if r.to_number in FLORIDA]
        return all(r.status is RowStatus.ACTIVE for r in rows)

    wait_until(florida_live, timeout_s=20, what="Florida's calls")
    live = [r for r in store.iter_rows(CID) if r.to_number in FLORIDA]
    assert [r.error for r in live] == ["", "", ""]  # a live call does not say it waits
    run_to_end(engine, deadline_s=60)
    rows = {r.to_number: r for r in store.iter_rows(CID)}
    assert all(r.status is RowStatus.COMPLETED and r.error == "" for r in rows.values())
    for entry in sim.sim.audit():
        if entry.to_number in FLORIDA:  # the audit's real time, on the engine's clock
            assert entry.created_s + clock.offset_s >= OPENS
