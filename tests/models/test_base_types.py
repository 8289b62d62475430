"""`models.base.UTCDateTime`: aware datetimes in, UTC out, stored on SQLite exactly as
SQLAlchemy's own DATETIME stores them (its one-step writer must not drift from it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import DateTime
from sqlalchemy.dialects import postgresql, sqlite

from models.base import UTCDateTime

SHANGHAI = timezone(timedelta(hours=8))


def _writer(type_, dialect):
    return type_.dialect_impl(dialect).bind_processor(dialect)


@pytest.mark.parametrize(
    "value",
    [
        datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),  # no microseconds: still written out
        datetime(2026, 11, 29, 23, 59, 59, 999999, tzinfo=SHANGHAI),
        datetime(999, 12, 31, 16, 0, 0, 7, tzinfo=SHANGHAI),  # year padded to four digits
    ],
)
def test_sqlite_text_is_sqlalchemys_datetime_text_of_the_utc_time(value):
    dialect = sqlite.dialect()
    native = _writer(DateTime(), dialect)(value.astimezone(UTC).replace(tzinfo=None))
    assert _writer(UTCDateTime(), dialect)(value) == native


@pytest.mark.parametrize("dialect", [sqlite.dialect(), postgresql.dialect()])
def test_a_naive_datetime_is_refused_and_none_stays_none(dialect):
    def write(value):
        writer = _writer(UTCDateTime(), dialect)
        return UTCDateTime().process_bind_param(value, dialect) if writer is None else writer(value)

    with pytest.raises(ValueError, match="naive"):
        write(datetime(2026, 1, 1))
    assert write(None) is None
