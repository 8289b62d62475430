"""What every push says (推送内容): for each notification kind, the words that fill a template
message's fields and the sentence of a customer-service message. Pure.

Template fields are typed (WECHAT.md): ``thing`` at most 20 characters, ``phrase`` at most 5
Chinese characters. So each kind gives:
- ``stage``: the headline, with the outcome in it (同意/驳回 and the amount, 满意/不满意, which
  clock and how late…), written to fit 20 characters;
- ``outcome``: the outcome in at most 5 Chinese characters (for a phrase field);
- ``note``: the detail, often the person's own words (those alone may be shortened with …).
Words are chosen to fit, never cut: a test holds every kind to its limits.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from models.core.labels import CLOCK_LABELS, SEVERITY_LABELS
from models.core.payload import Payload

THING_CHARS = 20
PHRASE_CHARS = 5


@dataclass(frozen=True)
class Headline:
    stage: str
    outcome: str = ""
    note: str = ""


@dataclass(frozen=True)
class Facts:
    """What a push may mention besides its payload: the deadline as local "MM-DD HH:MM"
    (from the payload, else the ticket's running resolve clock) and the department."""

    deadline: str = ""
    department: str = ""
    general_department: str = "综合管理部"


def headline(kind: str, payload: Payload, facts: Facts) -> Headline:
    """The words of a push of ``kind`` to staff; a kind without its own words keeps the
    payload's (customers: `customer_headline`)."""
    build = STAFF_HEADLINES.get(kind)
    if build is None:
        return Headline(payload.stage or "工单提醒", "", payload.note)
    return build(payload, facts)


def duration(minutes: int) -> str:
    """45分钟, 2小时5分, 1天3小时: how late, in the fewest words."""
    if minutes < 60:
        return f"{minutes}分钟"
    hours, rest = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}小时{rest}分" if rest else f"{hours}小时"
    days, hours = divmod(hours, 24)
    return f"{days}天{hours}小时" if hours else f"{days}天"


def _clock(payload: Payload) -> str:
    return CLOCK_LABELS.get(payload.clock, "时限")


def _by(deadline: str, what: str) -> str:
    return f"请于{deadline}前{what}" if deadline else ""


# --- staff ---------------------------------------------------------------------------------


def _new_ticket(payload: Payload, facts: Facts) -> Headline:
    note = _by(facts.deadline, "联系客户")
    if payload.urgent:
        return Headline("紧急：疑似燃气泄漏", "紧急", note)
    return Headline("新投诉请及时联系客户", "待联系", note)


def _urgent(payload: Payload, facts: Facts) -> Headline:
    return Headline("紧急：疑似燃气泄漏", "紧急", _by(facts.deadline, "联系客户"))


def _government_intake(payload: Payload, facts: Facts) -> Headline:
    return Headline("政府平台投诉待批转", "待批转", _by(facts.deadline, "联系客户"))


def _assignment(payload: Payload, facts: Facts) -> Headline:
    stage = "新工单待办理"
    if payload.urgent:
        stage = "紧急：燃气泄漏工单待办理"
    elif payload.repeat:
        stage = "重复投诉工单待办理"
    return Headline(stage, "待办理", _by(facts.deadline, "办结"))


def _reminder(payload: Payload, facts: Facts) -> Headline:
    label = _clock(payload)
    return Headline(f"{label}时限将到期", f"{label}将到期", _by(facts.deadline, "完成"))


def _breach(payload: Payload, facts: Facts) -> Headline:
    label, late = _clock(payload), payload.overdue_minutes or 0
    stage = f"{label}已超期{duration(late)}" if late >= 1 else f"{label}时限已到，未完成"
    return Headline(stage, "已超期", f"时限{facts.deadline}" if facts.deadline else "")


def _urge(payload: Payload, facts: Facts) -> Headline:
    who = f"{payload.by}催办" if payload.by else "工单催办"
    return Headline(f"{who}，请尽快办理", "催办", payload.note)


def _money(payload: Payload) -> str:
    return f"{payload.money_kind}{payload.amount}元"


def _approval_request(payload: Payload, facts: Facts) -> Headline:
    return Headline(f"申请{_money(payload)}待审批", "待审批", payload.note)


