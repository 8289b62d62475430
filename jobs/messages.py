"""What a notification says: template data for staff and customers, and customer-service
texts for customers inside WeChat's window. Plain functions of the row and its ticket."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.links import ticket_link
from bot.settings import Settings
from bot.wechat_api import trim_template_value
from models.core.labels import SEVERITY_LABELS, STATUS_LABELS
from models.core.payload import Payload
from models.notification.tables import Notification
from models.ticket.tables import Ticket

STAFF_TEMPLATES = {
    "assignment",
    "reminder",
    "breach",
    "urge",
    "approval_request",
    "callback_due",
    "rating_alert",
    "bulletin",
}
KIND_LABELS = {
    "assignment": "新工单待办理",
    "reminder": "工单即将到期",
    "breach": "工单已超期",
    "urge": "工单催办",
    "approval_request": "金额审批申请",
    "approval_result": "金额审批结果",
    "callback_request": "工单已办结待回访",
    "callback_result": "回访结果",
    "callback_due": "请电话回访客户",
    "reopened": "客户不满意已重办",
    "explanation": "承办部门书面说明",
    "escalated": "工单已升级",
    "accountability": "重复投诉责任追究",
    "invalid_reason": "无效投诉说明",
    "late_reply": "消息已处理",
    "delivery_unsure": "消息可能未送达",
    "government_intake": "政府平台投诉待批转",
    "urgent": "燃气泄漏紧急投诉",
    "bulletin": "定期通报",
}


def template_key(row: Notification) -> str:
    """Which configured template carries this notification."""
    if row.customer_id is not None:
        return "customer_result" if row.kind == "callback_request" else "customer_notice"
    return row.kind if row.kind in STAFF_TEMPLATES else "notice"


def values(
    row: Notification, ticket: Ticket | None, settings: Settings, now: datetime
) -> dict[str, str]:
    """Every value a template field can name (config.toml [templates])."""
    zone = ZoneInfo(settings.app.timezone)
    payload = Payload.from_json(row.payload)
    result = {
        "number": payload.number,
        "stage": payload.stage or KIND_LABELS.get(row.kind, "工单提醒"),
        "reason": payload.reason or payload.note,
        "note": payload.note,
        "amount": payload.amount,
        "deadline": _local(payload.deadline, zone),
        "time": now.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
        "result": payload.result,
        "handler": payload.handler,
    }
    if ticket is not None:
        result.update(_ticket_values(ticket, zone, result))
    if row.customer_id is not None and row.kind == "callback_request":
        result["note"] = "回复1满意，2不满意"
        result["rate_link"] = _rate_link(settings, ticket, row.customer_id)
    return result


def _rate_link(settings: Settings, ticket: Ticket | None, customer_id: int) -> str:
    """The signed link with which this customer may rate this ticket on /rate (PRODUCT §7);
    none without a shared `web.secret_key` (the web process could not check it)."""
    if ticket is None or not settings.web.secret_key:
        return ""
    return ticket_link(settings.web.base_url, settings.web.secret_key, ticket.id, customer_id)


def _ticket_values(ticket: Ticket, zone: ZoneInfo, base: dict[str, str]) -> dict[str, str]:
    running = [d for d in ticket.deadlines if d.state == "running" and d.clock == "resolve"]
    deadline = base["deadline"] or (
        running[0].due_at.astimezone(zone).strftime("%Y-%m-%d %H:%M") if running else ""
    )
    return {
        "number": ticket.number,
        "matter": ticket.matter,
        "appeal_type": ticket.appeal_type,
        "status": STATUS_LABELS.get(ticket.status, ticket.status),
        "severity": SEVERITY_LABELS.get(ticket.severity, ticket.severity),
        "department": ticket.handling_department.name if ticket.handling_department else "",
        "handler": ticket.handler.name if ticket.handler else base["handler"],
        "result": base["result"] or ticket.result,
        "reason": base["reason"] or ticket.invalid_reason,
        "note": base["note"] or ticket.matter,
        "deadline": deadline,
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
    """The back-office page a staff push links to: the bulletin, else the ticket."""
    bulletin_id = Payload.from_json(row.payload).bulletin_id
    if bulletin_id is not None:
        return f"{settings.web.base_url.rstrip('/')}/bulletins/{bulletin_id}"
    return ticket_url(settings, ticket)


def customer_text(row: Notification, available: dict[str, str]) -> str:
    """A customer-service message (inside the 48-hour window)."""
    number = available["number"]
    if row.kind == "late_reply":
        return available["note"]
    if row.kind == "callback_request":
        text = (
            f"您的投诉（单号 {number}）已办结。\n处理结果：{available['result']}\n"
            "您对处理结果是否满意？请回复：\n1 满意\n2 不满意"
        )
        if available.get("rate_link"):
            text += f"\n也欢迎为本次服务打星评价：{available['rate_link']}"
        return text
    if row.kind == "invalid_reason":
        return (
            f"您的投诉（单号 {number}）经核实不属于有效投诉：{available['reason']}\n"
            "如有疑问，请点击「投诉服务」→「服务电话」联系我们。"
        )
    return f"您的投诉（单号 {number}）有新进展：{available['stage']}。"


def _local(value, zone: ZoneInfo) -> str:
    if not value:
        return ""
    try:
        return datetime.fromisoformat(str(value)).astimezone(zone).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return str(value)
