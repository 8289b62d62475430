"""Periodic sweeps (run by `bihuan cron`, see `bot.cron`): they read the database, not Redis,
so losing Redis or a worker loses neither a notification, a reminder nor an attachment.

Each takes the runtime and an explicit `now` (the runtime's clock): `bihuan sweep --at` runs
them at any moment to see reminders, breaches, call-back timeouts and digests without waiting."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select

from bot.db import transaction
from bot.runtime import Runtime
from jobs.queue import enqueue_downloads, enqueue_notifications, enqueue_written
from models import chat_state, inbound
from models.notification import digests
from models.notification.tables import Notification
from models.ticket import alerts, attachments

log = logging.getLogger(__name__)
# A send job still marked as under way this long past its job timeout was killed.
SENDING_GRACE_SECONDS = 30


def requeue_pending(runtime: Runtime, now: datetime) -> int:
    """Queue again the pending rows last queued more than outbox.resend_after_seconds ago
    (indexed), after turning sends that died under way into sends in doubt."""
    config = runtime.settings.outbox
    _sends_in_doubt(runtime, now)
    cutoff = now - timedelta(seconds=config.resend_after_seconds)
    with transaction(runtime.sessions) as session:
        statement = (
            select(Notification)
            .where(Notification.status == "pending", Notification.next_attempt_at <= cutoff)
            .order_by(Notification.next_attempt_at)
            .limit(config.batch)
        )
        if session.get_bind().dialect.name == "postgresql":
            statement = statement.with_for_update(skip_locked=True)
        rows = list(session.scalars(statement))
        for row in rows:
            row.next_attempt_at = now
        ids = [row.id for row in rows]
    if ids:
        log.info("outbox sweep: queueing %s pending notifications again", len(ids))
    return enqueue_notifications(runtime, ids, sweeping=True)


def _sends_in_doubt(runtime: Runtime, now: datetime) -> int:
    """A row left 'sending' by a job that died (worker killed, job timeout): the send may have
    happened. It goes back to pending, due at once, marked with the channel in doubt, so that
    a customer-service message is never repeated and a template only with its client_msg_id
    (`jobs.delivery`)."""
    config = runtime.settings.outbox
    stale = now - timedelta(seconds=config.job_timeout_seconds + SENDING_GRACE_SECONDS)
    with transaction(runtime.sessions) as session:
        statement = (
            select(Notification)
            .where(Notification.status == "sending", Notification.attempt_started_at <= stale)
            .limit(config.batch)
        )
        if session.get_bind().dialect.name == "postgresql":
            statement = statement.with_for_update(skip_locked=True)
        rows = list(session.scalars(statement))
        for row in rows:
            row.status, row.in_doubt = "pending", row.channel or row.in_doubt
            row.next_attempt_at = now - timedelta(seconds=config.resend_after_seconds)
            log.warning("notification %s: send by %s may have happened", row.id, row.channel)
    return len(rows)


def requeue_downloads(runtime: Runtime, now: datetime) -> int:
    """Pending attachments last queued more than media.resend_after_seconds ago."""
    config = runtime.settings.media
    cutoff = now - timedelta(seconds=config.resend_after_seconds)
    with transaction(runtime.sessions) as session:
        rows = attachments.waiting(session, cutoff, runtime.settings.outbox.batch)
        for row in rows:
            row.next_attempt_at = now
        ids = [row.id for row in rows]
    if ids:
        log.info("media sweep: queueing %s pending downloads again", len(ids))
    return enqueue_downloads(runtime, ids)


def send_digest(runtime: Runtime, now: datetime) -> int:
    """The leaders' daily digest of resolutions (workflow.leader_reports = "daily"), once a
    day after workflow.leader_digest_time."""
    workflow = runtime.policy.workflow
    if workflow.leader_reports != "daily":
        return 0
    with transaction(runtime.sessions) as session:
        sent = digests.send_resolutions(session, now, workflow.leader_digest_time, runtime.policy)
    enqueue_written(runtime, session)
    return sent


def send_due_alerts(runtime: Runtime, now: datetime) -> int:
    """The reminders and breach alerts that are due."""
    with transaction(runtime.sessions) as session:
        sent = alerts.sweep(session, now, runtime.deadline_policy(), runtime.settings.outbox.batch)
    enqueue_written(runtime, session)
    return sent


def run_all(runtime: Runtime, now: datetime) -> dict[str, int]:
    """Every sweep once at ``now`` (`bihuan sweep --at`, the dev server's /_dev/sweep)."""
    return {
        "alerts": send_due_alerts(runtime, now),
        "digests": send_digest(runtime, now),
        "requeued": requeue_pending(runtime, now),
        "downloads": requeue_downloads(runtime, now),
    }


def purge_expired(runtime: Runtime, now: datetime) -> int:
    """Retention: the raw XML (and stored reply) of pushes older than
    wechat.raw_retention_days, nonces past the freshness window, expired chat state."""
    config = runtime.settings.wechat
    raw_before = now - timedelta(days=config.raw_retention_days)
    nonce_before = now - timedelta(seconds=2 * config.max_clock_skew_seconds)
    with transaction(runtime.sessions) as session:
        purged = inbound.purge_raw(session, raw_before, runtime.settings.outbox.batch)
        purged += inbound.purge_nonces(session, nonce_before)
        purged += chat_state.purge_expired(session, now)
    if purged:
        log.info("retention sweep: %s rows purged", purged)
    return purged
