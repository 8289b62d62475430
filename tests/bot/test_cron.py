"""`bihuan cron`'s loop and `bihuan worker`'s restarts: nothing a sweep or rq raises stops
them; each sweep's last run is recorded and /healthz warns when one is late."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.cli.jobs import keep_working
from bot.cron import PERIODIC, Cron, Periodic
from bot.db import transaction
from models import sweeps


def test_a_failing_sweep_is_recorded_retried_and_never_stops_the_others(runtime):
    calls = {"broken": 0, "fine": 0}

    def broken(_runtime, _now):
        calls["broken"] += 1
        raise ConnectionError("redis is down")

    def fine(_runtime, _now):
        calls["fine"] += 1
        return 1

    cron = Cron(
        runtime, (Periodic("broken", broken, lambda s: 60), Periodic("fine", fine, lambda s: 60))
    )
    assert cron.run_due() == ["broken", "fine"]
    assert cron.run_due() == []  # the broken one waits 1 s, the fine one 60 s
    with runtime.sessions() as session:
        runs = sweeps.all_runs(session)
    assert runs["fine"].finished_at is not None and runs["fine"].runs == 1
    assert runs["broken"].finished_at is None and "redis is down" in runs["broken"].last_error


def test_the_worker_is_started_again_after_it_fell_over():
    outcomes = iter([RuntimeError("redis gone"), False, True])
    pauses = []

    def work():
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    keep_working(work, sleep=pauses.append)
    assert pauses == [1.0, 2.0]  # then it was asked to stop


def record_all(runtime, finished: datetime) -> None:
    with transaction(runtime.sessions) as session:
        for periodic in PERIODIC:
            sweeps.record_finished(session, periodic.name, finished, finished)


def test_healthz_warns_about_a_late_sweep(client, runtime):
    record_all(runtime, datetime.now(UTC))
    body = client.get("/healthz").get_json()
    assert body["status"] == "ok" and body["warnings"] == []
    late = datetime.now(UTC) - timedelta(seconds=runtime.settings.outbox.sweep_late_seconds + 5)
    with transaction(runtime.sessions) as session:
        sweeps.record_finished(session, "outbox", late, late)
    response = client.get("/healthz")
    body = response.get_json()
    assert response.status_code == 200 and body["status"] == "warning"
    assert body["sweeps"]["outbox"]["late"] and not body["sweeps"]["deadlines"]["late"]
    assert any("outbox" in warning for warning in body["warnings"])
