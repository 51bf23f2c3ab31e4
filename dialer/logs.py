"""Log output: human lines by default, or one JSON object per line (DIALER_LOG_FORMAT=json) for
log shippers, with the campaign, row, call id and event of each record. Secrets never get out:
every record is redacted, whatever its format, before a handler writes it.

Context: a shift runs inside `log_context(campaign=...)` and every record logged meanwhile in that
thread carries the campaign id; a record's own `extra={"row": .., "call_id": .., "event": ..}`
adds the rest.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TextIO

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
FORMATS = ("text", "json")
CONTEXT_FIELDS = ("campaign", "row", "call_id", "event")
MASK = "********"
_context: ContextVar[Mapping[str, Any] | None] = ContextVar("dialer_log_context", default=None)


@contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    """Every record logged in the block (this thread or task) carries `fields`."""
    token = _context.set({**(_context.get() or {}), **fields})
    try:
        yield
    finally:
        _context.reset(token)


class ContextFilter(logging.Filter):
    """Puts the context's fields on the record (its own `extra` wins) and redacts secrets from
    the message and its arguments, so no handler ever sees them."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in (_context.get() or {}).items():
            if not hasattr(record, name):
                setattr(record, name, value)
        if self._secrets:
            message = self.redact(record.getMessage())
            record.msg, record.args = message, None
            if record.exc_info and not record.exc_text:
                record.exc_text = self.redact(logging.Formatter().formatException(record.exc_info))
            elif record.exc_text:
                record.exc_text = self.redact(record.exc_text)
        return True

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        return text


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the context fields when known,
    and the traceback as one string."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc"] = record.exc_text
        return json.dumps(entry, default=str, ensure_ascii=False)


def formatter_for(log_format: str) -> logging.Formatter:
    return JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)


def setup_logging(
    level: int | str,
    log_format: str = "text",
    secrets: Iterable[str] = (),
    stream: TextIO | None = None,
) -> logging.Handler:
    """The root logger writes to `stream` (stderr) in `log_format`, every record redacted.
    Replaces the handlers a previous call (or basicConfig) put there; returns the handler."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter_for(log_format))
    handler.addFilter(ContextFilter(secrets))
    root = logging.getLogger()
    # the pool's own logger (billiard's "multiprocessing") does not propagate: it gets ours too
    for logger in (root, logging.getLogger("multiprocessing")):
        for old in list(logger.handlers):
            logger.removeHandler(old)
        logger.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(True)  # warnings are records too: one format on stderr
    return handler


def guard_handlers(logger: logging.Logger, secrets: Iterable[str], log_format: str) -> None:
    """Handlers someone else set up (Celery's): redacted too, and in `log_format` when json."""
    for handler in logger.handlers:
        handler.addFilter(ContextFilter(secrets))
        if log_format == "json":
            handler.setFormatter(JsonFormatter())
