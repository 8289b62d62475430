"""Gas safety first (issue 9, point 4): a message reporting a leak or a smell of gas gets the
safety instructions and the 24-hour emergency line before anything else, inside a
conversation, outside one and in a complaint's description; the complaint is urgent and the
officer is alerted at once."""

from __future__ import annotations

from sqlalchemy import select

from models.ticket.tables import Ticket
from tests.factories import OFFICER, notifications_of, run_worker, seed_bound_staff, ticket_of

ADVICE = "【燃气安全提示】"


def starts_with_advice(reply: str, line: str = "0558-2197777") -> bool:
    return reply.startswith(ADVICE) and "关闭燃气表前阀门" in reply and line in reply


def test_outside_a_conversation_the_advice_comes_before_the_menu(wechat, runtime):
    reply = wechat.text("o_smell", "家里闻到很重的燃气味怎么办")
    assert starts_with_advice(reply)
    assert "严禁明火" in reply and "离开到室外" in reply
    assert reply.index("「投诉」开始投诉") > reply.index("24小时抢修电话")  # then the menu
    assert len(reply.encode()) <= 2048


def test_a_voice_message_is_checked_too(wechat):
    assert starts_with_advice(wechat.voice("o_voice", "我家厨房漏气了"))
    assert not wechat.voice("o_voice2", "你好").startswith(ADVICE)


def test_a_leak_reported_in_the_middle_of_the_address_step(wechat, runtime):
    openid = "o_address"
    wechat.click(openid, "COMPLAINT_NEW")
    wechat.text(openid, "5")
    assert "地址" in wechat.text(openid, "燃气表走字太快")
    reply = wechat.text(openid, "现在厨房有煤气味")
    assert starts_with_advice(reply)
    assert "已记录您反映的燃气泄漏情况" in reply and "（第3步/共5步）" in reply  # asked again
    state = runtime.conversations.get(openid)
    assert state.step == "address" and state.draft.address == "" and state.draft.urgent
    for answer in ("幸福路8号2栋", "孙七", "13700003333", "1"):
        wechat.text(openid, answer)
    with runtime.sessions() as session:
        ticket = session.scalars(select(Ticket)).one()
        assert ticket.urgent and ticket.address == "幸福路8号2栋"
        assert "燃气泄漏" in ticket.events[0].text


def test_a_description_with_leak_words_is_urgent_and_alerts_the_officer_at_once(
    live, live_wechat, fake_wechat
):
    seed_bound_staff(live)
    openid = "o_leak"
    live_wechat.click(openid, "COMPLAINT_NEW")
    live_wechat.text(openid, "5")
    reply = live_wechat.text(openid, "燃气表接口处泄漏，有嘶嘶声")
    assert starts_with_advice(reply) and "（第3步/共5步）" in reply  # kept as the description
    for answer in ("幸福路9号", "周八", "13700004444", "1"):
        live_wechat.text(openid, answer)
    with live.sessions() as session:
        number = session.scalars(select(Ticket.number)).one()
    assert ticket_of(live, number).urgent
    ((kind, who, payload),) = notifications_of(live, "urgent")  # the officer's alert
    assert (who, payload["urgent"]) == ("周敏", True)
    run_worker(live)
    (pushed,) = fake_wechat.messages(OFFICER)
    assert "紧急：疑似燃气泄漏" in str(pushed["body"]["data"])
    shown = live_wechat.text(OFFICER, f"查看 {number}")
    assert "紧急（燃气泄漏）" in shown


def test_a_quiet_complaint_is_not_urgent_and_gets_no_advice(wechat, runtime):
    openid = "o_quiet"
    replies = [wechat.click(openid, "COMPLAINT_NEW")]
    for answer in ("1", "报装申请一周没人联系", "幸福路1号", "赵六", "13700002222", "1"):
        replies.append(wechat.text(openid, answer))
    assert not any(reply.startswith(ADVICE) for reply in replies)
    with runtime.sessions() as session:
        assert session.scalars(select(Ticket.urgent)).one() is False


def test_leak_words_and_the_emergency_line_come_from_the_settings(runtime):
    from bot.app import create_app
    from bot.runtime import build_runtime
    from tests.wechat_client import WeChatTestClient

    settings = runtime.settings.override(
        safety={"leak_words": ("有异味",), "emergency_line": "0558-1234567"}
    )
    custom = build_runtime(settings, redis=runtime.redis)
    client = WeChatTestClient(create_app(runtime=custom).test_client(), settings)
    assert starts_with_advice(client.text("o_custom", "楼道里有异味"), line="0558-1234567")
    assert not client.text("o_custom", "漏气").startswith(ADVICE)  # only the configured words
    custom.close()


def test_staff_notes_about_leaks_are_commands_not_customer_reports(wechat, runtime):
    seed_bound_staff(runtime)
    reply = wechat.text(OFFICER, "待办")
    assert not reply.startswith(ADVICE)
    assert not wechat.text(OFFICER, "进展 TS209901010001 已处理漏气").startswith(ADVICE)
