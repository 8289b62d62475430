"""The officer's administration pages over HTTP: a notice published and pushed through the fake
WeChat API; a member added, bound by scanning the code shown once, then deactivated (their
WeChat and their sign-in stop at once); the calendar entered; a failed message sent again."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from models.notification.tables import Notification
from models.people.tables import Staff
from models.rating.tables import RatingNotice
from models.ticket.tables import Deadline, Ticket, TicketEvent
from tests.factories import make_ticket, move, rate_ticket, run_worker
from tests.web.office import csrf_token, office_runtime, set_passwords, signed_in, text_of

NOTICE_TEMPLATE = "TEMPLATE_ID_NOTICE_PUBLISHED"


@pytest.fixture
def site(live, demo):
    """The back office on the live runtime: pushes go through rq to the fake WeChat API."""
    site = office_runtime(live)
    set_passwords(site)
    yield site
    site.close()


def bind(site, **openids) -> None:
    from bot.db import transaction

    with transaction(site.sessions) as session:
        for name, openid in openids.items():
            session.scalar(select(Staff).where(Staff.name == name)).openid = openid


def post(client, url: str, form_page: str, **data):
    return client.post(url, data={"csrf_token": csrf_token(client, form_page), **data})


def test_the_officer_edits_publishes_and_the_notice_reaches_the_person_and_leader(
    site, fake_wechat
):
    bind(site, 王芳="o_wang", 钱立="o_qian")
    rate_ticket(site, make_ticket(site, status="archived"), 1, comment="态度很差")
    with site.sessions() as session:
        notice_id = session.scalars(select(RatingNotice.id)).one()
    officer = signed_in(site, "officer")
    url = f"/notices/{notice_id}"
    assert "草稿" in text_of(officer.get(url))
    saved = post(
        officer,
        f"{url}/edit",
        url,
        title="关于王芳服务态度的通报批评（草稿）",
        body="经核实，情况属实。\n请各部门引以为戒。",
    )
    assert saved.status_code == 303
    published = officer.post(
        f"{url}/publish", data={"publish-csrf_token": csrf_token(officer, url)}
    )
    assert published.status_code == 303
    page = text_of(officer.get(url))
    year = datetime.now(UTC).year
    assert f"综管通〔{year}〕1号" in page and "请各部门引以为戒" in page and "（草稿）" not in page
    run_worker(site)
    for openid in ("o_wang", "o_qian"):
        (message,) = [
            m for m in fake_wechat.messages(openid) if m["body"]["template_id"] == NOTICE_TEMPLATE
        ]
        assert message["body"]["url"] == f"{site.settings.web.base_url}/notices/{notice_id}"
    handler = signed_in(site, "handler")  # the push's link opens for the person concerned
    assert f"综管通〔{year}〕1号" in text_of(handler.get(url))
    assert "发布通报" in text_of(signed_in(site, "leader").get("/audit"))


def test_a_member_is_added_bound_by_scanning_and_deactivated(site, live_wechat, fake_wechat):
    officer = signed_in(site, "officer")
    with site.sessions() as session:
        department = session.scalar(select(Staff.department_id).where(Staff.name == "王芳"))
    added = post(
        officer,
        "/staff",
        "/staff",
        name="吴倩",
        department=str(department),
        role="handler",
        phone="13812345678",
    )
    assert added.status_code == 303
    member_url = added.headers["Location"]
    answer = post(officer, f"{member_url}/code", member_url)
    html = answer.get_data(as_text=True)
    code = re.search(r"<p class=\"code\" data-code>(\d{6})</p>", html).group(1)
    assert "<svg" in html and "扫描二维码" in html and answer.headers["Cache-Control"] == "no-store"
    assert code not in officer.get(member_url).get_data(as_text=True)  # shown once
    (qr,) = [m for m in fake_wechat.messages() if m["kind"] == "qrcode"]
    assert qr["body"]["action_info"]["scene"]["scene_str"] == f"bind_{code}"
    assert "绑定成功" in live_wechat.event("o_wuqian", "SCAN", EventKey=f"bind_{code}")
    assert "已绑定微信" in text_of(officer.get(member_url))
    deactivated = post(officer, f"{member_url}/deactivate", member_url)
    assert deactivated.status_code == 303
    assert "待办" not in live_wechat.text("o_wuqian", "帮助")  # a customer again
    audit = text_of(officer.get("/audit"))
    for action in ("添加员工", "发放绑定码", "绑定微信", "停用员工"):
        assert action in audit


def test_a_deactivated_persons_sign_in_ends_at_once(site):
    handler = signed_in(site, "handler")
    assert handler.get("/work").status_code == 200
    officer = signed_in(site, "officer")
    with site.sessions() as session:
        wang = session.scalar(select(Staff.id).where(Staff.name == "王芳"))
    post(officer, f"/staff/{wang}/deactivate", f"/staff/{wang}")
    after = handler.get("/work")
    assert after.status_code == 303 and "/login" in after.headers["Location"]


def test_the_officer_cannot_deactivate_themselves(site):
    officer = signed_in(site, "officer")
    with site.sessions() as session:
        own = session.scalar(select(Staff.id).where(Staff.name == "周敏"))
    refused = post(officer, f"/staff/{own}/deactivate", f"/staff/{own}")
    assert refused.status_code == 409 and "不能停用自己" in text_of(refused)


def test_entering_next_years_holidays_moves_a_provisional_deadline(site):
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("Asia/Shanghai")
    year = datetime.now(zone).year + 1
    number = make_ticket(site, status="received", handler=None, department=None)
    assigned = datetime(year - 1, 12, 31, 10, 0, tzinfo=zone)
    move(site, number, "周敏", "assign", now=assigned, handler_name="王芳")
    officer = signed_in(site, "officer")
    page = text_of(officer.get("/calendar"))
    assert f"{year}年 暂定" in page and number in page
    days = f"{year}-01-01~{year}-01-03 休 元旦\n{year}-01-04 休 元旦延长\n{year}-01-09 班 调休"
    bad = post(
        officer, f"/calendar/{year}", f"/calendar/{year}", days=f"{year}-01-01 休\n{year}-13-01 休"
    )
    assert bad.status_code == 422 and "第2行" in text_of(bad)
    saved = post(officer, f"/calendar/{year}", f"/calendar/{year}", days=days)
    assert saved.status_code == 303
    page = text_of(officer.get("/calendar"))
    assert f"{year}年 已配置" in page and "综合管理部录入" in page
    with site.sessions() as session:
        deadline = session.scalars(
            select(Deadline)
            .join(Ticket)
            .where(Ticket.number == number, Deadline.clock == "resolve")
        ).one()
        recounted = session.scalars(
            select(TicketEvent.text)
            .join(Ticket)
            .where(Ticket.number == number, TicketEvent.kind == "deadline_recounted")
        ).one()
    assert deadline.provisional is False and deadline.due_at.astimezone(zone).date() == (
        datetime(year, 1, 5, tzinfo=zone).date()
    )
    assert "调整为" in recounted and recounted.startswith(f"工作日历变更（{year}年）")
    assert (deadline.due_at - assigned) > timedelta(days=4)


def test_a_failed_message_is_resent_from_the_log(site, fake_wechat):
    bind(site, 王芳="o_wang")
    number = make_ticket(site, status="received", handler=None, department=None)
    fake_wechat.fail_next("/cgi-bin/message/template/send", 47003)
    move(site, number, "周敏", "assign", handler_name="王芳")
    run_worker(site)
    officer = signed_in(site, "officer")
    page = text_of(officer.get("/messages?status=failed"))
    assert "发送失败 1" in page and "47003" in page and number in page
    with site.sessions() as session:
        failed = session.scalars(
            select(Notification.id).where(Notification.status == "failed")
        ).one()
    resent = post(officer, f"/messages/{failed}/resend", "/messages")
    assert resent.status_code == 303
    run_worker(site)
    assert "发送失败 0" in text_of(officer.get("/messages"))
    assert len(fake_wechat.messages("o_wang")) == 1
