"""The access token shared through Redis: one fetch at a time, none for a token already replaced."""

from __future__ import annotations

import itertools
import threading
import time

import pytest
from redis.exceptions import LockError

from bot.tokens import SharedToken


class CountingFetch:
    """A token source that numbers its tokens and can be slow or fail."""

    def __init__(self, expires_in: int = 7200, delay: float = 0.0) -> None:
        self.expires_in = expires_in
        self.delay = delay
        self.fail: Exception | None = None
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()
        self.calls = 0

    def __call__(self) -> tuple[str, int]:
        with self._lock:
            self.calls += 1
            number = next(self._numbers)
        time.sleep(self.delay)
        if self.fail is not None:
            raise self.fail
        return f"token-{number}", self.expires_in


def run_in_threads(count: int, action) -> list:
    results: list = []
    start = threading.Barrier(count)

    def worker() -> None:
        start.wait()
        results.append(action())

    threads = [threading.Thread(target=worker) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_get_fetches_once_then_answers_from_redis(runtime) -> None:
    fetch = CountingFetch()
    tokens = SharedToken(runtime.redis, fetch)
    assert tokens.get() == "token-1"
    assert tokens.get() == "token-1"
    assert fetch.calls == 1


def test_token_is_shared_by_separate_instances_through_redis(runtime) -> None:
    first_fetch, second_fetch = CountingFetch(), CountingFetch()
    web = SharedToken(runtime.redis, first_fetch)
    worker = SharedToken(runtime.redis, second_fetch)
    fetched_by_web = web.get()
    assert worker.get() == fetched_by_web
    assert (first_fetch.calls, second_fetch.calls) == (1, 0)


def test_refresh_of_the_cached_token_fetches_a_new_one(runtime) -> None:
    fetch = CountingFetch()
    tokens = SharedToken(runtime.redis, fetch)
    stale = tokens.get()
    assert tokens.refresh(stale) == "token-2"
    assert tokens.get() == "token-2"
    assert fetch.calls == 2


def test_refresh_of_a_token_already_replaced_reuses_the_new_one(runtime) -> None:
    fetch = CountingFetch()
    tokens = SharedToken(runtime.redis, fetch)
    old = tokens.get()
    new = tokens.refresh(old)
    assert tokens.refresh(old) == new
    assert fetch.calls == 2


def test_cache_lifetime_is_expires_in_minus_a_safety_margin(runtime) -> None:
    tokens = SharedToken(runtime.redis, CountingFetch(expires_in=7200), key="t", safety_margin=300)
    tokens.get()
    assert 6890 <= runtime.redis.ttl("t") <= 6900


def test_short_lived_token_is_still_cached_for_part_of_its_life(runtime) -> None:
    tokens = SharedToken(runtime.redis, CountingFetch(expires_in=400), key="t", safety_margin=300)
    tokens.get()
    assert 190 <= runtime.redis.ttl("t") <= 200


def test_twenty_threads_refreshing_the_same_stale_token_fetch_once(runtime) -> None:
    fetch = CountingFetch(delay=0.2)
    tokens = SharedToken(runtime.redis, fetch)
    stale = tokens.get()
    results = run_in_threads(20, lambda: tokens.refresh(stale))
    assert fetch.calls == 2
    assert results == ["token-2"] * 20


def test_twenty_threads_without_a_cached_token_fetch_once(runtime) -> None:
    fetch = CountingFetch(delay=0.2)
    results = run_in_threads(20, lambda: SharedToken(runtime.redis, fetch).get())
    assert fetch.calls == 1
    assert results == ["token-1"] * 20


def test_failed_fetch_caches_nothing_and_frees_the_lock(runtime) -> None:
    fetch = CountingFetch()
    fetch.fail = RuntimeError("WeChat down")
    tokens = SharedToken(runtime.redis, fetch, lock_timeout=1.0)
    with pytest.raises(RuntimeError):
        tokens.get()
    fetch.fail = None
    started = time.monotonic()
    assert tokens.get() == "token-2"
    assert time.monotonic() - started < 0.5


def test_waiting_longer_than_the_lock_timeout_gives_up(runtime) -> None:
    slow = SharedToken(runtime.redis, CountingFetch(delay=1.5), lock_timeout=5.0)
    impatient_fetch = CountingFetch()
    impatient = SharedToken(runtime.redis, impatient_fetch, lock_timeout=0.2)
    holder = threading.Thread(target=slow.get)
    holder.start()
    time.sleep(0.3)
    with pytest.raises(LockError):
        impatient.refresh(None)
    holder.join()
    assert impatient_fetch.calls == 0
    assert impatient.get() == "token-1"
