"""Queueing jobs on rq, always after the commit of the change that made them necessary.

Notifications are sent by drain jobs (`jobs.drain`): a commit wakes the drain (at most one
queued at a time), it does not queue a job per row.

Redis is a queue here, never the only copy: a row that could not be queued is queued again
by the outbox sweep. After Redis failed, this process does not try again for
`PAUSE_SECONDS`, so that a push is not held up by one connection timeout after another.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime

from redis.exceptions import RedisError
from rq import Queue, Retry

from bot.runtime import Runtime
from models.notification.outbox import written_in
from models.ticket import attachments

log = logging.getLogger(__name__)
# By name, so that this module and the job it queues do not import each other.
DRAIN_NOTIFICATIONS = "jobs.drain.drain_notifications"
DOWNLOAD_ATTACHMENT = "jobs.media.download_attachment"
PAUSE_SECONDS = 10.0
MAX_BUDGET_SECONDS = 15.0


def make_queue(runtime: Runtime) -> Queue:
    return Queue(runtime.settings.redis.queue_name, connection=runtime.redis)


def enqueue_notifications(runtime: Runtime, ids: list[int], *, sweeping: bool = False) -> int:
    """Make sure a drain job (`jobs.drain`) will send the rows `ids`, just committed.

    A producer only wakes the drain: a row never tried is due at once, so any drain that
    starts after the commit sends it. The outbox sweep (`sweeping`) queues a drain of its own
    naming the rows it took back (they may have been tried before, and its clock may run
    ahead of the worker's); it is told of a Redis failure (it raises, so that its run is
    recorded as failed). Anyone else has the failure logged, not raised: the rows are in the
    database and the sweep queues them again."""
    if not ids:
        return 0
    if not sweeping and time.monotonic() < runtime.queue_paused_until:
        log.info("not queueing notifications %s: Redis failed moments ago; the sweep will", ids)
        return 0
    try:
        if sweeping:
            queue_drain(runtime, ids)
        else:
            wake_drain(runtime)
    except RedisError as error:
        runtime.queue_paused_until = time.monotonic() + PAUSE_SECONDS
        if sweeping:
            raise
        log.warning("could not queue notifications %s (%s); the sweep will", ids, error)
        return 0
    runtime.queue_paused_until = 0.0
    return len(ids)


def wake_drain(runtime: Runtime) -> bool:
    """Queue a drain job unless one is already queued and not yet started (then that one
    claims after this commit and sends the rows). True when a job was queued.

    The mark is set with SET NX before the job is queued and deleted by the job as it
    starts, before its first claim (`drain_started`): so a mark seen set always belongs to
    a job that has not claimed yet. It expires after the job timeout, in case its job was
    lost."""
    key = _wake_key(runtime)
    ttl = runtime.settings.outbox.job_timeout_seconds
    if not runtime.redis.set(key, b"1", nx=True, ex=ttl):
        return False
    try:
        queue_drain(runtime, [])
    except RedisError:
        try:
            runtime.redis.delete(key)
        except RedisError:
            pass  # it expires
        raise
    return True


def drain_started(runtime: Runtime) -> None:
    """Called by a drain job before its first claim: the next producer queues a new one."""
    runtime.redis.delete(_wake_key(runtime))


def queue_drain(runtime: Runtime, ids: list[int], at: datetime | None = None) -> None:
    """Queue a drain job that first sends the pending rows `ids` (whether due or not), then
    every due row; at `at` (the rq scheduler's time) when given. Raises RedisError."""
    queue = make_queue(runtime)
    outbox = runtime.settings.outbox
    options = {
        "description": f"send notifications {_describe(ids)}",
        "retry": Retry(max=len(outbox.retry_seconds), interval=outbox.retry_seconds),
        "job_timeout": drain_timeout_seconds(outbox),
    }
    if at is None:
        queue.enqueue(DRAIN_NOTIFICATIONS, ids, **options)
    else:
        queue.enqueue_at(at, DRAIN_NOTIFICATIONS, ids, **options)


def drain_timeout_seconds(outbox) -> int:
    """rq's limit for a drain: the budget in which it starts sends, then one send's worth."""
    return int(outbox.job_timeout_seconds + drain_budget_seconds(outbox)) + 1


def drain_budget_seconds(outbox) -> float:
    """How long a drain keeps claiming batches and starting sends: a quarter of the job
    timeout, at most 15 s, so that a row marked `sending` is done well before the outbox
    sweep would take it back (`jobs.sweeps.SENDING_GRACE_SECONDS` past the job timeout)."""
    return min(MAX_BUDGET_SECONDS, outbox.job_timeout_seconds / 4)


def _wake_key(runtime: Runtime) -> str:
    return f"bihuan:{runtime.settings.redis.queue_name}:notifications-drain-queued"


def _describe(ids: list[int]) -> str:
    if not ids:
        return "due"
    shown = ", ".join(str(i) for i in ids[:10])
    return f"{shown}{', …' if len(ids) > 10 else ''} and the due ones"


def enqueue_downloads(runtime: Runtime, ids: list[int]) -> int:
    """Queue a download job per attachment id; a Redis failure is logged (the sweep queues
    the pending rows again)."""
    if not ids:
        return 0
    queue = make_queue(runtime)
    delays = runtime.settings.media.retry_seconds
    try:
        for attachment_id in ids:
            queue.enqueue(
                DOWNLOAD_ATTACHMENT,
                attachment_id,
                job_id=f"attachment-{attachment_id}",
                description=f"download attachment {attachment_id}",
                retry=Retry(max=len(delays), interval=delays),
                job_timeout=max(60, int(runtime.settings.media.download_timeout_seconds * 3)),
            )
    except RedisError:
        log.exception("could not queue downloads %s; the sweep will", ids)
        return 0
    return len(ids)


def enqueue_written(runtime: Runtime, session) -> int:
    """Queue the notifications and attachment downloads a committed session wrote."""
    enqueue_downloads(runtime, [row.id for row in attachments.written_in(session)])
    return enqueue_notifications(runtime, [row.id for row in written_in(session)])
