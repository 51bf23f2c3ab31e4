"""What a person sees while a campaign runs: a live display on a terminal, plain lines otherwise,
and a summary table at the end."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping

from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from campaigns.dialing.runner import Progress
from campaigns.store.rows import CALLABLE_FINAL, LEFT_TO_DO, RowStatus
from dialer.cli.console import say
from dialer.durations import eta_text, utc_text

PLAIN_EVERY_S = 5.0
RATE_WINDOW_S = 60.0
_ORDER = [s for s in RowStatus if s not in (RowStatus.READY, RowStatus.NOT_CALLED)]


class ProgressView:
    """Fed `Progress` snapshots by the runner; renders them for a terminal or a log."""

    def __init__(self, console: Console, total_callable: int, *, quiet: bool = False) -> None:
        self.console = console
        self.total = total_callable
        self.quiet = quiet
        self._samples: deque[tuple[float, int]] = deque()
        self._live: Live | None = None
        self._last_plain = 0.0
        if console.is_terminal and not quiet:
            self._live = Live(console=console, refresh_per_second=4, transient=True)
            self._live.start()

    def update(self, p: Progress) -> None:
        self._samples.append((p.now, p.calls_created))
        while self._samples and self._samples[0][0] < p.now - RATE_WINDOW_S:
            self._samples.popleft()
        if self.quiet:
            return
        if self._live is not None:
            self._live.update(self._render(p))
        elif p.now - self._last_plain >= PLAIN_EVERY_S:
            self._last_plain = p.now
            say(self.console, self.line(p))

    def close(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    def rate_per_min(self) -> float:
        if len(self._samples) < 2:
            return 0.0
        (t0, n0), (t1, n1) = self._samples[0], self._samples[-1]
        return (n1 - n0) / (t1 - t0) * 60 if t1 > t0 else 0.0

    def _done(self, counts: Mapping[RowStatus, int]) -> int:
        return sum(n for s, n in counts.items() if s in CALLABLE_FINAL)

    def _eta(self, p: Progress) -> str:
        left = sum(p.counts.get(s, 0) for s in LEFT_TO_DO)
        rate = self.rate_per_min()
        return eta_text(left / rate * 60) if rate > 0 and left else "-"

    def line(self, p: Progress) -> str:
        counts = ", ".join(f"{s.value} {p.counts[s]}" for s in _ORDER if p.counts.get(s))
        text = (
            f"progress: {self._done(p.counts)}/{self.total} done | {counts} | "
            f"{self.rate_per_min():.0f} calls/min | {p.in_flight} active | ETA {self._eta(p)}"
        )
        return text + self._waiting(p)

    def _waiting(self, p: Progress) -> str:
        if p.next_pending_at is not None and p.next_pending_at > p.now + 60:
            return f" | next window opens {utc_text(p.next_pending_at)}"
        return ""

    def _render(self, p: Progress) -> Table:
        done = self._done(p.counts)
        width = 40
        filled = int(width * done / self.total) if self.total else width
        grid = Table.grid(padding=(0, 2))
        bar = Text("█" * filled + "░" * (width - filled), style="green")
        grid.add_row(bar, Text(f"{done}/{self.total} rows done"))
        grid.add_row(
            Text(
                f"{self.rate_per_min():.0f} calls/min   {p.in_flight} active   ETA {self._eta(p)}"
            ),
            Text(self._waiting(p).strip(" |")),
        )
        grid.add_row(
            Text("  ".join(f"{s.value}: {p.counts[s]}" for s in _ORDER if p.counts.get(s))),
            Text(""),
        )
        return grid


def summary_table(counts: Mapping[str, int], title: str) -> Table:
    table = Table(title=Text(title), show_footer=True)  # Text: an id is never markup
    table.add_column("status", footer="total")
    table.add_column("rows", justify="right", footer=str(sum(counts.values())))
    for status, n in counts.items():
        if n:
            table.add_row(status, str(n))
    return table
