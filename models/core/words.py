"""Words a customer types instead of tapping the menu (pure; shared by the handlers)."""

from __future__ import annotations

START_WORDS = frozenset({"投诉", "我要投诉"})
LIST_WORDS = frozenset({"查询", "我的投诉", "进度"})
HOTLINE_WORDS = frozenset({"电话", "服务电话", "热线"})
HELP_WORDS = frozenset({"帮助", "菜单"})
MENU_NAMES = frozenset({"投诉服务", "服务评价", "燃气业务"})  # the top-level buttons
# Every word that means "the menu", not an answer: the conversation and the comment step
# refuse them as values.
MENU_WORDS = START_WORDS | LIST_WORDS | HOTLINE_WORDS | HELP_WORDS | MENU_NAMES
