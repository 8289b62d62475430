"""What the ticket pages show, in Chinese: deadlines, timeline lines, notifications, flags.

Plain functions of the rows; the templates only lay them out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.settings import PROJECT_ROOT
from jobs.messages import KIND_LABELS
from models.core.labels import (
    CLOCK_LABELS,
    CLOCKS,
    MONEY_STATUS_LABELS,
    ROLE_LABELS,
)
from models.core.workflow import GOVERNMENT_CHANNEL
from models.notification.tables import Notification
from models.people.tables import Staff
from models.ticket.tables import Deadline, Ticket, TicketEvent

CHANNEL_LABELS = {"wechat": "微信", "web": "后台", "phone": "电话", "system": "系统"}
DEADLINE_STATES = {
    "running": "计时中",
    "met": "按时完成",
    "late": "超时完成",
    "superseded": "已重新计时",
}
NOTIFICATION_STATES = {
    "pending": "待发送",
    "sent": "已发送",
    "failed": "发送失败",
    "skipped": "未发送",
}
NOTIFICATION_CHANNELS = {"template": "模板消息", "custom": "客服消息"}
ATTACHMENT_KINDS = {"image": "图片", "voice": "语音", "video": "视频"}


@dataclass(frozen=True)
class DeadlineRow:
    clock: str
    started_at: datetime
    due_at: datetime
    state: str
    provisional: bool
    overdue: bool
    stopped_at: datetime | None


@dataclass(frozen=True)
class NotificationRow:
    at: datetime
    kind: str
    recipient: str
    channel: str
    state: str
    detail: str


def deadline_rows(ticket: Ticket, now: datetime) -> list[DeadlineRow]:
    """Every clock, running ones first (in the order the clocks run), then the record."""
    order = {clock: index for index, clock in enumerate(CLOCKS)}
    rows = sorted(
        ticket.deadlines,
        key=lambda d: (d.state != "running", order.get(d.clock, len(order)), -d.id),
    )
    return [_deadline_row(d, now) for d in rows]


def _deadline_row(deadline: Deadline, now: datetime) -> DeadlineRow:
    return DeadlineRow(
        clock=CLOCK_LABELS.get(deadline.clock, deadline.clock),
        started_at=deadline.started_at,
        due_at=deadline.due_at,
        state=DEADLINE_STATES.get(deadline.state, deadline.state),
        provisional=deadline.provisional,
        overdue=deadline.state == "running" and deadline.due_at < now,
        stopped_at=deadline.stopped_at,
    )


def nearest_deadline(ticket: Ticket) -> Deadline | None:
    running = [d for d in ticket.deadlines if d.state == "running"]
    return min(running, key=lambda d: d.due_at, default=None)


def actor_label(event: TicketEvent) -> str:
    role = ROLE_LABELS.get(
        event.actor_role,
        {"customer": "客户", "system": "系统"}.get(event.actor_role, event.actor_role),
    )
    return f"{event.actor_name}（{role}）" if event.actor_name else role


def channel_label(channel: str) -> str:
    return CHANNEL_LABELS.get(channel, channel)


def flags(ticket: Ticket) -> list[tuple[str, str]]:
    """(label, style) of each flag the ticket carries, most pressing first."""
    found = []
    if ticket.urgent:
        found.append(("燃气泄漏·紧急", "danger"))
    if ticket.source_channel == GOVERNMENT_CHANNEL and ticket.status == "received":
        found.append(("待分管领导批转", "warn"))
    if ticket.accountability_flag:
        found.append(("责任追究", "danger"))
    if ticket.repeat_flag:
        found.append(("重复投诉", "warn"))
    if ticket.phone_callback and ticket.status == "resolved":
        found.append(("待电话回访", "warn"))
    if ticket.money_status != "none":
        money = MONEY_STATUS_LABELS.get(ticket.money_status, ticket.money_status)
        found.append((f"{ticket.money_kind} {ticket.money_amount} 元·{money}", "info"))
    if ticket.explanation_pending:
        found.append(("书面说明待审批", "info"))
    if ticket.rounds:
        found.append((f"第 {ticket.rounds} 轮重办", "warn"))
    return found


def notification_rows(session: Session, ticket: Ticket) -> list[NotificationRow]:
    statement = (
        select(Notification, Staff.name)
        .outerjoin(Staff, Notification.staff_id == Staff.id)
        .where(Notification.ticket_id == ticket.id)
        .order_by(Notification.id)
    )
    return [_notification_row(row, name) for row, name in session.execute(statement)]


def _notification_row(row: Notification, staff_name: str | None) -> NotificationRow:
    recipient = staff_name or ("客户" if row.customer_id is not None else "—")
    detail = _delivery(row.delivery) if row.delivery else ""
    if row.status in ("failed", "skipped") and row.last_error:
        detail = row.last_error[:60]
    return NotificationRow(
        at=row.sent_at or row.created_at,
        kind=KIND_LABELS.get(row.kind, row.kind),
        recipient=recipient,
        channel=NOTIFICATION_CHANNELS.get(row.channel, "—"),
        state=NOTIFICATION_STATES.get(row.status, row.status),
        detail=detail,
    )


def _delivery(status: str) -> str:
    """WeChat's TEMPLATESENDJOBFINISH status, in words."""
    if status == "success":
        return "已送达"
    if "block" in status:
        return "用户拒收"
    return "送达失败"


def later_repeats(session: Session, ticket: Ticket) -> list[Ticket]:
    """Tickets filed later as repeats of this one."""
    statement = select(Ticket).where(Ticket.repeat_of_id == ticket.id).order_by(Ticket.id)
    return list(session.scalars(statement))


def media_root(configured: str) -> Path:
    return Path(configured) if configured else PROJECT_ROOT / "var" / "media"


def attachment_file(item: dict, root: Path) -> Path | None:
    """The stored file of an attachment, when it was downloaded into the media folder."""
    relative = str(item.get("file") or "")
    if not relative:
        return None
    path = (root / relative).resolve()
    if root.resolve() not in path.parents or not path.is_file():
        return None
    return path


def local(moment: datetime | None, zone: ZoneInfo, pattern: str = "%Y-%m-%d %H:%M") -> str:
    return moment.astimezone(zone).strftime(pattern) if moment else "—"
