"""Inbound WeChat pushes: kept for de-duplication, for handling in arrival order per sender,
for taking over a push whose handler is gone, and for replay after a failure.

Queries are functions taking a session; they never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import (
    Boolean,
    Index,
    String,
    Text,
    bindparam,
    delete,
    insert,
    literal_column,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from models import chat_state
from models.base import Base, UTCDateTime, utcnow
from models.people.customers import StaffLookup, staff_id_step
from models.pipeline import Step, run_together


def _where(status: str) -> dict:
    """The predicate of a partial index on one status, for both dialects."""
    dialects = ("sqlite", "postgresql")
    return {f"{dialect}_where": text(f"status = '{status}'") for dialect in dialects}


def status_is(status: str):
    """`status = '<status>'` written out in the SQL, not bound: a planner uses a partial index
    only for a condition it can see (a bound value is unknown when a statement is prepared)."""
    return InboundMessage.__table__.c.status == literal_column(f"'{status}'")


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
    openid: Mapped[str] = mapped_column(String(64))
    msg_type: Mapped[str] = mapped_column(String(32))
    raw_xml: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default="processing")
    reply: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    late: Mapped[bool] = mapped_column(Boolean, default=False)

    # Partial indexes: a push recorded as done (nearly every push) adds no entry to them, and
    # the few rows still being handled or failed are found without a scan of the history.
    __table_args__ = (
        Index("ix_inbound_messages_processing", "id", **_where("processing")),
        Index("ix_inbound_messages_sender_processing", "openid", "id", **_where("processing")),
        Index("ix_inbound_messages_failed", "id", **_where("failed")),
    )


class PushNonce(Base):
    """A nonce of a signed push, with the digest of the body it came with (replay guard)."""

    __tablename__ = "push_nonces"
    __table_args__ = {"sqlite_with_rowid": False}  # one B-tree: the nonce is the key

    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64))
    # Not indexed: the hourly purge takes nearly all rows anyway (nonces are kept for twice
    # the clock skew), and each push then writes one B-tree here, not two.
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime)


def lock_sender(session: Session, openid: str) -> None:
    """Hold the sender's lock until the transaction ends: one push per openid at a time.

    PostgreSQL: a transaction-level advisory lock on the openid's hash (bounded by
    lock_timeout). SQLite: every write transaction already holds the database's one lock.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_sender_lock(), {"openid": openid})


def remember_nonce(session: Session, nonce: str, digest: str, now: datetime) -> str | None:
    """Record a push's nonce in one statement; the digest it came with before when it was
    already seen (None: it is new)."""
    connection = session.connection()
    params = {"nonce": nonce, "digest": digest, "seen_at": now}
    return _digest_before(connection, _nonce_insert(connection.dialect.name), params)


def _digest_before(connection, insert_nonce, params: dict) -> str | None:
    """Run a nonce insert that returns its row unless the nonce was there; then None, else
    the digest the nonce came with before."""
    if connection.execute(insert_nonce, params).first() is not None:
        return None
    return connection.execute(_nonce_digest(), {"nonce": params["nonce"]}).scalar()


@dataclass(frozen=True)
class Seen:
    """What the inbox already holds of a push and its sender (`open_push`)."""

    copy_status: str | None  # the status of a copy of this push (None: no copy)
    copy_reply: str
    copy_late: bool
    sender_waiting: bool  # the sender has another push still being handled


def _seen_of(rows, dedupe_key: str) -> Seen:
    """`Seen` from the rows of `_seen_select` (dedupe_key, status, reply, late): a copy of
    this push, and whether the sender has a push still being handled. Two rows at most:
    either fact is enough to decide."""
    copy = next((row for row in rows if row[0] == dedupe_key), None)
    return Seen(
        copy_status=copy[1] if copy is not None else None,
        copy_reply=copy[2] if copy is not None else "",
        copy_late=bool(copy[3]) if copy is not None else False,
        sender_waiting=any(row[1] == "processing" for row in rows),
    )


