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


def test_the_figures_columns_of_existing_tickets_are_filled_from_their_history(tmp_path):
    """0009 fills the first round's deadline and the first and latest call-backs of the
    tickets already in the database from their clocks and timeline."""
    from sqlalchemy import create_engine, text

    from models.migrate import upgrade

    engine = create_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    upgrade(engine, "0005")
    ticket = (
        "INSERT INTO tickets (id, number, status, severity, appeal_type, customer_name, phone, "
        "source_channel, complained_at, address, matter, content, attachments, result, "
        "responsible_person, external_number, gas_account, invalid_reason, money_status, "
        "money_kind, repeat_flag, accountability_flag, escalation_level, rounds, "
        "leader_signed_off, explanation_pending, phone_callback, created_at, updated_at) "
        "VALUES (:id, :number, 'archived', 'general', '维修', '张三', '', '微信公众号', "
        "'2026-11-02 01:00:00', '', '', '', '[]', '', '', '', '', '', 'none', '', 0, 0, 0, 1, "
        "0, 0, 0, '2026-11-02 01:00:00', '2026-11-02 01:00:00')"
    )
    clock = (
        "INSERT INTO deadlines (ticket_id, clock, started_at, due_at, provisional, state) "
        "VALUES (1, 'resolve', '2026-11-02 02:00:00', :due, 0, :state)"
    )
    staff = (
        "INSERT INTO staff (id, name, role, phone, active, created_at) "
        "VALUES (7, '王芳', 'handler', '', 1, '2026-11-01 00:00:00')"
    )
    event = (
        "INSERT INTO ticket_events (ticket_id, kind, actor_role, actor_name, actor_staff_id, "
        "channel, text, from_status, to_status, created_at) "
        "VALUES (1, :kind, 'officer', '', :staff, 'wechat', '', '', '', :at)"
    )
    with engine.begin() as connection:
        connection.execute(text(staff))
        connection.execute(text(ticket), {"id": 1, "number": "TS202611020001"})
        connection.execute(text(ticket), {"id": 2, "number": "TS202611020002"})
        for due, state in (("2026-11-03 02:00:00", "superseded"), ("2026-11-05 02:00:00", "met"),
                           ("2026-11-09 02:00:00", "met")):  # fmt: skip
            connection.execute(text(clock), {"due": due, "state": state})
        for kind, staff, at in (("resolve", 7, "2026-11-04 01:00:00"),
                                ("reopened", None, "2026-11-04 03:00:00"),
                                ("resolve", 7, "2026-11-06 01:00:00"),
                                ("archived", None, "2026-11-06 03:00:00")):  # fmt: skip
            connection.execute(text(event), {"kind": kind, "staff": staff, "at": at})
    upgrade(engine)
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT completion_due_at, first_callback_at, first_callback_satisfied, "
                "first_callback_staff_id, last_callback_at, last_callback_satisfied "
                "FROM tickets ORDER BY id"
            )
        ).all()
    assert [str(value)[:16] if value is not None else None for value in rows[0]] == [
        "2026-11-05 02:00", "2026-11-04 03:00", "0", "7", "2026-11-06 03:00", "1"
    ]  # fmt: skip
    assert str(rows[1][0])[:16] == "2026-11-02 01:00" and rows[1][1] is None
    engine.dispose()
