"""What the API's change feeds read: tickets, ratings and call-back results changed since a
cursor, oldest change first, as JSON-ready dicts. Functions take a session.

A cursor is the (time, id) of the last row a client has; a page holds the rows after it, in
(time, id) order, read from an index. Rows changed in the last `lag` are left for the next
page: a transaction that started earlier but commits later can then not be skipped.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, aliased

from models.core.figures import SATISFIED_EVENT, UNSATISFIED_EVENT
from models.core.labels import SEVERITY_LABELS, STATUS_LABELS
from models.people.tables import Department, Staff
from models.rating.tables import BusinessRecord, Rating
from models.ticket.tables import Ticket, TicketEvent


class BadCursor(ValueError):
    """A cursor this server did not write."""


@dataclass(frozen=True)
class Cursor:
    at: datetime
    id: int

    def encode(self) -> str:
        raw = f"{self.at.isoformat()}|{self.id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
            at, _, number = raw.partition("|")
            moment = datetime.fromisoformat(at)
            if moment.tzinfo is None:
                raise ValueError("naive")
            return cls(moment, int(number))
        except (ValueError, UnicodeDecodeError, binascii.Error) as exc:
            raise BadCursor(text) from exc


@dataclass(frozen=True)
class Page:
    items: list[dict]
    cursor: Cursor | None  # of the last item; None when the page is empty


def _after(time_column, id_column, cursor: Cursor | None, until: datetime):
    conditions = [time_column <= until]
    if cursor is not None:
        conditions.append(
            or_(
                time_column > cursor.at,
                and_(time_column == cursor.at, id_column > cursor.id),
            )
        )
    return conditions


def _page(rows, to_item, at_of, limit: int) -> Page:
    items = [to_item(row) for row in rows[:limit]]
    last = rows[: len(items)][-1] if items else None
    return Page(items, Cursor(*at_of(last)) if last is not None else None)


def tickets_since(
    session: Session, cursor: Cursor | None, limit: int, now: datetime, lag: int, zone: ZoneInfo
) -> Page:
    handling, receiving = aliased(Department), aliased(Department)
    statement = (
        select(Ticket, handling.name, receiving.name, Staff.name)
        .outerjoin(handling, handling.id == Ticket.handling_department_id)
        .outerjoin(receiving, receiving.id == Ticket.receiving_department_id)
        .outerjoin(Staff, Staff.id == Ticket.handler_id)
        .where(*_after(Ticket.updated_at, Ticket.id, cursor, now - timedelta(seconds=lag)))
        .order_by(Ticket.updated_at, Ticket.id)
        .limit(limit)
    )
    rows = session.execute(statement).all()
    return _page(
        rows, lambda row: ticket_item(*row, zone), lambda row: (row[0].updated_at, row[0].id), limit
    )


def ticket_item(
    ticket: Ticket, handling: str | None, receiving: str | None, handler: str | None, zone
) -> dict:
    return {
        "number": ticket.number,
        "status": ticket.status,
        "status_label": STATUS_LABELS[ticket.status],
        "severity": ticket.severity,
        "severity_label": SEVERITY_LABELS[ticket.severity],
        "appeal_type": ticket.appeal_type,
        "source_channel": ticket.source_channel,
        "customer_name": ticket.customer_name,
        "phone": ticket.phone,
        "gas_account": ticket.gas_account,
        "address": ticket.address,
        "matter": ticket.matter,
        "complained_at": _iso(ticket.complained_at, zone),
        "received_at": _iso(ticket.created_at, zone),
        "receiving_department": receiving,
        "handling_department": handling,
        "handler": handler,
        "result": ticket.result,
        "resolved_on": ticket.resolved_on.isoformat() if ticket.resolved_on else None,
        "invalid_reason": ticket.invalid_reason,
        "repeat": ticket.repeat_flag,
        "accountability": ticket.accountability_flag,
        "rounds": ticket.rounds,
        "external_number": ticket.external_number,
        "updated_at": _iso(ticket.updated_at, zone),
    }


def ratings_since(
    session: Session, cursor: Cursor | None, limit: int, now: datetime, lag: int, zone: ZoneInfo
) -> Page:
    statement = (
        select(Rating, Ticket.number, BusinessRecord.order_no, Staff.name)
        .outerjoin(Ticket, Ticket.id == Rating.ticket_id)
        .outerjoin(BusinessRecord, BusinessRecord.id == Rating.business_record_id)
        .outerjoin(Staff, Staff.id == Rating.staff_id)
        .where(*_after(Rating.updated_at, Rating.id, cursor, now - timedelta(seconds=lag)))
        .order_by(Rating.updated_at, Rating.id)
        .limit(limit)
    )
    rows = session.execute(statement).all()
    return _page(
        rows, lambda row: rating_item(*row, zone), lambda row: (row[0].updated_at, row[0].id), limit
    )


def rating_item(rating: Rating, number, order_no, credited, zone) -> dict:
    return {
        "id": rating.id,
        "stars": rating.stars,
        "comment": rating.comment,
        "target": rating.target,
        "ticket_number": number,
        "order_no": order_no,
        "credited_to": credited,
        "channel": rating.channel,
        "rated_at": _iso(rating.created_at, zone),
        "updated_at": _iso(rating.updated_at, zone),
    }


def callbacks_since(
    session: Session, cursor: Cursor | None, limit: int, now: datetime, lag: int, zone: ZoneInfo
) -> Page:
    earlier = aliased(TicketEvent)
    first = ~(
        select(earlier.id)
        .where(
            earlier.ticket_id == TicketEvent.ticket_id,
            earlier.kind.in_((SATISFIED_EVENT, UNSATISFIED_EVENT)),
            earlier.id < TicketEvent.id,
        )
        .exists()
    )
    statement = (
        select(TicketEvent, Ticket.number, first.label("first"))
        .join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .where(
            TicketEvent.kind.in_((SATISFIED_EVENT, UNSATISFIED_EVENT)),
            *_after(TicketEvent.created_at, TicketEvent.id, cursor, now - timedelta(seconds=lag)),
        )
        .order_by(TicketEvent.created_at, TicketEvent.id)
        .limit(limit)
    )
    rows = session.execute(statement).all()
    return _page(
        rows,
        lambda row: callback_item(*row, zone),
        lambda row: (row[0].created_at, row[0].id),
        limit,
    )


def callback_item(event: TicketEvent, number: str, first: bool, zone) -> dict:
    return {
        "id": event.id,
        "ticket_number": number,
        "satisfied": event.kind == SATISFIED_EVENT,
        "first": bool(first),
        "by": event.actor_role,
        "channel": event.channel,
        "text": event.text,
        "answered_at": _iso(event.created_at, zone),
    }


def _iso(moment: datetime | None, zone: ZoneInfo) -> str | None:
    return moment.astimezone(zone).isoformat() if moment else None
