"""The million-row measurement's jobs and floors, each run in a process of its own (so its
peak memory is its own), under `tests.bench.measure`:

    python -m tests.bench.million_job load-redis LIST DB     # a 1M list into the Redis store
    python -m tests.bench.million_job pandas LIST OUT.csv    # floor: read_csv + to_csv
    python -m tests.bench.million_job phonenumbers LIST      # floor: a plain phonenumbers loop

The floors do the least work a program could do on the same file: pandas reads every cell as
text and writes it back out; the phonenumbers loop parses every number of the phone column
and asks whether it is valid (what any validation must at least do).
"""

from __future__ import annotations

import csv
import sys
import time
from pathlib import Path

import redis

from campaigns.lists.contacts import ListOptions, open_contact_list
from campaigns.lists.list_pass import read_list
from campaigns.store.redis_store import RedisStore
from campaigns.store.rows import CampaignMeta
from dialer.keys import RedisKeys
from tests.bench.redis_db import db_url

LOAD_PREFIX = "bench-load"


def load_redis(path: Path, db: int) -> None:
    """What a cluster run does with its list before the first call: read, judge, store."""
    # A generous read timeout: a 5,000-row pipeline on a busy shared Redis can take a while.
    client: redis.Redis[str] = redis.Redis.from_url(
        db_url(db), decode_responses=True, socket_timeout=300
    )
    try:
        store = RedisStore(client, RedisKeys(f"{LOAD_PREFIX}-{time.time_ns()}"))
        contacts = open_contact_list(path, ListOptions())
        meta = CampaignMeta("load", "agent_bench", str(path), list(contacts.headers), {})
        if not store.create_campaign(meta, read_list(contacts)):
            raise SystemExit("the campaign existed already")
    finally:
        client.close()


def pandas_copy(path: Path, out: Path) -> None:
    import pandas as pd

    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.to_csv(out, index=False)


def phonenumbers_loop(path: Path) -> None:
    import phonenumbers

    valid = 0
    with path.open(encoding="utf-8", newline="") as file:
        reader = csv.reader(file)
        column = next(reader).index("phone")
        for cells in reader:
            try:
                number = phonenumbers.parse(cells[column], "US")
            except phonenumbers.NumberParseException:
                continue
            valid += phonenumbers.is_valid_number(number)
    if not valid:
        raise SystemExit(f"{path}: no valid number")


def main(argv: list[str]) -> None:
    match argv[1:]:
        case ["load-redis", path, db]:
            load_redis(Path(path), int(db))
        case ["pandas", path, out]:
            pandas_copy(Path(path), Path(out))
        case ["phonenumbers", path]:
            phonenumbers_loop(Path(path))
        case _:
            raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
