"""The periodic jobs, declared as data, and the loop of `bihuan cron` that runs them.

Each runs every N seconds, or at the times of a cron string read in `app.timezone` (the
bulletins); a cron-timed job also runs when the loop starts, so that one missed while the
cron was down is caught up (each is idempotent). They run in the cron process itself, not
through the queue: they need only the database (Redis only to queue the sends they find), so
a Redis outage stops neither the recording of reminders and breaches nor the reclaiming of
abandoned pushes. Nothing a job raises stops the loop: it is logged, tried again after a
backoff (1 s, doubling, at most 30 s or its interval), and each run is recorded
(`models.sweeps`) for `/healthz`. Two cron processes are safe: every job claims its rows.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from croniter import croniter

from bot.db import transaction
from bot.replay import sweep_pushes
from bot.runtime import Runtime
from bot.settings import Settings
from jobs.bulletins import issue_bulletin
from jobs.reports import failure_summary
from jobs.sweeps import (
    purge_expired,
    requeue_downloads,
    requeue_pending,
    send_digest,
    send_due_alerts,
)
from models import sweeps as records
from models.core.phones import mask_phones_in

log = logging.getLogger(__name__)
RETENTION_EVERY_SECONDS = 3600
MAX_BACKOFF_SECONDS = 30.0


@dataclass(frozen=True)
class Periodic:
    """A job and its schedule, read from the settings: every N seconds, or a cron string."""

    name: str
    run: Callable[[Runtime, datetime], object]
    every: Callable[[Settings], float] | None = None
    cron: Callable[[Settings], str] | None = None

    def next_after(self, settings: Settings, moment: datetime) -> datetime:
        if self.cron is None:
            return moment + timedelta(seconds=self.every(settings))
        zone = ZoneInfo(settings.app.timezone)
        local = croniter(self.cron(settings), moment.astimezone(zone)).get_next(datetime)
        return local.astimezone(UTC)

    def period(self, settings: Settings) -> float:
        """Seconds between two runs (for a cron string, around now)."""
        now = datetime.now(UTC)
        return (
            self.next_after(settings, self.next_after(settings, now))
            - self.next_after(settings, now)
        ).total_seconds()

    def late_after(self, settings: Settings) -> float:
        """Seconds without a finished run after which /healthz warns: three intervals (at
        least `outbox.sweep_late_seconds`), or one cron period and that margin."""
        if self.cron is not None:
            return self.period(settings) + settings.outbox.sweep_late_seconds
        return max(settings.outbox.sweep_late_seconds, 3 * self.period(settings))


PERIODIC: tuple[Periodic, ...] = (
    Periodic("outbox", requeue_pending, every=lambda s: s.outbox.sweep_seconds),
    Periodic("downloads", requeue_downloads, every=lambda s: s.outbox.sweep_seconds),
    Periodic("deadlines", send_due_alerts, every=lambda s: s.outbox.sweep_seconds),
    Periodic("digest", send_digest, every=lambda s: s.outbox.sweep_seconds),
    Periodic("pushes", lambda runtime, _now: sweep_pushes(runtime), every=lambda s: 5.0),
    Periodic("retention", purge_expired, every=lambda s: RETENTION_EVERY_SECONDS),
    Periodic(
        "weekly_bulletin",
        lambda runtime, now: issue_bulletin(runtime, "weekly", now),
        cron=lambda s: s.bulletin.weekly_cron,
    ),
    Periodic(
        "monthly_bulletin",
        lambda runtime, now: issue_bulletin(runtime, "monthly", now),
        cron=lambda s: s.bulletin.monthly_cron,
    ),
    Periodic("failure_summary", failure_summary, cron=lambda s: s.messages.failure_summary_cron),
)


class Cron:
    """Runs each periodic job when it is due, forever or once (`run_due`)."""

    def __init__(
        self,
        runtime: Runtime,
        periodic: tuple[Periodic, ...] = PERIODIC,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._runtime = runtime
        self._periodic = periodic
        self._clock = clock
        start = clock()
        self._due = {p.name: start for p in periodic}
        self._failures = {p.name: 0 for p in periodic}

    def run_due(self) -> list[str]:
        """Run every job that is due; the names of those that ran."""
        ran = []
        for periodic in self._periodic:
            if self._clock() >= self._due[periodic.name]:
                self._run(periodic)
                ran.append(periodic.name)
        return ran

    def forever(self, stop: threading.Event) -> None:
        log.info("cron started: %s", ", ".join(p.name for p in self._periodic))
        while not stop.is_set():
            self.run_due()
            wait = (min(self._due.values()) - self._clock()).total_seconds()
            stop.wait(min(max(0.2, wait), 60.0))
        log.info("cron stopped")

    def _run(self, periodic: Periodic) -> None:
        settings = self._runtime.settings
        started = self._clock()
        try:
            result = periodic.run(self._runtime, started)
        except Exception as error:  # noqa: BLE001 - nothing a job does may stop the cron
            self._failed(periodic, started, error)
            return
        self._failures[periodic.name] = 0
        self._due[periodic.name] = periodic.next_after(settings, started)
        log.debug("sweep %s: %s", periodic.name, result)
        self._record(lambda s: records.record_finished(s, periodic.name, started, self._clock()))

    def _failed(self, periodic: Periodic, at: datetime, error: Exception) -> None:
        failures = self._failures[periodic.name] = self._failures[periodic.name] + 1
        limit = min(MAX_BACKOFF_SECONDS, periodic.period(self._runtime.settings))
        backoff = min(limit, 2.0 ** (failures - 1))
        self._due[periodic.name] = at + timedelta(seconds=backoff)
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