def _approval_result(payload: Payload, facts: Facts) -> Headline:
    if payload.approved:
        return Headline(f"审批同意：{_money(payload)}", "同意", payload.note or "可以办结")
    return Headline(f"审批驳回：{_money(payload)}", "驳回", payload.note or "可不涉及金额办结")


def _signoff(payload: Payload, facts: Facts) -> Headline:
    note = payload.note or (f"第{payload.round}轮重办" if payload.round else "")
    return Headline("分管领导签批：准予办结", "已签批", note)


def _callback_request(payload: Payload, facts: Facts) -> Headline:
    if payload.phone:
        return Headline("已办结，请电话回访客户", "待回访", payload.result)
    return Headline("已办结，等待客户回访", "待回访", payload.result)


def _callback_result(payload: Payload, facts: Facts) -> Headline:
    if payload.satisfied:
        return Headline("回访结果：客户满意", "满意", payload.note)
    return Headline("回访结果：客户不满意", "不满意", payload.note)


def _callback_due(payload: Payload, facts: Facts) -> Headline:
    return Headline("客户未答复，请电话回访", "待回访", payload.result)


def _reopened(payload: Payload, facts: Facts) -> Headline:
    return Headline(f"客户不满意，第{payload.round or 1}轮重办", "重办", payload.note)


def _explanation(payload: Payload, facts: Facts) -> Headline:
    return Headline("书面说明待批准延期", "待批准", payload.reason)


def _extended(payload: Payload, facts: Facts) -> Headline:
    days = f"延期{payload.workdays}个工作日" if payload.workdays else "延期"
    note = f"新办结时限{facts.deadline}" if facts.deadline else ""
    return Headline(f"{days}已批准", "已延期", note)


def _escalated(payload: Payload, facts: Facts) -> Headline:
    severity = SEVERITY_LABELS.get(payload.severity, "")
    return Headline(f"工单升级为{severity}投诉", "已升级", "办结时限已重新计算")


def _accountability(payload: Payload, facts: Facts) -> Headline:
    note = f"前单{payload.repeat_of}" if payload.repeat_of else ""
    return Headline("重复投诉，需责任追究", "需追究", note)


def _returned(payload: Payload, facts: Facts) -> Headline:
    return Headline("工单被退回，请重新派单", "已退单", payload.reason)


def _resolution(payload: Payload, facts: Facts) -> Headline:
    return Headline("工单已办结", "已办结", payload.result)


def _digest(payload: Payload, facts: Facts) -> Headline:
    return Headline(f"今日办结{payload.count or 0}件", "日报", payload.note)


def _bulletin(payload: Payload, facts: Facts) -> Headline:
    """定期通报: its short title (e.g. 11月23日至11月29日周通报), written to fit."""
    return Headline(payload.note or "定期通报", "通报", "")


def _delivery_failed(payload: Payload, facts: Facts) -> Headline:
    about = KIND_NAMES.get(payload.about, "通知")
    return Headline(f"{payload.who}未收到{about}", "未送达", payload.reason)


def _rating(stage: str, outcome: str) -> Callable[[Payload, Facts], Headline]:
    return lambda payload, facts: Headline(stage, outcome, payload.note)


# --- customers -----------------------------------------------------------------------------


def _customer_result(payload: Payload, facts: Facts) -> Headline:
    return Headline("您的投诉已办结", "已办结", "回复1满意，2不满意")


def _customer_assigned(payload: Payload, facts: Facts) -> Headline:
    stage = f"已交{facts.department}办理"
    if not facts.department or len(stage) > THING_CHARS:
        stage = "已派单办理"
    return Headline(stage, "已派单", f"预计{facts.deadline}前办结" if facts.deadline else "")


def _customer_extended(payload: Payload, facts: Facts) -> Headline:
    note = f"预计{facts.deadline}前办结" if facts.deadline else ""
    return Headline("办理时限已延长", "已延期", note)


def _invalid_reason(payload: Payload, facts: Facts) -> Headline:
    return Headline("经核实不属于有效投诉", "无效", payload.reason)


def _moved_away(payload: Payload, facts: Facts) -> Headline:
    return Headline(
        "员工账号已在别处绑定", "已改绑", f"如非本人操作请联系{facts.general_department}"
    )


