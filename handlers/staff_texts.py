"""What staff read in WeChat (Chinese): help, refusals and the formatting of tickets, lists
and figures. Every reply keeps phone numbers masked and stays under WeChat's 2048 bytes."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from models.core import replies
from models.core.figures import Figures, Period, Targets, missed, percent
from models.core.labels import (
    CLOCK_LABELS,
    CLOCKS,
    MONEY_STATUS_LABELS,
    SEVERITY_LABELS,
    STATUS_LABELS,
)
from models.core.phones import mask_phone
from models.ticket.clocks import running
from models.ticket.queries import Page
from models.ticket.tables import Deadline, Ticket, TicketEvent

TIMELINE_EVENTS = 6
FIELD_CHARS = 120
EVENT_CHARS = 60

DESCRIPTIONS = {
    "帮助": "列出您可以使用的命令",
    "待办": "我的待办工单，最紧急的在前",
    "查看": "查看工单详情和处理过程",
    "接单": "确认接单，开始调查",
    "进展": "报告处理进展",
    "办结": "办结并填写处理结果，开始回访计时",
    "说明": "提交书面说明，报{general}备案并申请新时限",
    "申请": "退款/赔款/折让金额报分管领导审批",
    "派单": "派单或改派，指定承办部门和承办人",
    "无效": "认定为无效投诉，原因将告知投诉人",
    "升级": "设定为复杂或重大投诉，重新计算时限",
    "延期": "批准书面说明，给出新的办结时限",
    "催办": "催促承办人办理",
    "回访": "记录电话回访结果",
    "审批": "审批金额申请",
    "签批": "多轮重办后签批，准予办结",
    "超期": "超期工单",
    "统计": "办结率、首次回访满意率、按时率、在办和超期数",
}

UNKNOWN_HINT = "未识别的命令。请发送「帮助」查看您可以使用的命令。"
WELCOME = "您好，{name}（{role}）。您的微信已绑定员工账号，发送「帮助」查看可用命令。"
HELP_HEADER = "{name}（{role}），您可以使用以下命令："
HELP_FOOTER = "单号形如 TS202611280001，可小写；参数之间用空格分隔。"
NOT_FOUND = "未找到工单 {number}，请核对单号。"
ROLE_REFUSED = "无权操作：「{command}」仅限{roles}使用。"
USAGE = "用法：{usage}"
MOVE_DONE = "{label}成功：{number}\n{text}\n当前状态：{status}"
NOTHING_TO_DO = "您目前没有待办工单。"
NOTHING_OVERDUE = "目前没有超期工单。"

MOBILE = re.compile(r"(?<![0-9A-Za-z])1[3-9]\d{9}(?!\d)")
LANDLINE = re.compile(r"(?<![0-9A-Za-z])0\d{2,3}-\d{7,8}(?!\d)")


def failure(problem: str, usage: str) -> str:
    return f"{problem}\n{USAGE.format(usage=usage)}"


def role_refused(command: str, role_labels: Iterable[str], usage: str) -> str:
    return failure(ROLE_REFUSED.format(command=command, roles="、".join(role_labels)), usage)


def help_text(name: str, role: str, usages: Sequence[str], general_department: str) -> str:
    """帮助: each command the sender may use, its usage line and what it does."""
    lines = [HELP_HEADER.format(name=name, role=role)]
    for usage in usages:
        description = DESCRIPTIONS.get(usage.split()[0], "").format(general=general_department)
        lines.append(f"· {usage}\n  {description}")
    lines.append(HELP_FOOTER)
    return shorten("\n".join(lines))


def move_done(label: str, ticket: Ticket, text: str, zone: ZoneInfo, now: datetime) -> str:
    reply = MOVE_DONE.format(
        label=label,
        number=ticket.number,
        text=clip(text, FIELD_CHARS),
        status=STATUS_LABELS[ticket.status],
    )
    running_now = running_deadlines(ticket)
    if running_now:
        reply += "\n时限：" + "；".join(deadline_label(d, zone, now) for d in running_now)
    return reply


# --- tickets -------------------------------------------------------------------------------


def ticket_detail(ticket: Ticket, zone: ZoneInfo, now: datetime) -> str:
    """查看: the form's fields, deadlines, flags and the latest events, within the byte limit."""
    head = _detail_head(ticket, zone, now)
    events = [_event_line(event, zone) for event in ticket.events[-TIMELINE_EVENTS:]]
    total = len(ticket.events)
    while events:
        title = (
            f"处理过程（最近 {len(events)} 条，共 {total} 条）："
            if total > len(events)
            else "处理过程："
        )
        reply = "\n".join([*head, title, *events])
        if fits(reply):
            return reply
        events.pop(0)
    return shorten("\n".join(head))


