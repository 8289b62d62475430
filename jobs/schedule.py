"""The periodic jobs, declared as data and registered with rq's cron."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rq.cron import CronScheduler

from bot.settings import Settings
from jobs.bulletins import issue_monthly_bulletin, issue_weekly_bulletin
from jobs.sweeps import sweep_deadlines, sweep_outbox


@dataclass(frozen=True)
class Periodic:
    """A job and its schedule, read from the settings: every N seconds, or a cron string."""

    func: Callable
    interval: Callable[[Settings], int] | None = None
    cron: Callable[[Settings], str] | None = None


PERIODIC = (
    Periodic(sweep_outbox, interval=lambda settings: settings.outbox.sweep_seconds),
    Periodic(sweep_deadlines, interval=lambda settings: settings.outbox.sweep_seconds),
    Periodic(issue_weekly_bulletin, cron=lambda settings: settings.bulletin.weekly_cron),
    Periodic(issue_monthly_bulletin, cron=lambda settings: settings.bulletin.monthly_cron),
)


def register_periodic(cron: CronScheduler, settings: Settings) -> CronScheduler:
    for job in PERIODIC:
        cron.register(
            job.func,
            queue_name=settings.redis.queue_name,
            interval=job.interval(settings) if job.interval else None,
            cron=job.cron(settings) if job.cron else None,
            job_timeout=300,
        )
    return cron
