"""One inbound push, exactly once, in arrival order per sender, answered within WeChat's 5 s
whatever the database does.

The usual push takes one transaction (`Inbox._at_once`): under the sender's lock, its nonce
and de-duplication checks, the handler and the insert of the push with its reply, all
committed together — so a push that was answered is committed, and nothing is written twice.
A handler that raises (a bug) has all its work rolled back, and the push is recorded as failed
in a transaction of its own. Whenever that path cannot finish (a copy of the push or an
earlier push of the sender still being handled, a lock or a database too slow for the budget,
a copy recorded meanwhile), it leaves nothing behind and the push takes the path in steps
below, which records it first:

1. Claim: the push is recorded (its de-duplication key is unique in the database, so copies
   are caught across threads, processes and hosts). When the database cannot record it, the
   push goes to the local spool (`bot.spool`) and is answered 「已收到，稍后回复」; when not even
   the spool can keep it, `Refused` (the webhook answers 503 and WeChat retries).
2. Handle, in order: under the sender's lock (`models.inbound.lock_sender`), the sender's
   earlier pushes come first. One still within its lease belongs to the request that
   received it, so we wait for it; one past its lease was abandoned (a worker killed, a
   timeout) and is handled here, its answer sent as a message. Then this push: one
   transaction, the handler's reply stored with it.
3. Answer: the reply; or, when `wechat.reply_budget_seconds` run out first, 「已收到，稍后回复」
   — the push stays on record, and whoever handles it later (the sweep, WeChat's retry, the
   sender's next push) sends the real answer as a customer-service message.

A handler that raises (a bug) marks the push failed, answered 「系统繁忙」, for `bihuan inbound
replay`, which sends the answer as a message too.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot import wechat
from bot.db import (
    check_deadline,
    connected_transaction,
    deadline,
    is_transient,
    seconds_left,
    transaction,
)
from bot.runtime import Runtime
from bot.spool import Spool
from handlers import customer_texts
from handlers.context import Context
from handlers.dispatch import dispatch
from handlers.incoming import IncomingMessage
from jobs.queue import enqueue_written
from models import inbound
from models.core.phones import mask_phones_in
from models.inbound import InboundMessage, first_unfinished, lock_sender
from models.notification.outbox import forget_written_after, notify_late_reply, written_in
from models.pipeline import Step

log = logging.getLogger(__name__)
POLL_SECONDS = 0.05
RECEIVED_LATER = "您的消息已收到。系统正忙，处理完成后会立即通过消息回复您，请勿重复发送。"
# Events whose answer the user sees; any other event is answered with nothing meanwhile.
ANSWERED_EVENTS = {"click", "subscribe", "scan"}


class Refused(Exception):
    """The push can be neither recorded nor spooled: WeChat must send it again."""


class HandlerFailed(Exception):
    """A handler raised (a bug); raised from it to roll back the push's transaction."""


PROCEED = object()  # a new push with nothing of its sender ahead of it


class ReplayedNonce(Exception):
    """The nonce was already used with another body within the freshness window."""


@dataclass(frozen=True)
class Nonce:
    value: str
    digest: str  # sha256 of the body as received


@dataclass(frozen=True)
class Finished:
    status: str  # done | failed
    reply: str
    late: bool


WAIT = object()  # an earlier push of the sender is still with its own request


