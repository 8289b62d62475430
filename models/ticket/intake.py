"""Ticket queries and creation, as functions taking a session. They never commit."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from models.core import safety
from models.core.conversation import Draft
from models.core.policy import DomainPolicy
from models.core.workflow import WECHAT_CHANNEL, Actor, Role
from models.people.tables import Customer, Department
from models.ticket import attachments, repeats
from models.ticket.service import receive
from models.ticket.tables import Ticket, TicketSequence

MATTER_CHARS = 30
NO_TEXT = "（客户未提供文字说明，见附件）"


def next_ticket_number(session: Session, now: datetime, timezone: str) -> str:
    """TS + local date + 4-digit daily sequence; atomic under concurrent creation."""
    day = now.astimezone(ZoneInfo(timezone)).strftime("%Y%m%d")
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(TicketSequence)
        .values(day=day, last=1)
        .on_conflict_do_update(index_elements=["day"], set_={"last": TicketSequence.last + 1})
        .returning(TicketSequence.last)
    )
    sequence = session.execute(statement).scalar_one()
    return f"TS{day}{sequence:04d}"


def find_by_number(session: Session, number: str) -> Ticket | None:
    return session.scalar(select(Ticket).where(Ticket.number == normalize_number(number)))


def normalize_number(raw: str) -> str:
    """Accepts lower case and full-width characters: ｔｓ２０２６… → TS2026…"""
    import unicodedata

    return unicodedata.normalize("NFKC", raw).strip().upper()


def find_by_intake_key(session: Session, intake_key: str) -> Ticket | None:
    return session.scalar(select(Ticket).where(Ticket.intake_key == intake_key))


def recent_for_customer(session: Session, customer_id: int, limit: int) -> list[Ticket]:
    statement = (
        select(Ticket)
        .where(Ticket.customer_id == customer_id)
        .order_by(Ticket.created_at.desc(), Ticket.id.desc())
        .limit(limit)
    )
    return list(session.scalars(statement))


def general_department(session: Session, name: str) -> Department | None:
    return session.scalar(select(Department).where(Department.name == name))


def open_ticket(
    session: Session,
    ticket: Ticket,
    actor: Actor,
    text: str,
    now: datetime,
    policy: DomainPolicy,
    media: Iterable[dict] = (),
) -> Ticket:
    """Every channel's way in (受理): number the new ticket, keep its media for download, flag
    a reported gas leak urgent, then its 受理 event, contact clock and first pushes
    (`models.ticket.service.receive`) and the repeat check. The back office calls this too."""
    ticket.number = ticket.number or next_ticket_number(session, now, policy.timezone)
    ticket.status = "received"
    ticket.complained_at = ticket.complained_at or now
    ticket.created_at, ticket.updated_at = now, now
    ticket.urgent = bool(ticket.urgent) or safety.reports_leak(ticket.content, policy.safety)
    session.add(ticket)
    session.flush()
    for item in media:
        attachments.add(session, ticket, item, now)
    receive(session, ticket, actor, text, now, policy)
    repeats.link_repeat(session, ticket, now, policy.workflow.repeat_window_days)
    return ticket


def create_wechat_ticket(
    session: Session,
    customer: Customer,
    draft: Draft,
    now: datetime,
    *,
    policy: DomainPolicy,
    receiving_department: Department | None,
    intake_key: str,
) -> Ticket:
    """The ticket for a confirmed WeChat complaint."""
    ticket = Ticket(
        intake_key=intake_key,
        severity="general",
        receiving_department_id=receiving_department.id if receiving_department else None,
        appeal_type=draft.appeal_type,
        customer_id=customer.id,
        customer_name=draft.name,
        phone=draft.phone,
        source_channel=WECHAT_CHANNEL,
        complained_at=now,
        address=draft.address,
        latitude=draft.latitude,
        longitude=draft.longitude,
        matter=summarize(draft.content) or NO_TEXT,
        content=draft.content or NO_TEXT,
        attachments=list(draft.attachments),
        urgent=draft.urgent,
    )
    customer_actor = Actor(role=Role.CUSTOMER, name=draft.name, channel="wechat")
    text = f"客户通过{WECHAT_CHANNEL}提交投诉（{draft.appeal_type}）"
    if draft.urgent:
        text += "，反映燃气泄漏，已提示安全须知"
    return open_ticket(session, ticket, customer_actor, text, now, policy, draft.attachments)


def summarize(content: str) -> str:
    """诉求事项: the first line of the content, shortened."""
    first = content.strip().splitlines()[0] if content.strip() else ""
    return first if len(first) <= MATTER_CHARS else first[: MATTER_CHARS - 1] + "…"
