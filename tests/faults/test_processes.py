"""Processes never die of a transient outage (issue 10, point 1): `bihuan cron` and `bihuan
worker` as real subprocesses while their Redis is killed (and comes back empty) in the middle
of the sweeps, and while their database connection is cut."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from models.notification.tables import Notification
from models.sweeps import SweepRun
from tests.faults.support import (
    CuttableProxy,
    bihuan_env,
    kill_group,
    notification_for,
    spawn,
    wait_for,
)

OUTAGE_SECONDS = 4


@pytest.fixture
def process_env(outage, private_redis, fake_wechat, tmp_path):
    def env(database_url: str | None = None) -> dict[str, str]:
        return bihuan_env(
            outage.settings,
            BIHUAN_DATABASE__URL=database_url or outage.settings.database_url,
            BIHUAN_REDIS__URL=private_redis.url,
            BIHUAN_WECHAT__APP_ID="wxtestapp",
            BIHUAN_WECHAT__APP_SECRET="test-app-secret",
            BIHUAN_WECHAT__API_BASE_URL=fake_wechat.url,
            BIHUAN_WECHAT__SPOOL_DIR=str(tmp_path / "spool"),
            BIHUAN_OUTBOX__SWEEP_SECONDS="1",
            BIHUAN_OUTBOX__RESEND_AFTER_SECONDS="1",
        )

    return env


def sweep_run(runtime, name: str) -> SweepRun | None:
    with runtime.sessions() as session:
        return session.get(SweepRun, name)


def messages_of(fake, openid: str, row_id: int) -> list[dict]:
    """The messages of one row (its client_msg_id): the cron's bulletins to every officer,
    this one included, may be sent in the same batch."""
    return [
        message
        for message in fake.messages(openid)
        if message["body"].get("client_msg_id") == f"bihuan-{row_id}"
    ]


def sent(runtime, row_id: int) -> bool:
    with runtime.sessions() as session:
        status = session.scalar(select(Notification.status).where(Notification.id == row_id))
    return status == "sent"


def test_cron_and_worker_outlive_a_redis_restart_mid_sweep(
    outage, private_redis, fake_wechat, process_env, tmp_path
):
    cron = spawn(["cron"], process_env(), tmp_path / "cron.log")
    worker = spawn(["worker"], process_env(), tmp_path / "worker.log")
    try:
        wait_for(lambda: sweep_run(outage, "outbox"), 30, "the cron's first outbox sweep")
        private_redis.kill()
        row_id = notification_for(outage, "template", "o_staff_during_outage")
        outage_started = datetime.now(UTC)
        time.sleep(OUTAGE_SECONDS)  # sweeps run and fail meanwhile
        assert cron.poll() is None and worker.poll() is None
        failed = sweep_run(outage, "outbox")
        assert failed.failed_at is not None and failed.failed_at >= outage_started
        private_redis.start()  # empty
        wait_for(lambda: sent(outage, row_id), 60, "the message written during the outage")
        assert len(messages_of(fake_wechat, "o_staff_during_outage", row_id)) == 1
        assert cron.poll() is None and worker.poll() is None
        assert sweep_run(outage, "outbox").finished_at > failed.failed_at
    finally:
        kill_group(cron)
        kill_group(worker)


def test_cron_and_worker_outlive_a_cut_database(
    postgres, outage, fake_wechat, process_env, tmp_path
):
    url = urlsplit(outage.settings.database_url)
    proxy = CuttableProxy(url.hostname, url.port or 5432).restore()
    through = url._replace(netloc=f"{url.username}@127.0.0.1:{proxy.port}").geturl()
    cron = spawn(["cron"], process_env(through), tmp_path / "cron.log")
    worker = spawn(["worker"], process_env(through), tmp_path / "worker.log")
    try:
        wait_for(lambda: sweep_run(outage, "outbox"), 30, "the cron's first outbox sweep")
        proxy.cut()
        row_id = notification_for(outage, "template", "o_staff_db_cut")
        time.sleep(OUTAGE_SECONDS)
        assert cron.poll() is None and worker.poll() is None
        assert not sent(outage, row_id)
        proxy.restore()
        wait_for(lambda: sent(outage, row_id), 60, "the message written during the cut")
        assert len(messages_of(fake_wechat, "o_staff_db_cut", row_id)) == 1
        assert cron.poll() is None and worker.poll() is None
    finally:
        kill_group(cron)
        kill_group(worker)
        proxy.cut()