class Inbox:
    def __init__(
        self,
        runtime: Runtime,
        clock: Callable[[], datetime] | None = None,
        spool: Spool | None = None,
    ):
        self._runtime = runtime
        self._clock = clock or runtime.now
        config = runtime.settings
        self.spool = spool or Spool(config.spool_path, config.wechat.spool_max_files)

    # --- a push received now ---------------------------------------------------------------

    def handle(self, message: IncomingMessage, xml: str, nonce: Nonce | None = None) -> str:
        """The answer to a push that has just arrived (its HTTP answer)."""
        with deadline(self._runtime.settings.wechat.reply_budget_seconds):
            if self.spool.holds(message.openid):  # earlier pushes of this sender wait there
                return self._spool(message, xml, nonce)
            finished = self._try_at_once(message, xml, nonce)
            if finished is not None:
                return _reply_of(finished)
            try:
                inbound_id = self._claim(message, xml, nonce)
            except ReplayedNonce:
                raise
            except Exception as error:  # noqa: BLE001 - transient ones are spooled
                if not is_transient(error):
                    raise
                log.warning("cannot record push from %s (%s): spooled", message.openid, error)
                return self._spool(message, xml, nonce)
            return self._answer(inbound_id, message)

    def _try_at_once(
        self, message: IncomingMessage, xml: str, nonce: Nonce | None
    ) -> Finished | None:
        """How the push ended when handled in one transaction; None when it has to take the
        path in steps (nothing of this attempt is left in the database)."""
        try:
            return self._at_once(message, xml, nonce)
        except ReplayedNonce:
            raise
        except IntegrityError:  # a copy recorded meanwhile (the spool's replay)
            return None
        except Exception as error:  # noqa: BLE001 - a lock wait or a busy database
            if not is_transient(error):
                raise
            log.info("push from %s takes the path in steps: %s", message.openid, error)
            return None

    def _at_once(self, message: IncomingMessage, xml: str, nonce: Nonce | None) -> Finished | None:
        received_at, key = self._clock(), message.dedupe_key()
        try:
            runtime = self._runtime
            with connected_transaction(runtime.connections, runtime.sessions) as session:
                opened = self._open(session, message, key, nonce, received_at)
                known = _known(opened.seen)
                if known is not PROCEED:
                    return known
                try:
                    ctx = self._context(session, received_at, opened)
                    finished = Finished("done", dispatch(ctx, message), False)
                except Exception as error:  # noqa: BLE001 - a transient error is no bug
                    if is_transient(error):
                        raise
                    raise HandlerFailed from error  # rolls back all the handler did
                written = ctx.stores.access.take_pending()  # the sender's chat state
                self._record(session, message, key, xml, received_at, finished, "", written)
        except HandlerFailed as failed:
            cause = failed.__cause__
            return self._record_failure(message, key, xml, nonce, received_at, cause)
        _run_after_commit(ctx)
        enqueue_written(self._runtime, session)
        return finished

    @staticmethod
    def _open(
        session, message: IncomingMessage, key: str, nonce: Nonce | None, now: datetime
    ) -> inbound.Opened:
        """Under the sender's lock (`inbound.open_push`): the nonce recorded (ReplayedNonce
        when it came before with another body), what the inbox holds of the push and the
        sender's staff binding and chat state."""
        check_deadline()  # the statements go in one round trip, past the engine's check
        given = (nonce.value, nonce.digest) if nonce is not None else None
        opened = inbound.open_push(session, message.openid, key, now, given)
        if nonce is not None:
            _refuse_replay(nonce, opened.nonce_before)
        return opened

    def _record_failure(
        self,
        message: IncomingMessage,
        key: str,
        xml: str,
        nonce: Nonce | None,
        received_at: datetime,
        error: BaseException,
    ) -> Finished | None:
        """A handler's bug: the push is recorded as failed in a transaction of its own (the
        handler's work was rolled back), to be answered 「系统繁忙」 and replayed."""
        text = self._log_failure(key, message.openid, error)
        finished = Finished("failed", customer_texts.BUSY, True)
        with transaction(self._runtime.sessions) as session:
            known = _known(self._open(session, message, key, nonce, received_at).seen)
            if known is not PROCEED:
                return known
            self._record(session, message, key, xml, received_at, finished, text)
        return finished

    def _record(
        self,
        session,
        message: IncomingMessage,
        key: str,
        xml: str,
        received_at: datetime,
        finished: Finished,
        error: str,
        written: Sequence[Step] = (),
    ) -> None:
        """Insert the handled push and commit, after the `written` steps (the handler's chat
        state writes), in one round trip on PostgreSQL."""
        check_deadline()
        inbound.record_handled_and_commit(
            session,
            written,
            **_push_columns(message, key, xml, received_at, lease_until=received_at),
            status=finished.status,
            reply=finished.reply,
            error=error,
            late=finished.late,
            finished_at=self._clock(),
        )

    def _answer(self, inbound_id: int, message: IncomingMessage) -> str:
        try:
            finished = self.run(inbound_id, message.openid, late=False)
        except Exception as error:  # noqa: BLE001 - the push is on record either way
            if not is_transient(error):
                raise
            log.warning(
                "push %s from %s waits for the sweep: %s", inbound_id, message.openid, error
            )
            finished = None
        if finished is None:
            return deferred_answer(message)
        return _reply_of(finished)

    def _spool(self, message: IncomingMessage, xml: str, nonce: Nonce | None) -> str:
        value, digest = (nonce.value, nonce.digest) if nonce is not None else ("", "")
        if not self.spool.put(message.openid, xml, self._clock(), value, digest):
            raise Refused("neither the database nor the spool can keep the push")
        return deferred_answer(message)

    def _claim(self, message: IncomingMessage, xml: str, nonce: Nonce | None) -> int:
        try:
            return self._claim_once(message, xml, nonce, self._clock())
        except IntegrityError:  # a copy (or the nonce) was recorded meanwhile
            return self._claim_once(message, xml, nonce, self._clock())

    def _claim_once(
        self, message: IncomingMessage, xml: str, nonce: Nonce | None, received_at: datetime
    ) -> int:
        lease = timedelta(seconds=self._runtime.settings.wechat.reclaim_after_seconds)
        return self._record_unhandled(message, xml, nonce, received_at, received_at + lease)

    def _record_unhandled(
        self,
        message: IncomingMessage,
        xml: str,
        nonce: Nonce | None,
        received_at: datetime,
        lease_until: datetime,
    ) -> int:
        """Record a push still to be handled, once: the id of a copy recorded before, or of
        the new row (whoever holds it past `lease_until` may be taken over)."""
        key = message.dedupe_key()
        with transaction(self._runtime.sessions) as session:
            if nonce is not None:
                _check_nonce(session, nonce, received_at)
            existing = session.scalar(
                select(InboundMessage.id).where(InboundMessage.dedupe_key == key)
            )
            if existing is not None:
                return existing
            row = InboundMessage(**_push_columns(message, key, xml, received_at, lease_until))
            session.add(row)
            session.flush()
            return row.id

    # --- handling, in order ------------------------------------------------------------------

    def run(self, inbound_id: int, openid: str, *, late: bool) -> Finished | None:
        """Handle the push once the sender's earlier ones are handled; how it ended, or None
        when the time ran out (or, without a deadline, an earlier push is still being
        handled by its own request). Transient database errors are raised."""
        while True:
            try:
                step = self._step(inbound_id, openid, late)
            except Exception as error:  # noqa: BLE001 - a lock wait or a busy database
                if not is_transient(error) or not _time_for_another_try():
                    raise
                step = WAIT
            if isinstance(step, Finished):
                return step
            if step is WAIT and not _time_for_another_try():
                return None
            if step is WAIT:
                time.sleep(POLL_SECONDS)

    def _step(self, inbound_id: int, openid: str, late: bool):
        """One transaction: Finished, WAIT, or None after handling an earlier push."""
        runtime = self._runtime
        with transaction(runtime.sessions) as session:
            lock_sender(session, openid)
            row = session.get(InboundMessage, inbound_id)
            if row.status != "processing":
                return Finished(row.status, row.reply, row.late)
            earlier = first_unfinished(session, openid, row.id)
            if earlier is not None and earlier.lease_until > self._clock():
                return WAIT
            target = earlier or row
            written = len(written_in(session))
            try:
                with session.begin_nested():
                    ctx = self._handle(session, target, late=late or target is not row)
            except Exception as error:  # noqa: BLE001 - a transient error is no bug
                if is_transient(error):
                    raise
                forget_written_after(session, written)  # rolled back with the savepoint
                self._failed(session, target, error)
                ctx = None
        if ctx is not None:
            _run_after_commit(ctx)
        enqueue_written(runtime, session)
        if target is row:
            return Finished(row.status, row.reply, row.late)
        return None

    def _context(self, session, now: datetime, opened: inbound.Opened | None = None) -> Context:
        """A handler's context; `opened`: what the push's first statements already read of
        its sender (staff binding, chat state), so the handler does not read it again —
        and its chat state writes then wait for the push's last statements."""
        runtime = self._runtime
        stores = runtime.stores.bound(session, now, deferred=opened is not None)
        if opened is not None:
            stores.access.preload(opened.staff.openid, opened.states)
        return Context(
            session=session,
            settings=runtime.settings,
            policy=runtime.policy,
            stores=stores,
            now=now,
            media_link=runtime.media_links.url,
            sender_staff=opened.staff if opened is not None else None,
        )

    def _handle(self, session, row: InboundMessage, *, late: bool) -> Context:
        message = IncomingMessage.from_fields(wechat.parse(row.raw_xml))
        now = row.received_at
        ctx = self._context(session, now)
        reply = dispatch(ctx, message)
        if late and reply:
            notify_late_reply(session, row.openid, reply, now)
        row.status, row.reply, row.late, row.finished_at = "done", reply, late, self._clock()
        if late:
            log.info(
                "push %s from %s handled late; its answer goes as a message", row.id, row.openid
            )
        return ctx

    def _failed(self, session, row: InboundMessage, error: BaseException) -> None:
        row.status, row.late = "failed", True
        row.error = self._log_failure(f"{row.id} ({row.dedupe_key})", row.openid, error)
        row.reply, row.finished_at = customer_texts.BUSY, self._clock()

    @staticmethod
    def _log_failure(push: str, openid: str, error: BaseException) -> str:
        """Log a handler's bug, phones masked; the text to store with the push."""
        text = mask_phones_in("".join(traceback.format_exception(error)))
        log.error("handler failed for push %s from %s\n%s", push, openid, text)
        return text[-8000:]

    # --- pushes handled later (sweep, spool, replay) ----------------------------------------

    def take_over(self, inbound_id: int, openid: str) -> Finished | None:
        """Handle an abandoned push now; its answer goes as a message."""
        return self.run(inbound_id, openid, late=True)

    def accept_spooled(
        self, openid: str, xml: str, received_at: datetime, nonce: Nonce | None = None
    ) -> int:
        """Record a spooled push (once: a copy recorded meanwhile is found) with its lease run
        out, so that it is handled at once and answered by message. ReplayedNonce when its
        nonce came with another body (checked now: the database was down then)."""
        message = IncomingMessage.from_fields(wechat.parse(xml))
        return self._record_unhandled(message, xml, nonce, received_at, received_at)

    def reopen_failed(self, inbound_id: int) -> None:
        """Put a failed push back in line, to be handled again (`bihuan inbound replay`)."""
        with transaction(self._runtime.sessions) as session:
            row = session.get(InboundMessage, inbound_id)
            if row.status == "failed":
                row.status, row.lease_until = "processing", self._clock()


