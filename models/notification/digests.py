"""Periodic digests (汇总推送): the leaders' daily resolutions when `workflow.leader_reports`
is "daily" (流程4: results are reported to 分管领导). A digest is claimed once per day by a
unique row, so two cron processes never send it twice. Nothing here commits."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from models.core.payload import Payload
from models.core.policy import DomainPolicy
from models.notification import outbox as notifications
from models.notification.tables import Digest
from models.ticket.tables import Ticket, TicketEvent

RESOLUTIONS = "resolutions"
LISTED = 3


def send_resolutions(session: Session, now: datetime, at: str, policy: DomainPolicy) -> int:
    """Today's resolutions to every leader, once, after the local time ``at`` (HH:MM);
    returns how many rows were written."""
    local = now.astimezone(ZoneInfo(policy.timezone))
    hours, minutes = (int(part) for part in at.split(":"))
    if (local.hour, local.minute) < (hours, minutes):
        return 0
    if not _claim(session, RESOLUTIONS, local.date().isoformat(), now):
        return 0
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    numbers = _resolved_numbers(session, midnight, now)
    listed = "、".join(numbers[:LISTED]) + ("等" if len(numbers) > LISTED else "")
    payload = Payload(number=f"RB{local:%Y%m%d}", count=len(numbers), note=listed or "今日无办结")
    return len(notifications.notify(session, "leader", "resolution_digest", None, payload, now))


def _resolved_numbers(session: Session, start: datetime, end: datetime) -> list[str]:
    statement = (
        select(Ticket.number)
        .join(TicketEvent, TicketEvent.ticket_id == Ticket.id)
        .where(
            TicketEvent.kind == "resolve",
            TicketEvent.created_at >= start,
            TicketEvent.created_at < end,
        )
        .order_by(TicketEvent.id)
    )
    return list(dict.fromkeys(session.scalars(statement)))


def _claim(session: Session, kind: str, day: str, now: datetime) -> bool:
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(Digest)
        .values(kind=kind, day=day, created_at=now)
        .on_conflict_do_nothing(index_elements=["kind", "day"])
        .returning(Digest.id)
    )
    return session.execute(statement).scalar_one_or_none() is not None
