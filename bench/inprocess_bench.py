"""Per-message cost of the webhook for conversation steps (signed plaintext text messages,
in-process test client). Usage:

    python bench/inprocess_bench.py [--messages 1000]
    BIHUAN_DATABASE__URL=postgresql+psycopg://... BIHUAN_REDIS__URL=redis://... python bench/...

Each customer (own openid and phone) files a complaint step by step; every 7 messages one
ticket is created.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.app import create_app  # noqa: E402
from bot.runtime import build_runtime  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from models.migrate import upgrade  # noqa: E402
from tests.wechat_client import WeChatTestClient  # noqa: E402

STEPS = ("投诉", "5", "燃气表附近有气味", "幸福路1号", "张三", "{phone}", "1")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=1000)
    args = parser.parse_args()
    environ = dict(os.environ, BIHUAN_WECHAT__TOKEN="bench-token")
    if "BIHUAN_DATABASE__URL" not in environ:
        environ["BIHUAN_DATABASE__URL"] = f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    settings = load_settings(environ=environ)
    runtime = build_runtime(settings)
    upgrade(runtime.engine)
    poster = WeChatTestClient(create_app(runtime=runtime).test_client(), settings)
    timings = run(poster, args.messages)
    report(settings, runtime, timings)


def run(poster: WeChatTestClient, count: int) -> list[float]:
    timings = []
    run_id = int(time.time())
    for i in range(count):
        customer = i // len(STEPS)
        openid = f"o_bench_{run_id}_{customer}"
        text = STEPS[i % len(STEPS)].format(phone=f"139{run_id % 10000:04d}{customer:04d}")
        started = time.perf_counter()
        reply = poster.text(openid, text)
        timings.append(time.perf_counter() - started)
        assert reply, "every step must answer"
    return timings


def report(settings, runtime, timings: list[float]) -> None:
    ms = sorted(t * 1000 for t in timings)
    print(
        f"database: {runtime.engine.dialect.name}; redis: "
        f"{'real' if settings.redis.url else 'embedded'}"
    )
    print(f"messages: {len(ms)}  total: {sum(ms) / 1000:.2f} s")
    print(
        f"per message: mean {statistics.mean(ms):.2f} ms, median {ms[len(ms) // 2]:.2f} ms, "
        f"p95 {ms[int(len(ms) * 0.95)]:.2f} ms, max {ms[-1]:.2f} ms"
    )


if __name__ == "__main__":
    main()
