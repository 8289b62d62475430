"""Shared steps of the fault tests (and of bench/fault_bench.py): a private redis-server
that can be killed and restarted empty, a TCP proxy in front of PostgreSQL that can be cut,
the `bihuan` processes as real subprocesses, waiting with a deadline, and one
kill-mid-send trial."""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
from redis import Redis
from sqlalchemy import select as sql_select

from bot import wechat
from bot.db import transaction
from models.core.payload import Payload
from models.notification.tables import Notification
from models.people.tables import Customer, Staff

PROJECT = Path(__file__).resolve().parents[2]


def private_redis_ports() -> range:
    """Five ports per pytest-xdist worker (gw0: 6390–6394, gw1: 6395–6399, …)."""
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))
    return range(6390 + 5 * worker, 6395 + 5 * worker)


CUSTOM = "/cgi-bin/message/custom/send"
TEMPLATE = "/cgi-bin/message/template/send"
TOKEN = "/cgi-bin/token"
# A recovering send may meet the killed worker's token lock (it expires after 10 s): then it
# is retried, as rq and the outbox sweep would.
RECOVERY_ROUNDS = 4


def free_port(candidates: range | None = None) -> int:
    for port in candidates or [0]:
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return probe.getsockname()[1]
    raise RuntimeError(f"no free port in {candidates}")


def wait_for(condition: Callable[[], object], seconds: float, what: str) -> object:
    """Poll until `condition()` is truthy; AssertionError naming `what` after `seconds`."""
    until = time.monotonic() + seconds
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > until:
            raise AssertionError(f"gave up waiting {seconds} s for {what}")
        time.sleep(0.05)


@contextmanager
def within(seconds: float) -> Iterator[None]:
    """The block must finish in `seconds` (SIGALRM raises TimeoutError in the main thread)."""

    def expire(_signum, _frame):
        raise TimeoutError(f"fault test still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# --- a private Redis --------------------------------------------------------------------------


class PrivateRedis:
    """redis-server on a port of `private_redis_ports`, without persistence: a restart is
    empty."""

    def __init__(self) -> None:
        self.port = free_port(private_redis_ports())
        self._process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> Redis:
        return Redis.from_url(self.url, socket_timeout=2, socket_connect_timeout=2)

    def start(self) -> PrivateRedis:
        self._process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
            + ["--save", "", "--appendonly", "no", "--daemonize", "no", "--logfile", ""],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self._answers, 10, f"redis-server on port {self.port}")
        return self

    def kill(self) -> None:
        """SIGKILL: gone at once, and everything it held with it."""
        if self._process is not None:
            self._process.kill()
            self._process.wait(10)
            self._process = None

    def _answers(self) -> bool:
        try:
            return bool(self.client().ping())
        except Exception:  # noqa: BLE001 - not up yet
            return False


# --- a TCP proxy that can cut the database off ------------------------------------------------


class CuttableProxy:
    """Forwards 127.0.0.1:<port> to a server; `cut()` closes every connection and refuses new
    ones (connection refused), `restore()` listens again on the same port."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def restore(self) -> CuttableProxy:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def cut(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
            sockets, self._sockets = self._sockets, []
        if listener is not None:
            try:
                listener.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
            except OSError:
                pass
            listener.close()
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets += [client, server]
            threading.Thread(target=self._pump, args=(client, server), daemon=True).start()

    @staticmethod
    def _pump(a: socket.socket, b: socket.socket) -> None:
        try:
            while True:
                ready, _, _ = select.select([a, b], [], [], 1.0)
                for source in ready:
                    data = source.recv(65536)
                    if not data:
                        return
                    (b if source is a else a).sendall(data)
        except (OSError, ValueError):
            return
        finally:
            for sock in (a, b):
                try:
                    sock.close()
                except OSError:
                    pass


# --- the bihuan processes ---------------------------------------------------------------------


def bihuan_env(settings, **overrides: str) -> dict[str, str]:
    """The environment of a `bihuan` subprocess on the test's database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BIHUAN_")}
    env.update(
        BIHUAN_DATABASE__URL=settings.database_url,
        BIHUAN_WECHAT__TOKEN=settings.wechat.token,
        PYTHONUNBUFFERED="1",
    )
    env.update(overrides)
    return env


def spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    """A `bihuan …` process in a session of its own (so that its children die with it)."""
    handle = open(log, "ab")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "bihuan"), *args],
        cwd=PROJECT,
        env=env,
        stdout=handle,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def kill_group(process: subprocess.Popen, signum: int = signal.SIGKILL) -> None:
    """`process` and everything it started, even in process groups of their own (rq's work
    horse calls setpgrp): as systemd or the OOM killer would."""
    for pid in [*_descendants(process.pid), process.pid]:
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass
    process.wait(15)


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry))
    found, waiting = [], [root]
    while waiting:
        for child in children.get(waiting.pop(), []):
            found.append(child)
            waiting.append(child)
    return found


# --- HTTP clients, fast and slow ------------------------------------------------------------


