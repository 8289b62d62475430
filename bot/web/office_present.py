"""What the office pages show about a queue item, in Chinese: plain functions of the rows."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from models.core.labels import CLOCK_LABELS
from models.queues import RETURN_KINDS
from models.rating.tables import RatingCallback
from models.ticket.tables import Ticket

WAITING_EVENTS = {
    "money": ("request_money",),
    "extensions": ("explain",),
    "returned": RETURN_KINDS,
    "signoff": ("reopened",),
}


def queue_facts(key: str, item, zone: ZoneInfo) -> list[tuple[str, str]]:
    """The few facts an item of this queue is decided on."""
    if isinstance(item, RatingCallback):
        return []
    facts = []
    running = _running(item)
    if running is not None:
        label = CLOCK_LABELS.get(running.clock, running.clock)
        when = f"{running.due_at.astimezone(zone):%m-%d %H:%M}"
        facts.append((f"{label}时限", when + ("（暂定）" if running.provisional else "")))
    if key == "money":
        facts.append(("申请", f"{item.money_kind} {item.money_amount} 元"))
    if key == "signoff":
        facts.append(("重办轮次", f"第 {item.rounds} 轮"))
    if key == "phone_callbacks":
        facts.append(("处理结果", item.result or "—"))
    if key == "accountability" and item.repeat_of is not None:
        facts.append(("重复于", item.repeat_of.number))
    event = _latest(item, WAITING_EVENTS.get(key))
    if event is not None:
        facts.append(("事由", f"{event.actor_name}：{event.text}"))
    return facts


def _running(ticket: Ticket):
    running = [d for d in ticket.deadlines if d.state == "running"]
    return min(running, key=lambda d: d.due_at) if running else None


def _latest(ticket: Ticket, kinds: tuple[str, ...] | None):
    if kinds is None:
        return None
    found = [event for event in ticket.events if event.kind in kinds]
    return found[-1] if found else None


def rating_ticket_number(session: Session, task: RatingCallback) -> str:
    if task.rating.ticket_id is None:
        return ""
    ticket = session.get(Ticket, task.rating.ticket_id)
    return ticket.number if ticket else ""


def local(moment: datetime | None, zone: ZoneInfo, pattern: str = "%Y-%m-%d %H:%M") -> str:
    return moment.astimezone(zone).strftime(pattern) if moment else "—"
