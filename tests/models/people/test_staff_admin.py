"""Staff and departments as the office manages them: edit, deactivate, designate, unbind —
each audited, and a deactivated account's WeChat binding stops at once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text

from bot.db import transaction
from models.audit.log import Who
from models.audit.tables import AuditEntry
from models.notification.tables import Notification
from models.people import departments, designations
from models.people.staff import (
    StaffError,
    deactivate,
    edit_staff,
    issue_code,
    staff_by_name,
)
from models.rating.tables import RatingCallback
from tests.factories import audit_actions, invoke, make_ticket, rate_ticket

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
OFFICE = Who(name="周敏", role="officer", address="10.0.0.7", staff_id=None)


def test_editing_a_member_records_each_change_and_the_role_on_its_own(runtime, demo):
    with transaction(runtime.sessions) as session:
        wang = staff_by_name(session, "王芳")
        changes = edit_staff(
            session,
            wang,
            OFFICE,
            NOW,
            department_name="客户服务部",
            role="dept_head",
            phone="13912345678",
        )
    assert changes == [
        "部门：运行维护部 → 客户服务部",
        "手机：— → 139****5678",
        "角色：承办人 → 部门负责人",
    ]
    with runtime.sessions() as session:
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(e.action, e.address) for e in entries] == [
        ("staff_edit", "10.0.0.7"),
        ("staff_role", "10.0.0.7"),
    ]
    assert "13912345678" not in entries[0].detail


def test_a_renamed_member_cannot_take_a_name_in_use(runtime, demo):
    with transaction(runtime.sessions) as session, pytest.raises(StaffError, match="已存在"):
        edit_staff(session, staff_by_name(session, "王芳"), OFFICE, NOW, name="陈静")


def test_a_deactivated_member_is_a_customer_from_the_next_message(wechat, runtime, demo):
    with transaction(runtime.sessions) as session:
        staff_by_name(session, "周敏").openid = "o_zhou"
    assert "待办" in wechat.text("o_zhou", "帮助")
    with transaction(runtime.sessions) as session:
        deactivate(session, staff_by_name(session, "周敏"), OFFICE, NOW)
    reply = wechat.text("o_zhou", "待办")
    assert "投诉服务" in reply and "待办" not in reply  # the customer's menu hint
    with runtime.sessions() as session:
        member = staff_by_name(session, "周敏")
        assert member.openid is None and member.active is False
    assert audit_actions(runtime)[-1][0] == "staff_deactivate"


def test_a_code_issued_before_deactivation_no_longer_binds(wechat, runtime, demo):
    with transaction(runtime.sessions) as session:
        code = issue_code(session, staff_by_name(session, "王芳"), datetime.now(UTC)).code
    with transaction(runtime.sessions) as session:
        deactivate(session, staff_by_name(session, "王芳"), OFFICE, datetime.now(UTC))
    reply = wechat.text("o_wang", f"绑定 {code}")
    assert "绑定成功" not in reply
    with runtime.sessions() as session:
        assert staff_by_name(session, "王芳").openid is None


def test_binding_and_unbinding_in_wechat_are_audited_as_the_member(wechat, runtime, demo):
    with transaction(runtime.sessions) as session:
        code = issue_code(session, staff_by_name(session, "王芳"), datetime.now(UTC)).code
    assert "绑定成功" in wechat.text("o_wang", f"绑定 {code}")
    assert "已解除" in wechat.text("o_wang", "解绑")
    assert audit_actions(runtime) == [
        ("binding_code", "系统", "system"),
        ("bind", "王芳", "wechat"),
        ("unbind", "王芳", "wechat"),
    ]


def test_the_designated_call_back_staff_gets_low_ratings_instead_of_the_configured_one(
    runtime, demo
):
    with transaction(runtime.sessions) as session:
        designations.designate(
            session, "callback_staff", staff_by_name(session, "刘洋"), OFFICE, NOW
        )
    rate_ticket(runtime, make_ticket(runtime, status="archived"), 2)
    with runtime.sessions() as session:
        task = session.scalars(select(RatingCallback)).one()
        assert task.staff_id == staff_by_name(session, "刘洋").id


def test_the_officer_on_duty_alone_receives_the_officers_pushes(runtime, demo):
    with transaction(runtime.sessions) as session:
        second = staff_by_name(session, "刘洋")
        edit_staff(session, second, OFFICE, NOW, role="officer")
    rate_ticket(runtime, make_ticket(runtime, status="archived"), 1)
    with runtime.sessions() as session:
        before = set(
            session.scalars(
                select(Notification.staff_id).where(Notification.kind == "rating_notice")
            )
        )
        assert before == {staff_by_name(session, "周敏").id, staff_by_name(session, "刘洋").id}
    with transaction(runtime.sessions) as session:
        designations.designate(session, "officer", staff_by_name(session, "刘洋"), OFFICE, NOW)
    rate_ticket(runtime, make_ticket(runtime, status="archived"), 1)
    with runtime.sessions() as session:
        latest = session.scalars(
            select(Notification)
            .where(Notification.kind == "rating_notice")
            .order_by(Notification.id.desc())
        ).first()
        assert latest.staff_id == staff_by_name(session, "刘洋").id
        later = session.scalars(select(Notification).where(Notification.id > latest.id)).all()
        assert staff_by_name(session, "周敏").id not in {row.staff_id for row in later}


def test_only_an_officer_can_be_the_officer_on_duty(runtime, demo):
    with transaction(runtime.sessions) as session, pytest.raises(StaffError, match="投诉负责人"):
        designations.designate(session, "officer", staff_by_name(session, "王芳"), OFFICE, NOW)


def test_the_general_department_keeps_its_configured_name(runtime, demo):
    with transaction(runtime.sessions) as session:
        general = departments.by_name(session, "综合管理部")
        with pytest.raises(StaffError, match="workflow.general_department"):
            departments.rename_department(session, general, "办公室", OFFICE, NOW)
        added = departments.add_department(session, "计量中心", OFFICE, NOW)
        departments.rename_department(session, added, "计量检定中心", OFFICE, NOW)
    with runtime.sessions() as session:
        counts = {d.name: (active, bound) for d, active, bound in departments.with_counts(session)}
    assert counts["计量检定中心"] == (0, 0) and counts["运行维护部"] == (2, 0)


def test_the_cli_works_on_the_same_functions_and_is_audited_as_the_cli(runtime, demo):
    assert invoke(runtime, "staff", "edit", "王芳", "--role", "dept_head").exit_code == 0
    assert invoke(runtime, "staff", "designate", "callback_staff", "王芳").exit_code == 0
    deactivated = invoke(runtime, "staff", "deactivate", "王芳")
    assert "已停用 王芳" in deactivated.output
    again = invoke(runtime, "staff", "deactivate", "王芳")
    assert again.exit_code == 1 and "已停用" in again.output
    assert invoke(runtime, "staff", "activate", "王芳").exit_code == 0
    unbound = invoke(runtime, "staff", "unbind", "王芳")
    assert unbound.exit_code == 1 and "未绑定微信" in unbound.output
    actions = audit_actions(runtime)
    assert [a[0] for a in actions] == [
        "staff_role",
        "designation",
        "staff_deactivate",
        "staff_activate",
    ]
    assert {a[2] for a in actions} == {"cli"}
    with runtime.sessions() as session:
        assert designations.designated(session, "callback_staff") is None  # dropped on 停用


def test_the_audit_log_refuses_to_be_changed(runtime, demo):
    with transaction(runtime.sessions) as session:
        designations.clear(session, "officer", OFFICE, NOW)  # nothing set: nothing written
        designations.designate(session, "officer", staff_by_name(session, "周敏"), OFFICE, NOW)
    with pytest.raises(Exception, match="append-only"):
        with runtime.engine.begin() as connection:
            connection.execute(text("UPDATE audit_log SET detail = 'changed'"))
    if runtime.engine.dialect.name == "postgresql":
        with pytest.raises(Exception, match="append-only"):
            with runtime.engine.begin() as connection:
                connection.execute(text("DELETE FROM audit_log"))
    assert len(audit_actions(runtime)) == 1