STAFF_HEADLINES: dict[str, Callable[[Payload, Facts], Headline]] = {
    "new_ticket": _new_ticket,
    "urgent": _urgent,
    "government_intake": _government_intake,
    "assignment": _assignment,
    "reminder": _reminder,
    "breach": _breach,
    "urge": _urge,
    "approval_request": _approval_request,
    "approval_result": _approval_result,
    "signoff": _signoff,
    "callback_request": _callback_request,
    "callback_result": _callback_result,
    "callback_due": _callback_due,
    "reopened": _reopened,
    "explanation": _explanation,
    "extended": _extended,
    "escalated": _escalated,
    "accountability": _accountability,
    "returned": _returned,
    "resolution": _resolution,
    "resolution_digest": _digest,
    "bulletin": _bulletin,
    "delivery_failed": _delivery_failed,
    "rating_alert": _rating("低星评价请电话回访", "待回访"),
    "rating_praise": _rating("客户五星好评", "好评"),
    "rating_notice": _rating("通报批评草稿待审核", "待审核"),
    "rating_warning": _rating("客户低星评价", "低星"),
}
CUSTOMER_HEADLINES: dict[str, Callable[[Payload, Facts], Headline]] = {
    "callback_request": _customer_result,
    "assigned": _customer_assigned,
    "extended": _customer_extended,
    "invalid_reason": _invalid_reason,
    "moved_away": _moved_away,
}

# What each kind is called: in a "did not reach" push (delivery_failed) and in the back
# office's list of a ticket's notifications.
KIND_NAMES = {
    "new_ticket": "新投诉通知",
    "urgent": "燃气泄漏提醒",
    "government_intake": "批转提醒",
    "assignment": "派单通知",
    "reminder": "到期提醒",
    "breach": "超期提醒",
    "urge": "催办通知",
    "approval_request": "审批申请",
    "approval_result": "审批结果",
    "signoff": "签批结果",
    "callback_request": "回访通知",
    "callback_result": "回访结果",
    "callback_due": "回访任务",
    "reopened": "重办通知",
    "explanation": "书面说明",
    "extended": "延期通知",
    "escalated": "升级通知",
    "accountability": "追责通知",
    "returned": "退单通知",
    "resolution": "办结通知",
    "resolution_digest": "办结日报",
    "bulletin": "定期通报",
    "delivery_failed": "未送达提醒",
    "rating_alert": "回访任务",
    "rating_praise": "表扬通知",
    "rating_notice": "通报草稿",
    "rating_warning": "低星提醒",
    "assigned": "派单告知",
    "invalid_reason": "无效说明",
    "moved_away": "改绑提醒",
}


def customer_headline(kind: str, payload: Payload, facts: Facts) -> Headline:
    build = CUSTOMER_HEADLINES.get(kind)
    if build is None:
        return Headline(payload.stage or "投诉有新进展", "", payload.note)
    return build(payload, facts)


# --- customer-service messages (inside the 48-hour window) ------------------------------------


def customer_message(kind: str, payload: Payload, facts: Facts, values: dict[str, str]) -> str:
    """The text a customer reads in the chat; ``values`` are the template values."""
    number = values["number"]
    if kind == "callback_request":
        return _result_message(number, values["result"], payload)
    if kind == "invalid_reason":
        return (
            f"您的投诉（单号 {number}）经核实不属于有效投诉：{values['reason']}\n"
            "如有疑问，请点击「投诉服务」→「服务电话」联系我们。"
        )
    if kind == "assigned":
        who = f"已交由{facts.department}办理" if facts.department else "已派单办理"
        return f"您的投诉（单号 {number}）{who}，预计{facts.deadline}前办结。"
    if kind == "extended":
        return f"您的投诉（单号 {number}）办理时限已延长，预计{facts.deadline}前办结。"
    if kind == "moved_away":
        return (
            f"您的微信已不再绑定员工账号「{payload.by}」：该账号刚在另一个微信上完成绑定。"
            f"如非本人操作，请立即联系{facts.general_department}。"
        )
    return f"您的投诉（单号 {number}）有新进展：{values['stage']}。"


def _result_message(number: str, result: str, payload: Payload) -> str:
    money = ""
    if payload.money_kind and payload.amount:
        money = f"经审批同意{payload.money_kind} {payload.amount} 元。\n"
    return (
        f"您的投诉（单号 {number}）已办结。\n处理结果：{result}\n{money}"
        "您对处理结果是否满意？请回复：\n1 满意\n2 不满意\n"
        f"（有多件投诉待评价时，可回复「1 {number}」或「2 {number}」）"
    )
