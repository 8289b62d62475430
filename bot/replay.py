"""Pushes handled later than their HTTP answer: spooled while the database was down,
abandoned by a request that ran out of time or was killed, or failed in a handler
(`bihuan inbound replay`). Each is handled in its sender's order, and its answer is sent to
the sender as a customer-service message (`late_reply`), so that a complaint confirmed
meanwhile is filed *and* its number reaches the customer.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime

from sqlalchemy import select

from bot.db import is_transient, transaction
from bot.inbox import Inbox, Nonce, ReplayedNonce
from bot.runtime import Runtime
from models.inbound import InboundMessage, abandoned, status_is

log = logging.getLogger(__name__)


def replay_spool(runtime: Runtime, inbox: Inbox | None = None) -> tuple[int, int]:
    """Move the spooled pushes into the database, oldest first, and handle them; stops at the
    first database error (the rest wait). Returns (handled, still waiting)."""
    inbox = inbox or Inbox(runtime)
    spool = inbox.spool
    handled = 0
    with spool.replaying() as mine:
        if not mine:
            return 0, spool.count()
        for entry in spool.entries():
            nonce = Nonce(entry.nonce, entry.digest) if entry.nonce else None
            try:
                inbound_id = inbox.accept_spooled(entry.openid, entry.xml, entry.received_at, nonce)
            except ReplayedNonce:
                log.warning("spooled push from %s dropped: nonce reused", entry.openid)
                spool.remove(entry)
                continue
            except Exception as error:  # noqa: BLE001 - keep the file for the next pass
                if not is_transient(error):
                    raise
                log.warning("spool replay paused, database still unavailable: %s", error)
                break
            spool.remove(entry)
            _handle_late(inbox, inbound_id, entry.openid)
            handled += 1
    return handled, spool.count()


def reclaim_abandoned(
    runtime: Runtime, now: datetime | None = None, inbox: Inbox | None = None
) -> int:
    """Handle the pushes still 'processing' past their lease (`wechat.reclaim_after_seconds`
    after they arrived), in arrival order. Returns how many were handled."""
    inbox = inbox or Inbox(runtime)
    now = now or datetime.now(UTC)
    with transaction(runtime.sessions) as session:
        stuck = abandoned(session, now, runtime.settings.outbox.batch)
    handled = 0
    for inbound_id, openid in stuck:
        if _handle_late(inbox, inbound_id, openid):
            handled += 1
    if stuck:
        log.info("push sweep: %s of %s abandoned pushes handled", handled, len(stuck))
    return handled


def _handle_late(inbox: Inbox, inbound_id: int, openid: str) -> bool:
    try:
        return inbox.take_over(inbound_id, openid) is not None
    except Exception as error:  # noqa: BLE001 - the row stays for the next sweep
        if not is_transient(error):
            raise
        log.warning("push %s from %s still waits: %s", inbound_id, openid, error)
        return False


def replay_failed(runtime: Runtime) -> tuple[int, int]:
    """Handle again every push whose handler failed; (done, still failing)."""
    inbox = Inbox(runtime)
    with transaction(runtime.sessions) as session:
        rows = session.execute(
            select(InboundMessage.id, InboundMessage.openid)
            .where(status_is("failed"))
            .order_by(InboundMessage.id)
        ).all()
    done = failed = 0
    for inbound_id, openid in rows:
        inbox.reopen_failed(inbound_id)
        finished = inbox.take_over(inbound_id, openid)
        if finished is not None and finished.status == "done":
            done += 1
        else:
            failed += 1
    return done, failed


def sweep_pushes(runtime: Runtime) -> int:
    """The periodic push sweep: the spool first (older), then abandoned pushes."""
    handled, _ = replay_spool(runtime)
    return handled + reclaim_abandoned(runtime)


def start_spool_replayer(
    runtime: Runtime, stop: threading.Event, every: float = 2.0
) -> threading.Thread:
    """A web process's own replayer: its spool is local, so it must not wait for the cron.
    Wakes every `every` seconds and does nothing while the spool is empty."""

    def loop() -> None:
        inbox = Inbox(runtime)
        while not stop.wait(every):
            if inbox.spool.count() == 0:
                continue
            try:
                replay_spool(runtime, inbox)
            except Exception:  # noqa: BLE001 - keep the replayer alive
                log.exception("spool replay failed")

    thread = threading.Thread(target=loop, name="bihuan-spool-replayer", daemon=True)
    thread.start()
    return thread
