"""Alembic: one head, and the migrations create exactly what the models declare."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from models.migrate import heads
from models.schema import metadata


def test_there_is_exactly_one_head(settings):
    assert len(heads()) == 1


def test_models_and_migrations_agree(runtime):
    with runtime.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    assert differences == []
