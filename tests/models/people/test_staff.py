"""Staff accounts and binding codes, as domain functions on a session."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from models.people.staff import (
    BindingRefused,
    StaffError,
    add_staff,
    bind,
    issue_code,
    unbind,
)
from models.people.tables import BindingCode, Staff

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def db(session, demo):
    return session


def staff(db, name: str) -> Staff:
    return db.scalar(select(Staff).where(Staff.name == name))


def test_add_staff_joins_an_existing_department(db):
    member = add_staff(db, " 吴倩 ", "运行维护部", "handler", NOW, phone="13812345678")
    assert member.id is not None and member.name == "吴倩"
    assert member.department.name == "运行维护部" and member.role == "handler"
    assert member.phone == "13812345678" and member.openid is None


@pytest.mark.parametrize(
    ("name", "department", "role", "message"),
    [
        ("吴倩", "不存在部", "handler", "未知部门"),
        ("吴倩", "运行维护部", "boss", "未知角色"),
        ("王芳", "运行维护部", "handler", "已存在"),
    ],
)
def test_add_staff_refuses_with_a_chinese_reason(db, name, department, role, message):
    with pytest.raises(StaffError, match=message):
        add_staff(db, name, department, role, NOW)
    assert len(db.scalars(select(Staff).where(Staff.name == name)).all()) == (name == "王芳")


def test_a_code_is_six_digits_valid_ten_minutes_and_only_its_hash_is_kept(db):
    issued = issue_code(db, staff(db, "王芳"), NOW)
    assert len(issued.code) == 6 and issued.code.isdigit()
    assert issued.expires_at == NOW + timedelta(minutes=10)
    row = db.scalars(select(BindingCode)).one()
    assert row.code_hash == hashlib.sha256(issued.code.encode()).hexdigest()
    assert issued.code not in (row.code_hash, str(row.id))


def test_bind_ties_the_openid_and_uses_up_the_code(db):
    issued = issue_code(db, staff(db, "王芳"), NOW)
    member = bind(db, issued.code, "o_wang", NOW + timedelta(minutes=9))
    assert member.name == "王芳" and member.openid == "o_wang"
    assert member.bound_at == NOW + timedelta(minutes=9)
    assert db.scalars(select(BindingCode)).one().used_at is not None
    with pytest.raises(BindingRefused) as refused:
        bind(db, issued.code, "o_other", NOW + timedelta(minutes=9))
    assert refused.value.reason == "used"


def test_an_expired_code_is_refused(db):
    issued = issue_code(db, staff(db, "王芳"), NOW - timedelta(minutes=11))
    with pytest.raises(BindingRefused) as refused:
        bind(db, issued.code, "o_wang", NOW)
    assert refused.value.reason == "expired"
    assert staff(db, "王芳").openid is None


def test_an_unknown_code_is_refused(db):
    issue_code(db, staff(db, "王芳"), NOW)
    live = {row.code_hash for row in db.scalars(select(BindingCode))}
    wrong = next(
        code
        for code in ("000000", "111111")
        if hashlib.sha256(code.encode()).hexdigest() not in live
    )
    with pytest.raises(BindingRefused) as refused:
        bind(db, wrong, "o_guess", NOW)
    assert refused.value.reason == "unknown"


def test_a_new_code_voids_the_earlier_unused_one(db):
    wang = staff(db, "王芳")
    first = issue_code(db, wang, NOW)
    second = issue_code(db, wang, NOW + timedelta(minutes=1))
    with pytest.raises(BindingRefused) as refused:
        bind(db, first.code, "o_wang", NOW + timedelta(minutes=2))
    assert refused.value.reason == "expired"
    assert bind(db, second.code, "o_wang", NOW + timedelta(minutes=2)).openid == "o_wang"


def test_an_openid_bound_to_someone_else_is_refused_and_the_code_kept(db):
    bind(db, issue_code(db, staff(db, "王芳"), NOW).code, "o_shared", NOW)
    chen_code = issue_code(db, staff(db, "陈静"), NOW).code
    with pytest.raises(BindingRefused) as refused:
        bind(db, chen_code, "o_shared", NOW)
    assert refused.value.reason == "openid_taken" and refused.value.holder.name == "王芳"
    assert staff(db, "陈静").openid is None
    assert bind(db, chen_code, "o_chen", NOW).openid == "o_chen"


def test_rebinding_moves_the_staff_member_to_the_new_openid(db):
    wang = staff(db, "王芳")
    bind(db, issue_code(db, wang, NOW).code, "o_old_phone", NOW)
    bind(db, issue_code(db, wang, NOW).code, "o_new_phone", NOW)
    assert wang.openid == "o_new_phone"
    assert db.scalar(select(Staff).where(Staff.openid == "o_old_phone")) is None


def test_a_deactivated_holder_lets_go_of_the_openid(db):
    wang = staff(db, "王芳")
    bind(db, issue_code(db, wang, NOW).code, "o_handed_on", NOW)
    wang.active = False
    member = bind(db, issue_code(db, staff(db, "陈静"), NOW).code, "o_handed_on", NOW)
    assert member.name == "陈静" and wang.openid is None


def test_a_deactivated_staff_member_gets_no_code(db):
    wang = staff(db, "王芳")
    wang.active = False
    with pytest.raises(StaffError, match="停用"):
        issue_code(db, wang, NOW)


def test_unbind_releases_the_openid(db):
    wang = staff(db, "王芳")
    bind(db, issue_code(db, wang, NOW).code, "o_wang", NOW)
    unbind(db, wang, NOW)
    assert wang.openid is None and wang.bound_at is None
    assert db.scalar(select(Staff).where(Staff.openid == "o_wang")) is None
