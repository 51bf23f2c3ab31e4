"""Memory across runs, read from the store: numbers reached lately, calls made today. On every
store (conftest's `store`: SQLite, Redis on fakeredis and on a real server)."""

from __future__ import annotations

from datetime import date, timedelta

from campaigns.schedule.memory import Recall, apply_memory, remember
from campaigns.store.rows import NewRow, RowStatus, RowStore
from tests.test_schedule_support import Outcome, stored_run, us_numbers

TODAY = date(2026, 11, 27)
NAMES = ("reminders", "surveys")
A, B, C, D = us_numbers(4)


def recall(**rules: object) -> Recall:
    base: dict[str, object] = {
        "names": NAMES,
        "day": TODAY,
        "own_id": f"reminders-{TODAY}",
    }
    return Recall(**{**base, **rules})  # type: ignore[arg-type]


def days_ago(n: int) -> date:
    return TODAY - timedelta(days=n)


def test_a_number_reached_yesterday_is_skipped_today(store: RowStore) -> None:
    stored_run(store, "reminders", days_ago(1), [Outcome(A), Outcome(B, "no_answer")])
    memory = remember(store, recall(reached_within_days=7))
    assert memory.skip_reason(A) == "reached on 2026-11-26 by reminders"
    assert memory.skip_reason(B) is None  # called, not reached


def test_reached_by_any_campaign_of_the_file_and_the_latest_reach_is_named(
    store: RowStore,
) -> None:
    stored_run(store, "reminders", days_ago(5), [Outcome(A)])
    stored_run(store, "surveys", days_ago(2), [Outcome(A), Outcome(B)])
    stored_run(store, "elsewhere", days_ago(1), [Outcome(C)])  # not a campaign of the file
    memory = remember(store, recall(reached_within_days=7))
    assert memory.skip_reason(A) == "reached on 2026-11-25 by surveys"
    assert memory.skip_reason(B) == "reached on 2026-11-25 by surveys"
    assert memory.skip_reason(C) is None


def test_the_period_is_the_last_n_local_dates_today_included(store: RowStore) -> None:
    stored_run(store, "surveys", days_ago(7), [Outcome(A)])  # eight dates back counting today
    stored_run(store, "surveys", days_ago(6), [Outcome(B)])
    stored_run(store, "surveys", TODAY, [Outcome(C)])  # another campaign, earlier today
    memory = remember(store, recall(reached_within_days=7))
    assert memory.skip_reason(A) is None
    assert memory.skip_reason(B) == "reached on 2026-11-21 by surveys"
    assert memory.skip_reason(C) == "reached on 2026-11-27 by surveys"
    assert remember(store, recall()).reached == {}  # skip_reached_within off


def test_the_run_being_started_is_not_its_own_memory(store: RowStore) -> None:
    stored_run(store, "reminders", TODAY, [Outcome(A, calls=2)])  # resumed: same id
    memory = remember(store, recall(reached_within_days=7, max_calls_per_day=2))
    assert memory.skip_reason(A) is None


def test_calls_today_across_the_files_campaigns_reach_the_cap(store: RowStore) -> None:
    stored_run(store, "surveys", TODAY, [Outcome(A, "busy", calls=2), Outcome(B, "busy")])
    stored_run(store, "reminders", days_ago(1), [Outcome(C, "busy", calls=2)])  # yesterday
    memory = remember(store, recall(max_calls_per_day=2))
    assert memory.skip_reason(A) == "already called 2 times today"
    assert memory.skip_reason(B) is None  # one call so far: this run's one call makes two
    assert memory.skip_reason(C) is None


def test_a_run_whose_redials_could_pass_the_cap_skips_the_number(store: RowStore) -> None:
    stored_run(store, "surveys", TODAY, [Outcome(A, "busy")])
    memory = remember(store, recall(max_calls_per_day=3, calls_per_run=3))
    reason = memory.skip_reason(A)
    assert reason is not None and reason.startswith("already called 1 time today: this run's")


def test_memory_marks_only_callable_rows_suppressed_with_the_reason(store: RowStore) -> None:
    stored_run(store, "reminders", days_ago(1), [Outcome(A), Outcome(B)])
    rows = [
        NewRow(0, ["x", A], A, RowStatus.PENDING),
        NewRow(1, ["y", B], B, RowStatus.DUPLICATE, error="same number as row 5"),
        NewRow(2, ["z", C], C, RowStatus.PENDING),
        NewRow(3, ["w", "12"], "", RowStatus.INVALID, error="too short"),
    ]
    out = list(apply_memory(rows, remember(store, recall(reached_within_days=7))))
    assert [(r.status, r.error) for r in out] == [
        (RowStatus.SUPPRESSED, "reached on 2026-11-26 by reminders"),
        (RowStatus.DUPLICATE, "same number as row 5"),
        (RowStatus.PENDING, ""),
        (RowStatus.INVALID, "too short"),
    ]
    assert out[0].cells == ["x", A]
