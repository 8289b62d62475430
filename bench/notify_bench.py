"""Notifications sent per second by one `bihuan worker` process to the local fake WeChat API
over HTTP, on PostgreSQL + Redis.

    BIHUAN_DATABASE__URL=postgresql+psycopg://postgres@127.0.0.1:5432/<db> \
    BIHUAN_REDIS__URL=redis://127.0.0.1:6379/<n> python bench/notify_bench.py --count 5000

The worker is the production one: `python -m bot.cli worker` as a subprocess (rq's forking
Worker with its scheduler, INFO logging of every message sent), started and idle before the
rows are written. The fake WeChat runs in a process of its own under gunicorn (gthread),
which keeps connections alive as WeChat's servers do (`bench/fake_api.py`). The clock starts
when the rows, written in one transaction, are queued as a producer does
(`enqueue_notifications`), and stops when the last row is `sent`. Every message must reach
the fake exactly once.

The database's public schema is dropped and the Redis database named is flushed.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import requests

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from rq import Worker  # noqa: E402
from sqlalchemy import func, select, text  # noqa: E402

from bot.db import transaction  # noqa: E402
from bot.runtime import build_runtime  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from jobs.queue import enqueue_notifications, make_queue  # noqa: E402
from models.demo import seed_demo  # noqa: E402
from models.migrate import upgrade  # noqa: E402
from models.notification.tables import Notification  # noqa: E402
from models.people.tables import Staff  # noqa: E402

APP_ID, SECRET = "wxbench", "bench-secret"
RECIPIENTS = 20


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=5000)
    args = parser.parse_args()
    if not os.environ.get("BIHUAN_REDIS__URL") or "postgresql" not in os.environ.get(
        "BIHUAN_DATABASE__URL", ""
    ):
        sys.exit("set BIHUAN_DATABASE__URL (PostgreSQL) and BIHUAN_REDIS__URL")
    logs = Path(tempfile.mkdtemp())
    api = start_fake_api(logs / "fake_api.log")
    try:
        settings = load_settings(environ=dict(os.environ)).override(
            wechat={"app_id": APP_ID, "app_secret": SECRET, "api_base_url": api.url}
        )
        runtime = build_runtime(settings)
        openids = prepare(runtime)
        worker = start_worker(api.url, logs / "worker.log")
        try:
            wait_for_worker(runtime)
            ids = pending_rows(runtime, args.count, openids)
            started = time.perf_counter()
            enqueue_notifications(runtime, ids)
            wait_until_sent(runtime, args.count, worker)
            elapsed = time.perf_counter() - started
        finally:
            stop(worker)
        messages = requests.get(f"{api.url}/_fake/messages", timeout=30).json()
    finally:
        stop(api.process)
    report(messages, args.count, elapsed, logs)


@dataclass
class FakeApi:
    process: subprocess.Popen
    url: str


def start_fake_api(log: Path) -> FakeApi:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "gunicorn", "-w", "1", "-k", "gthread", "--threads", "4"]
    command += ["--keep-alive", "30", "-b", f"127.0.0.1:{port}"]
    command += [f"bench.fake_api:app('{APP_ID}', '{SECRET}')"]
    process = subprocess.Popen(
        command,
        cwd=log.parent,  # not the project's gunicorn.conf.py (the product's web server)
        env={**os.environ, "PYTHONPATH": str(PROJECT)},
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    api = FakeApi(process, f"http://127.0.0.1:{port}")
    until = time.monotonic() + 30
    while True:
        try:
            requests.get(f"{api.url}/_fake/stats", timeout=5)
            return api
        except requests.RequestException:
            if time.monotonic() > until or process.poll() is not None:
                sys.exit(f"the fake WeChat API did not start (see {log})")
            time.sleep(0.1)


def prepare(runtime) -> list[str]:
    """A fresh schema, the demo staff, RECIPIENTS of them bound to WeChat."""
    with runtime.engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade(runtime.engine)
    runtime.redis.flushdb()
    with transaction(runtime.sessions) as session:
        seed_demo(session, runtime.settings.workflow.general_department)
        model = session.scalars(select(Staff).filter_by(name="王芳")).one()
        openids = [f"o_bench_staff_{i:02d}" for i in range(RECIPIENTS)]
        for openid in openids:
            session.add(
                Staff(
                    name=openid[-8:],
                    role=model.role,
                    department_id=model.department_id,
                    openid=openid,
                )
            )
    return openids


def start_worker(api_url: str, log: Path) -> subprocess.Popen:
    env = dict(os.environ)
    env.update(
        PYTHONPATH=str(PROJECT),
        PYTHONUNBUFFERED="1",
        BIHUAN_WECHAT__APP_ID=APP_ID,
        BIHUAN_WECHAT__APP_SECRET=SECRET,
        BIHUAN_WECHAT__API_BASE_URL=api_url,
    )
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "worker"],
        cwd=PROJECT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_for_worker(runtime, seconds: float = 30.0) -> None:
    queue = make_queue(runtime)
    until = time.monotonic() + seconds
    while not Worker.all(queue=queue):
        if time.monotonic() > until:
            sys.exit("the worker did not start")
        time.sleep(0.1)
    time.sleep(1.0)  # its scheduler and its first poll


def pending_rows(runtime, count: int, openids: list[str]) -> list[int]:
    now = datetime.now(UTC)
    with transaction(runtime.sessions) as session:
        staff = session.scalars(select(Staff.id).where(Staff.openid.in_(openids))).all()
        rows = [
            Notification(
                kind="urge",
                staff_id=staff[i % len(staff)],
                created_at=now,
                next_attempt_at=now,
                payload={"number": f"TS20261128{i:04d}", "note": "请尽快处理"},
            )
            for i in range(count)
        ]
        session.add_all(rows)
        session.flush()
        return [row.id for row in rows]


def wait_until_sent(runtime, count: int, worker: subprocess.Popen) -> None:
    statement = select(func.count()).where(Notification.status == "sent")
    while True:
        with runtime.sessions() as session:
            if session.scalar(statement) >= count:
                return
        if worker.poll() is not None:
            sys.exit("the worker died")
        time.sleep(0.02)


def stop(worker: subprocess.Popen) -> None:
    os.killpg(worker.pid, signal.SIGTERM)
    try:
        worker.wait(15)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(5)


def report(messages: list[dict], count: int, elapsed: float, logs: Path) -> None:
    ids = {message["body"]["client_msg_id"] for message in messages}
    print("database: postgresql; redis: real; worker: `bihuan worker` (rq Worker, forking)")
    print(f"logs: {logs}")
    print(f"{len(messages)} messages for {count} rows, {len(ids)} distinct client_msg_ids")
    print(
        f"{count} sent in {elapsed:.2f} s: {count / elapsed:.0f} notifications per second "
        "by one worker"
    )
    if len(messages) != count or len(ids) != count:
        sys.exit("not every row reached WeChat exactly once")


if __name__ == "__main__":
    main()
