"""Running the same call from several threads at once, collecting results and errors."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


def run_in_threads(
    target: Callable[[], Any], count: int, timeout: float = 30
) -> tuple[list[Any], list[BaseException]]:
    """Start `count` threads together; returns (results, errors) once all have finished."""
    results: list[Any] = []
    errors: list[BaseException] = []
    start = threading.Barrier(count)

    def run() -> None:
        start.wait()
        try:
            results.append(target())
        except Exception as exc:  # noqa: BLE001 - reported to the test
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    return results, errors