def _push_columns(
    message: IncomingMessage, key: str, xml: str, received_at: datetime, lease_until: datetime
) -> dict:
    """The columns of an `inbound_messages` row that come from the push itself."""
    return {
        "dedupe_key": key,
        "openid": message.openid,
        "msg_type": message.event or message.kind,
        "raw_xml": xml,
        "received_at": received_at,
        "lease_until": lease_until,
    }


def _reply_of(finished: Finished) -> str:
    """The HTTP answer of a push that has been handled."""
    if finished.status == "failed":
        return customer_texts.BUSY
    return "" if finished.late else finished.reply


def deferred_answer(message: IncomingMessage) -> str:
    """What a push is answered while its real answer has to wait."""
    if message.kind == "event" and message.event not in ANSWERED_EVENTS:
        return ""
    return RECEIVED_LATER


def _known(seen: inbound.Seen):
    """Finished for a copy already handled, None when the push must take the path in steps
    (the sender has another push being handled), PROCEED when it is new and alone."""
    if seen.copy_status not in (None, "processing"):
        return Finished(seen.copy_status, seen.copy_reply, seen.copy_late)
    return None if seen.sender_waiting else PROCEED


def _check_nonce(session, nonce: Nonce, now: datetime) -> None:
    _refuse_replay(nonce, inbound.remember_nonce(session, nonce.value, nonce.digest, now))


def _refuse_replay(nonce: Nonce, before: str | None) -> None:
    """ReplayedNonce when the nonce came before (`before`: its digest then) with another body."""
    if before is not None and before != nonce.digest:
        raise ReplayedNonce(nonce.value)


def _time_for_another_try() -> bool:
    left = seconds_left()
    return left is not None and left > POLL_SECONDS


def _run_after_commit(ctx: Context) -> None:
    for action in ctx.after_commit:
        try:
            action()
        except Exception:  # noqa: BLE001 - the change is committed; log and go on
            log.exception("after-commit action failed")
