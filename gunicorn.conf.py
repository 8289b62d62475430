"""Gunicorn settings for the web process (the webhook, /rate, /healthz):

    gunicorn -c gunicorn.conf.py            # binds 127.0.0.1:8000, behind nginx

Why these values (issue 10):

- worker_class "gthread", threads 8. A push is answered in milliseconds, but one may wait on
  the database for up to `wechat.reply_budget_seconds` (3 s) when it is slow or locked, and a
  client may be slow to send its body. With the sync class each such request holds a whole
  process: four slow clients held all four workers. With threads, a waiting request holds one
  thread of eight, and the others keep answering. (No gevent: psycopg and redis-py block.)
- workers 2 × CPU cores (`WEB_CONCURRENCY` overrides): the work per push is mostly waiting on
  PostgreSQL; the processes spread XML parsing, AES and templates over the cores. Each
  process keeps a database pool of `database.pool_size` (10) ≥ threads, waiting at most
  `database.pool_timeout_seconds` for a connection; up to half of it stays checked out
  between pushes (`bot.db.KeptConnections`).
- Bodies: the webhook cuts a client that stops sending for `wechat.body_timeout_seconds`
  (408) and refuses more than `wechat.max_body_bytes` (413); in production nginx buffers
  whole bodies first (README, "Production"), so slow clients never reach a thread at all.
- timeout 30: the master restarts a worker whose main loop has not checked in for 30 s. No
  request lasts that long: the reply budget plus one statement timeout stays under 5 s.
  graceful_timeout 10: a restart lets requests in flight finish. keepalive 5: nginx reuses
  connections to us.
- Tight request limits: WeChat's query string and headers are short.
- No preload: each worker builds its own engine and Redis connection after the fork.
- post_worker_init: every log handler masks phone numbers (`bot.logs`), the worker starts
  its replayer of the local spool (`bot.replay.start_spool_replayer`), and what start-up
  built (modules, the app, engine and pools: some 170,000 objects) is frozen out of the
  garbage collector's full passes, which otherwise stopped a worker for 60-90 ms every few
  thousand pushes (`gc.freeze`).
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import threading

wsgi_app = "bot.app:create_app()"
bind = "127.0.0.1:8000"
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * multiprocessing.cpu_count()))
threads = 8
timeout = 30
graceful_timeout = 10
keepalive = 5
preload_app = False
max_requests = 5000
max_requests_jitter = 500
limit_request_line = 4094
limit_request_fields = 50
limit_request_field_size = 8190
accesslog = "-"
errorlog = "-"


def post_worker_init(worker) -> None:
    from bot.logs import setup_logging
    from bot.replay import start_spool_replayer

    runtime = worker.wsgi.extensions["bihuan"]
    setup_logging(runtime.settings.app.log_level)
    worker.bihuan_stop = threading.Event()
    start_spool_replayer(runtime, worker.bihuan_stop)
    gc.collect()  # what start-up left behind, then the rest is never scanned again
    gc.freeze()


def worker_exit(_server, worker) -> None:
    stop = getattr(worker, "bihuan_stop", None)
    if stop is not None:
        stop.set()
