"""The embedded mode of `make run`: rq's worker and scheduler and the cron's sweeps in the web
process, on the in-process Redis. Production runs `bihuan worker` and `bihuan cron` instead;
the jobs, the sweeps and their code paths are the same."""

from __future__ import annotations

import logging
import threading
import time

from rq import SimpleWorker
from rq.job import Job
from rq.timeouts import TimerDeathPenalty

from bot.cron import Cron
from bot.runtime import Runtime
from jobs import runtime as job_runtime
from jobs.queue import make_queue

log = logging.getLogger(__name__)


class ThreadWorker(SimpleWorker):
    """A SimpleWorker that can run outside the main thread (signals belong to the server):
    job timeouts by a timer thread instead of SIGALRM."""

    death_penalty_class = TimerDeathPenalty

    def _install_signal_handlers(self) -> None:
        pass


def enqueue_scheduled(queue) -> int:
    """Move the jobs whose retry time has come back onto the queue (what rq's scheduler
    process does in production)."""
    registry = queue.scheduled_job_registry
    job_ids = registry.get_jobs_to_schedule(int(time.time()))
    jobs = Job.fetch_many(job_ids, connection=queue.connection)
    for job_id, job in zip(job_ids, jobs, strict=True):
        if job is not None:
            queue.enqueue_job(job)
        registry.remove(job_id)
    return len(job_ids)


def start_embedded(runtime: Runtime, stop: threading.Event, tick: float = 1.0) -> threading.Thread:
    job_runtime.bind(runtime)
    queue = make_queue(runtime)
    worker = ThreadWorker([queue], connection=runtime.redis)
    cron = Cron(runtime)

    def loop() -> None:
        while not stop.is_set():
            try:
                cron.run_due()
                enqueue_scheduled(queue)
                worker.work(burst=True, logging_level="WARNING")
            except Exception:  # noqa: BLE001 - keep the embedded worker alive
                log.exception("embedded worker loop failed")
            stop.wait(tick)

    thread = threading.Thread(target=loop, name="bihuan-embedded-worker", daemon=True)
    thread.start()
    log.info("embedded worker and cron started (queue %s)", queue.name)
    return thread