@dataclass(frozen=True)
class Opened:
    """What a push's first statements found (`open_push`)."""

    nonce_before: str | None  # the digest the nonce came with before (None: it is new)
    seen: Seen
    staff: StaffLookup  # the sender's staff binding
    states: dict[str, chat_state.State]  # the sender's chat state rows by kind


def open_push(
    session: Session, openid: str, dedupe_key: str, now: datetime, nonce: tuple[str, str] | None
) -> Opened:
    """A push's first statements, in one round trip on PostgreSQL: the sender's lock (with
    the nonce, `(value, digest)`, recorded under it), then `seen`, the sender's staff
    binding and chat state. The server runs them in order, so the reads see whatever the
    sender's previous push committed."""
    lead = _lock_steps(session.get_bind().dialect.name, openid, now, nonce)
    params = {"openid": openid}
    reads = [
        Step(_seen_select(), {"key": dedupe_key, **params}),
        staff_id_step(openid),
        chat_state.load_step(openid),
    ]
    *first, seen_rows, staff_rows, state_rows = run_together(session, lead + reads)
    before = None
    if nonce is not None and not first[0]:  # the nonce was there: what came with it then
        before = session.connection().execute(_nonce_digest(), {"nonce": nonce[0]}).scalar()
    return Opened(
        nonce_before=before,
        seen=_seen_of(seen_rows, dedupe_key),
        staff=StaffLookup(openid, staff_rows[0][0] if staff_rows else None),
        states=chat_state.from_rows(state_rows),
    )


def _lock_steps(
    dialect_name: str, openid: str, now: datetime, nonce: tuple[str, str] | None
) -> list[Step]:
    """The sender's lock with the nonce recorded under it (PostgreSQL: one statement; SQLite
    holds its one write lock from BEGIN IMMEDIATE, so only the nonce)."""
    postgres = dialect_name == "postgresql"
    if nonce is None:
        return [Step(_sender_lock(), {"openid": openid})] if postgres else []
    values = {"nonce": nonce[0], "digest": nonce[1], "seen_at": now}
    if postgres:
        return [Step(_locked_nonce_insert(), {**values, "openid": openid})]
    return [Step(_nonce_insert(dialect_name), values)]


def record_handled_and_commit(session: Session, before: Sequence[Step], **values) -> None:
    """Run the `before` steps, insert a push already handled (every column but the id given)
    and commit, in one round trip on PostgreSQL: one Core INSERT, no ORM object. ORM
    changes of the handler are flushed first. Its dedupe key is unique, so a copy recorded
    meanwhile raises IntegrityError and the whole transaction is rolled back."""
    session.flush()
    run_together(session, [*before, Step(_inbound_insert(), values)], commit=True)


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
    """Two index lookups, not one OR: the copy by its unique key, and one push of the sender
    still being handled (an OR of the two may be planned as a scan of the whole table while
    its statistics are young, and a prepared statement keeps that plan)."""
    table = InboundMessage.__table__
    columns = (table.c.dedupe_key, table.c.status, table.c.reply, table.c.late)
    copy = select(*columns).where(table.c.dedupe_key == bindparam("key"))  # unique: one row
    waiting = (
        select(*columns)
        .where(table.c.openid == bindparam("openid"), status_is("processing"))
        .limit(1)
        .subquery()  # SQLite takes a LIMIT inside a UNION only in a subquery
    )
    return union_all(copy, select(*waiting.c))


@cache
def _sender_lock():
    return text("SELECT pg_advisory_xact_lock(hashtextextended(:openid, 0))")


@cache
def _inbound_insert():
    """Every column but the id, each a parameter of its own name."""
    table = InboundMessage.__table__
    return insert(table).values(
        {column.name: bindparam(column.name) for column in table.columns if column.name != "id"}
    )


def first_unfinished(session: Session, openid: str, before_id: int) -> InboundMessage | None:
    """The sender's earliest push still being handled that arrived before `before_id`."""
    statement = (
        select(InboundMessage)
        .where(
            InboundMessage.openid == openid,
            status_is("processing"),
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
        .where(status_is("processing"), InboundMessage.lease_until < now)
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
