"""Trials of every fault of issue 10, counting losses and duplicates. Usage:

    python bench/fault_bench.py [--trials 20] [--only kill,redis,order,spool,lock,slow]
    BIHUAN_DATABASE__URL=postgresql+psycopg://... python bench/fault_bench.py

It needs `redis-server` on the machine (a private one is started on a port 6390–6399 and
killed during the trials); without BIHUAN_DATABASE__URL it uses a temporary SQLite file. The
table locks need PostgreSQL (skipped on SQLite). Every trial uses openids of its own run, so
a database is not emptied. What each row counts:

- kill: a real `bihuan worker` SIGKILLed during a send to a fake WeChat that has delivered
  the message and holds its answer ("answer"), or before anything was sent ("token").
  lost = nothing reached the user; repeated = the same channel twice; echoed = a
  customer-service message followed by its template (the designed fallback).
- redis: complaints half filed, Redis killed and restarted empty, then confirmed.
- order: two answers of one customer sent together (the second while the first is handled).
- spool: a confirmation sent three times (WeChat's retries) while the database is gone,
  then replayed: one ticket, one late answer with its number.
- lock: 查询 while `tickets` is locked from a second connection: answered within 5 s,
  handled by the sweep after the lock, its answer sent as a message.
- slow: clients that never finish their body, against gunicorn with gunicorn.conf.py.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, select, text  # noqa: E402

from bot.app import create_app  # noqa: E402
from bot.dev.fake_wechat import FakeWeChat, FakeWeChatServer  # noqa: E402
from bot.inbox import RECEIVED_LATER, Inbox  # noqa: E402
from bot.replay import reclaim_abandoned, replay_spool  # noqa: E402
from bot.runtime import build_runtime  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from jobs import runtime as job_runtime  # noqa: E402
from models.migrate import upgrade  # noqa: E402
from models.notification.tables import Notification  # noqa: E402
from models.people.tables import Customer  # noqa: E402
from models.ticket.tables import Ticket  # noqa: E402
from tests.faults.support import (  # noqa: E402
    PrivateRedis,
    bihuan_env,
    free_port,
    kill_mid_send_trial,
    push,
    stalled_client,
    wait_for,
)
from tests.wechat_client import WeChatTestClient  # noqa: E402

APP_ID, SECRET = "wxbenchapp", "bench-app-secret"
MSG_IDS = itertools.count(time.time_ns() // 1000)
STEPS = ("5", "家里燃气表漏气", "幸福路1号", "张三")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--only", default="kill,redis,order,spool,lock,slow")
    args = parser.parse_args()
    redis = PrivateRedis().start()
    fake = FakeWeChat(APP_ID, SECRET)
    server = FakeWeChatServer(fake).start()
    workdir = Path(tempfile.mkdtemp(prefix="bihuan-faults-"))
    try:
        runtime = _runtime(redis, server.url, workdir)  # the web process's timeouts
        job_runtime.bind(build_runtime(runtime.settings, process="background"))
        run_id = int(time.time()) % 100000
        rows = []
        for name in args.only.split(","):
            started = time.monotonic()
            for row in SCENARIOS[name](runtime, redis, fake, workdir, args.trials, run_id):
                rows.append({**row, "seconds": round(time.monotonic() - started, 1)})
                print(_line(rows[-1]), flush=True)
                started = time.monotonic()
    finally:
        server.stop()
        redis.kill()
    print(f"\ndatabase: {runtime.engine.dialect.name}; work files in {workdir}")


def _runtime(redis: PrivateRedis, fake_url: str, workdir: Path):
    environ = dict(os.environ, BIHUAN_WECHAT__TOKEN="bench-token")
    environ.setdefault("BIHUAN_DATABASE__URL", f"sqlite:///{workdir}/bench.sqlite3")
    settings = load_settings(environ=environ).override(
        redis={"url": redis.url},
        wechat={
            "app_id": APP_ID,
            "app_secret": SECRET,
            "api_base_url": fake_url,
            "spool_dir": str(workdir / "spool"),
        },
    )
    runtime = build_runtime(settings)
    upgrade(runtime.engine)
    return runtime


def _line(row: dict) -> str:
    return "  ".join(f"{key}={value}" for key, value in row.items())


# --- kill a worker mid-send ---------------------------------------------------------------------


def kill(runtime, redis, fake, workdir, trials, run_id):
    env = bihuan_env(
        runtime.settings,
        BIHUAN_REDIS__URL=redis.url,
        BIHUAN_WECHAT__APP_ID=APP_ID,
        BIHUAN_WECHAT__APP_SECRET=SECRET,
        BIHUAN_WECHAT__API_BASE_URL=runtime.settings.wechat.api_base_url,
    )
    for kind in ("custom", "template"):
        for moment in ("answer", "token"):
            count = trials if moment == "answer" else max(2, trials // 4)
            results = [
                kill_mid_send_trial(
                    runtime,
                    fake,
                    env,
                    workdir / "worker.log",
                    kind,
                    f"o_k{run_id}_{kind[0]}{moment[0]}{n}",
                    kill_during=moment,
                )
                for n in range(count)
            ]
            yield {
                "scenario": f"kill-mid-send {kind}/{moment}",
                "trials": len(results),
                "lost": sum(r.lost for r in results),
                "repeated": sum(r.repeated for r in results),
                "echoed": sum(r.delivered["custom"] and r.delivered["template"] for r in results),
                "not_sent_status": sum(r.status != "sent" for r in results),
            }


# --- Redis restarted mid-conversation -----------------------------------------------------------


def redis_restart(runtime, redis, fake, workdir, trials, run_id):
    poster = WeChatTestClient(create_app(runtime=runtime).test_client(), runtime.settings)
    openids = [f"o_r{run_id}_{n}" for n in range(trials)]
    for openid in openids:
        poster.click(openid, "COMPLAINT_NEW")
        for answer in STEPS:
            poster.text(openid, answer)
    redis.kill()
    redis.start()
    for n, openid in enumerate(openids):
        poster.text(openid, f"1380000{n:04d}")
        poster.text(openid, "1")
    counts = _tickets_per_openid(runtime, openids)
    yield {
        "scenario": "redis restart mid-conversation",
        "trials": trials,
        "lost": sum(counts.get(o, 0) == 0 for o in openids),
        "repeated": sum(counts.get(o, 0) > 1 for o in openids),
    }


def _tickets_per_openid(runtime, openids) -> dict[str, int]:
    with runtime.sessions() as session:
        found = session.execute(
            select(Customer.openid, Ticket.id)
            .join(Ticket, Ticket.customer_id == Customer.id)
            .where(Customer.openid.in_(openids))
        ).all()
    counts: dict[str, int] = {}
    for openid, _ in found:
        counts[openid] = counts.get(openid, 0) + 1
    return counts


# --- two answers sent together ------------------------------------------------------------------


def order(runtime, redis, fake, workdir, trials, run_id):
    app = create_app(runtime=runtime)
    poster = WeChatTestClient(app.test_client(), runtime.settings)
    swapped = lost = 0
    for n in range(trials):
        openid = f"o_o{run_id}_{n}"
        poster.click(openid, "COMPLAINT_NEW")
        poster.text(openid, "5")
        _together(app, runtime, openid, f"燃气表漏气{n}", f"幸福路{n}号")
        _together(app, runtime, openid, f"张先生{n}", f"1390000{n:04d}")
        poster.text(openid, "1")
        with runtime.sessions() as session:
            ticket = session.scalar(
                select(Ticket)
                .join(Customer, Customer.id == Ticket.customer_id)
                .where(Customer.openid == openid)
            )
        if ticket is None:
            lost += 1
            _explain_lost(runtime, openid)
        elif (ticket.content, ticket.phone) != (f"燃气表漏气{n}", f"1390000{n:04d}"):
            swapped += 1
    yield {
        "scenario": "two answers sent together",
        "trials": trials,
        "lost": lost,
        "swapped": swapped,
    }


def _explain_lost(runtime, openid: str) -> None:
    from models.inbound import InboundMessage

    with runtime.sessions() as session:
        rows = session.execute(
            select(
                InboundMessage.id, InboundMessage.status, InboundMessage.late, InboundMessage.reply
            )
            .where(InboundMessage.openid == openid)
            .order_by(InboundMessage.id)
        ).all()
    for row in rows:
        print("  lost?", openid, row.id, row.status, row.late, row.reply[:40].replace("\n", " "))


def _together(app, runtime, openid: str, first: str, second: str) -> None:
    """The second is sent as soon as the first has arrived (been recorded), while the first
    is still being handled."""
    from models.inbound import InboundMessage

    def send(message: str) -> None:  # a MsgId of its own: a repeated one is WeChat's retry
        poster = WeChatTestClient(app.test_client(), runtime.settings)
        poster.text(openid, message, msg_id=next(MSG_IDS))

    def arrived() -> bool:
        with runtime.sessions() as session:
            return bool(
                session.scalars(
                    select(InboundMessage.id).where(
                        InboundMessage.openid == openid, InboundMessage.raw_xml.contains(first)
                    )
                ).first()
            )

    thread = threading.Thread(target=send, args=(first,))
    thread.start()
    wait_for(arrived, 5, "the first answer to arrive")
    send(second)
    thread.join(10)


# --- the database gone: the spool ---------------------------------------------------------------


def spool(runtime, redis, fake, workdir, trials, run_id):
    poster = WeChatTestClient(create_app(runtime=runtime).test_client(), runtime.settings)
    openids = [f"o_s{run_id}_{n}" for n in range(trials)]
    for n, openid in enumerate(openids):
        poster.click(openid, "COMPLAINT_NEW")
        for answer in (*STEPS, f"1370000{n:04d}"):
            poster.text(openid, answer)
    gone = runtime.settings.override(
        database={"url": f"postgresql+psycopg://bench@127.0.0.1:{free_port()}/none"}
    )
    down = build_runtime(gone, redis=runtime.redis)
    slowest = 0.0
    try:
        client = WeChatTestClient(create_app(runtime=down).test_client(), gone)
        for n, openid in enumerate(openids):
            for _retry in range(3):  # WeChat sends it again and again
                started = time.monotonic()
                answer = client.text(openid, "1", msg_id=900_000_000 + run_id * 1000 + n)
                slowest = max(slowest, time.monotonic() - started)
                assert answer == RECEIVED_LATER
    finally:
        down.close()
    replay_spool(runtime)
    counts = _tickets_per_openid(runtime, openids)
    told = _late_answers_with_number(runtime, openids)
    yield {
        "scenario": "database gone (spool), confirmation sent 3x",
        "trials": trials,
        "lost": sum(counts.get(o, 0) == 0 for o in openids),
        "repeated": sum(counts.get(o, 0) > 1 for o in openids),
        "told_number": told,
        "slowest_answer_s": round(slowest, 2),
    }


def _late_answers_with_number(runtime, openids) -> int:
    with runtime.sessions() as session:
        rows = session.execute(
            select(Customer.openid, Notification.payload, Ticket.number)
            .join(Notification, Notification.customer_id == Customer.id)
            .join(Ticket, Ticket.customer_id == Customer.id)
            .where(Customer.openid.in_(openids), Notification.kind == "late_reply")
        ).all()
    return sum(number in payload.get("note", "") for _, payload, number in rows)


# --- a locked table -----------------------------------------------------------------------------


def lock(runtime, redis, fake, workdir, trials, run_id):
    if runtime.engine.dialect.name != "postgresql":
        return
    poster = WeChatTestClient(create_app(runtime=runtime).test_client(), runtime.settings)
    openids = [f"o_l{run_id}_{n}" for n in range(trials)]
    engine = create_engine(runtime.settings.database_url)
    timings, deferred = [], 0
    with engine.connect() as connection:
        connection.execute(text("LOCK TABLE tickets IN ACCESS EXCLUSIVE MODE"))
        for openid in openids:
            started = time.monotonic()
            deferred += poster.text(openid, "查询") == RECEIVED_LATER
            timings.append(time.monotonic() - started)
        connection.rollback()
    engine.dispose()
    later = datetime.now(UTC) + timedelta(seconds=runtime.settings.wechat.reclaim_after_seconds)
    reclaim_abandoned(runtime, later, Inbox(runtime, clock=lambda: later))
    with runtime.sessions() as session:
        answered = session.scalars(
            select(Customer.openid)
            .join(Notification, Notification.customer_id == Customer.id)
            .where(Customer.openid.in_(openids), Notification.kind == "late_reply")
        ).all()
    yield {
        "scenario": "tickets locked, 查询",
        "trials": trials,
        "answered_within_5s": sum(t < 5 for t in timings),
        "slowest_answer_s": round(max(timings), 2),
        "deferred": deferred,
        "lost": trials - len(set(answered)),
        "repeated": len(answered) - len(set(answered)),
    }


# --- slow bodies --------------------------------------------------------------------------------


def slow(runtime, redis, fake, workdir, trials, run_id):
    import subprocess

    import requests

    from tests.faults.support import PROJECT, kill_group

    port = free_port()
    env = {
        "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
        "BIHUAN_DATABASE__URL": runtime.settings.database_url,
        "BIHUAN_WECHAT__TOKEN": runtime.settings.wechat.token,
        "BIHUAN_REDIS__URL": redis.url,
        "BIHUAN_WECHAT__SPOOL_DIR": str(workdir / "spool-gunicorn"),
    }
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py"]
        + ["-b", f"127.0.0.1:{port}", "-w", "2"],
        cwd=PROJECT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _answers(requests, base), 30, "gunicorn")
        yield _slow_round(base, runtime.settings, trials)
    finally:
        kill_group(process)


def _answers(requests, base: str) -> bool:
    try:
        return requests.get(f"{base}/healthz", timeout=1).status_code in (200, 503)
    except requests.RequestException:
        return False


def _slow_round(base: str, settings, trials: int) -> dict:
    stalled = [stalled_client(base, settings) for _ in range(trials)]
    time.sleep(0.5)
    timings = [push(base, settings, f"o_slow_{n}", "电话")[2] for n in range(trials)]
    for sock in stalled:
        sock.close()
    return {
        "scenario": f"{trials} stalled bodies vs 2 gthread workers x 8",
        "trials": trials,
        "slowest_push_s": round(max(timings), 2),
        "over_5s": sum(t >= 5 for t in timings),
    }


SCENARIOS = {
    "kill": kill,
    "redis": redis_restart,
    "order": order,
    "spool": spool,
    "lock": lock,
    "slow": slow,
}

if __name__ == "__main__":
    main()
