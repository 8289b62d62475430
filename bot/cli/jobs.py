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


def _needs_redis(obj):
    if obj.settings.embedded_redis:
        click.echo(
            "需要配置 BIHUAN_REDIS__URL：未配置 Redis 时，worker 与 cron 已内嵌在 "
            "bihuan serve 进程中运行。",
            err=True,
        )
        sys.exit(2)
    return obj.runtime
