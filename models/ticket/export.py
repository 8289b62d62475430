"""A ticket as plain JSON-ready data (`bihuan ticket show --json`, the back office)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import object_session

from models.core.labels import (
    ATTACHMENT_KIND_LABELS,
    ATTACHMENT_STATUS_LABELS,
    SEVERITY_LABELS,
    STATUS_LABELS,
)
from models.rating.export import rating_as_dict
from models.rating.service import latest_rating, ticket_target
from models.ticket.tables import Attachment, Ticket


def ticket_as_dict(
    ticket: Ticket, zone: ZoneInfo, link: Callable[[int], str] | None = None
) -> dict:
    """Every field; ``link`` makes the signed URL of a stored attachment."""
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
        "address": ticket.address,
        "location": _location(ticket),
        "matter": ticket.matter,
        "content": ticket.content,
        "urgent": ticket.urgent,
        "attachments": [_attachment(row, zone, link) for row in ticket.files],
        "complained_at": _iso(ticket.complained_at, zone),
        "receiving_department": _name(ticket.receiving_department),
        "handling_department": _name(ticket.handling_department),
        "handler": _name(ticket.handler),
        "result": ticket.result,
        "responsible_person": ticket.responsible_person,
        "resolved_on": ticket.resolved_on.isoformat() if ticket.resolved_on else None,
        "external_number": ticket.external_number,
        "gas_account": ticket.gas_account,
        "invalid_reason": ticket.invalid_reason,
        "escalation_level": ticket.escalation_level,
        "rounds": ticket.rounds,
        "returns": ticket.returns,
        "money": {
            "status": ticket.money_status,
            "kind": ticket.money_kind,
            "amount": str(ticket.money_amount) if ticket.money_amount is not None else None,
        },
        "flags": {
            "repeat": ticket.repeat_flag,
            "accountability": ticket.accountability_flag,
            "explanation_pending": ticket.explanation_pending,
            "leader_signed_off": ticket.leader_signed_off,
        },
        "repeat_of": ticket.repeat_of.number if ticket.repeat_of_id and ticket.repeat_of else None,
        "deadlines": [_deadline(d, zone) for d in ticket.deadlines],
        "rating": _rating(ticket, zone),
        "events": [_event(e, zone) for e in ticket.events],
    }


def _rating(ticket: Ticket, zone: ZoneInfo) -> dict | None:
    """The ticket's latest rating and comment, or None when it has not been rated."""
    session = object_session(ticket)
    rating = latest_rating(session, ticket_target(ticket)) if session is not None else None
    return rating_as_dict(session, rating, zone) if rating is not None else None


def _attachment(row: Attachment, zone: ZoneInfo, link: Callable[[int], str] | None) -> dict:
    return {
        "id": row.id,
        "kind": row.kind,
        "kind_label": ATTACHMENT_KIND_LABELS.get(row.kind, row.kind),
        "status": row.status,
        "status_label": ATTACHMENT_STATUS_LABELS.get(row.status, row.status),
        "attempts": row.attempts,
        "last_error": row.last_error,
        "path": row.path or None,
        "content_type": row.content_type or None,
        "size": row.size,
        "stored_at": _iso(row.stored_at, zone),
        "url": link(row.id) if link is not None and row.status == "stored" else None,
    }


def _deadline(deadline, zone) -> dict:
    return {
        "clock": deadline.clock,
        "started_at": _iso(deadline.started_at, zone),
        "due_at": _iso(deadline.due_at, zone),
        "provisional": deadline.provisional,
        "state": deadline.state,
        "stopped_at": _iso(deadline.stopped_at, zone),
    }


def _event(event, zone) -> dict:
    return {
        "at": _iso(event.created_at, zone),
        "kind": event.kind,
        "actor": event.actor_name,
        "role": event.actor_role,
        "channel": event.channel,
        "text": event.text,
        "from_status": event.from_status,
        "to_status": event.to_status,
    }


def _location(ticket: Ticket) -> dict | None:
    if ticket.latitude is None:
        return None
    return {"latitude": ticket.latitude, "longitude": ticket.longitude}


def _name(entity) -> str | None:
    return entity.name if entity is not None else None


def _iso(moment: datetime | None, zone: ZoneInfo) -> str | None:
    return moment.astimezone(zone).isoformat() if moment else None
