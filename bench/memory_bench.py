"""A web worker's memory after 100,000 pushes (issue 14): one gunicorn sync worker serving
Bihuan, wrk sending signed free-text pushes from 200 openids, the worker's RSS read from
/proc before and after. Usage:

    python bench/memory_bench.py [--pushes 100000] [--setup sqlite|postgres]
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import webhook_bench as wb  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pushes", type=int, default=100_000)
    parser.add_argument("--setup", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args()
    load = argparse.Namespace(threads=2, connections=8, seconds=args.pushes // 1000, openids=200)
    load.mode = "text"
    server = wb.servers(args.setup, load)[0]
    port = wb._free_port()
    process = wb.start_gunicorn(server, port)
    try:
        worker = _worker_pid(process.pid)
        wb.run_wrk(port, load, seconds=1, round_no=0)
        before = _rss_mb(worker)
        sent = _send(port, load, args.pushes)
        after = _rss_mb(worker)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    print(f"{args.setup}: {sent:,} pushes; worker RSS {before:.0f} MB after warm-up, "
          f"{after:.0f} MB after the pushes")  # fmt: skip


def _send(port: int, load: argparse.Namespace, pushes: int) -> int:
    """Send at least `pushes` pushes, in rounds of 10 s, each with fresh signed requests."""
    sent, round_no = 0, 1
    while sent < pushes:
        load.seconds = 10
        done = wb.run_wrk(port, load, load.seconds, round_no, count_requests=True)
        sent += done
        round_no += 1
    return sent


def _worker_pid(master: int) -> int:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return int(children[0])


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


if __name__ == "__main__":
    main()
