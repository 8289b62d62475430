"""Every ledger export is in the audit log: from the CLI as 命令行, from the back office as the
person who asked."""

from __future__ import annotations

from sqlalchemy import select

from jobs.ledger import request_export
from models.audit.tables import AuditEntry
from models.people.tables import Staff
from models.ticket.filters import TicketFilter
from tests.factories import invoke, make_ticket


def entries(runtime) -> list[AuditEntry]:
    with runtime.sessions() as session:
        return session.scalars(select(AuditEntry).where(AuditEntry.action == "export")).all()


def test_a_cli_export_is_audited_as_the_cli(runtime, demo, tmp_path):
    make_ticket(runtime)
    result = invoke(runtime, "ledger", "export", "-o", str(tmp_path / "l.xlsx"), "--status", "open")
    assert result.exit_code == 0, result.output
    (entry,) = entries(runtime)
    assert (entry.actor_name, entry.address) == ("命令行", "cli")
    assert "台账导出 1 件" in entry.detail and "open" in entry.detail


def test_a_requested_export_is_audited_as_the_staff_member(runtime, demo):
    with runtime.sessions() as session:
        officer = session.scalar(select(Staff).where(Staff.name == "周敏"))
    export_id = request_export(runtime, TicketFilter(), officer.id)
    (entry,) = entries(runtime)
    assert (entry.actor_staff_id, entry.actor_role) == (officer.id, "officer")
    assert entry.target == f"ledger:{export_id}"
