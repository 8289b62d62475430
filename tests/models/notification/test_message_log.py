"""The outbound message log: filtered by state, a permanently failed message sent again once
fixed, and the week's failures summed up for the officer by the cron job."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.db import transaction
from jobs.queue import enqueue_written
from jobs.reports import failure_summary, last_week
from models.audit.log import Who
from models.notification import log as message_log
from models.notification.tables import Notification
from tests.factories import (
    HANDLER,
    OFFICER,
    audit_actions,
    file_ticket,
    move,
    run_worker,
    seed_bound_staff,
)

TEMPLATE = "/cgi-bin/message/template/send"
OFFICE = Who(name="周敏", role="officer", address="10.0.0.7")


@pytest.fixture
def failed_assignment(live, live_wechat, fake_wechat):
    """An assignment to the handler that WeChat refused for good (47003)."""
    seed_bound_staff(live)
    number = file_ticket(live_wechat)
    run_worker(live)  # the pushes of the new ticket itself go out first
    fake_wechat.fail_next(TEMPLATE, 47003)
    move(live, number, "周敏", "assign", handler_name="王芳")
    run_worker(live)
    return number


def test_the_log_lists_the_failed_message_with_its_error_and_a_masked_customer(
    live, failed_assignment
):
    move(live, failed_assignment, "王芳", "ack")
    move(live, failed_assignment, "王芳", "resolve", text="已更换阀门")
    with live.sessions() as session:
        failed = message_log.page(session, message_log.LogFilter(status="failed"))
        everything = message_log.page(session, message_log.LogFilter())
        counts = message_log.status_counts(session)
    assert [(r.notification.kind, r.recipient, r.ticket_number) for r in failed] == [
        ("assignment", "员工 王芳", failed_assignment)
    ]
    assert failed[0].notification.last_error_code == 47003
    customers = [r.recipient for r in everything if r.recipient.startswith("客户")]
    assert customers and all("138****8000" in name for name in customers)
    assert counts["failed"] == 1 and sum(counts.values()) == len(everything)


def test_a_failed_message_is_sent_again_once_fixed(live, fake_wechat, failed_assignment):
    with live.sessions() as session:
        (row,) = session.scalars(select(Notification).where(Notification.status == "failed"))
    with transaction(live.sessions) as session:
        message_log.resend(session, row.id, OFFICE, datetime.now(UTC))
    enqueue_written(live, session)
    run_worker(live)
    with live.sessions() as session:
        again = session.get(Notification, row.id)
    assert again.status == "sent" and again.attempts == 1 and again.last_error == ""
    assert [m["body"]["client_msg_id"] for m in fake_wechat.messages(HANDLER)] == [
        f"bihuan-{row.id}"
    ]
    assert audit_actions(live)[-1] == ("message_resend", "周敏", "10.0.0.7")
    with transaction(live.sessions) as session, pytest.raises(message_log.ResendRefused):
        message_log.resend(session, row.id, OFFICE, datetime.now(UTC))


def test_the_officer_gets_last_weeks_failures_once(live, fake_wechat, failed_assignment):
    next_monday = datetime.now(UTC) + timedelta(days=7)
    start, end, label = last_week(next_monday, live.settings.app.timezone)
    assert start <= datetime.now(UTC) < end and label.count("-W") == 1
    assert failure_summary(live, next_monday) == 1
    assert failure_summary(live, next_monday + timedelta(hours=1)) == 0
    run_worker(live)
    (message,) = [
        m
        for m in fake_wechat.messages(OFFICER)
        if m["body"]["data"].get("character_string1", {}).get("value") == label
    ]
    assert message["body"]["url"].endswith("/messages?status=failed")
    assert message["body"]["data"]["thing3"]["value"] == "失败1条，未送达0条"


def test_a_week_without_failures_sends_no_summary(live, demo):
    assert failure_summary(live, datetime.now(UTC) + timedelta(days=7)) == 0
