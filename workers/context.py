"""What a worker process needs to run shifts: the store, limiter and API client, opened once
per process (after Celery forks it, so no connection crosses a fork)."""

from __future__ import annotations

import os
import socket

from dialer.client import VoxpriaClient
from dialer.clock import Clock, SystemClock
from dialer.lease import Leases
from dialer.redis_keys import RedisKeys
from dialer.services import Services, open_services
from dialer.settings import Settings


class WorkerContext:
    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self.keys = RedisKeys()
        self._pid = -1
        self._services: Services | None = None
        self._client: VoxpriaClient | None = None
        self._leases: Leases | None = None

    def _open(self) -> None:
        if self._pid == os.getpid() and self._services is not None:
            return
        self._pid = os.getpid()
        self._services = open_services(self.settings, self.clock)
        self._client = self._services.client(self.clock)
        assert self._services.redis is not None
        self._leases = Leases(self._services.redis)

    @property
    def services(self) -> Services:
        self._open()
        assert self._services is not None
        return self._services

    @property
    def client(self) -> VoxpriaClient:
        self._open()
        assert self._client is not None
        return self._client

    @property
    def leases(self) -> Leases:
        self._open()
        assert self._leases is not None
        return self._leases

    def identity(self) -> str:
        return f"{socket.gethostname()}:{os.getpid()}"
