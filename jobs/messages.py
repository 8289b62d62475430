"""What a notification says: template data for staff and customers, and customer-service
texts for customers inside WeChat's window. Plain functions of the row and its ticket; the
words themselves are `models.core.push_texts`."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.links import ticket_link
from bot.settings import Settings
from bot.wechat_api import trim_template_value
from models.core import push_texts
from models.core.labels import SEVERITY_LABELS, STATUS_LABELS
from models.core.payload import Payload
from models.notification.tables import Notification
from models.ticket.tables import Ticket

STAFF_TEMPLATES = {
    "new_ticket",
    "assignment",
    "reminder",
    "breach",
    "urge",
    "approval_request",
    "callback_due",
    "rating_alert",
    "bulletin",
    "notice_published",
}
# Kinds carried by another kind's template (same fields, same meaning).
SHARED_TEMPLATES = {
    "rating_warning": "rating_alert",
    "resolution_digest": "bulletin",
    "urgent": "new_ticket",
    "government_intake": "new_ticket",
}


def template_key(row: Notification) -> str:
    """Which configured template carries this notification."""
    if row.customer_id is not None:
        return "customer_result" if row.kind == "callback_request" else "customer_notice"
    kind = SHARED_TEMPLATES.get(row.kind, row.kind)
    return kind if kind in STAFF_TEMPLATES else "notice"


def values(
    row: Notification, ticket: Ticket | None, settings: Settings, now: datetime
) -> dict[str, str]:
    """Every value a template field can name (config.toml [templates])."""
    zone = ZoneInfo(settings.app.timezone)
    payload = Payload.from_json(row.payload)
    facts = _facts(payload, ticket, settings, zone)
    result = {
        "number": payload.number,
        "matter": "",
        "reason": payload.reason or payload.note,
        "amount": payload.amount,
        "deadline": _full_deadline(payload, ticket, zone),
        "time": now.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
        "result": payload.result,
        "handler": payload.handler,
        "department": facts.department,
    }
    if ticket is not None and not payload.link:  # a push about its own page says its own
        result.update(_ticket_values(ticket, result))
    words = _headline(row, payload, facts)
    result.update(stage=words.stage, outcome=words.outcome, note=words.note or result["matter"])
    if row.customer_id is not None and row.kind == "callback_request":
        result["rate_link"] = _rate_link(settings, ticket, row.customer_id)
    return result


def _rate_link(settings: Settings, ticket: Ticket | None, customer_id: int) -> str:
    """The signed link with which this customer may rate this ticket on /rate (PRODUCT §7);
    none without a shared `web.secret_key` (the web process could not check it)."""
    if ticket is None or not settings.web.secret_key:
        return ""
    return ticket_link(settings.web.base_url, settings.web.secret_key, ticket.id, customer_id)


def _headline(row: Notification, payload: Payload, facts: push_texts.Facts):
    if row.customer_id is not None:
        return push_texts.customer_headline(row.kind, payload, facts)
    return push_texts.headline(row.kind, payload, facts)


def _full_deadline(payload: Payload, ticket: Ticket | None, zone: ZoneInfo) -> str:
    """For a template's time field: YYYY-MM-DD HH:MM."""
    due = _due(payload, ticket)
    return due.astimezone(zone).strftime("%Y-%m-%d %H:%M") if due else ""


def _due(payload: Payload, ticket: Ticket | None) -> datetime | None:
    """The deadline a push reports: its own, else the ticket's running resolve clock."""
    if payload.deadline:
        try:
            return datetime.fromisoformat(payload.deadline)
        except ValueError:
            return None
    if ticket is None:
        return None
    running = [d for d in ticket.deadlines if d.state == "running" and d.clock == "resolve"]
    return running[0].due_at if running else None


def _facts(
    payload: Payload, ticket: Ticket | None, settings: Settings, zone: ZoneInfo
) -> push_texts.Facts:
    due = _due(payload, ticket)
    deadline = due.astimezone(zone).strftime("%m-%d %H:%M") if due else ""
    department = payload.department
    if not department and ticket is not None and ticket.handling_department is not None:
        department = ticket.handling_department.name
    return push_texts.Facts(deadline, department, settings.workflow.general_department)


def _ticket_values(ticket: Ticket, base: dict[str, str]) -> dict[str, str]:
    """The ticket's own values; a push's own number (a rating task's PJ…) is kept."""
    return {
        "number": base["number"] or ticket.number,
        "matter": ticket.matter,
        "appeal_type": ticket.appeal_type,
        "status": STATUS_LABELS.get(ticket.status, ticket.status),
        "severity": SEVERITY_LABELS.get(ticket.severity, ticket.severity),
        "handler": ticket.handler.name if ticket.handler else base["handler"],
        "result": base["result"] or ticket.result,
        "reason": base["reason"] or ticket.invalid_reason,
    }


def template_data(fields: dict[str, str], available: dict[str, str]) -> dict[str, str]:
    """Template key → value, each trimmed to what its type allows."""
    return {
        key: trim_template_value(key, available.get(source, "") or "—")
        for key, source in fields.items()
    }


def ticket_url(settings: Settings, ticket: Ticket | None) -> str:
    if ticket is None:
        return settings.web.base_url
    return f"{settings.web.base_url.rstrip('/')}/tickets/{ticket.number}"


def staff_url(settings: Settings, row: Notification, ticket: Ticket | None) -> str:
    """The back-office page a staff push links to: its own page (a notice, a bulletin), else
    the ticket."""
    payload = Payload.from_json(row.payload)
    base = settings.web.base_url.rstrip("/")
    if payload.link:
        return f"{base}{payload.link}"
    if payload.bulletin_id is not None:
        return f"{base}/bulletins/{payload.bulletin_id}"
    return ticket_url(settings, ticket)


def customer_text(row: Notification, ticket: Ticket | None, settings: Settings, now) -> str:
    """A customer-service message (inside the 48-hour window)."""
    zone = ZoneInfo(settings.app.timezone)
    payload = Payload.from_json(row.payload)
    if row.kind == "late_reply":
        return payload.note
    facts = _facts(payload, ticket, settings, zone)
    available = values(row, ticket, settings, now)
    text = push_texts.customer_message(row.kind, payload, facts, available)
    if available.get("rate_link"):
        text += f"\n也欢迎为本次服务打星评价：{available['rate_link']}"
    return text
