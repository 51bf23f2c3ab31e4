"""`make bench`: the dialer measured beside the alternatives, side by side, in one run.

    python -m tests.bench.run [--quick]

One module per measurement, each a `measure(...)` function returning plain results:
- `pacing`: share of the allowed call rate used, and the worst sliding window of starts;
- `economy`: API requests per completed call, and the calls a 1,000 requests/h budget allows;
- `ceiling`: calls created per second with no limits, beside a bare Celery no-op task;
- `scale`: dry run, CSV and XLSX report time and peak memory; Redis memory per row.

Everything runs on this machine against the built-in simulator over real HTTP, served in the
bench process. The dialer runs as users run it: `dialer run` (embedded) and `dialer worker`
processes (cluster). The alternatives are `plain_loop` (the loop the Calls API page suggests)
and `celery_ratelimit` (Celery's own `rate_limit`, and a no-op task for the ceiling).

Redis: 127.0.0.1:6379, databases of the bench's own only (`redis_db`): 12 for the dialer's
cluster, 13 for the Celery alternatives, 14 for the store's memory per row (15 in the smoke
test). A database is used only when empty or marked as the bench's, and flushed before and
after; database 0 is never touched. Every process started is killed at the end (`procs`).
"""
