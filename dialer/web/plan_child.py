"""The page's plan, made in a child process with a deadline and a memory cap.

A list is a stranger's file: a spreadsheet can be built to keep a reader busy for hours or to
swell to gigabytes. Read in the server's own process it would hang the page and hold up the
server's shutdown (a thread cannot be stopped). In a child process it cannot: past the deadline
the child is killed and the page says what to do; a child over its memory cap fails alone; and
when `dialer serve` stops, the request waiting on the child is cancelled and the child killed.

The parent sends the draft and the settings the plan needs (no key, secret or token) as a
pickle on the child's stdin; the child answers with a pickle on stdout: ("ok", view, campaign
id) or ("error", message). Both ends are this program, so the pickles are trusted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import pickle
import resource
import sys
from dataclasses import replace

from dialer.errors import DialerError, InputError
from dialer.printable import printable
from dialer.settings import Secret, Settings
from dialer.web.drafts import Draft
from dialer.web.planning import PlanView, plan_draft, planned_campaign_id
from dialer.web.recall import HistorySource, OpenHistory

log = logging.getLogger("dialer.web.plan_child")  # its module, also when run as __main__

REAP_TIMEOUT_S = 5.0
MAX_CHILDREN = 2  # plans at once; more wait their turn
MEMORY_CAP_BYTES = 2 << 30  # far above what any bounded list needs to be planned
PLAN_FAILED = (
    "The list could not be planned (the reader failed): save it again as CSV (UTF-8) and "
    "upload that, or run `dialer run FILE --agent ID --dry-run` to see the error."
)

SERVER_STOPPING = (
    "The server stopped while this list was being planned: open this page again once "
    "`dialer serve` is back."
)


def too_slow_message(timeout_s: float) -> str:
    return (
        f"Reading this list took longer than {timeout_s:g} s, so it was stopped: it is too "
        "large or built to be slow. Split it into smaller files, or save it as CSV (UTF-8) and "
        "upload that; if it really is this large, raise DIALER_UI_PLAN_TIMEOUT_S where `dialer "
        "serve` runs, or plan it with `dialer run FILE --agent ID --dry-run`."
    )


class Planner:
    """Plans drafts in child processes, at most `max_children` at once (each may take up to
    MEMORY_CAP_BYTES: many tabs planning at once must not take the machine's memory)."""

    def __init__(
        self, settings: Settings, history: HistorySource, max_children: int = MAX_CHILDREN
    ) -> None:
        self._settings = _without_secrets(settings)
        self._history = history
        self._timeout_s = settings.ui_plan_timeout_s
        self._slots = asyncio.Semaphore(max_children)

    async def plan(self, draft: Draft, now: float) -> tuple[PlanView, str]:
        """The plan of `draft` and its campaign id; InputError (said on the page) when the
        list cannot be used, cannot be read within the deadline, or the reader fails."""
        try:
            async with self._slots:
                return await _plan_in_child(
                    draft, self._settings, self._history, now, self._timeout_s
                )
        except asyncio.CancelledError:  # the server is stopping: the page says so
            raise InputError(SERVER_STOPPING) from None


async def _plan_in_child(
    draft: Draft, settings: Settings, history: HistorySource, now: float, timeout_s: float
) -> tuple[PlanView, str]:
    request = pickle.dumps((draft, settings, history, now))
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-P",  # the server's working folder is not put on the child's import path
        "-m",
        __name__,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(child.communicate(request), timeout_s)
    except TimeoutError:
        raise InputError(too_slow_message(timeout_s)) from None
    finally:  # also when the server stops: the request is cancelled, the child must go too
        if child.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                child.kill()
            with contextlib.suppress(TimeoutError):  # reaped, its pipes closed: nothing leaks
                await asyncio.wait_for(child.wait(), REAP_TIMEOUT_S)
    if child.returncode != 0:  # the page says PLAN_FAILED; the log keeps what happened
        detail = printable(err.decode("utf-8", "replace")[-2000:], 2000)
        log.warning("planning %s failed: %s", draft.draft_id, detail)
    return _answer(out)


def _answer(out: bytes) -> tuple[PlanView, str]:
    try:
        answer = pickle.loads(out)
    except Exception:  # killed (memory cap) or crashed before answering
        raise InputError(PLAN_FAILED) from None
    if answer[0] == "ok":
        return answer[1], answer[2]
    raise InputError(str(answer[1]))


def _without_secrets(settings: Settings) -> Settings:
    return replace(settings, api_key=Secret(""), webhook_secret=Secret(""), ui_token=Secret(""))


def _child() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP_BYTES, MEMORY_CAP_BYTES))
    draft, settings, source, now = pickle.loads(sys.stdin.buffer.read())
    try:
        with OpenHistory(source) as history:
            campaign_id = planned_campaign_id(draft)
            view = plan_draft(draft, settings, now, history, campaign_id)
        answer: tuple[object, ...] = ("ok", view, campaign_id)
    except DialerError as exc:
        answer = ("error", str(exc))
    except MemoryError:
        answer = ("error", PLAN_FAILED)
    sys.stdout.buffer.write(pickle.dumps(answer))


if __name__ == "__main__":
    _child()
