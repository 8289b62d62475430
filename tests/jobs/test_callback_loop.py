"""The whole loop with the customer answering the call-back in the chat (PRODUCT §5)."""

from __future__ import annotations

from sqlalchemy import select

from models.notification.tables import Notification
from models.ticket.tables import Ticket, TicketEvent
from tests.factories import CUSTOMER, HANDLER, OFFICER, file_ticket, run_worker, seed_bound_staff


def ticket_state(live, number):
    with live.sessions() as session:
        ticket = session.scalars(select(Ticket).filter_by(number=number)).one()
        kinds = [
            e.kind
            for e in session.scalars(
                select(TicketEvent).filter_by(ticket_id=ticket.id).order_by(TicketEvent.id)
            )
        ]
        return ticket.status, ticket.escalation_level, kinds


def test_customer_answers_unsatisfied_then_satisfied_in_the_chat(live, live_wechat, fake_wechat):
    seed_bound_staff(live)
    number = file_ticket(live_wechat)
    assert number in live_wechat.text(OFFICER, f"派单 {number} 运行维护部 王芳")
    run_worker(live)
    assert fake_wechat.messages(HANDLER)[0]["kind"] == "template"  # the assignment
    live_wechat.text(HANDLER, f"接单 {number}")
    live_wechat.text(HANDLER, f"办结 {number} 已更换燃气表前阀门")
    run_worker(live)
    told, result = fake_wechat.messages(CUSTOMER)  # assigned to whom, then the result
    assert "运行维护部" in told["body"]["text"]["content"]
    assert "已更换燃气表前阀门" in result["body"]["text"]["content"]

    # Days later, outside any conversation: 2 = 不满意.
    reply = live_wechat.text(CUSTOMER, "2")
    assert "重新交办" in reply and "原因" in reply
    assert ticket_state(live, number)[:2] == ("assigned", 1)
    assert "已收到" in live_wechat.text(CUSTOMER, "阀门还是有气味")
    status, _, kinds = ticket_state(live, number)
    assert kinds[-2:] == ["reopened", "customer_reason"]
    run_worker(live)
    officer_texts = [m["body"]["data"] for m in fake_wechat.messages(OFFICER)]
    assert any("阀门还是有气味" in str(data) for data in officer_texts)

    live_wechat.text(HANDLER, f"接单 {number}")
    live_wechat.text(HANDLER, f"办结 {number} 重新检测并更换密封圈，无异味")
    run_worker(live)
    assert "感谢" in live_wechat.text(CUSTOMER, "满意")
    status, level, kinds = ticket_state(live, number)
    assert status == "archived" and level == 1 and kinds[-1] == "archived"
    with live.sessions() as session:
        sent = session.scalars(
            select(Notification).where(
                Notification.customer_id.is_not(None), Notification.kind == "callback_request"
            )
        ).all()
    assert len(sent) == 2  # one result per round


def test_a_1_with_nothing_awaiting_call_back_is_just_the_guide(live, live_wechat):
    seed_bound_staff(live)
    file_ticket(live_wechat)
    reply = live_wechat.text(CUSTOMER, "1")
    assert "我要投诉" in reply
    with live.sessions() as session:
        assert session.scalars(select(Ticket)).one().status == "received"


def test_my_complaints_show_the_handling_department_and_deadline(live, live_wechat):
    seed_bound_staff(live)
    number = file_ticket(live_wechat)
    live_wechat.text(OFFICER, f"派单 {number} 运行维护部 王芳")
    listing = live_wechat.text(CUSTOMER, "查询")
    assert number in listing and "运行维护部" in listing and "前办结" in listing
    detail = live_wechat.text(CUSTOMER, f"查询 {number}")
    assert "承办部门：运行维护部" in detail and "预计办结" in detail
