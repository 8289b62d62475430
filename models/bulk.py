"""Many rows in one INSERT statement, for the sweeps that write a batch at a time.

On PostgreSQL the rows travel as one array per column (`INSERT … SELECT FROM unnest(…)`):
one short statement, whatever the number of rows, parsed and planned once. Elsewhere (SQLite)
they go through SQLAlchemy's executemany, which pages them into multi-row VALUES.

The table's Python-side scalar defaults are filled in for the columns the rows leave out, as
an ORM or Core insert would; a column with a callable default must be given.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import JSON, Row, Table, Text, bindparam, text
from sqlalchemy.dialects import postgresql, sqlite
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
        return _unnest(session, table, rows, returning, skip_conflicts_on)
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


def _unnest(
    session: Session,
    table: Table,
    rows: list[dict[str, Any]],
    returning: Sequence[str],
    skip_conflicts_on: Sequence[str],
) -> list[Row]:
    dialect = session.get_bind().dialect
    names = list(rows[0])
    arrays, parameters = [], []
    for index, name in enumerate(names):
        column = table.c[name]
        values = [row[name] for row in rows]
        if isinstance(column.type, JSON):
            serialize = dialect._json_serializer or json.dumps
            values = [None if value is None else serialize(value) for value in values]
        cast = column.type.compile(dialect=dialect)
        arrays.append(f"CAST(:c{index} AS {cast}[])")
        parameters.append(bindparam(f"c{index}", values, type_=postgresql.ARRAY(_raw(column))))
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) SELECT * FROM unnest({', '.join(arrays)})"
    if skip_conflicts_on:
        sql += f" ON CONFLICT ({', '.join(skip_conflicts_on)}) DO NOTHING"
    if returning:
        sql += f" RETURNING {', '.join(returning)}"
    statement = text(sql).bindparams(*parameters)
    result = session.execute(statement)
    return list(result) if returning else []


def _raw(column):
    """The type the array's items are sent as: JSON goes as text (serialized above)."""
    return Text() if isinstance(column.type, JSON) else column.type
