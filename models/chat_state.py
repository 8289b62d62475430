"""Per-openid chat state (对话状态) kept in the database: the complaint draft, the comment
step after a star tap, the reason expected after 不满意, wrong binding codes.

One row per (openid, kind), its data as JSON text and a time after which it no longer
counts (`expires_at`; the sweep deletes such rows). Functions take a session and never
commit, so a step is saved in the same transaction as the push that made it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, UTCDateTime


class ChatState(Base):
    __tablename__ = "chat_states"

    openid: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    data: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_chat_states_expires_at", "expires_at"),)


def load_all(session: Session, openid: str) -> dict[str, ChatState]:
    """Every row of the openid by kind, expired or not, in one query."""
    rows = session.scalars(select(ChatState).where(ChatState.openid == openid))
    return {row.kind: row for row in rows}


def live(row: ChatState | None, now: datetime) -> ChatState | None:
    return row if row is not None and row.expires_at > now else None


def put(
    session: Session,
    row: ChatState | None,
    key: tuple[str, str],
    data: str,
    expires_at: datetime,
    now: datetime,
) -> ChatState:
    """Write `row` (None: a new row for `key`, the openid and the kind); the row written."""
    if row is None:
        openid, kind = key
        row = ChatState(openid=openid, kind=kind, data=data, expires_at=expires_at, updated_at=now)
        session.add(row)
    else:
        row.data, row.expires_at, row.updated_at = data, expires_at, now
    session.flush()
    return row


def drop(session: Session, row: ChatState) -> None:
    session.delete(row)
    session.flush()


def purge_expired(session: Session, now: datetime) -> int:
    result = session.execute(delete(ChatState).where(ChatState.expires_at <= now))
    return result.rowcount or 0
