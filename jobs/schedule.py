"""The periodic jobs, declared as data and registered with rq's cron."""

from __future__ import annotations

from rq.cron import CronScheduler

from bot.settings import Settings
from jobs.sweeps import sweep_deadlines, sweep_outbox

PERIODIC = (sweep_outbox, sweep_deadlines)


def register_periodic(cron: CronScheduler, settings: Settings) -> CronScheduler:
    for func in PERIODIC:
        cron.register(
            func,
            queue_name=settings.redis.queue_name,
            interval=settings.outbox.sweep_seconds,
            job_timeout=300,
        )
    return cron
