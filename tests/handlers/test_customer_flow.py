"""The customer in WeChat, end to end through the webhook."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from bot.inbox import Inbox
from models.notification.tables import Notification
from models.people.tables import Customer, Staff
from models.ticket.tables import Ticket, TicketEvent
from tests.factories import OPENID, file_complaint


def test_subscribe_complain_confirm_and_query(wechat, runtime, demo):
    welcome = wechat.event(OPENID, "subscribe")
    assert "我要投诉" in welcome and "我的投诉" in welcome
    replies = file_complaint(wechat)
    assert "1" in replies[0] and "报装" in replies[0]  # numbered appeal types
    assert "张三" in replies[-2] and "13800138000" in replies[-2]  # the summary
    confirmation = replies[-1]
    with runtime.sessions() as session:
        ticket = session.scalars(select(Ticket)).one()
        assert ticket.number in confirmation
        assert ticket.appeal_type == "维修" and ticket.source_channel == "微信公众号"
        assert ticket.customer_name == "张三" and ticket.phone == "13800138000"
        assert ticket.address == "幸福路1号3栋201" and "不走字" in ticket.content
        assert ticket.status == "received"
        assert ticket.receiving_department.name == "综合管理部"
        events = session.scalars(select(TicketEvent).filter_by(ticket_id=ticket.id)).all()
        assert [e.kind for e in events] == ["received"]
        number = ticket.number
    assert runtime.conversations.get(OPENID) is None
    listing = wechat.text(OPENID, "查询")
    assert number in listing and "已受理" in listing
    assert number in wechat.click(OPENID, "COMPLAINT_MINE")
    detail = wechat.text(OPENID, f"查询 {number.lower()}")
    assert "不走字" in detail and "维修" in detail


def test_ticket_number_is_ts_date_and_daily_sequence(wechat, runtime):
    file_complaint(wechat, "o_a")
    file_complaint(wechat, "o_b")
    with runtime.sessions() as session:
        numbers = sorted(t.number for t in session.scalars(select(Ticket)))
    today = datetime.now(UTC).astimezone().strftime("%Y%m%d")
    assert numbers[0].startswith("TS") and len(numbers[0]) == 14
    assert [n[-4:] for n in numbers] == ["0001", "0002"]
    assert numbers[0][2:10] in {today, (datetime.now(UTC) + timedelta(hours=8)).strftime("%Y%m%d")}


def test_another_customers_ticket_answers_as_if_it_did_not_exist(wechat, runtime):
    file_complaint(wechat, "o_owner")
    with runtime.sessions() as session:
        number = session.scalars(select(Ticket)).one().number
    stranger = wechat.text("o_stranger", f"查询 {number}")
    missing = wechat.text("o_stranger", "查询 TS209901010001")
    assert stranger == missing.replace("TS209901010001", number)
    assert "不走字" not in stranger


def test_a_complaint_reporting_gas_is_urgent_and_the_officer_is_told(wechat, runtime, demo):
    file_complaint(wechat, content="厨房里一直有燃气味，阀门附近最浓")
    file_complaint(wechat, "o_other", "13900139000")
    with runtime.sessions() as session:
        leak, meter = session.scalars(select(Ticket).order_by(Ticket.id)).all()
        assert (leak.urgent, meter.urgent) == (True, False)
        alerts = session.scalars(select(Notification).filter_by(kind="urgent")).all()
        assert [(row.ticket_id, session.get(Staff, row.staff_id).name) for row in alerts] == [
            (leak.id, "周敏")
        ]


def test_confirming_twice_creates_one_ticket(wechat, runtime):
    wechat.click("o_twice", "COMPLAINT_NEW")
    for answer in ("1", "申请报装很久没人联系", "幸福路2号", "李四", "0558-1234567"):
        wechat.text("o_twice", answer)
    state = runtime.conversations.get("o_twice")
    wechat.text("o_twice", "1")
    runtime.conversations.save("o_twice", state)  # as if clearing the draft had failed
    again = wechat.text("o_twice", "1")
    with runtime.sessions() as session:
        tickets = session.scalars(select(Ticket)).all()
    assert len(tickets) == 1 and tickets[0].number in again


def test_unsubscribe_marks_inactive_and_resubscribe_reactivates(wechat, runtime):
    wechat.event("o_sub", "subscribe")
    assert wechat.event("o_sub", "unsubscribe") == ""
    with runtime.sessions() as session:
        assert session.scalars(select(Customer).filter_by(openid="o_sub")).one().subscribed is False
    wechat.event("o_sub", "subscribe")
    with runtime.sessions() as session:
        assert session.scalars(select(Customer).filter_by(openid="o_sub")).one().subscribed is True


def test_hotline_lists_the_policy_numbers_from_config(wechat, settings):
    reply = wechat.click("o_hot", "HOTLINE")
    for line in settings.hotline.lines:
        assert line in reply


def test_free_text_outside_a_conversation_offers_the_menu(wechat):
    reply = wechat.text("o_free", "你们好")
    assert "我要投诉" in reply and "查询" in reply


def test_no_tickets_yet(wechat):
    assert "还没有" in wechat.click("o_new", "COMPLAINT_MINE")


def test_idle_conversation_expires_and_the_next_message_says_so(wechat, runtime, app):
    wechat.click("o_idle", "COMPLAINT_NEW")
    later = datetime.now(UTC) + timedelta(minutes=runtime.settings.conversation.idle_minutes + 1)
    app.wsgi_app.inbox = Inbox(runtime, clock=lambda: later)
    reply = wechat.text("o_idle", "1")
    assert "30" in reply and "我要投诉" in reply
    assert runtime.conversations.get("o_idle") is None


def test_cancel_leaves_no_ticket(wechat, runtime):
    wechat.click("o_cancel", "COMPLAINT_NEW")
    wechat.text("o_cancel", "2")
    assert "取消" in wechat.text("o_cancel", "取消")
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(select(Ticket).subquery())) == 0


def test_picture_and_location_complaint(wechat, runtime):
    wechat.click("o_pic", "COMPLAINT_NEW")
    wechat.text("o_pic", "维修")
    wechat.image("o_pic")
    wechat.voice("o_pic", "灶具打不着火")
    wechat.location("o_pic", 32.89, 115.81, "阜阳市颍州区某小区")
    wechat.text("o_pic", "王五")
    wechat.text("o_pic", "13800138000")
    wechat.text("o_pic", "确认")
    with runtime.sessions() as session:
        ticket = session.scalars(select(Ticket)).one()
    assert ticket.content == "灶具打不着火"
    assert ticket.address == "阜阳市颍州区某小区" and ticket.latitude == 32.89
    assert [a["kind"] for a in ticket.attachments] == ["image"]


def test_unexpected_input_mid_conversation_prompts_for_the_current_step(wechat):
    wechat.click("o_odd", "COMPLAINT_NEW")
    wechat.text("o_odd", "1")
    reply = wechat.click("o_odd", "HOTLINE")
    assert reply and "取消" in reply


def test_repeat_complaints_are_linked_and_the_second_unresolved_repeat_is_accountable(
    wechat, runtime, demo
):
    from models.notification.tables import Notification

    for _ in range(3):
        file_complaint(wechat, "o_repeat")
    with runtime.sessions() as session:
        first, second, third = session.scalars(select(Ticket).order_by(Ticket.id)).all()
        assert (first.repeat_flag, second.repeat_flag, third.repeat_flag) == (False, True, True)
        assert second.repeat_of_id == first.id and third.repeat_of_id == second.id
        assert (second.accountability_flag, third.accountability_flag) == (False, True)
        alerts = session.scalars(select(Notification).filter_by(kind="accountability")).all()
        assert {n.ticket_id for n in alerts} == {third.id}


def test_a_different_appeal_type_is_not_a_repeat(wechat, runtime):
    file_complaint(wechat, "o_other")
    wechat.click("o_other", "COMPLAINT_NEW")
    for answer in ("1", "报装进度太慢", "幸福路1号", "张三", "13800138000", "1"):
        wechat.text("o_other", answer)
    with runtime.sessions() as session:
        assert [t.repeat_flag for t in session.scalars(select(Ticket).order_by(Ticket.id))] == [
            False,
            False,
        ]
