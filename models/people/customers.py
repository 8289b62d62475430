"""Customer queries, as functions taking a session. They never commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models.people.tables import Customer, Staff
from models.pipeline import Step


def customer_by_openid(session: Session, openid: str) -> Customer | None:
    return session.scalar(select(Customer).where(Customer.openid == openid))


def get_or_create_customer(session: Session, openid: str, now: datetime) -> Customer:
    """The follower with this openid; created on first contact (a savepoint absorbs a race)."""
    customer = customer_by_openid(session, openid)
    if customer is not None:
        return customer
    try:
        with session.begin_nested():
            customer = Customer(openid=openid, subscribed=True, subscribed_at=now, created_at=now)
            session.add(customer)
    except IntegrityError:
        customer = customer_by_openid(session, openid)
    return customer


@dataclass(frozen=True)
class StaffLookup:
    """The id of the active staff member bound to an openid (None: nobody), read earlier in
    the same transaction (a push reads it with its first statements, `staff_id_step`)."""

    openid: str
    staff_id: int | None


def staff_by_openid(
    session: Session, openid: str, looked_up: StaffLookup | None = None
) -> Staff | None:
    """The active staff member bound to `openid`: a Core lookup of the id (most pushes are
    from customers, who have none) unless `looked_up` already holds it, then the member by
    primary key."""
    if looked_up is not None and looked_up.openid == openid:
        staff_id = looked_up.staff_id
    else:
        staff_id = session.connection().execute(_staff_id_by_openid(), {"openid": openid}).scalar()
    return session.get(Staff, staff_id) if staff_id is not None else None


def staff_id_step(openid: str) -> Step:
    """The lookup of `staff_by_openid` as a step of `models.pipeline.run_together`."""
    return Step(_staff_id_by_openid(), {"openid": openid})


@cache
def _staff_id_by_openid():
    table = Staff.__table__
    return select(table.c.id).where(table.c.openid == bindparam("openid"), table.c.active)
