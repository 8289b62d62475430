"""The periodic sweeps, declared as data, and the loop of `bihuan cron` that runs them.

The sweeps run in the cron process itself, not through the queue: they need only the
database (Redis only to queue the sends they find), so a Redis outage stops neither the
recording of reminders and breaches nor the reclaiming of abandoned pushes. Nothing a sweep
raises stops the loop: the sweep is logged, tried again after a backoff (1 s, doubling, at
most its interval), and each run is recorded (`models.sweeps`) for `/healthz`. Two cron
processes are safe: every sweep claims its rows.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.db import transaction
from bot.replay import sweep_pushes
from bot.runtime import Runtime
from bot.settings import Settings
from jobs.sweeps import purge_expired, requeue_pending, send_due_alerts
from models import sweeps as records
from models.core.phones import mask_phones_in

log = logging.getLogger(__name__)
RETENTION_EVERY_SECONDS = 3600
MAX_BACKOFF_SECONDS = 30.0


@dataclass(frozen=True)
class Periodic:
    name: str
    run: Callable[[Runtime, datetime], int]
    every: Callable[[Settings], float]  # seconds between runs

    def late_after(self, settings: Settings) -> float:
        """Seconds without a finished run after which /healthz warns."""
        return max(settings.outbox.sweep_late_seconds, 3 * self.every(settings))


PERIODIC: tuple[Periodic, ...] = (
    Periodic("outbox", requeue_pending, lambda s: s.outbox.sweep_seconds),
    Periodic("deadlines", send_due_alerts, lambda s: s.outbox.sweep_seconds),
    Periodic("pushes", lambda runtime, _now: sweep_pushes(runtime), lambda s: 5.0),
    Periodic("retention", purge_expired, lambda s: RETENTION_EVERY_SECONDS),
)


class Cron:
    """Runs each periodic sweep when it is due (monotonic clock), forever or once."""

    def __init__(
        self,
        runtime: Runtime,
        periodic: tuple[Periodic, ...] = PERIODIC,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._runtime = runtime
        self._periodic = periodic
        self._clock = clock
        self._due = {p.name: 0.0 for p in periodic}
        self._failures = {p.name: 0 for p in periodic}

    def run_due(self) -> list[str]:
        """Run every sweep that is due; the names of those that ran."""
        ran = []
        for periodic in self._periodic:
            if time.monotonic() >= self._due[periodic.name]:
                self._run(periodic)
                ran.append(periodic.name)
        return ran

    def forever(self, stop: threading.Event) -> None:
        log.info("cron started: %s", ", ".join(p.name for p in self._periodic))
        while not stop.is_set():
            self.run_due()
            stop.wait(max(0.2, min(self._due.values()) - time.monotonic()))
        log.info("cron stopped")

    def _run(self, periodic: Periodic) -> None:
        started = self._clock()
        every = periodic.every(self._runtime.settings)
        try:
            result = periodic.run(self._runtime, started)
        except Exception as error:  # noqa: BLE001 - nothing a sweep does may stop the cron
            self._failed(periodic, started, error, every)
            return
        self._failures[periodic.name] = 0
        self._due[periodic.name] = time.monotonic() + every
        log.debug("sweep %s: %s", periodic.name, result)
        self._record(lambda s: records.record_finished(s, periodic.name, started, self._clock()))

    def _failed(self, periodic: Periodic, at: datetime, error: Exception, every: float) -> None:
        failures = self._failures[periodic.name] = self._failures[periodic.name] + 1
        backoff = min(every, MAX_BACKOFF_SECONDS, 2.0 ** (failures - 1))
        self._due[periodic.name] = time.monotonic() + backoff
        log.warning(
            "sweep %s failed (%s in a row), again in %.0f s: %s: %s",
            periodic.name,
            failures,
            backoff,
            type(error).__name__,
            error,
        )
        text = mask_phones_in(f"{type(error).__name__}: {error}")
        self._record(lambda s: records.record_failed(s, periodic.name, at, text))

    def _record(self, write: Callable) -> None:
        try:
            with transaction(self._runtime.sessions) as session:
                write(session)
        except Exception:  # noqa: BLE001 - the database may be what failed
            log.debug("could not record the sweep run", exc_info=True)
