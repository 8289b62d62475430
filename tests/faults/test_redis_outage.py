"""Redis is a cache and a queue, not the only copy (issue 10, points 1 and 3): a private
redis-server is killed (no persistence: it comes back empty) in the middle of conversations,
call-backs, comments, a binding lockout and the sweeps."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from bot.db import transaction
from jobs.sweeps import requeue_pending
from models.notification.tables import Notification
from models.people.staff import issue_code, staff_by_name
from models.ticket.tables import Ticket
from tests.factories import (
    CUSTOMER,
    HANDLER,
    OFFICER,
    file_ticket,
    move,
    run_worker,
    seed_bound_staff,
)

HALF_FILED = ("5", "家里燃气表漏气，有明显气味", "幸福路1号3栋201", "张三")


def tickets(runtime) -> list[Ticket]:
    with runtime.sessions() as session:
        return session.scalars(select(Ticket).order_by(Ticket.id)).all()


def test_thirty_half_filed_complaints_survive_a_redis_restart(outage, outage_wechat, private_redis):
    openids = [f"o_half_{n:02d}" for n in range(30)]
    for openid in openids:
        outage_wechat.click(openid, "COMPLAINT_NEW")
        for answer in HALF_FILED:
            outage_wechat.text(openid, answer)
    private_redis.kill()
    private_redis.start()  # empty: no persistence
    assert outage.redis.dbsize() == 0
    replies = []
    for n, openid in enumerate(openids):
        outage_wechat.text(openid, f"1380013{n:04d}")
        replies.append(outage_wechat.text(openid, "1"))
    assert all("受理单号" in reply for reply in replies)
    filed = tickets(outage)
    assert len(filed) == 30
    assert sorted(t.phone for t in filed) == [f"1380013{n:04d}" for n in range(30)]
    assert {t.address for t in filed} == {"幸福路1号3栋201"}


def test_a_binding_lockout_a_comment_step_and_a_call_back_reason_survive_it(
    outage, outage_wechat, private_redis, fake_wechat
):
    seed_bound_staff(outage)
    with transaction(outage.sessions) as session:
        code = issue_code(session, staff_by_name(session, "陈静"), datetime.now(UTC)).code
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        outage_wechat.text("o_guesser", f"绑定 {wrong}")
    number = file_ticket(outage_wechat)
    move(outage, number, "周敏", "assign", handler_name="王芳")
    move(outage, number, "王芳", "ack")
    move(outage, number, "王芳", "resolve", text="已更换表前阀门")
    assert "重新交办" in outage_wechat.text(CUSTOMER, "2")  # the reason comes next
    outage_wechat.click("o_rater", "RATE_3")  # a comment is expected next

    private_redis.kill()
    private_redis.start()

    assert "暂停绑定" in outage_wechat.text("o_guesser", f"绑定 {code}")
    assert "已收到" in outage_wechat.text(CUSTOMER, "阀门还是有气味")
    assert "留言" in outage_wechat.text("o_rater", "服务一般")
    with outage.sessions() as session:
        ticket = session.scalars(select(Ticket).filter_by(number=number)).one()
        assert ticket.status == "assigned"
        kinds = [e.kind for e in ticket.events]
    assert kinds[-1] == "customer_reason"


def test_with_redis_down_everything_but_the_queue_answers_and_is_sent_later(
    outage, outage_wechat, private_redis, fake_wechat
):
    seed_bound_staff(outage)
    number = file_ticket(outage_wechat)
    private_redis.kill()  # and it stays down
    started = time.monotonic()
    assert number in outage_wechat.text(CUSTOMER, "查询")
    assert "0558" in outage_wechat.text(CUSTOMER, "电话")
    assert "诉求类型" in outage_wechat.click("o_new_customer", "COMPLAINT_NEW")
    assert "描述" in outage_wechat.text("o_new_customer", "5")
    assert "已派单至 运行维护部" in outage_wechat.text(OFFICER, f"派单 {number} 运行维护部 王芳")
    assert "接单" in outage_wechat.text(HANDLER, f"接单 {number}")
    assert "办结" in outage_wechat.text(HANDLER, f"办结 {number} 已更换阀门")
    assert "感谢" in outage_wechat.text(CUSTOMER, "1")  # the call-back, answered
    assert "感谢您的评价" in outage_wechat.click(CUSTOMER, "RATE_5")
    assert "留言" in outage_wechat.text(CUSTOMER, "师傅很好")
    assert time.monotonic() - started < 10  # eleven pushes, none waiting on Redis
    with outage.sessions() as session:
        pending = session.scalar(
            select(func.count(Notification.id)).where(Notification.status == "pending")
        )
    assert pending >= 3 and fake_wechat.messages() == []

    private_redis.start()
    later = datetime.now(UTC) + timedelta(seconds=outage.settings.outbox.resend_after_seconds + 1)
    assert requeue_pending(outage, later) == pending
    run_worker(outage)
    assert fake_wechat.messages(HANDLER) and fake_wechat.messages(CUSTOMER)
    with outage.sessions() as session:
        left = session.scalar(
            select(func.count(Notification.id)).where(Notification.status == "pending")
        )
    assert left == 0
