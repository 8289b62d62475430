"""`bihuan staff` as an operator uses it: add, list, code."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.cli.staff import format_table
from models.people.tables import BindingCode, Staff
from tests.factories import invoke


def test_add_then_list_shows_the_member_with_a_masked_phone(runtime, demo):
    added = invoke(
        runtime,
        "staff",
        "add",
        "吴倩",
        "--dept",
        "客户服务部",
        "--role",
        "handler",
        "--phone",
        "13812345678",
    )
    assert added.exit_code == 0, added.output
    listing = invoke(runtime, "staff", "list")
    assert listing.exit_code == 0
    line = next(row for row in listing.output.splitlines() if "吴倩" in row)
    assert "客户服务部" in line and "承办人" in line and "未绑定" in line
    assert "138****5678" in line and "13812345678" not in listing.output
    with runtime.sessions() as session:
        member = session.scalar(select(Staff).where(Staff.name == "吴倩"))
    assert member.phone == "13812345678" and line.split()[0] == str(member.id)


def test_list_shows_who_is_bound(runtime, demo):
    with runtime.sessions() as session, session.begin():
        session.scalar(select(Staff).where(Staff.name == "王芳")).openid = "o_wang"
    lines = invoke(runtime, "staff", "list").output.splitlines()
    assert "已绑定" in next(row for row in lines if "王芳" in row)
    assert "未绑定" in next(row for row in lines if "陈静" in row)


def test_add_errors_are_one_chinese_line_and_exit_1(runtime, demo):
    cases = [
        (("吴倩", "--dept", "火星部", "--role", "handler"), "未知部门"),
        (("吴倩", "--dept", "客户服务部", "--role", "boss"), "未知角色"),
        (("王芳", "--dept", "客户服务部", "--role", "handler"), "已存在"),
    ]
    for args, message in cases:
        result = invoke(runtime, "staff", "add", *args)
        assert result.exit_code == 1, args
        assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    with runtime.sessions() as session:
        assert session.scalar(select(Staff).where(Staff.name == "吴倩")) is None


def test_code_prints_six_digits_and_stores_only_the_hash(runtime, demo):
    result = invoke(runtime, "staff", "code", "王芳")
    assert result.exit_code == 0
    code = re.search(r"绑定 (\d{6})", result.output).group(1)
    assert "10分钟" in result.output
    with runtime.sessions() as session:
        row = session.scalars(select(BindingCode)).one()
    assert row.code_hash == hashlib.sha256(code.encode()).hexdigest()
    assert abs(row.expires_at - (datetime.now(UTC) + timedelta(minutes=10))) < timedelta(minutes=1)


def test_a_new_code_voids_the_earlier_one(runtime, demo):
    invoke(runtime, "staff", "code", "王芳")
    invoke(runtime, "staff", "code", "王芳")
    now = datetime.now(UTC)
    with runtime.sessions() as session:
        live = [row for row in session.scalars(select(BindingCode)) if row.expires_at > now]
    assert len(live) == 1


def test_code_for_an_unknown_name_fails_cleanly(runtime, demo):
    result = invoke(runtime, "staff", "code", "无名氏")
    assert result.exit_code == 1 and "未知员工" in result.stderr


def test_table_columns_line_up_with_chinese_text():
    lines = format_table(("编号", "姓名"), [("1", "王芳"), ("123456", "Ann")])
    columns = {
        display_width(line[: line.index(name)])
        for line, name in zip(lines, ("姓名", "王芳", "Ann"), strict=True)
    }
    assert columns == {8}  # "123456" is six columns wide, then two spaces


def display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)