def _detail_head(ticket: Ticket, zone: ZoneInfo, now: datetime) -> list[str]:
    lines = [
        f"工单 {ticket.number}【{STATUS_LABELS[ticket.status]}】",
        f"诉求类型：{ticket.appeal_type}｜严重程度：{SEVERITY_LABELS[ticket.severity]}",
        f"投诉来源：{ticket.source_channel}｜"
        f"投诉时间：{ticket.complained_at.astimezone(zone):%Y-%m-%d %H:%M}",
        f"服务对象：{ticket.customer_name}｜电话：{mask_phone(ticket.phone)}",
        f"地址：{clip(ticket.address, 60) or '—'}",
        f"诉求事项：{clip(ticket.matter, 60)}",
        f"受理内容：{clip(ticket.content, FIELD_CHARS)}",
        f"受理部门：{_name(ticket.receiving_department)}",
        f"承办部门：{_name(ticket.handling_department)}｜承办人：{_name(ticket.handler)}",
    ]
    if ticket.result:
        lines.append(f"处理结果：{clip(ticket.result, FIELD_CHARS)}")
    if ticket.invalid_reason:
        lines.append(f"无效原因：{clip(ticket.invalid_reason, 60)}")
    running_now = running_deadlines(ticket)
    if running_now:
        lines.append("时限：" + "；".join(deadline_label(d, zone, now) for d in running_now))
    flags = ticket_flags(ticket)
    if flags:
        lines.append("标记：" + "、".join(flags))
    if ticket.rounds:
        lines.append(f"重办：第 {ticket.rounds} 轮（升级级别 {ticket.escalation_level}）")
    return lines


def ticket_flags(ticket: Ticket) -> list[str]:
    flags = []
    if ticket.repeat_flag:
        flags.append("重复投诉")
    if ticket.accountability_flag:
        flags.append("责任追究")
    if ticket.money_status != "none":
        status = MONEY_STATUS_LABELS.get(ticket.money_status, ticket.money_status)
        flags.append(f"涉及金额（{ticket.money_kind} {ticket.money_amount} 元，{status}）")
    if ticket.explanation_pending:
        flags.append("书面说明待审批")
    return flags


def _event_line(event: TicketEvent, zone: ZoneInfo) -> str:
    who = event.actor_name or event.actor_role
    return f"{local(event.created_at, zone)} {who}：{clip(event.text, EVENT_CHARS)}"


def running_deadlines(ticket: Ticket) -> list[Deadline]:
    found = (running(ticket, clock) for clock in CLOCKS)
    return [deadline for deadline in found if deadline is not None]


def deadline_label(deadline: Deadline, zone: ZoneInfo, now: datetime) -> str:
    label = f"{CLOCK_LABELS.get(deadline.clock, deadline.clock)} {local(deadline.due_at, zone)}"
    if deadline.due_at < now:
        label += "（逾期）"
    if deadline.provisional:
        label += "（暂定）"
    return label


def nearest_deadline(ticket: Ticket) -> Deadline | None:
    return min(running_deadlines(ticket), key=lambda d: d.due_at, default=None)


# --- lists and figures ---------------------------------------------------------------------


