"""The web worker's start-up hook (`gunicorn.conf.py`), run as gunicorn runs it."""

from __future__ import annotations

import gc
import runpy
from pathlib import Path
from types import SimpleNamespace

CONF = Path(__file__).resolve().parents[2] / "gunicorn.conf.py"


def test_a_worker_freezes_its_start_up_heap_and_stops_its_replayer_on_exit(app):
    """After start-up the garbage collector's full passes skip what start-up built (they
    stopped a worker for tens of milliseconds); the spool replayer stops with the worker."""
    hooks = runpy.run_path(str(CONF))
    worker = SimpleNamespace(wsgi=app)
    try:
        hooks["post_worker_init"](worker)
        assert gc.get_freeze_count() > 10000
        assert not worker.bihuan_stop.is_set()
    finally:
        hooks["worker_exit"](None, worker)
        gc.unfreeze()
    assert worker.bihuan_stop.is_set()
