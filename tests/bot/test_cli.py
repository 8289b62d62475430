"""The command line as an operator uses it."""

from __future__ import annotations

import json

from click.testing import CliRunner
from sqlalchemy import select

import bot.cli as cli_module
from models.people.tables import Department, Staff
from tests.factories import file_complaint


def invoke(runtime, *args):
    obj = cli_module.Obj()
    obj._settings, obj._runtime = runtime.settings, runtime
    return CliRunner().invoke(cli_module.cli, list(args), obj=obj, catch_exceptions=False)


def test_demo_is_idempotent(runtime):
    first = invoke(runtime, "demo")
    second = invoke(runtime, "demo")
    assert first.exit_code == 0 and second.exit_code == 0
    assert "(0 new rows)" in second.output
    with runtime.sessions() as session:
        names = {d.name for d in session.scalars(select(Department))}
        assert "综合管理部" in names and len(names) >= 4
        assert {s.role for s in session.scalars(select(Staff))} >= {
            "officer",
            "leader",
            "handler",
            "dept_head",
            "executive",
        }


def test_ticket_show_json_has_status_deadlines_and_events(runtime, wechat):
    invoke(runtime, "demo")
    confirmation = file_complaint(wechat)[-1]
    number = next(
        word
        for word in confirmation.replace("：", " ").replace("。", " ").split()
        if word.startswith("TS")
    )
    result = invoke(runtime, "ticket", "show", number.lower(), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["number"] == number and data["status"] == "received"
    assert data["appeal_type"] == "维修" and data["source_channel"] == "微信公众号"
    assert isinstance(data["deadlines"], list)
    assert data["events"][0]["kind"] == "received"
    assert data["complained_at"].endswith("+08:00")


def test_ticket_show_unknown_number_fails_cleanly(runtime):
    result = invoke(runtime, "ticket", "show", "TS209901010001")
    assert result.exit_code == 1


def test_menu_show_accepts_the_configured_menu(runtime):
    result = invoke(runtime, "menu", "show")
    assert result.exit_code == 0
    payload = json.loads(result.output[: result.output.rindex("}") + 1])
    keys = [sub.get("key") for top in payload["button"] for sub in top.get("sub_button", [])]
    assert {"COMPLAINT_NEW", "COMPLAINT_MINE", "HOTLINE", "RATE_1", "RATE_5"} <= set(keys)


def test_menu_check_reports_every_limit_broken():
    from bot.menu import check_menu

    too_many = {"button": [{"name": f"菜单{i}", "type": "click", "key": "K"} for i in range(4)]}
    assert any("一级菜单" in p for p in check_menu(too_many))
    long_name = {"button": [{"name": "这是一个非常长的菜单名字", "type": "click", "key": "K"}]}
    assert any("字节" in p for p in check_menu(long_name))
    subs = {
        "button": [
            {
                "name": "服务",
                "sub_button": [{"name": f"子{i}", "type": "click", "key": "K"} for i in range(6)],
            }
        ]
    }
    assert any("二级菜单超过" in p for p in check_menu(subs))
    bad_key = {"button": [{"name": "服务", "type": "click", "key": "K" * 129}]}
    assert any("key" in p for p in check_menu(bad_key))
