"""The stateful peer: a WeRoBot bot with its own SQLite session store (one session write per
message), answering free text the way a helpdesk bot would. Served by gunicorn:

    gunicorn -w 1 --chdir bench/peers werobot_bot:app
"""

from __future__ import annotations

import os

import werobot
from werobot.session.sqlitestorage import SQLiteStorage

robot = werobot.WeRoBot(
    token=os.environ["BENCH_TOKEN"],
    session_storage=SQLiteStorage(os.environ.get("BENCH_SESSION_FILE", "werobot_session.sqlite3")),
)


@robot.text
def answer(message, session):
    session["messages"] = session.get("messages", 0) + 1
    session["last"] = message.content
    return "您好，请点击下方菜单「投诉服务」→「我要投诉」提交投诉，或回复「查询」查看进度。"


app = robot.wsgi
