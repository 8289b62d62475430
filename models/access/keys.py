"""API keys (`bihuan apikey create <name> --scope …`): issued once, kept as a SHA-256 hash
beside a visible prefix, checked in constant time, revoked but never deleted.

A key reads ``bhk_<prefix>_<secret>``: the prefix (8 hex digits) finds the row and names the
key in lists and logs; the secret (43 characters of randomness) is never stored. A fast hash
is enough for a random secret of that length (nothing to guess, unlike a password).
Functions take a session and never commit.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.access.tables import ApiKey

SCOPES = {
    "records:write": "推送业务记录",
    "tickets:read": "读取投诉工单",
    "ratings:read": "读取评价",
    "callbacks:read": "读取回访结果",
    "figures:read": "读取统计数据",
}
KEY_PATTERN = re.compile(r"bhk_([0-9a-f]{8})_([A-Za-z0-9_-]{20,64})")
MAX_NAME = 50


class ApiKeyError(ValueError):
    """A key that cannot be issued (the message is Chinese)."""


@dataclass(frozen=True)
class Issued:
    key: ApiKey
    secret: str  # the whole key, shown once


def digest(presented: str) -> str:
    return hashlib.sha256(presented.encode("utf-8")).hexdigest()


def create(session: Session, name: str, scopes: list[str], now: datetime) -> Issued:
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        raise ApiKeyError(f"名称不能为空，且不超过 {MAX_NAME} 个字符")
    unknown = [scope for scope in scopes if scope not in SCOPES]
    if unknown or not scopes:
        raise ApiKeyError(
            f"权限范围无效：{', '.join(unknown) or '（未指定）'}；可选 {', '.join(SCOPES)}"
        )
    prefix = secrets.token_hex(4)
    while session.scalar(select(ApiKey.id).where(ApiKey.prefix == prefix)) is not None:
        prefix = secrets.token_hex(4)
    whole = f"bhk_{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey(
        name=name, prefix=prefix, key_hash=digest(whole), scopes=sorted(set(scopes)), created_at=now
    )
    session.add(key)
    session.flush()
    return Issued(key, whole)


def find(session: Session, presented: str) -> ApiKey | None:
    """The key row a presented key belongs to (revoked or not); None for anything else."""
    match = KEY_PATTERN.fullmatch(presented.strip())
    if match is None:
        return None
    key = session.scalar(select(ApiKey).where(ApiKey.prefix == match.group(1)))
    if key is None or not hmac.compare_digest(key.key_hash, digest(presented.strip())):
        return None
    return key


def revoke(session: Session, prefix: str, now: datetime) -> ApiKey | None:
    key = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix.removeprefix("bhk_")))
    if key is not None and key.revoked_at is None:
        key.revoked_at = now
    return key


def all_keys(session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.id)))
