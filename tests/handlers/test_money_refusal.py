"""A refused money request ends that request (issue 9, point 2): the ticket can be resolved
without money, the refusal stays on the record, the customer is promised nothing, a new
request stays possible; 签批 is never called a money approval."""

from __future__ import annotations

from sqlalchemy import select

from bot.db import transaction
from models.ticket.tables import Ticket
from tests.factories import (
    CUSTOMER,
    bind_staff,
    file_ticket,
    move,
    notifications_of,
    run_worker,
    ticket_of,
)


def processing_ticket(live, live_wechat, staff) -> str:
    number = file_ticket(live_wechat)
    live_wechat.text(staff["officer"], f"派单 {number} 运行维护部 王芳")
    live_wechat.text(staff["handler"], f"接单 {number}")
    return number


def test_a_refusal_followed_by_resolving_without_money(live, live_wechat, fake_wechat, demo):
    staff = bind_staff(live)
    number = processing_ticket(live, live_wechat, staff)
    assert "已报分管领导审批" in live_wechat.text(
        staff["handler"], f"申请 {number} 赔款 500 灶具损坏"
    )
    refused = live_wechat.text(staff["leader"], f"审批 {number} 驳回 不属于赔偿范围")
    assert "已驳回赔款 500.00 元的申请" in refused and "可不涉及金额办结" in refused

    done = live_wechat.text(staff["handler"], f"办结 {number} 已上门检修灶具，无需赔偿")
    assert f"{number} 已办结" in done and "审批" not in done.splitlines()[0]
    ticket = ticket_of(live, number)
    assert ticket.status == "resolved" and ticket.money_status == "rejected"
    refusal = next(e for e in ticket.events if e.kind == "decide_money")
    assert "审批驳回：赔款 500.00 元" in refusal.text and "不属于赔偿范围" in refusal.text
    shown = live_wechat.text(staff["officer"], f"查看 {number}")
    assert "涉及金额（赔款 500.00 元，已驳回）" in shown

    run_worker(live)
    result = fake_wechat.messages(CUSTOMER)[-1]["body"]["text"]["content"]
    assert "已上门检修灶具" in result and "500" not in result and "赔款" not in result
    (pushed,) = [m for m in fake_wechat.messages(staff["handler"]) if "驳回" in str(m["body"])]
    words = {v["value"] for v in pushed["body"]["data"].values()}
    assert "审批驳回：赔款500.00元" in words  # the outcome and the amount, within 20 characters


def test_after_a_refusal_a_new_request_is_possible_and_an_approval_is_told(
    live, live_wechat, fake_wechat, demo
):
    staff = bind_staff(live)
    number = processing_ticket(live, live_wechat, staff)
    live_wechat.text(staff["handler"], f"申请 {number} 赔款 500 灶具损坏")
    live_wechat.text(staff["leader"], f"审批 {number} 驳回")
    again = live_wechat.text(staff["handler"], f"申请 {number} 折让 80 按规定折让")
    assert "已报分管领导审批" in again
    blocked = live_wechat.text(staff["handler"], f"办结 {number} 已折让")
    assert "审批同意后才能办结" in blocked
    assert "已同意折让 80.00 元" in live_wechat.text(staff["leader"], f"审批 {number} 同意")
    live_wechat.text(staff["handler"], f"办结 {number} 已处理并按规定折让")
    run_worker(live)
    result = fake_wechat.messages(CUSTOMER)[-1]["body"]["text"]["content"]
    assert "经审批同意折让 80.00 元" in result
    kinds = [e.kind for e in ticket_of(live, number).events]
    assert kinds.count("request_money") == 2 and kinds.count("decide_money") == 2


def test_signoff_and_money_approval_are_different_pushes(live, live_wechat, fake_wechat, demo):
    staff = bind_staff(live)
    number = processing_ticket(live, live_wechat, staff)
    with transaction(live.sessions) as session:
        session.scalar(select(Ticket).where(Ticket.number == number)).rounds = 3
    reply = live_wechat.text(staff["leader"], f"签批 {number} 同意办结")
    assert "已签批" in reply and "审批" not in reply.splitlines()[0]
    assert [kind for kind, *_ in notifications_of(live, "signoff")] == ["signoff"]
    assert notifications_of(live, "approval_result") == []
    run_worker(live)
    (pushed,) = [m for m in fake_wechat.messages(staff["handler"]) if "签批" in str(m["body"])]
    assert "金额" not in str(pushed["body"]["data"])
    move(live, number, "王芳", "resolve", text="已处理")  # the sign-off lets it be resolved
    assert ticket_of(live, number).status == "resolved"
