"""The outbound message log (/messages): every notification with its recipient, ticket, state,
attempts, last error and WeChat's delivery report; resending one that failed for good; the
week's failures summed up for the officer. Nothing here commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.audit import log as audit
from models.audit.log import Who
from models.core.payload import Payload
from models.core.phones import mask_phone
from models.notification import outbox
from models.notification.tables import Notification
from models.people.tables import Customer, Staff
from models.ticket.tables import Ticket

STATUSES = ("pending", "sent", "failed", "skipped")
RESENDABLE = ("failed", "skipped")


class ResendRefused(ValueError):
    """The row cannot be sent again; the message is one Chinese line."""


@dataclass(frozen=True)
class LogRow:
    """One line of the log, the recipient already described (phones masked)."""

    notification: Notification
    recipient: str
    ticket_number: str


@dataclass(frozen=True)
class LogFilter:
    status: str | None = None
    kind: str | None = None
    ticket_number: str | None = None
    since: datetime | None = None


def page(
    session: Session, where: LogFilter, *, before_id: int | None = None, limit: int = 50
) -> list[LogRow]:
    """Newest first, keyset-paged on the id (pass the last id shown as `before_id`)."""
    statement = (
        select(
            Notification,
            Staff.name,
            Customer.name,
            func.coalesce(func.nullif(Customer.phone, ""), Ticket.phone),
            Ticket.number,
        )
        .outerjoin(Staff, Staff.id == Notification.staff_id)
        .outerjoin(Customer, Customer.id == Notification.customer_id)
        .outerjoin(Ticket, Ticket.id == Notification.ticket_id)
        .order_by(Notification.id.desc())
        .limit(limit)
    )
    for condition in _conditions(where):
        statement = statement.where(condition)
    if before_id is not None:
        statement = statement.where(Notification.id < before_id)
    return [
        LogRow(row, _recipient(staff, customer, phone), number or "")
        for row, staff, customer, phone, number in session.execute(statement)
    ]


def _conditions(where: LogFilter) -> list:
    conditions = []
    if where.status:
        conditions.append(Notification.status == where.status)
    if where.kind:
        conditions.append(Notification.kind == where.kind)
    if where.ticket_number:
        number = select(Ticket.id).where(Ticket.number == where.ticket_number.strip().upper())
        conditions.append(Notification.ticket_id.in_(number))
    if where.since is not None:
        conditions.append(Notification.created_at >= where.since)
    return conditions


def _recipient(staff: str | None, customer: str | None, phone: str | None) -> str:
    if staff is not None:
        return f"员工 {staff}"
    masked = mask_phone(phone) if phone else ""
    return " ".join(part for part in ("客户", customer or "", masked) if part)


def status_counts(session: Session, since: datetime | None = None) -> dict[str, int]:
    statement = select(Notification.status, func.count()).group_by(Notification.status)
    if since is not None:
        statement = statement.where(Notification.created_at >= since)
    counts = dict.fromkeys(STATUSES, 0)
    counts.update({status: count for status, count in session.execute(statement)})
    return counts


def resend(session: Session, notification_id: int, who: Who, now: datetime) -> Notification:
    """Send a failed (or skipped) message again once its cause is fixed: the row goes back to
    pending with fresh attempts and is queued after the commit, like a new one."""
    row = session.get(Notification, notification_id, with_for_update=True)
    if row is None:
        raise ResendRefused("没有这条消息")
    if row.status not in RESENDABLE:
        raise ResendRefused("只有发送失败或未发送的消息可以重发")
    detail = f"{row.kind} #{row.id}，上次错误：{row.last_error_code or ''} {row.last_error[:80]}"
    row.status, row.attempts, row.next_attempt_at = "pending", 0, now
    outbox.queue_after_commit(session, row)
    audit.record(
        session, who, "message_resend", now, target=f"notification:{row.id}", detail=detail
    )
    return row


@dataclass(frozen=True)
class FailureSummary:
    """The failed deliveries of a period, by kind and by error code."""

    start: datetime
    end: datetime
    failed: int
    skipped: int
    by_kind: dict[str, int]
    by_code: dict[str, int]

    def note(self) -> str:
        """≤ 20 characters for the template's thing field."""
        return f"失败{self.failed}条，未送达{self.skipped}条"


def failure_summary(session: Session, start: datetime, end: datetime) -> FailureSummary:
    period = (Notification.created_at >= start) & (Notification.created_at < end)
    failed = Notification.status == "failed"
    by_kind = session.execute(
        select(Notification.kind, func.count()).where(period, failed).group_by(Notification.kind)
    )
    by_code = session.execute(
        select(Notification.last_error_code, func.count())
        .where(period, failed)
        .group_by(Notification.last_error_code)
    )
    counts = status_counts_between(session, start, end)
    return FailureSummary(
        start=start,
        end=end,
        failed=counts.get("failed", 0),
        skipped=counts.get("skipped", 0),
        by_kind=dict(by_kind.all()),
        by_code={str(code if code is not None else "—"): count for code, count in by_code},
    )


def status_counts_between(session: Session, start: datetime, end: datetime) -> dict[str, int]:
    statement = (
        select(Notification.status, func.count())
        .where(Notification.created_at >= start, Notification.created_at < end)
        .group_by(Notification.status)
    )
    return dict(session.execute(statement).all())


def notify_failure_summary(
    session: Session, summary: FailureSummary, label: str, now: datetime
) -> list[Notification]:
    """The weekly summary to the officer, linking to the failed messages."""
    payload = Payload(
        number=label,
        stage="消息发送失败周报",
        note=summary.note(),
        link="/messages?status=failed",
    )
    return [
        outbox.notify_staff(session, staff_id, "failure_summary", None, payload, now)
        for staff_id in outbox.officer_ids(session)
    ]
