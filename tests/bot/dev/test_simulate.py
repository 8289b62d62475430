"""`bihuan simulate` against a server over a real socket, plain and encrypted."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from bot.app import create_app
from bot.dev.simulate import Simulator
from bot.runtime import build_runtime
from models.ticket.tables import Ticket

AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


@pytest.fixture
def serve(runtime):
    servers = []

    def start(settings):
        app = create_app(runtime=build_runtime(settings, redis=runtime.redis))
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}/wechat"

    yield start
    for server in servers:
        server.shutdown()


@pytest.mark.parametrize("encrypted", [False, True])
def test_a_whole_complaint_typed_into_the_simulator(runtime, serve, encrypted):
    settings = runtime.settings
    if encrypted:
        settings = settings.override(
            wechat={"app_id": "wxsim", "encoding_aes_key": AES_KEY, "mode": "safe"}
        )
    simulator = Simulator(settings, serve(settings), "o_sim")
    assert "欢迎" in simulator.send_line("/subscribe")
    assert "报装" in simulator.send_line("/click COMPLAINT_NEW")
    simulator.send_line("维修")
    simulator.send_line("/image")
    simulator.send_line("热水器点不着")
    simulator.send_line("/location 32.9 115.8 阜阳市某小区")
    simulator.send_line("赵六")
    simulator.send_line("13800138000")
    reply = simulator.send_line("1")
    with runtime.sessions() as session:
        ticket = session.scalars(select(Ticket)).one()
    assert ticket.number in reply and ticket.address == "阜阳市某小区"
    assert ticket.number in simulator.send_line("查询")


def test_unknown_simulator_command_is_explained(runtime, serve):
    simulator = Simulator(runtime.settings, serve(runtime.settings), "o_sim2")
    with pytest.raises(ValueError, match="/help"):
        simulator.send_line("/dance")
