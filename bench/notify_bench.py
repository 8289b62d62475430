"""Notifications sent per second by one rq worker to the local fake WeChat API over HTTP.

    BIHUAN_DATABASE__URL=postgresql+psycopg://... BIHUAN_REDIS__URL=redis://127.0.0.1:6379/9 \
        python bench/notify_bench.py --count 1000

The Redis database named is flushed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rq import SimpleWorker  # noqa: E402
from sqlalchemy import select, text  # noqa: E402, select

from bot.db import transaction  # noqa: E402
from bot.dev.fake_wechat import FakeWeChat, FakeWeChatServer  # noqa: E402
from bot.runtime import build_runtime  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from jobs import runtime as job_runtime  # noqa: E402
from jobs.queue import enqueue_notifications, make_queue  # noqa: E402
from models.demo import seed_demo  # noqa: E402
from models.migrate import upgrade  # noqa: E402
from models.notification.tables import Notification  # noqa: E402
from models.people.tables import Staff  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=1000)
    args = parser.parse_args()
    environ = dict(os.environ)
    environ.setdefault("BIHUAN_DATABASE__URL", f"sqlite:///{tempfile.mkdtemp()}/notify.sqlite3")
    fake = FakeWeChat("wxbench", "bench-secret")
    with FakeWeChatServer(fake) as server:
        settings = load_settings(environ=environ).override(
            wechat={"app_id": "wxbench", "app_secret": "bench-secret", "api_base_url": server.url}
        )
        runtime = build_runtime(settings)
        prepare(runtime)
        ids = pending_rows(runtime, args.count)
        enqueue_notifications(runtime, ids)
        job_runtime.bind(runtime)
        started = time.perf_counter()
        SimpleWorker([make_queue(runtime)], connection=runtime.redis).work(
            burst=True, logging_level="WARNING"
        )
        elapsed = time.perf_counter() - started
    delivered = len(fake.messages())
    print(
        f"database: {runtime.engine.dialect.name}; redis: "
        f"{'real' if settings.redis.url else 'embedded'}"
    )
    print(
        f"{delivered}/{args.count} delivered in {elapsed:.2f} s: "
        f"{delivered / elapsed:.0f} notifications per second by one worker"
    )


def prepare(runtime) -> None:
    with runtime.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade(runtime.engine)
    runtime.redis.flushdb()
    with transaction(runtime.sessions) as session:
        seed_demo(session, runtime.settings.workflow.general_department)
        session.scalars(select(Staff).filter_by(name="王芳")).one().openid = "o_bench_handler"


def pending_rows(runtime, count: int) -> list[int]:
    now = datetime.now(UTC)
    with transaction(runtime.sessions) as session:
        staff = session.scalars(select(Staff).filter_by(name="王芳")).one()
        rows = [
            Notification(
                kind="urge",
                staff_id=staff.id,
                created_at=now,
                next_attempt_at=now,
                payload={"number": f"TS20261128{i:04d}", "note": "请尽快处理"},
            )
            for i in range(count)
        ]
        session.add_all(rows)
        session.flush()
        return [row.id for row in rows]


if __name__ == "__main__":
    main()
