"""Sending notification rows: at least once, and never twice as far as WeChat allows.

Rows go in batches (`deliver_batch`; the drain job in `jobs.drain` claims them). Each
attempt is put on record before anything leaves (`status = sending`, the channel, the time)
in one transaction for the whole batch; the sends happen outside any transaction, over
kept-alive HTTP connections (in lanes for a large batch, each recipient's rows in order);
their outcomes are recorded in one more transaction. So a worker killed mid-batch (every row
of the batch still `sending`, sent or not), or an answer that never came (a read timeout),
leaves a send *in doubt*, and an attempt in doubt is never repeated blindly:

- a template message is sent again only with the same `client_msg_id` (``bihuan-<row id>``),
  which WeChat drops as a repeat for about ten minutes; past that window the row is marked
  `unsure` for a person to check instead;
- a customer-service message is never sent again: its template follows (a different form,
  with its own client_msg_id), or, when no template is configured for it, the row is marked
  `unsure` and the officer is told to check with the customer.

A send that failed before reaching WeChat (no connection, 45015/45047 outside the window) is
simply retried after `outbox.retry_seconds` (the row's `next_attempt_at`; the drain queues a
job for then), or falls back to the template at once. The other rows of its batch are
recorded as they went.

Nobody waits unseen: a message that cannot reach a staff member for good (not bound, blocked,
a rejected template) becomes a "delivery_failed" push to the officers, who can phone them.
Every message sent is logged in one line, phone numbers masked.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db import transaction
from bot.runtime import Runtime
from bot.wechat_api import ApiError
from jobs import messages
from jobs.queue import enqueue_written
from models.core.payload import Payload
from models.core.phones import scrub_phones
from models.notification import outbox as notifications
from models.notification.outbox import LATE_REPLY
from models.notification.tables import Notification
from models.people.tables import Customer, Staff
from models.ticket.tables import Ticket

log = logging.getLogger(__name__)
PHONE_PATH_KINDS = {"callback_request"}
# WeChat drops a template message repeating a client_msg_id for about ten minutes.
CLIENT_MSG_ID_WINDOW = timedelta(minutes=9)


@dataclass(frozen=True)
class Target:
    openid: str
    customer: Customer | None
    staff: Staff | None


@dataclass
class Plan:
    """One attempt, decided and recorded before the send."""

    row_id: int
    started: datetime
    channel: str  # custom | template
    openid: str
    text: str = ""
    template_id: str = ""
    data: dict[str, str] = field(default_factory=dict)
    url: str = ""
    msgid: str = ""


@dataclass
class Batch:
    """What became of a batch: each claimed row's outcome, and when the rows to retry are
    due."""

    outcomes: dict[int, str] = field(default_factory=dict)
    retry_at: dict[int, datetime] = field(default_factory=dict)


# Claims the rows of a batch (locked) in the session it is given.
Claim = Callable[[Session], list[Notification]]


def deliver(runtime: Runtime, notification_id: int, now: datetime) -> str:
    """One row as a batch of one: sent | skipped | failed | retry | unsure | done-before."""
    batch = deliver_batch(
        runtime,
        lambda session: notifications.claim_pending(session, now, 1, [notification_id]),
        now,
    )
    return batch.outcomes.get(notification_id, "done-before")


def deliver_batch(
    runtime: Runtime, claim: Claim, now: datetime, send_until: float | None = None
) -> Batch:
    """Claim rows, put their attempts on record (one commit), send, record the outcomes (one
    commit; a customer-service message refused or in doubt gets its template planned in that
    same commit, sent and recorded in one more round). Sends are not started after the
    monotonic time `send_until`: those rows go back to pending, due, untried ("released").

    Outcomes: sent | skipped | failed | retry | unsure | released | done-before."""
    batch = Batch()
    with transaction(runtime.sessions) as session:
        rows = claim(session)
        _load_recipients(session, rows)
        plans = []
        for row in rows:
            decided = _plan(session, runtime, row, now)
            if isinstance(decided, Plan):
                plans.append(decided)
            else:
                batch.outcomes[row.id] = decided
    enqueue_written(runtime, session)
    while plans:
        results = _send_round(runtime, plans, send_until)
        with transaction(runtime.sessions) as session:
            plans = _record_all(session, runtime, results, now, batch)
        enqueue_written(runtime, session)
    return batch


def _load_recipients(session: Session, rows: list[Notification]) -> None:
    """Tickets, staff and customers of a batch in three queries. The session keeps them (its
    identity map holds objects only weakly), so that `session.get` finds them there."""
    kept = session.info.setdefault("bihuan_batch_recipients", [])
    for model, column in ((Ticket, "ticket_id"), (Staff, "staff_id"), (Customer, "customer_id")):
        ids = {getattr(row, column) for row in rows} - {None}
        if ids:
            kept.extend(session.scalars(select(model).where(model.id.in_(ids))))


# --- deciding an attempt ------------------------------------------------------------------


def _plan(session: Session, runtime: Runtime, row: Notification, now: datetime) -> Plan | str:
    ticket = session.get(Ticket, row.ticket_id) if row.ticket_id else None
    target, reason = _target(session, row)
    if target is None:
        return _skip(session, row, ticket, reason, now)
    if row.in_doubt == "template" and _past_window(row, now):
        return _unsure(session, row, ticket, now, "模板消息可能已发出，且已超出微信去重时限")
    available = messages.values(row, ticket, runtime.settings, now)
    if not row.in_doubt and _wants_custom(row, target, runtime, now):
        text = messages.customer_text(row, ticket, runtime.settings, now)
        return _mark(row, now, Plan(row.id, now, "custom", target.openid, text=text))
    return _template_plan(session, runtime, row, ticket, target, available, now)


def _template_plan(session, runtime, row, ticket, target, available, now) -> Plan | str:
    config = runtime.settings.templates.kinds.get(messages.template_key(row)) or {}
    if not config.get("id"):
        if row.in_doubt == "custom":
            return _unsure(session, row, ticket, now, "客服消息可能已发出，且未配置可替代的模板")
        error = ApiError(-2, f"template {messages.template_key(row)} not configured", "permanent")
        return _failed(session, runtime, row, ticket, target, error, now)
    if target.customer is not None:
        url = available.get("rate_link", "")
    else:
        url = messages.staff_url(runtime.settings, row, ticket)
    plan = Plan(
        row.id,
        now,
        "template",
        target.openid,
        template_id=config["id"],
        data=messages.template_data(config.get("fields", {}), available),
        url=url,
    )
    return _mark(row, now, plan)


def _mark(row: Notification, now: datetime, plan: Plan) -> Plan:
    """The attempt on record before the send (committed with the caller's transaction)."""
    row.status, row.channel, row.attempt_started_at = "sending", plan.channel, now
    row.attempts += 1
    return plan


def _wants_custom(row: Notification, target: Target, runtime: Runtime, now: datetime) -> bool:
    """A customer-service message: to a customer inside WeChat's window, or the late answer to
    someone's own push (they have just written to us)."""
    if row.kind == LATE_REPLY:
        return True
    return target.customer is not None and _in_window(target.customer, runtime, now)


def _past_window(row: Notification, now: datetime) -> bool:
    started = row.attempt_started_at or row.created_at
    return now - started > CLIENT_MSG_ID_WINDOW


# --- the send -------------------------------------------------------------------------------


RELEASED = ApiError(0, "not started: past the drain's budget, or after its recipient left", "")
# Errors that change what the recipient's next rows should do (the customer is marked).
RECIPIENT_GONE = frozenset({"not_follower", "opted_out"})
# Fewer sends than this in a round go in order in one thread.
LANE_MIN_ROWS = 16


def _send_round(
    runtime: Runtime, plans: list[Plan], send_until: float | None
) -> list[tuple[Plan, ApiError | None]]:
    """Each plan's send. A round of at least LANE_MIN_ROWS sends goes in up to
    `outbox.send_threads` lanes at once (WeChat's answer takes a round trip; the lanes share
    the client's kept-alive connections and token); each recipient's rows stay in one lane, in
    order. A smaller round goes in order in this thread."""
    runtime.wechat_api()  # built once, before any lane needs it
    lanes = _lanes(plans, runtime.settings.outbox.send_threads)
    if len(lanes) == 1:
        return _send_lane(runtime, lanes[0], send_until)
    with ThreadPoolExecutor(len(lanes), thread_name_prefix="bihuan-send") as pool:
        done = list(pool.map(lambda lane: _send_lane(runtime, lane, send_until), lanes))
    return sorted((result for lane in done for result in lane), key=lambda r: r[0].row_id)


def _lanes(plans: list[Plan], threads: int) -> list[list[Plan]]:
    by_recipient: dict[str, list[Plan]] = {}
    for plan in plans:
        by_recipient.setdefault(plan.openid, []).append(plan)
    count = min(threads, len(by_recipient)) if len(plans) >= LANE_MIN_ROWS else 1
    lanes: list[list[Plan]] = [[] for _ in range(max(count, 1))]
    for index, group in enumerate(by_recipient.values()):
        lanes[index % len(lanes)].extend(group)
    return lanes


def _send_lane(
    runtime: Runtime, plans: list[Plan], send_until: float | None
) -> list[tuple[Plan, ApiError | None]]:
    """One after the other. Not started (RELEASED, decided again in a later batch): past
    `send_until`, and a row whose recipient refused an earlier row for good, so that it is
    planned knowing that (as one row at a time would be)."""
    results: list[tuple[Plan, ApiError | None]] = []
    gone: set[str] = set()
    for plan in plans:
        late = send_until is not None and time.monotonic() > send_until
        error = RELEASED if late or plan.openid in gone else _send(runtime, plan)
        if error is not None and error.kind in RECIPIENT_GONE:
            gone.add(plan.openid)
        results.append((plan, error))
    return results


def _send(runtime: Runtime, plan: Plan) -> ApiError | None:
    api = runtime.wechat_api()
    try:
        if plan.channel == "custom":
            api.send_text(plan.openid, plan.text)
        else:
            plan.msgid = api.send_template(
                plan.openid, plan.template_id, plan.data, plan.url, f"bihuan-{plan.row_id}"
            )
    except ApiError as error:
        return error
    except Exception as error:  # noqa: BLE001 - one row's bug must not leave its batch in doubt
        log.exception("notification %s: the send raised", plan.row_id)
        return ApiError(-1, f"{type(error).__name__} during the send", "in_doubt")
    return None


# --- recording the outcome ------------------------------------------------------------------


def _record_all(
    session: Session,
    runtime: Runtime,
    results: list[tuple[Plan, ApiError | None]],
    now: datetime,
    batch: Batch,
) -> list[Plan]:
    """Every outcome of a round in the caller's transaction; the plans of a next round."""
    rows = notifications.lock_rows(session, [plan.row_id for plan, _ in results])
    _load_recipients(session, list(rows.values()))
    following = []
    for plan, error in results:
        decided = _record(session, runtime, rows[plan.row_id], plan, error, now)
        if isinstance(decided, Plan):
            following.append(decided)
            continue
        batch.outcomes[plan.row_id] = decided
        if decided == "retry":
            batch.retry_at[plan.row_id] = rows[plan.row_id].next_attempt_at
    return following


def _record(
    session: Session,
    runtime: Runtime,
    row: Notification,
    plan: Plan,
    error: ApiError | None,
    now: datetime,
) -> Plan | str:
    if row.status != "sending" or row.attempt_started_at != plan.started:
        return "done-before"  # the sweep took it back meanwhile
    if error is RELEASED:  # never sent: as if never tried
        row.status, row.attempts, row.next_attempt_at = "pending", row.attempts - 1, now
        return "released"
    if error is None:
        row.status, row.sent_at, row.last_error, row.in_doubt = "sent", now, "", ""
        if plan.channel == "template":
            row.wechat_msgid = str(plan.msgid or "")
        _log_plan(session, row, plan)
        return "sent"
    row.last_error_code, row.last_error = error.code, str(error)[:500]
    ticket = session.get(Ticket, row.ticket_id) if row.ticket_id else None
    target, _ = _target(session, row)
    if plan.channel == "custom" and error.kind in ("fallback_to_template", "in_doubt"):
        return _fall_back(session, runtime, row, ticket, target, error, now)
    if error.kind == "in_doubt":
        row.in_doubt = "template"
        log.warning("notification %s: template send in doubt (%s)", row.id, error)
        if _retry(runtime, row, now) == "failed":  # out of tries: a person checks
            return _unsure(session, row, ticket, now, "模板消息可能已发出，多次重试仍无应答")
        return "retry"
    return _failed(session, runtime, row, ticket, target, error, now)


def _fall_back(session, runtime, row, ticket, target, error: ApiError, now: datetime):
    """The customer-service message was refused (45015/45047) or may have gone: its template,
    at once, in this same job."""
    row.status = "pending"
    if target is None:
        return _skip(session, row, ticket, "收件人已不可达", now)
    if error.kind == "in_doubt":
        row.in_doubt = "custom"
        log.warning("notification %s: customer-service send in doubt, template follows", row.id)
    else:
        log.info("notification %s: %s, falling back to a template", row.id, error.code)
    available = messages.values(row, ticket, runtime.settings, now)
    return _template_plan(session, runtime, row, ticket, target, available, now)


def _log_plan(session: Session, row: Notification, plan: Plan) -> None:
    target, _ = _target(session, row)
    if target is None:
        return
    if plan.channel == "custom":
        _log_sent(row, target, "客服消息", plan.text)
    else:
        _log_sent(row, target, "模板消息", "｜".join(plan.data.values()))


def _log_sent(row: Notification, target: Target, channel: str, words: str) -> None:
    who = target.staff.name if target.staff is not None else f"客户#{row.customer_id}"
    log.info("→ %s [%s %s] %s", who, channel, row.kind, scrub_phones(words)[:200])


def _target(session: Session, row: Notification) -> tuple[Target | None, str]:
    if row.staff_id is not None:
        staff = session.get(Staff, row.staff_id)
        if staff is None or not staff.active or not staff.openid:
            return None, "员工未绑定微信"
        return Target(staff.openid, None, staff), ""
    customer = session.get(Customer, row.customer_id)
    if customer is None or not customer.openid:
        return None, "客户不是微信用户"
    if not customer.subscribed or customer.opted_out:
        return None, "客户已取消关注或拒收消息"
    return Target(customer.openid, customer, None), ""


def _in_window(customer: Customer, runtime: Runtime, now: datetime) -> bool:
    window = timedelta(hours=runtime.settings.outbox.customer_window_hours)
    return customer.last_inbound_at is not None and now - customer.last_inbound_at < window


def _failed(
    session: Session,
    runtime: Runtime,
    row: Notification,
    ticket: Ticket | None,
    target: Target | None,
    error: ApiError,
    now: datetime,
) -> str:
    """A failure that is not in doubt: retried when transient, else recorded for good."""
    row.last_error_code, row.last_error = error.code, str(error)[:500]
    if error.kind in ("transient", "rate_limited"):
        outcome = _retry(runtime, row, now)
        if outcome == "failed" and target is not None and target.staff is not None:
            _tell_officers(session, row, ticket, "多次发送失败", now)
        return outcome
    customer = target.customer if target is not None else None
    if error.kind == "not_follower" and customer is not None:
        customer.subscribed = False
    if error.kind == "opted_out" and customer is not None:
        customer.opted_out = True
    if error.kind in ("operations", "quota_exhausted"):
        log.error("WECHAT OPERATIONS ALERT: notification %s failed with %s", row.id, error)
    row.status = "failed"
    if customer is not None:
        _phone_path(session, row, ticket, now)
    else:
        _tell_officers(session, row, ticket, f"微信拒收（{error.code}）", now)
    log.warning("notification %s failed permanently: %s", row.id, error)
    return "failed"


def _retry(runtime: Runtime, row: Notification, now: datetime) -> str:
    delays = runtime.settings.outbox.retry_seconds
    if row.attempts > len(delays):
        row.status = "failed"
        log.error("notification %s gave up after %s attempts", row.id, row.attempts)
        return "failed"
    row.status = "pending"
    row.next_attempt_at = now + timedelta(seconds=delays[row.attempts - 1])
    return "retry"


def _unsure(
    session: Session, row: Notification, ticket: Ticket | None, now: datetime, why: str
) -> str:
    """A send that may have happened and cannot be repeated safely: for a person to check."""
    row.status, row.last_error = "unsure", why
    log.error("notification %s needs a person: %s", row.id, why)
    if ticket is not None:
        payload = Payload(
            ticket_id=ticket.id, number=ticket.number, stage="消息可能未送达", note=why
        )
        notifications.notify(session, "officer", "delivery_unsure", ticket, payload, now)
    return "unsure"


def _skip(
    session: Session, row: Notification, ticket: Ticket | None, reason: str, now: datetime
) -> str:
    row.status, row.last_error = "skipped", reason
    if row.customer_id is not None:
        _phone_path(session, row, ticket, now)
    else:
        _tell_officers(session, row, ticket, reason, now)
    return "skipped"


def _tell_officers(
    session: Session, row: Notification, ticket: Ticket | None, reason: str, now: datetime
) -> None:
    """A message that will never reach a staff member reaches the officers instead (not the
    person it failed for, and never about a failure notice itself: no loops)."""
    if row.kind == "delivery_failed" or row.staff_id is None:
        return
    member = session.get(Staff, row.staff_id)
    officers = [
        staff_id
        for staff_id in notifications.recipient_staff_ids(session, "officer", ticket)
        if staff_id != row.staff_id
    ]
    if not officers:
        log.error("notification %s reached nobody and no officer can be told", row.id)
        return
    payload = Payload(
        ticket_id=ticket.id if ticket else None,
        number=ticket.number if ticket else "",
        who=member.name if member else f"员工#{row.staff_id}",
        about=row.kind,
        reason=reason,
    )
    for staff_id in officers:
        notifications.notify_staff(session, staff_id, "delivery_failed", ticket, payload, now)


def _phone_path(session: Session, row: Notification, ticket: Ticket | None, now: datetime) -> None:
    """A customer WeChat cannot reach is called back by phone: put it on the officer's list."""
    if ticket is None or row.kind not in PHONE_PATH_KINDS or ticket.phone_callback:
        return
    ticket.phone_callback = True
    payload = Payload(
        ticket_id=ticket.id, number=ticket.number, stage="请电话回访客户", result=ticket.result
    )
    notifications.notify(session, "officer", "callback_due", ticket, payload, now)
