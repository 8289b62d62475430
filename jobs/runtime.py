"""The runtime of a worker or cron process, for jobs (which take ids, never objects).

A process binds its runtime once at start (`bind`); the embedded mode of `make run` binds the
web process's own runtime so that its in-process Redis is shared. A worker started by rq
without a binding builds one from settings on first use.
"""

from __future__ import annotations

import threading

from bot.runtime import Runtime, build_runtime
from bot.settings import load_settings


class _Holder:
    def __init__(self) -> None:
        self.runtime: Runtime | None = None
        self.lock = threading.Lock()


_holder = _Holder()


def bind(runtime: Runtime | None) -> None:
    """Use `runtime` for this process's jobs (None forgets it)."""
    _holder.runtime = runtime


def current() -> Runtime:
    with _holder.lock:
        if _holder.runtime is None:
            _holder.runtime = build_runtime(load_settings())
        return _holder.runtime
