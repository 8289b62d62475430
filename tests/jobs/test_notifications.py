"""Notifications through rq to the fake WeChat API: outbox, retries, error codes, sweeps."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot import wechat
from bot.app import create_app
from bot.db import transaction
from bot.dev.embedded import enqueue_scheduled
from bot.inbox import Inbox
from bot.replay import reclaim_abandoned
from bot.runtime import build_runtime
from handlers.incoming import IncomingMessage
from jobs.delivery import deliver
from jobs.queue import make_queue
from jobs.sweeps import requeue_pending
from models.notification.tables import Notification
from models.people.tables import Customer
from models.rating.tables import Rating
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

TEMPLATE = "/cgi-bin/message/template/send"
CUSTOM = "/cgi-bin/message/custom/send"


@pytest.fixture
def assigned(live, live_wechat):
    """A filed ticket (the officer told of it) assigned to the bound handler 王芳: that
    assignment not yet sent."""
    seed_bound_staff(live)
    number = file_ticket(live_wechat)
    run_worker(live)
    move(live, number, "周敏", "assign", handler_name="王芳")
    return number


def rows(runtime, **filters) -> list[Notification]:
    with runtime.sessions() as session:
        return session.scalars(
            select(Notification).filter_by(**filters).order_by(Notification.id)
        ).all()


def test_assignment_reaches_the_handler_as_a_template_message(live, fake_wechat, assigned):
    run_worker(live)
    received = fake_wechat.messages(HANDLER)
    assert len(received) == 1
    body = received[0]["body"]
    assert body["template_id"] == live.settings.templates.kinds["assignment"]["id"]
    assert body["data"]["character_string1"]["value"] == assigned
    assert body["url"].endswith(f"/tickets/{assigned}")
    (row,) = rows(live, kind="assignment")
    assert body["client_msg_id"] == f"bihuan-{row.id}"
    assert row.status == "sent" and row.attempts == 1 and row.wechat_msgid
    assert row.sent_at is not None and row.channel == "template"


def test_delivery_result_from_templatesendjobfinish_is_recorded(
    live, fake_wechat, assigned, live_wechat
):
    run_worker(live)
    (row,) = rows(live, kind="assignment")
    live_wechat.event(
        HANDLER, "TEMPLATESENDJOBFINISH", MsgID=row.wechat_msgid, Status="failed:user block"
    )
    (row,) = rows(live, kind="assignment")
    assert row.delivery == "failed:user block"


def test_a_sent_row_is_never_sent_again(live, fake_wechat, assigned):
    run_worker(live)
    (row,) = rows(live, kind="assignment")
    assert deliver(live, row.id, datetime.now(UTC)) == "done-before"
    from jobs.queue import enqueue_notifications

    enqueue_notifications(live, [row.id])
    run_worker(live)
    assert len(fake_wechat.messages(HANDLER)) == 1


def test_a_long_value_is_trimmed_to_its_type_and_accepted(live, fake_wechat, live_wechat):
    seed_bound_staff(live)
    live_wechat.click(CUSTOMER, "COMPLAINT_NEW")
    long_matter = "燃气表箱门锈蚀脱落并且表前阀门滴漏还伴有明显的异味请尽快处理"
    for answer in ("5", long_matter, "幸福路1号", "张三", "13800138000", "1"):
        live_wechat.text(CUSTOMER, answer)
    with live.sessions() as session:
        number = session.scalars(select(Ticket)).one().number
    move(live, number, "周敏", "assign", handler_name="王芳")
    run_worker(live)
    (message,) = fake_wechat.messages(HANDLER)
    matter = message["body"]["data"]["thing2"]["value"]
    assert len(matter) <= 20 and matter.endswith("…")
    assert rows(live, kind="assignment")[0].status == "sent"


@pytest.mark.parametrize("errcode, http_status", [(-1, 200), (0, 500), (45011, 200)])
def test_transient_errors_are_retried_with_backoff(
    live, fake_wechat, assigned, errcode, http_status
):
    fake_wechat.fail_next(TEMPLATE, errcode or -1, times=1, http_status=http_status)
    run_worker(live)
    (row,) = rows(live, kind="assignment")
    assert row.status == "pending" and row.attempts == 1 and row.last_error_code is not None
    registry = make_queue(live).scheduled_job_registry
    assert registry.count == 1  # rq holds the retry for its backoff interval
    job_id = registry.get_job_ids()[0]
    registry.schedule(make_queue(live).fetch_job(job_id), datetime.now(UTC) - timedelta(1))
    assert enqueue_scheduled(make_queue(live)) == 1
    run_worker(live)
    (row,) = rows(live, kind="assignment")
    assert row.status == "sent" and row.attempts == 2
    assert len(fake_wechat.messages(HANDLER)) == 1


def test_an_expired_token_is_refreshed_once_and_the_message_sent(live, fake_wechat, assigned):
    run_worker(live)
    issued = fake_wechat.stats()["tokens_issued"]
    fake_wechat.expire_tokens()
    move(live, assigned, "周敏", "urge")
    run_worker(live)
    assert fake_wechat.stats()["tokens_issued"] == issued + 1
    assert rows(live, kind="urge")[0].status == "sent"


@pytest.mark.parametrize("errcode", [40003, 40037, 47003])
def test_permanent_errors_are_recorded_not_retried(live, fake_wechat, assigned, errcode):
    fake_wechat.fail_next(TEMPLATE, errcode)
    run_worker(live)
    (row,) = rows(live, kind="assignment")
    assert row.status == "failed" and row.last_error_code == errcode
    assert make_queue(live).scheduled_job_registry.count == 0


@pytest.mark.parametrize("errcode", [45009, 40164, 48001])
def test_quota_and_platform_errors_alert_operations(live, fake_wechat, assigned, errcode, caplog):
    fake_wechat.fail_next(TEMPLATE, errcode)
    with caplog.at_level(logging.ERROR):
        run_worker(live)
    assert rows(live, kind="assignment")[0].status == "failed"
    assert "WECHAT OPERATIONS ALERT" in caplog.text


def test_redis_flushed_between_commit_and_work_then_the_sweep_sends_once(
    live, fake_wechat, assigned
):
    live.redis.flushdb()  # the queued jobs are gone, the rows are not
    run_worker(live)
    assert fake_wechat.messages(HANDLER) == []
    pending = len(rows(live, status="pending"))  # the assignment, the customer's, the officer's
    later = datetime.now(UTC) + timedelta(seconds=live.settings.outbox.resend_after_seconds + 1)
    assert requeue_pending(live, later) == pending >= 1
    assert requeue_pending(live, later) == 0  # queued again only after another interval
    run_worker(live)
    assert len(fake_wechat.messages(HANDLER)) == 1
    assert rows(live, kind="assignment")[0].status == "sent"


def test_unbound_staff_are_skipped_with_a_reason(live, fake_wechat, live_wechat):
    seed_bound_staff(live)
    number = file_ticket(live_wechat)
    move(live, number, "周敏", "assign", handler_name="陈静")  # not bound to WeChat
    run_worker(live)
    (row,) = rows(live, kind="assignment")
    assert row.status == "skipped" and "未绑定" in row.last_error


# --- the customer side ------------------------------------------------------------------------


def resolved(live, number: str) -> None:
    move(live, number, "王芳", "ack")
    move(live, number, "王芳", "resolve", text="已更换表前阀门，复测无泄漏")


def test_result_goes_to_the_customer_in_the_window_as_a_customer_service_message(
    live, fake_wechat, assigned
):
    resolved(live, assigned)
    run_worker(live)
    told, message = fake_wechat.messages(CUSTOMER)  # the assignment, then the result
    assert "已交由运行维护部办理" in told["body"]["text"]["content"]
    assert message["kind"] == "custom"
    text = message["body"]["text"]["content"]
    assert assigned in text and "已更换表前阀门" in text and "1 满意" in text


def test_outside_the_window_the_customer_gets_a_template(live, fake_wechat, assigned):
    with transaction(live.sessions) as session:
        customer = session.scalars(select(Customer).filter_by(openid=CUSTOMER)).one()
        customer.last_inbound_at = datetime.now(UTC) - timedelta(hours=49)
    resolved(live, assigned)
    run_worker(live)
    message = fake_wechat.messages(CUSTOMER)[-1]
    assert message["kind"] == "template"
    assert message["body"]["template_id"] == live.settings.templates.kinds["customer_result"]["id"]


@pytest.mark.parametrize("errcode", [45015, 45047])
def test_window_closed_or_quota_used_falls_back_to_a_template(live, fake_wechat, assigned, errcode):
    run_worker(live)  # the assignment reaches the customer first
    fake_wechat.fail_next(CUSTOM, errcode)
    resolved(live, assigned)
    run_worker(live)
    message = fake_wechat.messages(CUSTOMER)[-1]
    assert message["kind"] == "template"
    (row,) = rows(live, kind="callback_request", staff_id=None)
    assert row.status == "sent" and row.channel == "template"


@pytest.mark.parametrize("errcode, column", [(43004, "subscribed"), (43101, "opted_out")])
def test_unreachable_customer_is_marked_and_goes_to_phone_call_back(
    live, fake_wechat, assigned, errcode, column
):
    fake_wechat.fail_next(CUSTOM, errcode)
    resolved(live, assigned)
    run_worker(live)
    with live.sessions() as session:
        customer = session.scalars(select(Customer).filter_by(openid=CUSTOMER)).one()
        ticket = session.scalars(select(Ticket).filter_by(number=assigned)).one()
        assert getattr(customer, column) is (column == "opted_out")
        assert ticket.phone_callback is True
    officer_rows = rows(live, kind="callback_due")
    assert officer_rows and fake_wechat.messages(OFFICER)


def test_an_unsubscribed_customer_goes_straight_to_the_phone_path(
    live, fake_wechat, assigned, live_wechat
):
    live_wechat.event(CUSTOMER, "unsubscribe")
    resolved(live, assigned)
    run_worker(live)
    assert fake_wechat.messages(CUSTOMER) == []
    (row,) = rows(live, kind="callback_request", staff_id=None)
    assert row.status == "skipped"
    with live.sessions() as session:
        assert (
            session.scalars(select(Ticket).filter_by(number=assigned)).one().phone_callback is True
        )
    assert rows(live, kind="callback_due")


def test_redis_down_after_the_commit_loses_nothing(live, live_wechat, fake_wechat, monkeypatch):
    """The command is answered and the row kept; the outbox sweep sends it later."""
    from redis.exceptions import ConnectionError as RedisDown
    from rq import Queue

    seed_bound_staff(live)
    number = file_ticket(live_wechat)
    run_worker(live)  # the officer hears of the new ticket

    def refuse(*_args, **_kwargs):
        raise RedisDown("redis is down")

    monkeypatch.setattr(Queue, "enqueue", refuse)
    assert "已派单至" in live_wechat.text(OFFICER, f"派单 {number} 运行维护部 王芳")
    monkeypatch.undo()
    (row,) = rows(live, kind="assignment")
    assert row.status == "pending"
    later = datetime.now(UTC) + timedelta(seconds=live.settings.outbox.resend_after_seconds + 1)
    assert requeue_pending(live, later) == 2  # the handler's assignment, the customer's notice
    run_worker(live)
    assert len(fake_wechat.messages(HANDLER)) == 1


# --- the rating link, late answers --------------------------------------------------------------


def test_the_result_carries_the_customers_own_signed_rating_link(live, fake_wechat, assigned):
    signing = build_runtime(live.settings.override(web={"secret_key": "k"}), redis=live.redis)
    try:
        resolved(live, assigned)
        (row,) = rows(live, kind="callback_request", staff_id=None)
        assert deliver(signing, row.id, datetime.now(UTC)) == "sent"
        (message,) = fake_wechat.messages(CUSTOMER)
        link = re.search(r"http\S+/rate\?t=\S+", message["body"]["text"]["content"]).group()
        page = create_app(runtime=signing).test_client()
        form = page.get("/rate" + link.split("/rate", 1)[1])
        assert form.status_code == 200 and assigned in form.get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.get_data(as_text=True))
        query = link.split("?t=", 1)[1]
        posted = page.post("/rate", data={"csrf_token": token.group(1), "stars": "5", "t": query})
        assert posted.status_code == 303
        with live.sessions() as session:
            rating = session.scalars(select(Rating)).one()
            ticket = session.scalars(select(Ticket).filter_by(number=assigned)).one()
        assert (rating.target, rating.ticket_id) == ("ticket", ticket.id)
    finally:
        signing.close()


def test_a_staff_command_handled_late_is_answered_by_a_customer_service_message(
    live, live_wechat, fake_wechat
):
    seed_bound_staff(live)
    number = file_ticket(live_wechat)
    xml = (
        "<xml><ToUserName>gh</ToUserName><FromUserName>o_loop_officer</FromUserName>"
        f"<CreateTime>1</CreateTime><MsgType>text</MsgType><Content>查看 {number}</Content>"
        "<MsgId>660001</MsgId></xml>"
    )
    past = datetime.now(UTC) - timedelta(minutes=1)
    inbox = Inbox(live, clock=lambda: past)
    inbox._claim(IncomingMessage.from_fields(wechat.parse(xml)), xml, None)  # then abandoned
    assert reclaim_abandoned(live) == 1
    run_worker(live)
    (message,) = [m for m in fake_wechat.messages(OFFICER) if m["kind"] == "custom"]
    assert message["kind"] == "custom" and number in message["body"]["text"]["content"]
