"""The drain job (`jobs.drain`): batches of due rows claimed by one job, each row sent exactly
once; one wake-up however many producers, never a lost one; a transient failure retried later
while its batch is recorded; drains running at once never sending a row twice."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.db import transaction
from bot.dev.embedded import enqueue_scheduled
from jobs import drain as drain_module
from jobs.drain import drain
from jobs.queue import enqueue_notifications, make_queue
from models.core.payload import Payload
from models.notification.tables import Notification
from models.people.tables import Staff
from tests.factories import run_worker

TEMPLATE = "/cgi-bin/message/template/send"


def pending_rows(runtime, count: int, recipients: int = 5, who: str = "o_drain") -> list[int]:
    """`count` pending bulletins (template messages) spread over `recipients` new bound staff
    (openids `who`_0, `who`_1 …)."""
    now = datetime.now(UTC)
    with transaction(runtime.sessions) as session:
        staff = [
            Staff(name=f"{who}_{i}"[-12:], role="officer", openid=f"{who}_{i}")
            for i in range(recipients)
        ]
        session.add_all(staff)
        session.flush()
        rows = [
            Notification(
                kind="bulletin",
                staff_id=staff[i % recipients].id,
                payload=Payload(note=f"通报 {i}").to_json(),
                created_at=now,
                next_attempt_at=now,
            )
            for i in range(count)
        ]
        session.add_all(rows)
        session.flush()
        return [row.id for row in rows]


def statuses(runtime) -> Counter:
    with runtime.sessions() as session:
        return Counter(session.scalars(select(Notification.status)))


def template_calls_by_row(fake) -> Counter:
    """How many times each row's template reached the fake (its client_msg_id), repeats
    that WeChat would drop included."""
    calls: Counter = Counter()
    for message in fake.messages():
        calls[message["body"]["client_msg_id"]] += 1
    return calls


def test_one_job_drains_many_rows_each_sent_exactly_once(live, fake_wechat):
    ids = pending_rows(live, 250)
    for row_id in ids:  # a producer per row: still one job
        assert enqueue_notifications(live, [row_id]) == 1
    assert make_queue(live).count == 1
    run_worker(live)
    assert statuses(live) == Counter({"sent": 250})
    assert fake_wechat.stats()["calls"][TEMPLATE] == 250  # no send repeated, even dropped ones
    assert template_calls_by_row(fake_wechat) == Counter({f"bihuan-{i}": 1 for i in ids})


def test_a_row_committed_after_the_drain_last_looked_gets_a_drain_of_its_own(
    live, fake_wechat, monkeypatch
):
    (first,) = pending_rows(live, 1)
    enqueue_notifications(live, [first])
    one_batch = drain_module._one_batch
    late: list[int] = []

    def batch_then_a_producer_commits(runtime, ids, until):
        batch = one_batch(runtime, ids, until)
        if not batch.outcomes and not late:  # the drain's last look found nothing: a row now
            late.extend(pending_rows(live, 1, recipients=1, who="o_late"))
            assert enqueue_notifications(live, late) == 1
            assert make_queue(live).count == 1  # a new drain, not left to the sweep
        return batch

    monkeypatch.setattr(drain_module, "_one_batch", batch_then_a_producer_commits)
    run_worker(live)  # the first drain, then the one the late row queued
    assert late and statuses(live) == Counter({"sent": 2})
    assert fake_wechat.stats()["calls"][TEMPLATE] == 2


def test_a_transient_failure_is_retried_later_while_its_batch_is_recorded_as_sent(
    live, fake_wechat
):
    ids = pending_rows(live, 6)
    fake_wechat.fail_next(TEMPLATE, -1)  # the first send of the batch: WeChat busy
    enqueue_notifications(live, ids)
    run_worker(live)
    with live.sessions() as session:
        failed = session.get(Notification, ids[0])
        assert (failed.status, failed.attempts, failed.last_error_code) == ("pending", 1, -1)
        assert failed.next_attempt_at > datetime.now(UTC)
        others = [session.get(Notification, row_id) for row_id in ids[1:]]
    assert {row.status for row in others} == {"sent"}
    registry = make_queue(live).scheduled_job_registry
    (job_id,) = registry.get_job_ids()  # the retry, at the row's next attempt
    job = make_queue(live).fetch_job(job_id)
    assert job.args == ([ids[0]],)
    registry.schedule(job, datetime.now(UTC) - timedelta(seconds=1))
    assert enqueue_scheduled(make_queue(live)) == 1
    run_worker(live)
    assert statuses(live) == Counter({"sent": 6})
    assert fake_wechat.stats()["calls"][TEMPLATE] == 7  # the failed call, then six sends


def test_two_drains_at_once_never_send_a_row_twice(live, fake_wechat):
    ids = pending_rows(live, 400, recipients=10)
    outcomes: list[Counter] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            outcomes.append(drain(live, []))
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sum(outcome["sent"] for outcome in outcomes) == 400
    assert statuses(live) == Counter({"sent": 400})
    assert fake_wechat.stats()["calls"][TEMPLATE] == 400
    assert template_calls_by_row(fake_wechat) == Counter({f"bihuan-{i}": 1 for i in ids})


def test_rows_not_started_within_the_budget_go_back_untried_and_a_drain_follows(
    live, fake_wechat, monkeypatch
):
    ids = pending_rows(live, 30)
    monkeypatch.setattr(drain_module, "drain_budget_seconds", lambda _outbox: 0.0)
    outcomes = drain(live, [])
    assert outcomes == Counter({"released": 30})
    with live.sessions() as session:
        rows = [session.get(Notification, row_id) for row_id in ids]
    assert {(row.status, row.attempts) for row in rows} == {("pending", 0)}
    assert fake_wechat.messages() == []
    assert make_queue(live).count == 1  # the follow-up
    monkeypatch.undo()
    run_worker(live)
    assert statuses(live) == Counter({"sent": 30})
    assert fake_wechat.stats()["calls"][TEMPLATE] == 30
