"""Sending one notification row: at least once, never twice for one success.

The row is locked while it is sent, re-read (a row already sent or given up is skipped), and
the outcome recorded on it. The row id is the template message's client_msg_id, so even a
send repeated after a crash is dropped by WeChat within its ten-minute window.

Nobody waits unseen: a message that cannot reach a staff member for good (not bound, blocked,
a rejected template) becomes a "delivery_failed" push to the officers, who can phone them.
Every message sent is logged in one line, phone numbers masked.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot.db import transaction
from bot.runtime import Runtime
from bot.wechat_api import ApiError
from jobs import messages
from jobs.queue import enqueue_written
from models.core.payload import Payload
from models.core.phones import scrub_phones
from models.notification import outbox as notifications
from models.notification.tables import Notification
from models.people.tables import Customer, Staff
from models.ticket.tables import Ticket

log = logging.getLogger(__name__)
PHONE_PATH_KINDS = {"callback_request"}


class RetryLater(Exception):
    """A transient failure: rq retries the job with backoff (the row stays pending)."""


@dataclass(frozen=True)
class Target:
    openid: str
    customer: Customer | None
    staff: Staff | None


def send_notification(notification_id: int) -> str:
    """The rq job."""
    from jobs.runtime import current

    runtime = current()
    outcome = deliver(runtime, notification_id, runtime.now())
    if outcome == "retry":
        raise RetryLater(f"notification {notification_id} will be retried")
    return outcome


def deliver(runtime: Runtime, notification_id: int, now: datetime) -> str:
    """sent | skipped | failed | retry | done-before."""
    with transaction(runtime.sessions) as session:
        row = session.get(Notification, notification_id, with_for_update=True)
        if row is None or row.status != "pending":
            return "done-before"
        outcome = _deliver_row(session, runtime, row, now)
    enqueue_written(runtime, session)
    return outcome


def _deliver_row(session: Session, runtime: Runtime, row: Notification, now: datetime) -> str:
    ticket = session.get(Ticket, row.ticket_id) if row.ticket_id else None
    target, reason = _target(session, row)
    if target is None:
        return _skip(session, row, ticket, reason, now)
    row.attempts += 1
    try:
        _send(runtime, row, ticket, target, now)
    except ApiError as error:
        return _failed_attempt(session, runtime, row, ticket, target, error, now)
    row.status, row.sent_at, row.last_error = "sent", now, ""
    return "sent"


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


def _send(
    runtime: Runtime, row: Notification, ticket: Ticket | None, target: Target, now: datetime
) -> None:
    available = messages.values(row, ticket, runtime.settings, now)
    if target.customer is not None and _in_window(target.customer, runtime, now):
        text = messages.customer_text(row, ticket, runtime.settings, now)
        try:
            runtime.wechat_api().send_text(target.openid, text)
            row.channel = "custom"
            _log_sent(row, target, "客服消息", text)
            return
        except ApiError as error:
            if error.kind != "fallback_to_template":
                raise
            log.info("notification %s: %s, falling back to a template", row.id, error.code)
    _send_template(runtime, row, ticket, target, available)


def _send_template(
    runtime: Runtime,
    row: Notification,
    ticket: Ticket | None,
    target: Target,
    available: dict[str, str],
) -> None:
    config = runtime.settings.templates.kinds.get(messages.template_key(row)) or {}
    if not config.get("id"):
        raise ApiError(-2, f"template {messages.template_key(row)} not configured", "permanent")
    url = "" if target.customer is not None else messages.staff_url(runtime.settings, row, ticket)
    data = messages.template_data(config.get("fields", {}), available)
    msgid = runtime.wechat_api().send_template(
        target.openid, config["id"], data, url, f"bihuan-{row.id}"
    )
    row.channel, row.wechat_msgid = "template", str(msgid or "")
    _log_sent(row, target, "模板消息", "｜".join(data.values()))


def _in_window(customer: Customer, runtime: Runtime, now: datetime) -> bool:
    window = timedelta(hours=runtime.settings.outbox.customer_window_hours)
    return customer.last_inbound_at is not None and now - customer.last_inbound_at < window


def _failed_attempt(
    session: Session,
    runtime: Runtime,
    row: Notification,
    ticket: Ticket | None,
    target: Target,
    error: ApiError,
    now: datetime,
) -> str:
    row.last_error_code, row.last_error = error.code, str(error)[:500]
    if error.kind in ("transient", "rate_limited"):
        outcome = _retry(runtime, row, now)
        if outcome == "failed" and target.staff is not None:
            _tell_officers(session, row, ticket, "多次发送失败", now)
        return outcome
    if error.kind == "not_follower" and target.customer is not None:
        target.customer.subscribed = False
    if error.kind == "opted_out" and target.customer is not None:
        target.customer.opted_out = True
    if error.kind in ("operations", "quota_exhausted"):
        log.error("WECHAT OPERATIONS ALERT: notification %s failed with %s", row.id, error)
    row.status = "failed"
    if target.customer is not None:
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
    row.next_attempt_at = now + timedelta(seconds=delays[row.attempts - 1])
    return "retry"


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
