"""Run one command and write its wall time and peak memory as JSON, like `/usr/bin/time -v`.

    python -m tests.bench.measure OUT.json -- COMMAND [ARGS...]

Why a launcher: Linux carries a process's peak RSS across fork and exec, so a child started by
a big process (the bench, with its simulator) reports at least its parent's peak, and
RUSAGE_CHILDREN is the largest of all children so far. Started from this small process, the
command's own `wait4` usage is its peak, give or take this launcher's ~10 MB.
Only the standard library is imported here, to stay small.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    if len(argv) < 4 or argv[2] != "--":
        print(__doc__, file=sys.stderr)
        return 2
    out, command = Path(argv[1]), argv[3:]
    started = time.perf_counter()
    proc = subprocess.Popen(command)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed_s = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    result = {
        "elapsed_s": elapsed_s,
        "peak_rss_mb": usage.ru_maxrss / 1024,  # KiB on Linux
        # CPU seconds of the command and the children it waited for (worker processes): on a
        # shared, loaded machine the wall time says more about the neighbours than the code.
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "returncode": proc.returncode,
    }
    out.write_text(json.dumps(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
