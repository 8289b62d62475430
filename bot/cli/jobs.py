"""`bihuan worker` and `bihuan cron`: the background processes of production."""

from __future__ import annotations

import sys

import click


@click.command()
@click.option("--burst", is_flag=True, help="work until the queue is empty, then exit")
@click.pass_obj
def worker(obj, burst: bool) -> None:
    """An rq worker with the scheduler (retries with backoff)."""
    from rq import Worker

    from jobs import runtime as job_runtime
    from jobs.queue import make_queue

    runtime = _needs_redis(obj)
    job_runtime.bind(runtime)
    queue = make_queue(runtime)
    Worker([queue], connection=runtime.redis).work(
        burst=burst, with_scheduler=not burst, logging_level=obj.settings.app.log_level
    )


@click.command()
@click.pass_obj
def cron(obj) -> None:
    """rq's cron: the periodic sweeps (outbox, reminders, breaches)."""
    from rq.cron import CronScheduler

    from jobs.schedule import register_periodic

    runtime = _needs_redis(obj)
    scheduler = CronScheduler(connection=runtime.redis, logging_level=obj.settings.app.log_level)
    register_periodic(scheduler, obj.settings).start()


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


def _needs_redis(obj):
    if obj.settings.embedded_redis:
        click.echo(
            "需要配置 BIHUAN_REDIS__URL：未配置 Redis 时，worker 与 cron 已内嵌在 "
            "bihuan serve 进程中运行。",
            err=True,
        )
        sys.exit(2)
    return obj.runtime
