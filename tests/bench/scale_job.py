"""The scale measurement's jobs, each run in a process of its own (so its peak memory is its
own), under `tests.bench.measure`:

    python -m tests.bench.scale_job plan LIST.csv          # the dry run's plan of a list
    python -m tests.bench.scale_job make-store ROWS HOME   # a finished campaign in SQLite

`make-store` writes the rows with one SQL statement (the setup is not what is measured): every
row completed, with every call column filled, the report's worst case.
"""

from __future__ import annotations

import sqlite3
import sys
import time
from pathlib import Path

from campaigns.backends import STATE_FILE
from campaigns.dialing.windows import CallingWindow
from campaigns.lists.contacts import ListOptions
from campaigns.plan import plan_contact_list
from campaigns.store.rows import CampaignMeta, CampaignState
from campaigns.store.sqlite_store import SqliteStore

CAMPAIGN = "bench-report"
HEADERS = ["id", "phone", "first_name", "last_name", "email", "zip"]  # as write_large_list
DOCUMENTED_CALLS_PER_S = 100 / 60
DOCUMENTED_REQUESTS_PER_S = 1000 / 3600

_INSERT_FINAL_ROWS = """
WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i + 1 < :rows)
INSERT INTO rows (cid, idx, cells, to_number, status, variables, zones, attempts, call_id,
                  outcome, duration, started_at, completed_at, recording, transcript)
SELECT :cid, i,
       json_array(printf('%07d', i), '+1212' || (2000000 + i), 'Ann', 'O''Neil, Jr',
                  'a' || i || '@x.org', printf('%05d', i % 100000)),
       '+1212' || (2000000 + i), 'completed',
       json_object('id', printf('%07d', i), 'first_name', 'Ann', 'last_name', 'O''Neil, Jr'),
       '["America/New_York"]', 1, 'call_' || printf('%016x', i * 2654435761), 'successful',
       '120', '2024-07-01T12:00:12.000Z', '2024-07-01T12:02:12.000Z',
       'https://recordings.voxpria.invalid/call_' || printf('%016x', i * 2654435761) || '.mp3',
       'Agent: Hello Ann, this is a call from Voxpria. Customer: Thanks, goodbye.'
FROM seq
"""


def plan(path: Path) -> None:
    """What `dialer run --dry-run` computes before it prints (tests/test_plan.py measures it
    the same way), with the documented limits and the default window."""
    window = CallingWindow.parse("08:00-21:00")
    result = plan_contact_list(
        path, ListOptions(), window, DOCUMENTED_CALLS_PER_S, DOCUMENTED_REQUESTS_PER_S
    )
    if result.rows_read == 0:
        raise SystemExit(f"{path}: no rows planned")


def make_store(rows: int, home: Path) -> None:
    """A finished campaign of `rows` final rows in `home`'s state file, as `dialer report`
    finds it (DIALER_HOME=home)."""
    now = time.time()
    meta = CampaignMeta(
        CAMPAIGN, "agent_demo", "list.csv", HEADERS, {}, CampaignState.FINISHED, "", now, now, now
    )
    store = SqliteStore(home / STATE_FILE)
    try:
        store.create_campaign(meta, [])
        store.update_campaign(CAMPAIGN, total_rows=rows)
    finally:
        store.close()
    with sqlite3.connect(home / STATE_FILE) as db:
        db.execute(_INSERT_FINAL_ROWS, {"rows": rows, "cid": CAMPAIGN})


def main(argv: list[str]) -> None:
    match argv[1:]:
        case ["plan", path]:
            plan(Path(path))
        case ["make-store", rows, home]:
            make_store(int(rows), Path(home))
        case _:
            raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