def stalled_client(base: str, settings) -> socket.socket:
    """Headers and the first bytes of a 500-byte body, then nothing."""
    host, port = base.removeprefix("http://").split(":")
    timestamp, nonce = str(int(time.time())), wechat.random_nonce()
    signature = wechat.sign(settings.wechat.token, timestamp, nonce)
    head = (
        f"POST /wechat?timestamp={timestamp}&nonce={nonce}&signature={signature} HTTP/1.1\r\n"
        f"Host: {host}\r\nContent-Type: text/xml\r\nContent-Length: 500\r\n\r\n<xml><ToUser"
    )
    sock = socket.create_connection((host, int(port)), timeout=30)
    sock.sendall(head.encode())
    return sock


def push(base: str, settings, openid: str, text: str) -> tuple[int, str, float]:
    timestamp, nonce = str(int(time.time())), wechat.random_nonce()
    fields = {
        "ToUserName": "gh",
        "FromUserName": openid,
        "CreateTime": int(timestamp),
        "MsgType": "text",
        "Content": text,
        "MsgId": time.time_ns(),
    }
    params = {
        "timestamp": timestamp,
        "nonce": nonce,
        "signature": wechat.sign(settings.wechat.token, timestamp, nonce),
    }
    started = time.monotonic()
    response = requests.post(
        f"{base}/wechat", params=params, data=wechat.build_push_xml(fields).encode(), timeout=10
    )
    return response.status_code, response.text, time.monotonic() - started


# --- one kill-mid-send trial ------------------------------------------------------------------


@dataclass(frozen=True)
class TrialResult:
    kind: str  # custom | template
    delivered: dict[str, int]  # how many custom / template messages reached the openid
    status: str  # the row's status at the end

    @property
    def lost(self) -> bool:
        return sum(self.delivered.values()) == 0

    @property
    def repeated(self) -> bool:
        """The same message twice through the same channel (what must never happen)."""
        return any(count > 1 for count in self.delivered.values())


def notification_for(runtime, kind: str, openid: str) -> int:
    """A pending row: a customer-service message (a customer inside the window) or a
    template message (a bound staff member)."""
    now = datetime.now(UTC)
    with transaction(runtime.sessions) as session:
        if kind == "custom":
            customer = Customer(openid=openid, created_at=now, last_inbound_at=now)
            session.add(customer)
            session.flush()
            row = Notification(
                kind="late_reply",
                customer_id=customer.id,
                payload=Payload(note=f"您好 {openid}").to_json(),
                created_at=now,
            )
        else:
            staff = Staff(name=openid[-12:], role="officer", openid=openid)
            session.add(staff)
            session.flush()
            row = Notification(
                kind="bulletin",
                staff_id=staff.id,
                payload=Payload(note=f"通报 {openid}").to_json(),
                created_at=now,
            )
        row.next_attempt_at = now
        session.add(row)
        session.flush()
        return row.id


def kill_mid_send_trial(
    runtime, fake, env, log: Path, kind: str, openid: str, kill_during: str = "answer"
) -> TrialResult:
    """Queue one message, let a real `bihuan worker` send it to a fake WeChat, SIGKILL the
    worker, then recover as production does (the outbox sweep after the job timeout, a new
    worker). `kill_during`: "answer" — WeChat has delivered the message and holds its answer;
    "token" — the worker is still fetching the access token, nothing has been sent."""
    from jobs.queue import enqueue_notifications
    from jobs.sweeps import requeue_pending
    from tests.factories import run_worker

    path = CUSTOM if kind == "custom" else TEMPLATE
    if kill_during == "token":
        runtime.redis.delete(f"bihuan:wechat:access_token:{runtime.settings.wechat.app_id}")
        fake.slow_next(TOKEN, 8.0)
        before = fake.stats()["calls"].get(TOKEN, 0)
        reached = lambda: fake.stats()["calls"].get(TOKEN, 0) > before  # noqa: E731
    else:
        fake.answer_late_next(path, 8.0)
        reached = lambda: fake.messages(openid)  # noqa: E731
    worker = spawn(["worker"], env, log)
    try:
        row_id = notification_for(runtime, kind, openid)
        enqueue_notifications(runtime, [row_id], sweeping=True)
        wait_for(reached, 30, f"the worker to reach the fake WeChat ({kill_during})")
    finally:
        kill_group(worker)
    outbox = runtime.settings.outbox
    for round_ in range(RECOVERY_ROUNDS):  # the sweep after the job timeout, then its retries
        later = datetime.now(UTC) + timedelta(
            seconds=outbox.job_timeout_seconds + 31 + round_ * (outbox.resend_after_seconds + 1)
        )
        requeue_pending(runtime, later)
        run_worker(runtime)
        if _status(runtime, row_id) not in ("pending", "sending"):
            break
    delivered = {"custom": 0, "template": 0}
    for message in fake.messages(openid):
        delivered[message["kind"]] += 1
    return TrialResult(kind, delivered, _status(runtime, row_id))


def _status(runtime, row_id: int) -> str:
    with runtime.sessions() as session:
        return session.scalar(sql_select(Notification.status).where(Notification.id == row_id))
