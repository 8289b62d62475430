"""Customer queries, as functions taking a session. They never commit."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models.people.tables import Customer, Staff


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


def staff_by_openid(session: Session, openid: str) -> Staff | None:
    return session.scalar(select(Staff).where(Staff.openid == openid, Staff.active.is_(True)))
