"""Per-openid chat state (对话状态) kept in the database: the complaint draft, the comment
step after a star tap, the reason expected after 不满意, wrong binding codes.

One row per (openid, kind), its data as JSON text and a time after which it no longer
counts (`expires_at`; the sweep deletes such rows). Functions take a session and never
commit, so a step is saved in the same transaction as the push that made it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import String, Text, and_, bindparam, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, UTCDateTime
from models.pipeline import Step, run_together


class ChatState(Base):
    __tablename__ = "chat_states"

    openid: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    data: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    # No index on expires_at: every conversation step rewrites its row, and an indexed
    # column that changes would stop PostgreSQL from updating the row in place (HOT); the
    # hourly retention sweep scans this table of recent conversations instead (migration
    # 0012, which also leaves a fifth of each page free on PostgreSQL).


@dataclass(frozen=True)
class State:
    """One row as read or last written in this transaction (plain values, no ORM object:
    the push's hot path loads and writes these rows with Core statements)."""

    openid: str
    kind: str
    data: str
    expires_at: datetime
    updated_at: datetime


def load_all(session: Session, openid: str) -> dict[str, State]:
    """Every row of the openid by kind, expired or not, in one query."""
    return from_rows(session.connection().execute(_select_all(), {"openid": openid}))


def load_step(openid: str) -> Step:
    """`load_all` as a step of `models.pipeline.run_together` (its rows go to `from_rows`)."""
    return Step(_select_all(), {"openid": openid})


def from_rows(rows) -> dict[str, State]:
    """The rows of `load_all`'s query by kind."""
    return {row[1]: State(*row) for row in rows}


def live(row: State | None, now: datetime) -> State | None:
    return row if row is not None and row.expires_at > now else None


def put(
    session: Session,
    row: State | None,
    key: tuple[str, str],
    data: str,
    expires_at: datetime,
    now: datetime,
) -> State:
    """Write `row` (None: a new row for `key`, the openid and the kind); the row written.
    One upsert, so a row read but deleted since (the sweep purges expired ones) is
    inserted again."""
    step, written = put_step(session.get_bind().dialect.name, row, key, data, expires_at, now)
    run_together(session, [step])
    return written


def put_step(
    dialect_name: str,
    row: State | None,
    key: tuple[str, str],
    data: str,
    expires_at: datetime,
    now: datetime,
) -> tuple[Step, State]:
    """`put` as a step of `models.pipeline.run_together`, with the row it writes."""
    openid, kind = key if row is None else (row.openid, row.kind)
    values = {"openid": openid, "kind": kind, "data": data, "expires_at": expires_at}
    return Step(_upsert(dialect_name), {**values, "updated_at": now}), State(
        openid, kind, data, expires_at, now
    )


def drop(session: Session, row: State) -> None:
    run_together(session, [drop_step(row)])


def drop_step(row: State) -> Step:
    """`drop` as a step of `models.pipeline.run_together`."""
    return Step(_delete(), {"openid": row.openid, "kind": row.kind})


# Built once per process: one Core statement each, no ORM work per push.

COLUMNS = ("openid", "kind", "data", "expires_at", "updated_at")  # `State`'s, in its order


@cache
def _select_all():
    table = ChatState.__table__
    return select(*(table.c[name] for name in COLUMNS)).where(table.c.openid == bindparam("openid"))


@cache
def _upsert(dialect_name: str):
    """Insert the row, or update the one there (its data, expiry and time)."""
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    table = ChatState.__table__
    statement = dialect.insert(table).values({name: bindparam(name) for name in COLUMNS})
    changed = ("data", "expires_at", "updated_at")
    return statement.on_conflict_do_update(
        index_elements=[table.c.openid, table.c.kind],
        set_={name: statement.excluded[name] for name in changed},
    )


@cache
def _delete():
    table = ChatState.__table__
    return delete(table).where(
        and_(table.c.openid == bindparam("openid"), table.c.kind == bindparam("kind"))
    )


def purge_expired(session: Session, now: datetime) -> int:
    result = session.execute(delete(ChatState).where(ChatState.expires_at <= now))
    return result.rowcount or 0
