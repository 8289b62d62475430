"""The webhook side by side with its peers, over HTTP, in one run (issue 14).

Each server runs under gunicorn with one sync worker, all of a set-up at once, their rounds
taken in turn (a noisy moment of the machine falls on all alike). wrk sends signed plaintext
text pushes from many openids, every push with its own nonce, signature and MsgId (so
Bihuan's replay and de-duplication checks do real work, never a cached answer). Servers:

- Bihuan (`bot.app:create_app()` with its own worker hooks from `gunicorn.conf.py`), on SQLite
  with the in-process queue, and on PostgreSQL + Redis;
- a WeRoBot bot with its SQLite session store, one session write a message (`bench/peers`);
- a bare Flask + wechatpy echo (`bench/peers`), the floor.

Usage (needs `pip install -e '.[bench]'` and Debian's wrk):

    python bench/webhook_bench.py                       # free text ("你好"), both set-ups
    python bench/webhook_bench.py --mode steps          # complaint conversation steps
    python bench/webhook_bench.py --setups sqlite --rounds 1 --seconds 3

PostgreSQL comes from BENCH_DATABASE_URL (default: the local `bihuan_bench` database, created
if missing) and Redis from BENCH_REDIS_URL (default: redis://127.0.0.1:6379/9, flushed).
The ratios are printed last.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
TOKEN = "bench-token"
STEPS = ("投诉", "5", "燃气表附近有气味", "幸福路1号", "张三", "13912345678", "2")
SOCKET_ERRORS = r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)"
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/bihuan_bench"
REDIS_DEFAULT = "redis://127.0.0.1:6379/9"


@dataclass
class Server:
    name: str
    app: str
    chdir: Path
    env: dict[str, str] = field(default_factory=dict)
    own_hooks: bool = False  # the project's worker start-up and exit hooks (Bihuan's)


@dataclass
class Result:
    rps: list[float] = field(default_factory=list)
    p99_ms: list[float] = field(default_factory=list)
    errors: int = 0

    @property
    def median_rps(self) -> float:
        return statistics.median(self.rps) if self.rps else 0.0


def main() -> None:
    args = parse_args()
    if not _which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")
    table: dict[tuple[str, str], Result] = {}
    for setup in args.setups.split(","):
        for server, result in bench_setup(servers(setup, args), args).items():
            table[(setup, server)] = result
    report(table, args)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--setups", default="sqlite,postgres")
    parser.add_argument("--mode", choices=("text", "steps"), default="text")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=6)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--openids", type=int, default=200)
    return parser.parse_args()


def servers(setup: str, args: argparse.Namespace) -> list[Server]:
    work = Path(tempfile.mkdtemp(prefix=f"bench-{setup}-"))
    bihuan = {"BIHUAN_WECHAT__TOKEN": TOKEN, "BIHUAN_APP__LOG_LEVEL": "WARNING"}
    if setup == "sqlite":
        bihuan["BIHUAN_DATABASE__URL"] = f"sqlite:///{work / 'bihuan.sqlite3'}"
    else:
        bihuan["BIHUAN_DATABASE__URL"] = fresh_postgres()
        bihuan["BIHUAN_REDIS__URL"] = os.environ.get("BENCH_REDIS_URL", REDIS_DEFAULT)
        _flush_redis(bihuan["BIHUAN_REDIS__URL"])
    migrate(bihuan)
    peer = {"BENCH_TOKEN": TOKEN, "BENCH_SESSION_FILE": str(work / "werobot.sqlite3")}
    found = [
        Server("Bihuan", "bot.app:create_app()", ROOT, bihuan, own_hooks=True),
        Server("WeRoBot + SQLite sessions", "werobot_bot:app", BENCH / "peers", peer),
    ]
    if setup == "sqlite":
        found.append(Server("Flask + wechatpy echo", "echo_app:app", BENCH / "peers", peer))
    return found


def fresh_postgres() -> str:
    url = os.environ.get("BENCH_DATABASE_URL", PG_DEFAULT)
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{target.database}"'))
        connection.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()
    return url


def _flush_redis(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


def migrate(env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "-m", "bot.cli", "db", "upgrade"],
        cwd=ROOT,
        env={**os.environ, **env},
        check=True,
        capture_output=True,
    )


def bench_setup(found: list[Server], args: argparse.Namespace) -> dict[str, Result]:
    """Every server of a set-up up at once, their rounds taken in turn (round 1 of each, then
    round 2 of each…), so that a noisy moment of the machine falls on all of them alike."""
    started = [(server, *_start(server)) for server in found]
    results = {server.name: Result() for server in found}
    try:
        for _, port, _ in started:
            run_wrk(port, args, seconds=1, round_no=0)  # warm-up: first contact of every openid
        for round_no in range(1, args.rounds + 1):
            for server, port, _ in started:
                rps, p99, errors = run_wrk(port, args, args.seconds, round_no)
                result = results[server.name]
                result.rps.append(rps)
                result.p99_ms.append(p99)
                result.errors += errors
    finally:
        for _, _, process in started:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
    for name, result in results.items():
        rounds = ", ".join(
            f"{rps:,.0f}/{p99:.1f}" for rps, p99 in zip(result.rps, result.p99_ms, strict=True)
        )
        print(
            f"  {name}: {result.median_rps:,.0f} req/s, "
            f"p99 {max(result.p99_ms):.1f} ms, errors {result.errors} "
            f"(each round, req/s / p99 ms: {rounds})",
            flush=True,
        )
    return results


def _start(server: Server) -> tuple[int, subprocess.Popen]:
    port = _free_port()
    return port, start_gunicorn(server, port)


_OWN_HOOKS = """import runpy
_project = runpy.run_path("{conf}")
post_worker_init, worker_exit = _project["post_worker_init"], _project["worker_exit"]
"""


def start_gunicorn(server: Server, port: int) -> subprocess.Popen:
    # The same plain settings for every server: one sync worker, none of the project's
    # gunicorn.conf.py but, for Bihuan, its worker hooks (as deployed: log masking, the spool
    # replayer, the start-up heap frozen out of the garbage collector's full passes).
    config = Path(tempfile.mkdtemp()) / "bench_gunicorn.conf.py"
    config.write_text(_OWN_HOOKS.format(conf=ROOT / "gunicorn.conf.py") if server.own_hooks else "")
    command = [
        sys.executable, "-m", "gunicorn", "--config", str(config), "-w", "1", "-k", "sync",
        "-b", f"127.0.0.1:{port}", "--log-level", "warning", server.app,
    ]  # fmt: skip
    env = {**os.environ, **server.env, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(command, cwd=server.chdir, env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"{server.name} did not start on port {port}")


def run_wrk(
    port: int, args: argparse.Namespace, seconds: int, round_no: int, count_requests: bool = False
):
    requests_file = write_requests(args, round_no)
    env = {**os.environ, "BENCH_REQUESTS": requests_file, "BENCH_THREADS": str(args.threads)}
    done = subprocess.run(
        [
            "wrk",
            f"-t{args.threads}",
            f"-c{args.connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(BENCH / "wrk_push.lua"),
            f"http://127.0.0.1:{port}",
        ],  # fmt: skip
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    os.unlink(requests_file)
    if count_requests:
        return int(re.search(r"(\d+) requests in", done.stdout).group(1))
    return parse_wrk(done.stdout)


def write_requests(args: argparse.Namespace, round_no: int, count: int = 0) -> str:
    """Enough signed pushes for the round, each with a fresh nonce and a unique MsgId."""
    count = count or max(20000, args.seconds * 12000)
    stamp = str(int(time.time()))
    base = f"{round_no + 1}{int(time.time()) % 10**9:09d}"
    handle, path = tempfile.mkstemp(suffix=".tsv")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        for i in range(count):
            nonce = secrets.token_hex(8)
            parts = sorted([TOKEN, stamp, nonce])
            signature = hashlib.sha1("".join(parts).encode()).hexdigest()
            customer = i % args.openids
            openid = f"o_bench_{customer}"
            query = f"signature={signature}&timestamp={stamp}&nonce={nonce}&openid={openid}"
            content = "你好" if args.mode == "text" else STEPS[(i // args.openids) % len(STEPS)]
            out.write(f"{query}\t{openid}\t{content}\t{base}{i:07d}\n")
    return path


def parse_wrk(output: str) -> tuple[float, float, int]:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p99 = _ms(re.search(r"99%\s+([\d.]+)(us|ms|s)", output))
    errors = 0
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    if non_2xx:
        errors += int(non_2xx.group(1))
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    if sockets:
        errors += sum(int(n) for n in sockets.groups())
    return rps, p99, errors


def _ms(match: re.Match | None) -> float:
    if match is None:
        return 0.0
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def report(table: dict[tuple[str, str], Result], args: argparse.Namespace) -> None:
    load = f"wrk {args.threads} threads x {args.connections} connections"
    rounds = f"{args.seconds} s x {args.rounds} rounds; {args.openids} openids"
    print(f"\nmode: {args.mode}; {load}, {rounds}; median req/s")
    for (setup, name), result in table.items():
        print(
            f"{setup:9} {name:28} {result.median_rps:9,.0f} req/s  "
            f"p99 {max(result.p99_ms):7.1f} ms  errors {result.errors}"
        )
    print()
    for setup in dict.fromkeys(setup for setup, _ in table):
        ours = table[(setup, "Bihuan")].median_rps
        peer = table[(setup, "WeRoBot + SQLite sessions")].median_rps
        print(f"ratio {setup}: Bihuan / WeRoBot with sessions = {ours / peer:.2f}x")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _which(name: str) -> bool:
    return any((Path(d) / name).exists() for d in os.environ.get("PATH", "").split(os.pathsep))


if __name__ == "__main__":
    main()
