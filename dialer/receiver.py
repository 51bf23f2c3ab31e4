"""The webhook receiver: `POST /webhooks/voxpria` and `GET /healthz`, a Starlette app built by
`create_webhook_app` and served under uvicorn by `dialer serve` (or in a thread, for tests and
in-process runs, by `running_webhook_server`).

A delivery is checked in the order that tells an outsider least: size (413), signature (401),
body (400). Then the event is applied to the store (campaigns.dialing.events) before the answer,
in a worker thread so the event loop stays free. A store write takes milliseconds, so the answer
stays fast, and a 2xx is only sent once the event is stored: a delivery answered 2xx is never
lost, and one that failed is answered 500 so that Voxpria retries it.
"""

from __future__ import annotations

import logging
import re
import signal
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from campaigns.dialing.events import MalformedEvent, apply_event, parse_event
from campaigns.store.rows import RowStore
from dialer.clock import Clock
from dialer.metrics import NO_METRICS, Recorder
from dialer.printable import printable
from dialer.voxpria.signatures import SignatureVerifier, parse_json

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/webhooks/voxpria"
HEALTH_PATH = "/healthz"
# A call event is a few KiB at most (a transcript); far more is not a delivery from Voxpria.
MAX_BODY_BYTES = 256 * 1024
START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 10.0
SHUTDOWN_GRACE_S = 3  # after SIGTERM or Ctrl-C, how long running requests may finish
# Content-Length in ASCII digits; more than 12 of them is no body this receiver takes.
_CONTENT_LENGTH = re.compile(r"[0-9]{1,12}")


def create_webhook_app(
    store: RowStore,
    verifier: SignatureVerifier,
    clock: Clock,
    *,
    max_body_bytes: int = MAX_BODY_BYTES,
    metrics: Recorder = NO_METRICS,
) -> Starlette:
    receiver = _Receiver(store, verifier, clock, max_body_bytes, metrics)
    return Starlette(
        routes=[
            Route(WEBHOOK_PATH, receiver.receive, methods=["POST"]),
            Route(HEALTH_PATH, _healthz, methods=["GET"]),
        ]
    )


class _Receiver:
    def __init__(
        self,
        store: RowStore,
        verifier: SignatureVerifier,
        clock: Clock,
        max_body_bytes: int,
        metrics: Recorder = NO_METRICS,
    ) -> None:
        self._store = store
        self._verifier = verifier
        self._clock = clock
        self._max_body_bytes = max_body_bytes
        self._metrics = metrics

    async def receive(self, request: Request) -> Response:
        response, result = await self._receive(request)
        self._metrics.webhook_delivery(result)
        return response

    async def _receive(self, request: Request) -> tuple[Response, str]:
        """The answer, and the delivery's result for the metrics."""
        sender = request.client.host if request.client else "?"
        body = await _read_body(request, self._max_body_bytes)
        if isinstance(body, Response):
            return body, "too_large" if body.status_code == 413 else "malformed"
        # the raw bytes, before any parsing: a stranger's body is never parsed as an event
        verdict = self._verifier.verify(request.headers, body)
        if not verdict.ok:
            log.warning("delivery from %s refused: %s", sender, printable(verdict.reason))
            return _answer(401, "Invalid or missing webhook signature."), "refused"
        parsed = parse_json(body)
        try:
            if parsed is None:
                raise MalformedEvent("not JSON in UTF-8 (or nested too deep)")
            event = parse_event(parsed)
        except MalformedEvent as exc:
            log.warning("signed delivery from %s is malformed: %s", sender, printable(exc))
            return _answer(400, "The body is not a webhook event {event, timestamp, data}."), (
                "malformed"
            )
        name = printable(event.name, 64)
        try:
            applied = await run_in_threadpool(apply_event, self._store, event, self._clock.now())
        except Exception:  # the store failed: a 5xx makes Voxpria deliver it again
            log.exception("%s could not be recorded; the sender will retry", name)
            return _answer(500, "The event could not be recorded; deliver it again."), "error"
        call_id = printable(event.call.call_id, 100) if event.call else "-"
        log.info("%s %s: %s", name, call_id, applied.value)
        return JSONResponse({"received": True, "result": applied.value}), applied.value


async def _read_body(request: Request, max_bytes: int) -> bytes | Response:
    """The body, or the error answer when it is too big (by its Content-Length, or by what
    actually arrives: the header may be missing, chunked, or a lie)."""
    declared = request.headers.get("content-length")
    if declared is not None and not _CONTENT_LENGTH.fullmatch(declared.strip()):
        return _answer(400, "Content-Length is not a number of bytes.")
    if declared is not None and int(declared) > max_bytes:
        return _too_big(max_bytes)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            return _too_big(max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_big(max_bytes: int) -> Response:
    return _answer(413, f"A webhook body may be at most {max_bytes} bytes.")


async def _healthz(request: Request) -> Response:
    return JSONResponse({"ok": True})


def _answer(status_code: int, message: str) -> Response:
    return JSONResponse({"received": False, "error": message}, status_code)


def serve(app: Starlette, host: str, port: int, *, access_log: bool = False) -> None:
    """Serve until interrupted (what `dialer serve` runs). Each event is logged by the
    receiver already; uvicorn's access log would only repeat it.

    SIGTERM stops it as Ctrl-C does, promptly: requests still running SHUTDOWN_GRACE_S after
    the signal are cancelled (a plan's child process is killed with its request), and the
    signal, which uvicorn raises again once it is done, ends this call as a KeyboardInterrupt
    so that the caller still stops its campaigns and closes its store."""
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        # log_config=None: uvicorn's lines go through the dialer's handler (text or JSON, redacted)
        uvicorn.run(
            app,
            host=host,
            port=port,
            http="h11",
            log_level="info",
            access_log=access_log,
            log_config=None,
            timeout_graceful_shutdown=SHUTDOWN_GRACE_S,
        )
    finally:
        signal.signal(signal.SIGTERM, previous)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@contextmanager
def running_webhook_server(app: Starlette, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve `app` in a daemon thread on a free port for the `with` block; yields its root URL
    (the receiver is at root + WEBHOOK_PATH)."""
    # proto=IPPROTO_TCP: asyncio sets TCP_NODELAY only on such sockets (else 40 ms per answer)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind((host, 0))  # port 0: the OS picks a free port, and it is ours already
    config = uvicorn.Config(app, http="h11", loop="asyncio", lifespan="off", log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    root_url = f"http://{host}:{sock.getsockname()[1]}"
    try:
        _wait_until_started(server, thread, root_url)
        yield root_url
    finally:
        server.should_exit = True
        thread.join(STOP_TIMEOUT_S)
        sock.close()


def _wait_until_started(server: uvicorn.Server, thread: threading.Thread, root_url: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.started:
            return
        if not thread.is_alive():
            raise RuntimeError("the webhook server's thread died while starting")
        threading.Event().wait(0.01)  # uvicorn offers no event to wait on, only this flag
    raise RuntimeError(f"the webhook server at {root_url} did not start within {START_TIMEOUT_S} s")
