"""Shared steps of the /rate page tests."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from itsdangerous import TimestampSigner
from sqlalchemy import select

from bot.db import transaction
from bot.links import business_link, ticket_link
from bot.runtime import build_runtime
from models.people.tables import Customer, Staff
from models.rating.tables import BusinessRecord
from tests.factories import add_ticket

SECRET = "rate-page-test-secret"
PORTAL = "https://www.example-gas.cn"


def rate_runtime(runtime, **rating):
    """A runtime on the test database and Redis with a secret key and these rating settings."""
    settings = runtime.settings.override(
        web={"secret_key": SECRET}, rating={"frame_origins": [PORTAL], **rating}
    )
    return build_runtime(settings, redis=runtime.redis)


def make_ticket(site, status: str = "resolved", phone: str = "13800135678") -> str:
    with transaction(site.sessions) as session:
        return add_ticket(session, datetime.now(UTC), status, phone=phone).number


def make_customer_ticket(
    site, status: str = "resolved", openid: str = "o_rater", phone: str = "13800135678"
) -> tuple[str, int, int]:
    """A ticket of a WeChat customer: (number, ticket id, customer id)."""
    now = datetime.now(UTC)
    with transaction(site.sessions) as session:
        customer = Customer(openid=openid, phone=phone, created_at=now)
        session.add(customer)
        session.flush()
        ticket = add_ticket(session, now, status, phone=phone, customer_id=customer.id)
        return ticket.number, ticket.id, customer.id


def ticket_query(ticket_id: int, customer_id: int, secret: str = SECRET) -> str:
    """?t=… of the signed link the customer receives with the result."""
    return "?" + ticket_link("http://x", secret, ticket_id, customer_id).split("?", 1)[1]


def make_business(site, order_no: str = "BZ2026001", staff_name: str = "陈静") -> int:
    with transaction(site.sessions) as session:
        member = session.scalar(select(Staff).where(Staff.name == staff_name))
        record = BusinessRecord(
            kind="报装",
            order_no=order_no,
            phone="13912340000",
            staff_id=member.id,
            staff_name=member.name,
            completed_at=datetime.now(UTC) - timedelta(days=1),
        )
        session.add(record)
        session.flush()
        return record.id


def link_query(record_id: int, secret: str = SECRET) -> str:
    return "?" + business_link("http://x", secret, record_id).split("?", 1)[1]


class PastSigner(TimestampSigner):
    """Signs as if 40 days ago."""

    def get_timestamp(self) -> int:
        return int(time.time()) - 40 * 86400
