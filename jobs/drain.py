"""The send job: one rq job drains the outbox in batches, instead of one job per row.

Design:

- **Waking.** A commit that wrote notifications does not queue a job per row: it wakes the
  drain (`jobs.queue.wake_drain`). A Redis mark, set with SET NX before the job is queued
  and deleted by the job as it starts (before its first claim), keeps at most one drain
  queued however many producers commit; a wake-up is never lost, because a mark seen set
  belongs to a job that has not claimed yet, and a row committed while a drain runs (mark
  already deleted) queues the next one. The mark expires after the job timeout in case its
  job was lost; the outbox sweep (`jobs.sweeps.requeue_pending`) queues its own drain naming
  the rows it took back.
- **Claiming.** A drain first takes the rows it was queued for (a retry job, the sweep),
  whatever their retry time, then every due pending row — never tried, or whose retry time
  has come — in batches of `outbox.send_batch`, in id order, until none are left. On
  PostgreSQL a batch is claimed with SELECT … FOR UPDATE SKIP LOCKED, so that drains in
  several workers take disjoint batches; on SQLite BEGIN IMMEDIATE serialises the claims.
- **Two commits a batch** (`jobs.delivery.deliver_batch`): one puts every attempt of the
  batch on record (`sending`) before anything leaves, one records the outcomes (and plans
  the template fallbacks, sent in one more round). Sends go through the process's one WeChat
  client (kept-alive HTTP connections, one shared access token), in up to
  `outbox.send_threads` lanes at once for a large batch, each recipient's rows in one lane,
  in order.
- **Retries.** A row failing transiently stays pending with its `next_attempt_at`; the rest
  of its batch is recorded as it went. The drain queues, on rq's scheduler, one job per
  retry time naming those rows.
- **Budget.** A drain stops claiming and starting sends after `drain_budget_seconds` (15 s
  at most): rows claimed but not started go back to pending, untried, and a follow-up drain
  is queued. So a batch's rows leave `sending` well before the outbox sweep would take them
  back as sends in doubt, and rq's job timeout is never reached in normal running.
- **A killed worker.** Rows left `sending` (the whole batch, sent or not) are taken back by
  the outbox sweep as sends in doubt (`jobs.sweeps._sends_in_doubt`), exactly as for a
  single row: a template is sent again with its client_msg_id, a customer-service message
  gets its template instead.
"""

from __future__ import annotations

import logging
import math
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime

from bot.runtime import Runtime
from jobs.delivery import Batch, deliver_batch
from jobs.queue import drain_budget_seconds, drain_started, queue_drain
from models.notification import outbox

log = logging.getLogger(__name__)


def drain_notifications(ids: list[int] | None = None) -> dict[str, int]:
    """The rq job: the rows `ids` (pending ones), then every due row. Returns the count of
    each outcome."""
    from jobs.runtime import current

    runtime = current()
    drain_started(runtime)
    return dict(drain(runtime, list(ids or [])))


def drain(runtime: Runtime, ids: list[int], clock: Callable[[], float] = time.monotonic) -> Counter:
    """Batches until no pending row is left to send now, or the budget is spent (then a
    follow-up drain is queued for the rest)."""
    config = runtime.settings.outbox
    until = clock() + drain_budget_seconds(config)
    counts: Counter = Counter()
    retry_at: dict[int, datetime] = {}
    wanted = list(ids)
    while True:
        chosen, wanted = wanted[: config.send_batch], wanted[config.send_batch :]
        batch = _one_batch(runtime, chosen, until)
        counts.update(batch.outcomes.values())
        retry_at.update(batch.retry_at)
        if not batch.outcomes and not chosen and not wanted:
            break
        if clock() > until:
            _follow_up(runtime, wanted)
            break
    _schedule_retries(runtime, retry_at)
    if counts:
        log.info("drain: %s", ", ".join(f"{n} {outcome}" for outcome, n in counts.items()))
    return counts


def _one_batch(runtime: Runtime, ids: list[int], until: float) -> Batch:
    now = runtime.now()
    size = runtime.settings.outbox.send_batch

    def claim(session):
        return outbox.claim_pending(session, now, size, ids or None)

    return deliver_batch(runtime, claim, now, send_until=until)


def _follow_up(runtime: Runtime, wanted: list[int]) -> None:
    log.info("drain: budget spent; a follow-up drain sends the rest")
    queue_drain(runtime, wanted)


def _schedule_retries(runtime: Runtime, retry_at: dict[int, datetime]) -> None:
    """One scheduled drain per retry time (to the second), naming its rows. rq's scheduler
    runs on the real clock, the rows' times on the runtime's (the dev server's may run
    ahead)."""
    by_time: dict[datetime, list[int]] = {}
    for row_id, due in retry_at.items():
        second = datetime.fromtimestamp(math.ceil(due.timestamp()), due.tzinfo)
        by_time.setdefault(second, []).append(row_id)
    for due, row_ids in sorted(by_time.items()):
        queue_drain(runtime, sorted(row_ids), at=due - runtime.clock_offset)
        log.info("notifications %s will be retried at %s", row_ids, due.isoformat())
