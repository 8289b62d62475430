"""`bihuan worker` and `bihuan cron`: the background processes of production.

Neither dies of a transient outage. The worker runs rq's worker again after Redis or the
database failed under it, waiting 1 s, doubling up to 30 s; the cron loop (`bot.cron`) never
lets a sweep's failure out. SIGTERM and SIGINT stop them (warm shutdown for the worker).
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time

import click

log = logging.getLogger(__name__)
MAX_BACKOFF_SECONDS = 30.0


@click.command()
@click.option("--burst", is_flag=True, help="work until the queue is empty, then exit")
@click.pass_obj
def worker(obj, burst: bool) -> None:
    """An rq worker with the scheduler (retries with backoff)."""
    from bot.logs import setup_logging
    from jobs import runtime as job_runtime

    runtime = _needs_redis(obj, "background")
    setup_logging(obj.settings.app.log_level)
    job_runtime.bind(runtime)
    if burst:
        _work_once(runtime, burst=True)
        return
    keep_working(lambda: _work_once(runtime, burst=False))


def _work_once(runtime, burst: bool) -> bool:
    """One rq worker until it stops; True when it stopped because it was asked to."""
    from rq import Worker

    from jobs.queue import make_queue

    rq_worker = Worker([make_queue(runtime)], connection=runtime.redis)
    rq_worker.work(
        burst=burst,
        with_scheduler=not burst,
        logging_level=runtime.settings.app.log_level,
    )
    return burst or rq_worker._stop_requested


def keep_working(work, sleep=time.sleep) -> None:
    """Call `work` again whenever it returns False or raises, with a growing pause."""
    failures = 0
    while True:
        started = time.monotonic()
        try:
            if work():
                return
            reason = "stopped"
        except Exception as error:  # noqa: BLE001 - Redis or the database went away
            reason = f"{type(error).__name__}: {error}"
        if time.monotonic() - started > 2 * MAX_BACKOFF_SECONDS:
            failures = 0  # it had been working: start the backoff afresh
        failures += 1
        pause = min(MAX_BACKOFF_SECONDS, 2.0 ** (failures - 1))
        log.warning("worker %s; starting again in %.0f s", reason, pause)
        sleep(pause)


@click.command()
@click.pass_obj
def cron(obj) -> None:
    """The periodic sweeps (outbox, reminders and breaches, pushes, retention)."""
    from bot.cron import Cron
    from bot.logs import setup_logging

    runtime = _needs_redis(obj, "background")
    setup_logging(obj.settings.app.log_level)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    Cron(runtime).forever(stop)


@click.command()
@click.option("--at", default="", help="as if it were then: 2026-11-30T12:05 (local) or +2h")
@click.option(
    "--url",
    default="http://127.0.0.1:5000",
    show_default=True,
    help="the running `bihuan serve` (embedded mode only)",
)
@click.pass_obj
def sweep(obj, at: str, url: str) -> None:
    """Run the periodic sweeps once: reminders, breaches, call-back timeouts, the leaders'
    digest, resends. With --at, time-based behaviour can be seen without waiting."""
    if obj.settings.embedded_redis:
        _sweep_embedded(url, at)
        return
    from bot.dev.clock import BadMoment, parse_moment
    from jobs.sweeps import run_all

    runtime = obj.runtime
    try:
        now = parse_moment(at, runtime.now(), obj.settings.app.timezone) if at else runtime.now()
    except BadMoment as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
    _report(now.isoformat(timespec="minutes"), run_all(runtime, now))


def _sweep_embedded(url: str, at: str) -> None:
    """Without Redis the queue lives inside `bihuan serve`: ask it to sweep."""
    import requests

    try:
        response = requests.post(f"{url.rstrip('/')}/_dev/sweep", json={"at": at}, timeout=30)
    except requests.RequestException:
        click.echo(
            f"无法连接 {url}：未配置 Redis 时，请先运行 make run（bihuan serve），"
            "本命令请它在进程内执行清扫。",
            err=True,
        )
        sys.exit(2)
    if response.status_code != 200:
        try:
            reason = response.json().get("error", "")
        except ValueError:
            reason = response.text[:200]
        click.echo(f"清扫失败（HTTP {response.status_code}）：{reason}", err=True)
        sys.exit(2)
    body = response.json()
    _report(body.pop("at"), body)


def _report(at: str, counts: dict) -> None:
    click.echo(
        f"{at} 清扫完成：提醒和超期 {counts['alerts']} 条，日报 {counts['digests']} 条，"
        f"重新排队通知 {counts['requeued']} 条、附件下载 {counts['downloads']} 个"
    )


def _needs_redis(obj, process: str):
    if obj.settings.embedded_redis:
        click.echo(
            "需要配置 BIHUAN_REDIS__URL：未配置 Redis 时，worker 与 cron 已内嵌在 "
            "bihuan serve 进程中运行。",
            err=True,
        )
        sys.exit(2)
    return obj.runtime_for(process)
