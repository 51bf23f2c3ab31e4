"""What a worker process needs to run shifts: the store, limiter, API client and metrics, opened
once per process (after Celery forks it, so no connection crosses a fork)."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable

from campaigns.backends import Services, open_services
from campaigns.service import CampaignService
from dialer.clock import Clock, SystemClock
from dialer.keys import RedisKeys
from dialer.leases import Leases
from dialer.metrics import NO_METRICS, MeteredLimiter, Recorder
from dialer.settings import Settings
from dialer.voxpria.client import VoxpriaClient


class WorkerContext:
    """`settings` may be a function: the module-level app reads the environment only when it is
    configured, not when `workers` is imported."""

    def __init__(
        self, settings: Settings | Callable[[], Settings], clock: Clock | None = None
    ) -> None:
        self._load_settings = settings if callable(settings) else None
        self._settings = settings if isinstance(settings, Settings) else None
        self.clock: Clock = clock or SystemClock()
        self.keys = RedisKeys()
        self._pid = -1
        self._services: Services | None = None
        self._service: CampaignService | None = None
        self._client: VoxpriaClient | None = None
        self._leases: Leases | None = None
        self._metrics: Recorder | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            assert self._load_settings is not None
            self._settings = self._load_settings()
        return self._settings

    def _open(self) -> None:
        if self._pid == os.getpid() and self._services is not None:
            return
        self._pid = os.getpid()
        self._metrics = None
        services = open_services(self.settings, self.clock)
        # every answered wait is recorded (requests' waits too: the client's reads go through it)
        services.limiter = MeteredLimiter(services.limiter, self.metrics)
        self._services = services
        self._service = CampaignService(services, self.clock)
        self._client = services.client(self.clock, metrics=self.metrics)
        assert services.redis is not None
        self._leases = Leases(services.redis)

    @property
    def metrics(self) -> Recorder:
        """Prometheus metrics when this worker has a port for them, else nothing kept. Built in
        the process that records (after the fork), into the multiprocess folder."""
        if self._metrics is None:
            if self.settings.metrics_port is None:
                self._metrics = NO_METRICS
            else:
                from dialer.metrics import Metrics

                self._metrics = Metrics()
        return self._metrics

    @property
    def services(self) -> Services:
        self._open()
        assert self._services is not None
        return self._services

    @property
    def service(self) -> CampaignService:
        """The campaign service over this process's backends: a shift's engine comes from it."""
        self._open()
        assert self._service is not None
        return self._service

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
