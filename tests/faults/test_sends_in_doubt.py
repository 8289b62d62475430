"""Outbound once (issue 10, point 7): a worker SIGKILLed while WeChat holds its answer, WeChat
answering later than the client's timeout, or slower than it used to be allowed. A template
message is repeated only with its client_msg_id (WeChat drops the repeat); a
customer-service message is never repeated: its template follows. bench/fault_bench.py runs
the same trial many times and counts losses and duplicates."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.runtime import build_runtime
from jobs.delivery import deliver
from jobs.sweeps import requeue_pending
from models.notification.tables import Notification
from tests.faults.support import (
    CUSTOM,
    RECOVERY_ROUNDS,
    TEMPLATE,
    bihuan_env,
    kill_group,
    kill_mid_send_trial,
    notification_for,
    spawn,
    wait_for,
)


@pytest.fixture
def worker_env(outage, private_redis, fake_wechat):
    return bihuan_env(
        outage.settings,
        BIHUAN_REDIS__URL=private_redis.url,
        BIHUAN_WECHAT__APP_ID="wxtestapp",
        BIHUAN_WECHAT__APP_SECRET="test-app-secret",
        BIHUAN_WECHAT__API_BASE_URL=fake_wechat.url,
    )


@pytest.mark.parametrize("kind", ["custom", "template"])
def test_a_worker_killed_mid_send_neither_loses_nor_repeats_the_message(
    outage, fake_wechat, worker_env, tmp_path, kind
):
    result = kill_mid_send_trial(
        outage, fake_wechat, worker_env, tmp_path / "worker.log", kind, f"o_killed_{kind}"
    )
    assert not result.lost and not result.repeated and result.status == "sent"
    if kind == "custom":  # delivered before the kill; its template follows, never itself
        assert result.delivered == {"custom": 1, "template": 1}
    else:  # the repeat carried the same client_msg_id: WeChat dropped it
        assert result.delivered == {"custom": 0, "template": 1}


def background(outage, send_timeout: float):
    """The worker's runtime: it waits `send_timeout` for WeChat's answer."""
    settings = outage.settings.override(wechat={"send_timeout_seconds": send_timeout})
    return build_runtime(settings, redis=outage.redis, process="background")


def row_of(runtime, row_id: int) -> Notification:
    with runtime.sessions() as session:
        return session.get(Notification, row_id)


def test_an_answer_slower_than_three_seconds_is_waited_for_and_sent_once(outage, fake_wechat):
    worker = background(outage, send_timeout=10.0)
    try:
        row_id = notification_for(worker, "custom", "o_slow_answer")
        fake_wechat.answer_late_next(CUSTOM, 4.0)
        assert deliver(worker, row_id, datetime.now(UTC)) == "sent"
    finally:
        worker.close()
    assert [m["kind"] for m in fake_wechat.messages("o_slow_answer")] == ["custom"]


def test_a_customer_service_send_that_timed_out_is_followed_by_its_template_not_repeated(
    outage, fake_wechat
):
    worker = background(outage, send_timeout=1.0)
    try:
        row_id = notification_for(worker, "custom", "o_timed_out")
        fake_wechat.answer_late_next(CUSTOM, 2.0)
        assert deliver(worker, row_id, datetime.now(UTC)) == "sent"
        row = row_of(worker, row_id)
        assert (row.channel, row.in_doubt) == ("template", "")
        assert deliver(worker, row_id, datetime.now(UTC)) == "done-before"
    finally:
        worker.close()
    assert [m["kind"] for m in fake_wechat.messages("o_timed_out")] == ["custom", "template"]


def test_a_template_send_that_timed_out_is_repeated_with_its_client_msg_id(outage, fake_wechat):
    worker = background(outage, send_timeout=1.0)
    try:
        row_id = notification_for(worker, "template", "o_template_timeout")
        fake_wechat.answer_late_next(TEMPLATE, 2.0)
        assert deliver(worker, row_id, datetime.now(UTC)) == "retry"
        assert row_of(worker, row_id).in_doubt == "template"
        assert deliver(worker, row_id, datetime.now(UTC)) == "sent"
    finally:
        worker.close()
    (message,) = fake_wechat.messages("o_template_timeout")
    assert message["body"]["client_msg_id"] == f"bihuan-{row_id}"
    assert fake_wechat.stats()["calls"][TEMPLATE] == 2  # sent twice, delivered once


def test_a_template_send_in_doubt_on_every_try_goes_to_a_person_not_to_failed(outage, fake_wechat):
    settings = outage.settings.override(
        wechat={"send_timeout_seconds": 1.0}, outbox={"retry_seconds": [0]}
    )
    worker = build_runtime(settings, redis=outage.redis, process="background")
    try:
        row_id = notification_for(worker, "template", "o_always_late")
        fake_wechat.answer_late_next(TEMPLATE, 2.0, times=2)
        assert deliver(worker, row_id, datetime.now(UTC)) == "retry"
        assert deliver(worker, row_id, datetime.now(UTC)) == "unsure"
        row = row_of(worker, row_id)
    finally:
        worker.close()
    assert (row.status, row.in_doubt) == ("unsure", "template")
    assert "多次重试" in row.last_error


def test_a_doubtful_send_past_the_client_msg_id_window_goes_to_a_person(outage, fake_wechat):
    row_id = notification_for(outage, "template", "o_too_late")
    started = datetime.now(UTC) - timedelta(minutes=15)
    with outage.sessions.begin() as session:
        row = session.get(Notification, row_id)
        row.status, row.channel, row.attempt_started_at = "sending", "template", started
    requeue_pending(outage, datetime.now(UTC))
    assert row_of(outage, row_id).in_doubt == "template"
    assert deliver(outage, row_id, datetime.now(UTC)) == "unsure"
    assert fake_wechat.messages("o_too_late") == []
    with outage.sessions() as session:
        assert session.scalar(select(Notification.status).where(Notification.id == row_id)) == (
            "unsure"
        )


def test_a_worker_killed_mid_batch_neither_loses_nor_repeats_any_row(
    outage, fake_wechat, worker_env, tmp_path
):
    """A batch of template and customer-service rows; the worker is SIGKILLed while WeChat
    holds the answer to one send (other lanes of the batch may have gone on). Every row of
    the batch is left `sending`; after the sweep each is delivered, never twice through the
    same channel."""
    from jobs.queue import enqueue_notifications
    from tests.factories import run_worker

    kinds = {f"o_batch_{i:02d}": "custom" if i % 4 == 0 else "template" for i in range(24)}
    fake_wechat.answer_late_next(TEMPLATE, 8.0)
    worker = spawn(["worker"], worker_env, tmp_path / "worker.log")
    try:
        ids = {openid: notification_for(outage, kind, openid) for openid, kind in kinds.items()}
        enqueue_notifications(outage, list(ids.values()), sweeping=True)
        wait_for(fake_wechat.messages, 30, "the worker to reach the fake WeChat")
    finally:
        kill_group(worker)
    outbox = outage.settings.outbox
    for round_ in range(RECOVERY_ROUNDS):
        later = datetime.now(UTC) + timedelta(
            seconds=outbox.job_timeout_seconds + 31 + round_ * (outbox.resend_after_seconds + 1)
        )
        requeue_pending(outage, later)
        run_worker(outage)
        if all(row_of(outage, row_id).status == "sent" for row_id in ids.values()):
            break
    for openid, kind in kinds.items():
        delivered = Counter(message["kind"] for message in fake_wechat.messages(openid))
        assert row_of(outage, ids[openid]).status == "sent", openid
        assert sum(delivered.values()) >= 1 and max(delivered.values()) == 1, (openid, delivered)
        if kind == "template":
            assert delivered == Counter({"template": 1}), openid
