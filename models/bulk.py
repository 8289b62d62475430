"""Many rows in one INSERT statement, for the sweeps that write a batch at a time.

On PostgreSQL the rows travel as one JSON document (`INSERT … SELECT FROM
json_to_recordset(…)`): one short statement, whatever the number of rows, parsed and planned
once. Elsewhere (SQLite) they go through SQLAlchemy's executemany, which pages them into
multi-row VALUES.

The table's Python-side scalar defaults are filled in for the columns the rows leave out, as
an ORM or Core insert would; a column with a callable default must be given.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, Table, TypeDecorator, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session


def insert_many(
    session: Session,
    table: Table,
    rows: list[dict[str, Any]],
    *,
    returning: Sequence[str] = (),
    skip_conflicts_on: Sequence[str] = (),
) -> list[Row]:
    """Insert `rows` (dicts with the same keys); with `skip_conflicts_on` (a unique key's
    columns) a row that would break the key is left out (ON CONFLICT DO NOTHING). Returns the
    `returning` columns of the rows inserted (in no promised order)."""
    if not rows:
        return []
    rows = _with_defaults(table, rows)
    if session.get_bind().dialect.name == "postgresql":
        return _recordset(session, table, rows, returning, skip_conflicts_on)
    statement = sqlite.insert(table)
    if skip_conflicts_on:
        statement = statement.on_conflict_do_nothing(index_elements=list(skip_conflicts_on))
    if not returning:
        session.execute(statement, rows)
        return []
    columns = [table.c[name] for name in returning]
    return list(session.execute(statement.returning(*columns), rows))


def _with_defaults(table: Table, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    given = set(rows[0])
    defaults = {
        column.name: column.default.arg
        for column in table.columns
        if column.name not in given and column.default is not None and column.default.is_scalar
    }
    return [{**defaults, **row} for row in rows] if defaults else rows


def _recordset(
    session: Session,
    table: Table,
    rows: list[dict[str, Any]],
    returning: Sequence[str],
    skip_conflicts_on: Sequence[str],
) -> list[Row]:
    """`INSERT … SELECT FROM json_to_recordset(:rows)`: the rows go as one JSON document.
    Encoding it is one C call and PostgreSQL parses it in one pass; arrays per column cost
    psycopg a quoting pass per item and the server a parse per array (4× slower at 300 rows).
    """
    dialect = session.get_bind().dialect
    names = list(rows[0])
    columns = [table.c[name] for name in names]
    records = [{c.name: _bound(c, row[c.name], dialect) for c in columns} for row in rows]
    document = json.dumps(records, default=_encode)
    quoted = [dialect.identifier_preparer.quote(name) for name in names]
    shape = ", ".join(
        f"{name} {column.type.compile(dialect=dialect)}"
        for name, column in zip(quoted, columns, strict=True)
    )
    sql = (
        f"INSERT INTO {table.name} ({', '.join(quoted)}) SELECT {', '.join(quoted)} "
        f"FROM json_to_recordset(CAST(:rows AS json)) AS r({shape})"
    )
    if skip_conflicts_on:
        sql += f" ON CONFLICT ({', '.join(skip_conflicts_on)}) DO NOTHING"
    if returning:
        sql += f" RETURNING {', '.join(returning)}"
    result = session.execute(text(sql), {"rows": document})
    return list(result) if returning else []


def _bound(column, value: Any, dialect) -> Any:
    """The value as its column's type would bind it (a TypeDecorator's conversion, such as
    UTCDateTime's to UTC); a JSON column's value is the JSON itself, as the ORM stores it."""
    if value is not None and isinstance(column.type, TypeDecorator):
        value = column.type.process_bind_param(value, dialect)
    return value


def _encode(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot send {type(value).__name__} in a bulk insert")
