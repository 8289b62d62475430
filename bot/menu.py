"""The menu of PRODUCT §5 from config.toml, checked against WeChat's limits."""

from __future__ import annotations

from bot.settings import Settings

MAX_TOP = 3
MAX_SUB = 5
TOP_NAME_BYTES = 16
SUB_NAME_BYTES = 60
KEY_BYTES = 128


def menu_payload(settings: Settings) -> dict:
    buttons = []
    for top in settings.menu.buttons:
        entry = {"name": top["name"]}
        if top.get("sub"):
            entry["sub_button"] = [dict(sub) for sub in top["sub"]]
        else:
            entry.update({k: v for k, v in top.items() if k != "name"})
        buttons.append(entry)
    return {"button": buttons}


def check_menu(payload: dict) -> list[str]:
    """Every way the menu breaks WeChat's rules, in Chinese; empty when it is fine."""
    buttons = payload.get("button", [])
    problems = []
    if not 1 <= len(buttons) <= MAX_TOP:
        problems.append(f"一级菜单应为1至{MAX_TOP}个，当前{len(buttons)}个")
    for top in buttons:
        problems += _check_button(top, TOP_NAME_BYTES, is_top=True)
        subs = top.get("sub_button", [])
        if len(subs) > MAX_SUB:
            problems.append(f"「{top.get('name')}」的二级菜单超过{MAX_SUB}个")
        for sub in subs:
            problems += _check_button(sub, SUB_NAME_BYTES, is_top=False)
    return problems


def _check_button(button: dict, name_limit: int, is_top: bool) -> list[str]:
    name = button.get("name", "")
    problems = []
    if not name or len(name.encode()) > name_limit:
        problems.append(f"菜单名「{name}」应为1至{name_limit}字节")
    if is_top and button.get("sub_button"):
        return problems
    kind = button.get("type")
    if kind == "click":
        key = button.get("key", "")
        if not key or len(key.encode()) > KEY_BYTES:
            problems.append(f"菜单「{name}」的 key 应为1至{KEY_BYTES}字节")
    elif kind == "view":
        if not str(button.get("url", "")).startswith(("http://", "https://")):
            problems.append(f"菜单「{name}」的链接无效")
    else:
        problems.append(f"菜单「{name}」的类型「{kind}」不支持（应为 click 或 view）")
    return problems
