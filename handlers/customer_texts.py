"""What customers read outside the complaint conversation (Chinese)."""

from __future__ import annotations

WELCOME = (
    "您好，欢迎关注{company}！\n"
    "点击下方菜单：\n"
    "【投诉服务】→「我要投诉」提交投诉，「我的投诉」查看进度，「服务电话」获取客服热线；\n"
    "【服务评价】为我们的服务打星评价；\n"
    "【燃气业务】办理燃气相关业务。\n"
    "也可以直接回复「投诉」开始投诉，回复「查询」查看您的投诉。"
)

GUIDE = (
    "您好，请点击下方菜单「投诉服务」→「我要投诉」提交投诉，或回复：\n"
    "「投诉」开始投诉\n"
    "「查询」查看我的投诉\n"
    "「查询 单号」查看某一件投诉\n"
    "「电话」获取客服热线"
)

HOTLINE = "{company}服务电话：\n{lines}\n如需投诉，也可点击「投诉服务」→「我要投诉」在线提交。"

NO_TICKETS = "您还没有提交过投诉。如需投诉，请点击「投诉服务」→「我要投诉」。"
TICKET_LIST_HEADER = "您最近的投诉（共{count}件）："
TICKET_LIST_FOOTER = "回复「查询 单号」查看详情。"
TICKET_NOT_FOUND = "没有找到单号为 {number} 的投诉，请核对单号。回复「查询」可查看您的全部投诉。"

BUSY = "系统繁忙，请稍后再试。"

AWAITING_ANSWER = "您对处理结果是否满意？请回复「1 {number}」满意，或「2 {number}」不满意。"
REHANDLING = "您对上次的处理结果不满意，正在第 {round} 轮重新处理。"