def todo_list(page: Page, zone: ZoneInfo, now: datetime) -> str:
    if not page.tickets:
        return NOTHING_TO_DO
    title = f"待办工单共 {page.total} 件，最紧急的在前："
    return _ticket_list(title, page, zone, now)


def overdue_list(page: Page, zone: ZoneInfo, now: datetime) -> str:
    if not page.tickets:
        return NOTHING_OVERDUE
    title = f"超期工单共 {page.total} 件，超期最久的在前："
    return _ticket_list(title, page, zone, now)


def _ticket_list(title: str, page: Page, zone: ZoneInfo, now: datetime) -> str:
    lines = [title]
    for index, ticket in enumerate(page.tickets, start=1):
        lines.append(f"{index}. {ticket_line(ticket, zone, now)}")
    if page.total > len(page.tickets):
        lines.append(f"……另有 {page.total - len(page.tickets)} 件未列出。")
    lines.append("发送「查看 单号」查看详情。")
    return shorten("\n".join(lines))


def ticket_line(ticket: Ticket, zone: ZoneInfo, now: datetime) -> str:
    deadline = nearest_deadline(ticket)
    due = deadline_label(deadline, zone, now) if deadline else "无时限"
    who = ticket.handler.name if ticket.handler else _name(ticket.handling_department)
    return f"{ticket.number}｜{ticket.appeal_type}｜{STATUS_LABELS[ticket.status]}｜{who}｜{due}"


def stats(figures: Figures, period: Period, targets: Targets, zone: ZoneInfo) -> str:
    """统计: the headline figures with their targets; definitions are in the back office."""
    first, last = period.local_dates(zone.key)
    lines = [
        f"{period.label}统计（{first:%m-%d} 至 {last:%m-%d}）：",
        f"受理 {figures.received} 件（有效 {figures.valid}，无效 {figures.invalid}）",
        f"办结率 {_against(figures.completion_rate, targets.completion)}"
        f"（应办结 {figures.due} 件，已归档 {figures.archived} 件）",
        f"首次回访满意率 {_against(figures.first_satisfaction_rate, targets.satisfaction)}"
        f"（首次回访 {figures.first_answered} 件，满意 {figures.first_satisfied} 件）",
        f"最终满意率 {percent(figures.final_satisfaction_rate)}"
        f"（回访 {figures.final_answered} 件，满意 {figures.final_satisfied} 件）",
        f"按时率 {_against(figures.on_time_rate, targets.on_time)}"
        f"（到期时限 {figures.clocks_due} 项，按时 {figures.clocks_met} 项）",
    ]
    for clock in figures.clocks:
        label = CLOCK_LABELS.get(clock.clock, clock.clock)
        lines.append(f"  {label} {clock.met}/{clock.due}（{percent(clock.rate)}）")
    lines.append(f"当前在办 {figures.open_now} 件，超期 {figures.overdue_now} 件")
    lines.append(
        f"退单 {figures.returns} 次，重复投诉 {figures.repeats} 件，"
        f"责任追究 {figures.accountability} 件"
    )
    if figures.ratings:
        lines.append(f"评价 {figures.ratings} 条，平均 {figures.average_stars:.1f} 星")
    return shorten("\n".join(lines))


def _against(value: float | None, target: float) -> str:
    mark = "（未达标）" if missed(value, target) else ""
    return f"{percent(value)}{mark}"


# --- helpers -------------------------------------------------------------------------------


def local(moment: datetime | None, zone: ZoneInfo) -> str:
    return f"{moment.astimezone(zone):%m-%d %H:%M}" if moment else "—"


def clip(text: str, chars: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= chars else text[: chars - 1] + "…"


def _name(entity) -> str:
    return entity.name if entity is not None else "—"


def scrub_phones(text: str) -> str:
    """Mask every mobile or landline number in a reply (138****5678)."""
    text = MOBILE.sub(lambda match: mask_phone(match.group()), text)
    return LANDLINE.sub(lambda match: mask_phone(match.group()), text)


fits = replies.fits
shorten = replies.fit_lines
