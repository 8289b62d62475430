"""Back-office accounts (后台账号): who signs in, with what, and the failures that slow a key
down, as functions taking a session and ``now``. Nothing here commits.

Hashing a password is the web edge's job (``bot/passwords.py``); this module keeps the hash.
Failures are counted under hashed keys (an account as typed, a client address), so a phone
number typed as the user name is never stored; the rules are ``models.core.signin``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from models.core.phones import normalize_phone
from models.core.signin import SignInPolicy, Threshold, failures_count, wait_after
from models.people.tables import LoginThrottle, Staff


@dataclass(frozen=True)
class ThrottleKey:
    """One key failures are counted under, with the threshold that applies to it."""

    key: str
    threshold: Threshold


def account_key(username: str, policy: SignInPolicy) -> ThrottleKey:
    return ThrottleKey(_digest("account", _normal(username)), policy.account)


def address_key(address: str, policy: SignInPolicy) -> ThrottleKey:
    return ThrottleKey(_digest("address", address), policy.address)


def _digest(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


def _normal(username: str) -> str:
    return normalize_phone(username) or username.strip()


def staff_for_sign_in(session: Session, username: str) -> Staff | None:
    """The active staff member with this name, or the only one with this phone number."""
    name = username.strip()
    if not name:
        return None
    phones = {name, normalize_phone(name) or name}
    statement = select(Staff).where(
        Staff.active.is_(True), or_(Staff.name == name, Staff.phone.in_(phones))
    )
    found = list(session.scalars(statement.limit(3)))
    by_name = [member for member in found if member.name == name]
    if by_name:
        return by_name[0]
    return found[0] if len(found) == 1 else None


def set_password_hash(session: Session, staff: Staff, password_hash: str, now: datetime) -> None:
    """Store a new password (its hash) and lift the locks on the account's name and phone."""
    staff.password_hash, staff.password_changed_at = password_hash, now
    for username in {staff.name, staff.phone} - {""}:
        _clear(session, _digest("account", _normal(username)))


def wait_for(session: Session, keys: list[ThrottleKey], now: datetime) -> tuple[timedelta, bool]:
    """How long the next attempt must still wait, and whether a key is locked."""
    rows = {
        row.key: row
        for row in session.scalars(
            select(LoginThrottle).where(LoginThrottle.key.in_([k.key for k in keys]))
        )
    }
    longest, locked = timedelta(0), False
    for key in keys:
        row = rows.get(key.key)
        if row is None or row.blocked_until is None or row.blocked_until <= now:
            continue
        longest = max(longest, row.blocked_until - now)
        locked = locked or row.failures >= key.threshold.lock_after
    return longest, locked


def record_failure(session: Session, key: ThrottleKey, policy: SignInPolicy, now: datetime) -> int:
    """Count one failure under ``key`` (row-locked, so parallel attempts all count)."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(
        insert(LoginThrottle)
        .values(key=key.key, failures=0)
        .on_conflict_do_nothing(index_elements=["key"])
    )
    row = session.scalar(
        select(LoginThrottle).where(LoginThrottle.key == key.key).with_for_update()
    )
    row.failures = failures_count(row.failures, row.last_failure_at, now, policy)
    row.last_failure_at = now
    row.blocked_until = now + wait_after(row.failures, key.threshold, policy)
    return row.failures


def clear_failures(session: Session, key: ThrottleKey) -> None:
    _clear(session, key.key)


def _clear(session: Session, digest: str) -> None:
    row = session.get(LoginThrottle, digest)
    if row is not None:
        session.delete(row)
