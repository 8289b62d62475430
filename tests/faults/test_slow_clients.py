"""Slow clients cannot take the webhook down (issue 10, point 5): gunicorn with the shipped
gunicorn.conf.py, clients that send their headers and never finish their body, and the
ordinary pushes that arrive meanwhile — each answered within WeChat's 5 s."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.faults.support import PROJECT, free_port, kill_group, push, stalled_client, wait_for

STALLED = 8
WORKERS, THREADS = 2, 8
WECHAT_SECONDS = 5.0


@pytest.fixture
def gunicorn(runtime, tmp_path):
    """The app under gunicorn -c gunicorn.conf.py, on the test database."""
    port = free_port()
    settings = runtime.settings
    env = {
        "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
        "BIHUAN_DATABASE__URL": settings.database_url,
        "BIHUAN_WECHAT__TOKEN": settings.wechat.token,
        "BIHUAN_WECHAT__SPOOL_DIR": str(tmp_path / "spool"),
        "BIHUAN_REDIS__URL": settings.redis.url,
    }
    log = open(tmp_path / "gunicorn.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py"]
        + ["-b", f"127.0.0.1:{port}", "-w", str(WORKERS), "--threads", str(THREADS)],
        cwd=PROJECT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: _up(base), 30, "gunicorn to answer /healthz")
    yield base, settings
    kill_group(process)
    log.close()


def _up(base: str) -> bool:
    try:
        return requests.get(f"{base}/healthz", timeout=1).status_code in (200, 503)
    except requests.RequestException:
        return False


def test_clients_that_never_finish_a_body_do_not_hold_up_other_pushes(gunicorn):
    base, settings = gunicorn
    stalled = [stalled_client(base, settings) for _ in range(STALLED)]
    try:
        time.sleep(0.5)  # they hold their threads now
        answers = [push(base, settings, f"o_prompt_{n}", "电话") for n in range(10)]
        for status, body, seconds in answers:
            assert status == 200 and "0558" in body and seconds < WECHAT_SECONDS
        cut_off = []
        for sock in stalled:
            started = time.monotonic()
            answer = sock.recv(4096).decode(errors="replace")
            cut_off.append((answer.split("\r\n", 1)[0], time.monotonic() - started))
        assert all("408" in line for line, _ in cut_off), cut_off
    finally:
        for sock in stalled:
            sock.close()
    status, _, seconds = push(base, settings, "o_after", "电话")
    assert status == 200 and seconds < 1.0
