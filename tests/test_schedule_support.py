"""Helpers of the test_schedule_* , test_memory and test_export modules (no tests here): runs of
a scheduled campaign stored as the dialer would leave them, campaign files, contact lists."""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from campaigns.dialing.policy import DialPolicy
from campaigns.dialing.windows import CallingWindow
from campaigns.schedule.scheduled_campaign import run_id
from campaigns.store.rows import CampaignMeta, CampaignState, NewRow, RowStatus, RowStore
from dialer.voxpria.models import Call, CallStatus

NOW = 1_800_000_000.0
AGENT = "agent_demo"


@dataclass(frozen=True)
class Outcome:
    """What happened to one row: its final status after `calls` calls (the earlier ones
    unanswered and redialled); `calls=0` leaves it pending."""

    number: str
    status: str = "completed"
    calls: int = 1


def stored_run(
    store: RowStore,
    name: str,
    day: date,
    outcomes: Sequence[Outcome],
    *,
    headers: Sequence[str] = ("Name", "Phone"),
    cells: Sequence[Sequence[str]] | None = None,
    state: CampaignState = CampaignState.FINISHED,
) -> str:
    """`name`'s run of `day` in `store`, its rows called as `outcomes` say; returns its id."""
    cid = run_id(name, day)
    policy = DialPolicy(agent_id=AGENT, window=CallingWindow.parse("any"))
    meta = CampaignMeta(
        cid, AGENT, f"{name}-{day}.csv", list(headers), {"policy": policy.to_json()}
    )
    meta.created_at = meta.started_at = NOW
    rows = [
        NewRow(
            idx,
            list(cells[idx]) if cells else [f"Person {idx}", o.number],
            o.number,
            RowStatus.PENDING,
        )
        for idx, o in enumerate(outcomes)
    ]
    assert store.create_campaign(meta, rows)
    _call(store, cid, {idx: o for idx, o in enumerate(outcomes)})
    ended_at = 0.0 if state is CampaignState.RUNNING else NOW + 3600
    store.update_campaign(cid, state=state, ended_at=ended_at)
    return cid


def _call(store: RowStore, cid: str, plan: Mapping[int, Outcome]) -> None:
    """Each row through the store's own transitions, round by round (a redial is a round)."""
    rounds = max((o.calls for o in plan.values()), default=0)
    for round_ in range(rounds):
        at = NOW + round_
        store.claim(cid, "test", at, 30, limit=100_000)
        for idx, outcome in plan.items():
            if outcome.calls <= round_:
                continue
            assert store.begin_dial(cid, idx, "test", at, 30, max_active=100_000)
            last = round_ == outcome.calls - 1
            status = CallStatus(outcome.status) if last else CallStatus.NO_ANSWER
            call = Call(f"call_{cid}_{idx}_{round_}", status, to_number=outcome.number)
            assert store.call_created(cid, idx, call, at)
            final = RowStatus(status.value)
            assert store.finish(cid, idx, final, call, redial_at=None if last else at + 1)


def write_list(
    path: Path, numbers: Sequence[str], header: Sequence[str] = ("Name", "Phone")
) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        writer.writerows([f"Person {i}", n] for i, n in enumerate(numbers))
    return path


def campaign_file(folder: Path, text: str) -> Path:
    path = folder / "campaigns.toml"
    path.write_text(text, encoding="utf-8")
    return path


def us_numbers(n: int, start: int = 0) -> list[str]:
    """Valid, distinct New York numbers in E.164."""
    return [f"+1212555{i:04d}" for i in range(start, start + n)]
