"""The one entry point for notifications: rows written in the caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from models.bulk import insert_many
from models.core.payload import Payload
from models.notification.tables import Notification
from models.people import designations
from models.people.customers import get_or_create_customer, staff_by_openid
from models.people.tables import Staff
from models.ticket.tables import Ticket

ROLE_RECIPIENTS = {"officer", "leader", "executive"}
OUTBOX_KEY = "bihuan_outbox"
LATE_REPLY = "late_reply"


def notify_late_reply(session: Session, openid: str, text: str, now: datetime) -> Notification:
    """The answer to a push handled after its HTTP answer had gone (the database was slow or
    down): sent to the sender as a customer-service message. A sender who is not staff is a
    customer, recorded now if this was their first push."""
    staff = staff_by_openid(session, openid)
    customer = None if staff is not None else get_or_create_customer(session, openid, now)
    row = Notification(
        kind=LATE_REPLY,
        staff_id=staff.id if staff is not None else None,
        customer_id=customer.id if customer is not None else None,
        payload=Payload(stage="消息已处理", note=text).to_json(),
        created_at=now,
    )
    return _add(session, row)


def notify_staff(
    session: Session,
    staff_id: int,
    kind: str,
    ticket: Ticket | None,
    payload: Payload,
    now: datetime,
) -> Notification:
    row = Notification(
        kind=kind,
        ticket_id=ticket.id if ticket else None,
        staff_id=staff_id,
        payload=payload.to_json(),
        created_at=now,
    )
    return _add(session, row)


def notify_customer(
    session: Session, ticket: Ticket, kind: str, payload: Payload, now: datetime
) -> Notification | None:
    if ticket.customer_id is None:
        return None
    row = Notification(
        kind=kind,
        ticket_id=ticket.id,
        customer_id=ticket.customer_id,
        payload=payload.to_json(),
        created_at=now,
    )
    return _add(session, row)


def notify_customer_id(
    session: Session, customer_id: int, kind: str, payload: Payload, now: datetime
) -> Notification:
    """A message to a WeChat user that is about no ticket (e.g. their staff binding moved)."""
    row = Notification(
        kind=kind, customer_id=customer_id, payload=payload.to_json(), created_at=now
    )
    return _add(session, row)


@dataclass(frozen=True)
class StaffNotice:
    """A notification to one staff member, for `notify_staff_many`."""

    staff_id: int
    kind: str
    ticket_id: int | None
    payload: Payload


@dataclass(frozen=True)
class Written:
    """A notification row inserted in bulk: what `written_in` needs to queue it."""

    id: int


def notify_staff_many(session: Session, notices: list[StaffNotice], now: datetime) -> list[int]:
    """The same rows as `notify_staff` for each notice, inserted set-based (one statement per
    page of rows, not one per row); queued like the others once committed."""
    if not notices:
        return []
    rows = [
        {
            "kind": notice.kind,
            "ticket_id": notice.ticket_id,
            "staff_id": notice.staff_id,
            "payload": notice.payload.to_json(),
            "created_at": now,
            "next_attempt_at": now,
        }
        for notice in notices
    ]
    ids = [row.id for row in insert_many(session, Notification.__table__, rows, returning=["id"])]
    session.info.setdefault(OUTBOX_KEY, []).extend(Written(id) for id in ids)
    return ids


def _add(session: Session, row: Notification) -> Notification:
    """Add the row and remember it, so that it is queued for sending once committed."""
    row.next_attempt_at = row.created_at
    session.add(row)
    queue_after_commit(session, row)
    return row


def queue_after_commit(session: Session, row: Notification) -> None:
    """Remember a row to queue for sending once the session has committed."""
    session.info.setdefault(OUTBOX_KEY, []).append(row)


def written_in(session: Session) -> list[Notification | Written]:
    """The notification rows this session added (read after the commit to queue them)."""
    return list(session.info.get(OUTBOX_KEY, []))


def forget_written_after(session: Session, count: int) -> None:
    """Forget the rows added after the first `count` (their savepoint was rolled back)."""
    del session.info.setdefault(OUTBOX_KEY, [])[count:]


def notify(
    session: Session,
    recipient: str,
    kind: str,
    ticket: Ticket | None,
    payload: Payload,
    now: datetime,
) -> list[Notification]:
    """Rows for a workflow recipient: "staff:<id>", "dept_head", a role, or "customer"."""
    if recipient == "customer":
        row = notify_customer(session, ticket, kind, payload, now) if ticket else None
        return [row] if row else []
    return [
        notify_staff(session, staff_id, kind, ticket, payload, now)
        for staff_id in recipient_staff_ids(session, recipient, ticket, payload.department_id)
    ]


def recipient_staff_ids(
    session: Session, recipient: str, ticket: Ticket | None, department_id: int | None = None
) -> list[int]:
    """Who a recipient means; "dept_head" is the head of `department_id`, else of the
    handling department (nobody when there is neither)."""
    if recipient.startswith("staff:"):
        return [int(recipient.removeprefix("staff:"))]
    if recipient == "dept_head":
        department = department_id or (ticket.handling_department_id if ticket else None)
        return _staff_ids(session, "dept_head", department) if department else []
    if recipient == "officer":
        return officer_ids(session)
    if recipient in ROLE_RECIPIENTS:
        return _staff_ids(session, recipient)
    raise ValueError(f"unknown notification recipient {recipient!r}")


def officer_ids(session: Session) -> list[int]:
    """ "The officer": the officer on duty when one is designated, else every active officer."""
    on_duty = designations.designated(session, "officer")
    return [on_duty.id] if on_duty is not None else _staff_ids(session, "officer")


@dataclass(frozen=True)
class Directory:
    """Who the roles are, read once for a batch (a sweep) instead of once per notice."""

    officers: list[int]
    leaders: list[int]
    heads: dict[int, list[int]] = field(default_factory=dict)

    def dept_heads(self, department_id: int | None) -> list[int]:
        return self.heads.get(department_id, []) if department_id is not None else []


def directory(session: Session, departments: set[int], leaders: bool) -> Directory:
    """The officers (`officer_ids`), the leaders when asked for, and the active heads of
    `departments`: at most four statements, however many departments."""
    heads: dict[int, list[int]] = {}
    if departments:
        statement = (
            select(Staff.id, Staff.department_id)
            .where(
                Staff.role == "dept_head",
                Staff.active.is_(True),
                Staff.department_id.in_(sorted(departments)),
            )
            .order_by(Staff.id)
        )
        for staff_id, department_id in session.execute(statement):
            heads.setdefault(department_id, []).append(staff_id)
    return Directory(
        officers=officer_ids(session),
        leaders=_staff_ids(session, "leader") if leaders else [],
        heads=heads,
    )


def _staff_ids(session: Session, role: str, department_id: int | None = None) -> list[int]:
    statement = select(Staff.id).where(Staff.role == role, Staff.active.is_(True))
    if department_id is not None:
        statement = statement.where(Staff.department_id == department_id)
    return list(session.scalars(statement.order_by(Staff.id)))


def claim_pending(
    session: Session, now: datetime, limit: int, ids: list[int] | None = None
) -> list[Notification]:
    """Up to `limit` pending rows to send now, in id order: the rows `ids` (whatever their
    retry time: a retry job or the sweep names them), else the due ones — never tried, or
    whose retry time has come. On PostgreSQL they are locked FOR UPDATE and rows another
    worker holds are skipped, so concurrent drains take disjoint batches; on SQLite the
    transaction's BEGIN IMMEDIATE already keeps other writers out until the caller commits."""
    statement = select(Notification).where(Notification.status == "pending")
    if ids:
        statement = statement.where(Notification.id.in_(ids))
    else:
        statement = statement.where(
            or_(Notification.attempts == 0, Notification.next_attempt_at <= now)
        )
    statement = statement.order_by(Notification.id).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update(skip_locked=True)
    return list(session.scalars(statement))


def lock_rows(session: Session, ids: list[int]) -> dict[int, Notification]:
    """The rows `ids`, locked (waiting for other holders) in id order: no deadlock."""
    statement = select(Notification).where(Notification.id.in_(ids)).order_by(Notification.id)
    rows = session.scalars(statement.with_for_update())
    return {row.id: row for row in rows}
