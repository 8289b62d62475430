"""退单 (issue 9, point 10): a handler or department head returns a mis-routed ticket with a
reason; it goes back to the officer, is on the timeline and is counted."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.db import transaction
from models.ticket.tables import Ticket, TicketEvent
from tests.factories import bind_staff, file_ticket, notifications_of, ticket_of


def test_a_mis_routed_ticket_goes_back_to_the_officer_with_the_reason(runtime, wechat, demo):
    staff = bind_staff(runtime)
    number = file_ticket(wechat)
    wechat.text(staff["officer"], f"派单 {number} 运行维护部 王芳")
    reply = wechat.text(staff["handler"], f"退单 {number} 表后管道属物业维修，非本部门")
    assert f"已退单：{number} 退回综合管理部重新派单" in reply and "当前状态：已受理" in reply

    ticket = ticket_of(runtime, number)
    assert (ticket.status, ticket.handler_id, ticket.handling_department_id) == (
        "received",
        None,
        None,
    )
    assert ticket.returns == 1
    event = ticket.events[-1]
    assert (event.kind, event.actor_name) == ("return", "王芳")
    assert "表后管道属物业维修" in event.text
    assert {
        (d.clock, d.state) for d in ticket.deadlines if d.clock in ("investigate", "resolve")
    } == {
        ("investigate", "superseded"),
        ("resolve", "superseded"),
    }  # the wrong department's clocks are not judged
    ((_, who, payload),) = notifications_of(runtime, "returned")
    assert (who, payload["reason"], payload["by"]) == (
        "周敏",
        "表后管道属物业维修，非本部门",
        "王芳",
    )
    assert "退单 1 次" in wechat.text(staff["officer"], f"查看 {number}")
    assert number in wechat.text(staff["officer"], "待办")

    again = wechat.text(staff["officer"], f"派单 {number} 市场发展部 陈静")
    assert "已重新派单至 市场发展部" in again
    with runtime.sessions() as session:
        returns = session.scalar(
            select(func.count(TicketEvent.id)).where(TicketEvent.kind == "return")
        )
    assert returns == 1  # on the timeline, counted for figures
    assert "退单 1 次" in wechat.text(staff["officer"], "统计 今日")


def test_only_the_tickets_handler_or_head_may_return_it(runtime, wechat, demo):
    staff = bind_staff(runtime)
    number = file_ticket(wechat)
    wechat.text(staff["officer"], f"派单 {number} 运行维护部 王芳")
    assert "无权操作" in wechat.text(staff["officer"], f"退单 {number} 派错了")
    assert "未找到工单" in wechat.text(staff["other_handler"], f"退单 {number} 不是我的")
    assert "缺少原因" in wechat.text(staff["handler"], f"退单 {number}")
    assert "已退单" in wechat.text(staff["dept_head"], f"退单 {number} 应由市场发展部处理")


def test_a_returned_government_ticket_is_routed_again_by_the_officer(runtime, wechat, demo):
    staff = bind_staff(runtime)
    number = file_ticket(wechat)
    with transaction(runtime.sessions) as session:
        session.scalar(
            select(Ticket).where(Ticket.number == number)
        ).source_channel = "政府投诉平台"
    assert "分管领导批转" in wechat.text(staff["officer"], f"派单 {number} 运行维护部 王芳")
    wechat.text(staff["leader"], f"派单 {number} 运行维护部 王芳")
    wechat.text(staff["handler"], f"退单 {number} 属燃气表厂家质保")
    assert {who for _, who, _ in notifications_of(runtime, "returned")} == {"周敏", "钱立"}
    assert "已重新派单" in wechat.text(staff["officer"], f"派单 {number} 市场发展部 陈静")
