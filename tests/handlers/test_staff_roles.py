"""Every staff command × every staff role, through the webhook: allowed, or refused saying so.

Also the shared helpers of the staff tests: binding demo staff (by setting ``Staff.openid``
directly) and putting tickets in a given state.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from handlers import staff as staff_handlers
from models.notification.tables import Notification
from models.people.tables import Staff
from models.ticket.tables import TicketEvent
from tests.factories import bind_staff, event_count, make_ticket

ROLES = ("handler", "dept_head", "officer", "leader", "executive", "clerk")
# Demo staff (models/demo.py) plus a clerk; all but 陈静 are bound to WeChat in `staff`.


@pytest.fixture
def staff(runtime, demo) -> dict[str, str]:
    return bind_staff(runtime)


HANDLERS_AND_HEAD = {"handler", "dept_head"}
MONEY_PENDING = {
    "status": "processing",
    "money_status": "pending",
    "money_kind": "退款",
    "money_amount": Decimal("100"),
}

# command → (ticket state or None, text with {n} for the number, roles that succeed)
CASES = {
    "帮助": (None, "帮助", set(ROLES)),
    "待办": (None, "待办", {"handler", "dept_head", "officer"}),
    "查看": ({"registered_by": "吴文"}, "查看 {n}", set(ROLES)),  # the clerk registered it
    "接单": ({}, "接单 {n}", HANDLERS_AND_HEAD),
    "进展": ({"status": "processing"}, "进展 {n} 已上门检查", HANDLERS_AND_HEAD),
    "办结": ({"status": "processing"}, "办结 {n} 已更换燃气表", HANDLERS_AND_HEAD),
    "说明": ({"status": "processing"}, "说明 {n} 需厂家配件", HANDLERS_AND_HEAD),
    "申请": ({"status": "processing"}, "申请 {n} 退款 100 多收了气费", HANDLERS_AND_HEAD),
    "派单": ({"handler": None}, "派单 {n} 运行维护部 王芳", {"officer", "leader", "dept_head"}),
    "无效": ({}, "无效 {n} 重复提交", {"officer", "dept_head"}),
    "升级": ({}, "升级 {n} 复杂", {"officer", "leader"}),
    "延期": (
        {"status": "processing", "explanation_pending": True},
        "延期 {n} 3",
        {"officer", "leader"},
    ),
    "催办": ({}, "催办 {n}", {"officer", "leader"}),
    "回访": ({"status": "resolved"}, "回访 {n} 满意", {"officer"}),
    "审批": (MONEY_PENDING, "审批 {n} 同意", {"leader", "executive"}),
    "签批": ({"rounds": 3, "escalation_level": 3}, "签批 {n}", {"leader"}),
    "超期": (None, "超期", {"officer", "leader"}),
    "统计": (None, "统计", {"officer", "leader", "executive"}),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("command", list(CASES))
def test_command_by_role(wechat, runtime, staff, command: str, role: str) -> None:
    state, template, allowed = CASES[command]
    number = make_ticket(runtime, **state) if state is not None else None
    before = event_count(runtime, number) if number else 0
    reply = wechat.text(staff[role], template.format(n=number))
    changed = number is not None and event_count(runtime, number) > before
    if role in allowed:
        assert "无权" not in reply and "用法" not in reply, reply
        if number is not None and command != "查看":
            assert changed and f"{command}成功" in reply, reply
    else:
        assert "无权操作" in reply and "用法：" in reply, reply
        assert not changed


@pytest.mark.parametrize("role", ROLES)
def test_help_lists_exactly_the_commands_of_the_role(wechat, staff, role: str) -> None:
    reply = wechat.text(staff[role], "帮助")
    for name, command in staff_handlers.COMMANDS.items():
        assert (f"· {command.usage}\n" in reply) == (role in command.roles), (name, reply)
    assert len(reply.encode()) <= 2048


def test_a_ticket_outside_the_senders_department_answers_as_unknown(wechat, runtime, staff):
    number = make_ticket(runtime)
    hidden = wechat.text(staff["other_handler"], f"查看 {number}")
    missing = wechat.text(staff["other_handler"], "查看 TS209901010001")
    assert hidden == missing.replace("TS209901010001", number)
    assert f"未找到工单 {number}" in hidden and "用法：查看 <单号>" in hidden
    moved = wechat.text(staff["other_handler"], f"接单 {number}")
    assert f"未找到工单 {number}" in moved and event_count(runtime, number) == 0


def test_wrong_state_gives_the_workflows_reason_and_the_usage(wechat, runtime, staff):
    number = make_ticket(runtime, status="resolved")
    reply = wechat.text(staff["handler"], f"办结 {number} 又处理了一次")
    assert "该工单已办结" in reply and "用法：办结 <单号> <处理结果>" in reply
    archived = make_ticket(runtime, status="archived")
    assert "该工单已归档" in wechat.text(staff["officer"], f"催办 {archived}")


def test_missing_argument_says_what_is_missing(wechat, runtime, staff):
    number = make_ticket(runtime, status="processing")
    reply = wechat.text(staff["handler"], f"办结 {number}")
    assert "缺少处理结果" in reply and "用法：办结 <单号> <处理结果>" in reply
    assert event_count(runtime, number) == 0


def test_unknown_text_and_non_text_get_the_help_hint(wechat, staff):
    assert "帮助" in wechat.text(staff["handler"], "今天天气不错")
    assert "帮助" in wechat.image(staff["handler"])
    assert "帮助" in wechat.voice(staff["handler"], "接单")


def test_events_welcome_the_staff_member_by_role_and_unsubscribe_is_silent(wechat, staff):
    welcome = wechat.event(staff["dept_head"], "subscribe")
    assert "李强" in welcome and "部门负责人" in welcome and "帮助" in welcome
    assert "投诉负责人" in wechat.click(staff["officer"], "COMPLAINT_NEW")
    assert wechat.event(staff["officer"], "unsubscribe") == ""


def test_assign_resolves_department_by_prefix_and_names_the_handler(wechat, runtime, staff):
    number = make_ticket(runtime, status="received", handler=None, department=None)
    reply = wechat.text(staff["officer"], f"派单 {number} 运行 王芳")
    assert "派单成功" in reply and "运行维护部" in reply and "王芳" in reply
    with runtime.sessions() as session:
        event = session.scalars(select(TicketEvent).order_by(TicketEvent.id.desc())).first()
        assert event.text == "派单至 运行维护部（承办人 王芳）"
        notified = session.scalars(select(Notification.staff_id)).all()
        wang = session.scalar(select(Staff.id).where(Staff.name == "王芳"))
        assert notified == [wang]


def test_assign_refuses_unknown_or_ambiguous_names_listing_the_valid_ones(wechat, runtime, staff):
    number = make_ticket(runtime, status="received", handler=None, department=None)
    unknown = wechat.text(staff["officer"], f"派单 {number} 物业部")
    assert "未找到部门「物业部」" in unknown and "运行维护部" in unknown and "市场发展部" in unknown
    stranger = wechat.text(staff["officer"], f"派单 {number} 运行维护部 张三")
    assert "运行维护部没有名为「张三」的承办人" in stranger and "王芳" in stranger
    assert event_count(runtime, number) == 0


def test_dept_head_assigns_only_within_own_department(wechat, runtime, staff):
    number = make_ticket(runtime, handler=None)
    reply = wechat.text(staff["dept_head"], f"派单 {number} 市场发展部 陈静")
    assert "无权操作" in reply and event_count(runtime, number) == 0


def test_a_phone_number_echoed_back_in_a_refusal_is_masked(wechat, runtime, staff):
    number = make_ticket(runtime)
    reply = wechat.text(staff["officer"], f"查看 {number} 13912345678")
    assert "多余的内容" in reply and "139****5678" in reply and "13912345678" not in reply
