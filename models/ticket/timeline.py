"""The ticket's timeline (处理过程): the one writer of `ticket_events` rows.

Every move goes through `models.ticket.service.perform`, which writes its event here; what is
not a move (the ticket's receipt, a customer's rating or reason) is written here too. Events
are never changed or deleted.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from models.core.workflow import Actor, Role
from models.ticket.tables import Ticket, TicketEvent


def record(
    session: Session,
    ticket: Ticket,
    kind: str,
    actor: Actor,
    text: str,
    now: datetime,
    *,
    from_status: str = "",
) -> TicketEvent:
    """One event: what happened (`kind`, `text`), who did it and from which channel."""
    event = TicketEvent(
        ticket_id=ticket.id,
        kind=kind,
        actor_role=str(actor.role),
        actor_name=actor.name,
        actor_staff_id=actor.staff_id,
        channel=actor.channel,
        text=text,
        from_status=from_status,
        to_status=ticket.status,
        created_at=now,
    )
    session.add(event)
    return event


def customer_note(
    session: Session, ticket: Ticket, kind: str, channel: str, text: str, now: datetime
) -> TicketEvent:
    """Something the ticket's customer said that moves nothing (a rating, a reason)."""
    actor = Actor(role=Role.CUSTOMER, name=ticket.customer_name or "客户", channel=channel)
    return record(session, ticket, kind, actor, text, now, from_status=ticket.status)
