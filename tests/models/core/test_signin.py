"""The sign-in rules (pure): slowing, locking, forgetting, and the password rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from models.core.signin import (
    SignInPolicy,
    Threshold,
    failures_count,
    password_problem,
    refusal,
    wait_after,
)

POLICY = SignInPolicy(account=Threshold(3, 10), address=Threshold(10, 30), lock_minutes=15)
NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("failures", "seconds"),
    [(1, 0), (2, 0), (3, 1), (4, 2), (5, 4), (8, 32), (9, 60), (10, 900), (11, 900)],
)
def test_failures_cost_nothing_then_double_then_lock(failures: int, seconds: int) -> None:
    assert wait_after(failures, POLICY.account, POLICY) == timedelta(seconds=seconds)


def test_an_address_is_slowed_later_than_an_account() -> None:
    assert wait_after(5, POLICY.address, POLICY) == timedelta(0)
    assert wait_after(30, POLICY.address, POLICY) == timedelta(minutes=15)


def test_old_failures_are_forgotten() -> None:
    assert failures_count(7, NOW - timedelta(minutes=5), NOW, POLICY) == 8
    assert failures_count(7, NOW - timedelta(minutes=16), NOW, POLICY) == 1
    assert failures_count(0, None, NOW, POLICY) == 1


def test_a_threshold_must_slow_before_it_locks() -> None:
    with pytest.raises(ValueError):
        Threshold(slow_after=5, lock_after=5)


def test_the_refusal_says_how_long_to_wait() -> None:
    assert refusal(timedelta(seconds=4), locked=False) == "登录失败次数较多，请 4 秒后再试。"
    assert "15 分钟后再试" in refusal(timedelta(minutes=15), locked=True)
    assert "1 分钟后再试" in refusal(timedelta(seconds=20), locked=True)


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short1", "密码至少 8 位。"),
        ("abcdefgh", "密码须包含字母、数字、符号中的至少两类。"),
        ("12345678", "密码须包含字母、数字、符号中的至少两类。"),
        ("x" * 129 + "1", "密码最多 128 位。"),
        ("周敏2026abc", "密码不能包含姓名。"),
        ("gas-2026-safe", None),
        ("燃气公司2026", None),
    ],
)
def test_password_rule(password: str, problem: str | None) -> None:
    assert password_problem(password, name="周敏") == problem
