"""Reports sent by `bihuan cron`: the week's failed deliveries, for the officer."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.db import transaction
from bot.runtime import Runtime
from jobs.queue import enqueue_written
from models.notification import log as message_log
from models.notification.tables import Notification

log = logging.getLogger(__name__)


def last_week(now: datetime, timezone: str) -> tuple[datetime, datetime, str]:
    """[Monday, next Monday) of the last full week in the utility's zone, and its ISO label."""
    local = now.astimezone(ZoneInfo(timezone))
    monday = (local - timedelta(days=local.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    start = monday - timedelta(days=7)
    year, week, _ = start.isocalendar()
    return start, monday, f"{year}-W{week:02d}"


def failure_summary(runtime: Runtime, now: datetime) -> int:
    """Push the last week's failures to the officer once (a second run finds it sent); a week
    without failures sends nothing. Returns how many pushes were written."""
    start, end, label = last_week(now, runtime.settings.app.timezone)
    with transaction(runtime.sessions) as session:
        if _already_sent(session, end):
            return 0
        summary = message_log.failure_summary(session, start, end)
        if not summary.failed and not summary.skipped:
            return 0
        rows = message_log.notify_failure_summary(session, summary, label, now)
    log.info("failure summary %s: %s failed, %s skipped", label, summary.failed, summary.skipped)
    enqueue_written(runtime, session)
    return len(rows)


def _already_sent(session, since: datetime) -> bool:
    statement = select(Notification.id).where(
        Notification.kind == "failure_summary", Notification.created_at >= since
    )
    return session.scalar(statement.limit(1)) is not None
