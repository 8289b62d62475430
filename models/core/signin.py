"""Signing in to the back office (登录): the password rule and how repeated failures are
slowed, then locked. Pure: counts and times in, a wait out.

Decisions where the product text is silent:
- A password has 8 to 128 characters of at least two kinds (letters, digits, other signs).
- Failures are counted per account (the name or phone typed) and per client address. Up to
  ``slow_after`` failures cost nothing; each later one makes the next attempt wait 1 s, 2 s,
  4 s … (at most ``max_delay_seconds``); at ``lock_after`` the key is locked for
  ``lock_minutes``. An address gets higher thresholds than an account: an office signs in from
  one address. Failures older than ``lock_minutes`` are forgotten; a success clears the account.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_CHARS = 128


@dataclass(frozen=True)
class Threshold:
    """When failures under one key start to slow down, and when they lock it."""

    slow_after: int
    lock_after: int

    def __post_init__(self) -> None:
        if not 0 < self.slow_after < self.lock_after:
            raise ValueError("need 0 < slow_after < lock_after")


@dataclass(frozen=True)
class SignInPolicy:
    account: Threshold = Threshold(slow_after=3, lock_after=10)
    address: Threshold = Threshold(slow_after=10, lock_after=30)
    lock_minutes: int = 15
    max_delay_seconds: int = 60


def wait_after(failures: int, threshold: Threshold, policy: SignInPolicy) -> timedelta:
    """How long the next attempt must wait after the ``failures``-th failure in a row."""
    if failures < threshold.slow_after:
        return timedelta(0)
    if failures >= threshold.lock_after:
        return timedelta(minutes=policy.lock_minutes)
    exponent = min(failures - threshold.slow_after, 16)
    return timedelta(seconds=min(2**exponent, policy.max_delay_seconds))


def failures_count(
    previous: int, last_failure_at: datetime | None, now: datetime, policy: SignInPolicy
) -> int:
    """The count after one more failure; failures older than ``lock_minutes`` are forgotten."""
    stale = last_failure_at is None or now - last_failure_at > timedelta(
        minutes=policy.lock_minutes
    )
    return 1 if stale else previous + 1


def refusal(wait: timedelta, locked: bool) -> str:
    """What the person signing in reads while a key waits or is locked."""
    seconds = max(1, int(wait.total_seconds() + 0.999))
    if locked:
        return f"登录失败次数过多，已暂时锁定，请 {-(-seconds // 60)} 分钟后再试。"
    return f"登录失败次数较多，请 {seconds} 秒后再试。"


def password_problem(password: str, name: str = "") -> str | None:
    """Why a new password is refused (Chinese), or None when it is acceptable."""
    if len(password) < MIN_PASSWORD_CHARS:
        return f"密码至少 {MIN_PASSWORD_CHARS} 位。"
    if len(password) > MAX_PASSWORD_CHARS:
        return f"密码最多 {MAX_PASSWORD_CHARS} 位。"
    kinds = (
        any(char.isalpha() for char in password),
        any(char.isdigit() for char in password),
        any(not char.isalnum() for char in password),
    )
    if sum(kinds) < 2:
        return "密码须包含字母、数字、符号中的至少两类。"
    if name and name in password:
        return "密码不能包含姓名。"
    return None
