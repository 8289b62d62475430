"""Inbound WeChat pushes: kept for de-duplication, for handling in arrival order per sender,
for taking over a push whose handler is gone, and for replay after a failure.

Queries are functions taking a session; they never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import (
    Boolean,
    Index,
    String,
    Text,
    and_,
    bindparam,
    delete,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, UTCDateTime, utcnow


class InboundMessage(Base):
    """One push from WeChat. The dedupe key makes repeated pushes one row.

    status: processing → done (reply stored) or failed (error stored; `bihuan inbound replay`).
    `lease_until`: until then the request that received the push is expected to handle it;
    afterwards anyone may take it over (the sweep, WeChat's retry, the sender's next push).
    `late`: the push was handled after its HTTP answer had gone, so its reply was sent as a
    message instead (a retry then answers nothing, not the reply a second time).
    """

    __tablename__ = "inbound_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(128), unique=True)
    openid: Mapped[str] = mapped_column(String(64), index=True)
    msg_type: Mapped[str] = mapped_column(String(32))
    raw_xml: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default="processing", index=True)
    reply: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    late: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (Index("ix_inbound_messages_openid_status", "openid", "status"),)


class PushNonce(Base):
    """A nonce of a signed push, with the digest of the body it came with (replay guard)."""

    __tablename__ = "push_nonces"

    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64))
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


def lock_sender(session: Session, openid: str) -> None:
    """Hold the sender's lock until the transaction ends: one push per openid at a time.

    PostgreSQL: a transaction-level advisory lock on the openid's hash (bounded by
    lock_timeout). SQLite: every write transaction already holds the database's one lock.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:openid, 0))"),
            {"openid": openid},
        )


def remember_nonce(session: Session, nonce: str, digest: str, now: datetime) -> str | None:
    """Record a push's nonce in one statement; the digest it came with before when it was
    already seen (None: it is new)."""
    connection = session.connection()
    params = {"nonce": nonce, "digest": digest, "seen_at": now}
    return _digest_before(connection, _nonce_insert(connection.dialect.name), params)


def lock_sender_with_nonce(
    session: Session, openid: str, nonce: str, digest: str, now: datetime
) -> str | None:
    """`lock_sender` and `remember_nonce` in one round trip on PostgreSQL: the nonce row is
    selected from the lock's call, so the lock is held before the insert. Reads that follow
    (in statements of their own) see whatever the sender's previous push committed."""
    if session.get_bind().dialect.name != "postgresql":
        lock_sender(session, openid)
        return remember_nonce(session, nonce, digest, now)
    params = {"nonce": nonce, "digest": digest, "seen_at": now, "openid": openid}
    return _digest_before(session.connection(), _locked_nonce_insert(), params)


def _digest_before(connection, insert_nonce, params: dict) -> str | None:
    """Run a nonce insert that returns its row unless the nonce was there; then None, else
    the digest the nonce came with before."""
    if connection.execute(insert_nonce, params).first() is not None:
        return None
    return connection.execute(_nonce_digest(), {"nonce": params["nonce"]}).scalar()


@dataclass(frozen=True)
class Seen:
    """What the inbox already holds of a push and its sender (`seen`)."""

    copy_status: str | None  # the status of a copy of this push (None: no copy)
    copy_reply: str
    copy_late: bool
    sender_waiting: bool  # the sender has another push still being handled


def seen(session: Session, dedupe_key: str, openid: str) -> Seen:
    """In one indexed query: a copy of this push, and whether the sender has a push still
    being handled. Two rows at most: either fact is enough to decide."""
    params = {"key": dedupe_key, "openid": openid}
    rows = session.connection().execute(_seen_select(), params).all()
    copy = next((row for row in rows if row.dedupe_key == dedupe_key), None)
    return Seen(
        copy_status=copy.status if copy is not None else None,
        copy_reply=copy.reply if copy is not None else "",
        copy_late=bool(copy.late) if copy is not None else False,
        sender_waiting=any(row.status == "processing" for row in rows),
    )


def record_handled(session: Session, **values) -> None:
    """Insert a push already handled (its status, reply and times given): one Core INSERT,
    no ORM object. Its dedupe key is unique, so a copy recorded meanwhile raises
    IntegrityError and the whole transaction is rolled back."""
    session.connection().execute(_inbound_insert(), values)


# The hot path's statements, built once per process (Core: no ORM work per push).


@cache
def _nonce_insert(dialect_name: str):
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    table = PushNonce.__table__
    return (
        dialect.insert(table)
        .on_conflict_do_nothing(index_elements=[table.c.nonce])
        .returning(table.c.nonce)
    )


@cache
def _locked_nonce_insert():
    return text(
        "INSERT INTO push_nonces (nonce, digest, seen_at) "
        "SELECT :nonce, :digest, :seen_at "
        "FROM (SELECT pg_advisory_xact_lock(hashtextextended(:openid, 0))) AS sender_lock "
        "ON CONFLICT (nonce) DO NOTHING RETURNING nonce"
    ).bindparams(bindparam("seen_at", type_=UTCDateTime))


@cache
def _nonce_digest():
    table = PushNonce.__table__
    return select(table.c.digest).where(table.c.nonce == bindparam("nonce"))


@cache
def _seen_select():
    table = InboundMessage.__table__
    return (
        select(table.c.dedupe_key, table.c.status, table.c.reply, table.c.late)
        .where(
            or_(
                table.c.dedupe_key == bindparam("key"),
                and_(table.c.openid == bindparam("openid"), table.c.status == "processing"),
            )
        )
        .limit(2)
    )


@cache
def _inbound_insert():
    return insert(InboundMessage.__table__)


def first_unfinished(session: Session, openid: str, before_id: int) -> InboundMessage | None:
    """The sender's earliest push still being handled that arrived before `before_id`."""
    statement = (
        select(InboundMessage)
        .where(
            InboundMessage.openid == openid,
            InboundMessage.status == "processing",
            InboundMessage.id < before_id,
        )
        .order_by(InboundMessage.id)
        .limit(1)
    )
    return session.scalar(statement)


def abandoned(session: Session, now: datetime, limit: int) -> list[tuple[int, str]]:
    """(id, openid) of pushes still being handled whose lease has run out, oldest first."""
    statement = (
        select(InboundMessage.id, InboundMessage.openid)
        .where(InboundMessage.status == "processing", InboundMessage.lease_until < now)
        .order_by(InboundMessage.id)
        .limit(limit)
    )
    return [(row.id, row.openid) for row in session.execute(statement)]


def purge_raw(session: Session, before: datetime, limit: int) -> int:
    """Empty the raw XML and stored reply of finished pushes received before `before`."""
    ids = select(InboundMessage.id).where(
        InboundMessage.received_at < before,
        InboundMessage.status != "processing",
        InboundMessage.raw_xml != "",
    )
    chosen = list(session.scalars(ids.order_by(InboundMessage.id).limit(limit)))
    if chosen:
        session.execute(
            update(InboundMessage).where(InboundMessage.id.in_(chosen)).values(raw_xml="", reply="")
        )
    return len(chosen)


def purge_nonces(session: Session, before: datetime) -> int:
    result = session.execute(delete(PushNonce).where(PushNonce.seen_at < before))
    return result.rowcount or 0
