"""Trying time-based behaviour is easy (issue 9, point 12): `bihuan sweep --at`, the dev
server's clock moved from the simulator, a simulator that shows only what arrived since it
started and names the token setting on 403, and a log line per outbound message, masked."""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from werkzeug.serving import make_server

from bot.app import create_app
from bot.dev.clock import blueprint as dev_clock
from bot.dev.simulate import Simulator
from tests.factories import (
    CUSTOMER,
    HANDLER,
    clock_at,
    file_ticket,
    invoke,
    move,
    notifications_of,
    resolve,
    run_worker,
    seed_bound_staff,
)

ZONE = ZoneInfo("Asia/Shanghai")
MONDAY_10 = datetime(2026, 11, 30, 10, 0, tzinfo=ZONE)


@pytest.fixture
def dev_server(live):
    """`bihuan serve` as `make run` starts it: the app with the dev clock, over a socket."""
    app = create_app(runtime=live)
    app.register_blueprint(dev_clock)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_sweep_at_shows_reminders_and_breaches_without_waiting(live, live_wechat, dev_server):
    seed_bound_staff(live)
    clock_at(live, MONDAY_10)
    number = file_ticket(live_wechat)
    move(live, number, "周敏", "contact")
    move(live, number, "周敏", "assign", handler_name="王芳")
    result = invoke(live, "sweep", "--at", "2026-11-30T11:05", "--url", dev_server)
    assert "2026-11-30T11:05" in result.output and "提醒和超期 1 条" in result.output
    assert [who for _, who, _ in notifications_of(live, "reminder")] == ["王芳"]
    result = invoke(live, "sweep", "--at", "2026-11-30T12:01", "--url", dev_server)
    assert "提醒和超期 1 条" in result.output  # the breach; the 80 % reminder is pointless now
    assert {p["clock"] for _, _, p in notifications_of(live, "breach")} == {"investigate"}


def test_the_call_back_timeout_by_moving_the_clock(live, live_wechat, dev_server):
    seed_bound_staff(live)
    clock_at(live, MONDAY_10)
    number = file_ticket(live_wechat)
    resolve(live, number)
    simulator = Simulator(live.settings, f"{dev_server}/wechat", "o_sim_officer")
    assert "服务器时间现在是 2026-11-30T12:1" in simulator.send_line("/clock +135m")
    assert "提醒和超期" in simulator.send_line("/sweep")
    assert [who for _, who, _ in notifications_of(live, "callback_due")] == ["周敏"]


def test_idle_expiry_by_moving_the_clock_from_the_simulator(live, dev_server):
    simulator = Simulator(live.settings, f"{dev_server}/wechat", "o_sim_idle")
    assert "报装" in simulator.send_line("/click COMPLAINT_NEW")
    assert "偏移 31 分钟" in simulator.send_line("/clock +31m")
    assert "已自动失效" in simulator.send_line("5")
    assert "偏移 0 分钟" in simulator.send_line("/clock reset")
    with pytest.raises(ValueError, match="不认识的时间"):
        simulator.send_line("/clock soon")


def test_the_simulator_prints_only_what_arrived_since_it_started(
    live, live_wechat, fake_wechat, dev_server
):
    seed_bound_staff(live)
    resolve(live, file_ticket(live_wechat, "o_returning"))
    run_worker(live)
    assert fake_wechat.messages("o_returning")  # from an earlier session
    simulator = Simulator(
        live.settings, f"{dev_server}/wechat", "o_returning", fake_url=fake_wechat.url
    )
    assert simulator.inbox() == []
    simulator.send_line("满意")
    run_worker(live)
    assert simulator.inbox() == []  # a reply in the chat, no new push
    assert simulator.send_line("查询")


def test_a_wrong_token_is_named(live, dev_server):
    wrong = live.settings.override(wechat={"token": "not-the-servers"})
    simulator = Simulator(wrong, f"{dev_server}/wechat", "o_sim_403")
    with pytest.raises(ValueError, match="BIHUAN_WECHAT__TOKEN"):
        simulator.send_line("你好")


def test_each_outbound_message_is_logged_with_phones_masked(live, live_wechat, caplog):
    seed_bound_staff(live)
    number = file_ticket(live_wechat)
    resolve(live, number, "已与13912345678的王师傅确认并更换阀门")
    with caplog.at_level(logging.INFO, logger="jobs.delivery"):
        run_worker(live)
    lines = [r.getMessage() for r in caplog.records if r.name == "jobs.delivery"]
    assert any("王芳 [模板消息 assignment]" in line for line in lines)
    (result,) = [line for line in lines if "客服消息 callback_request" in line]
    assert "139****5678" in result and "13912345678" not in caplog.text
    assert CUSTOMER not in result and HANDLER not in " ".join(lines)


def test_two_simulators_started_together_never_share_a_message_id(live, fake_wechat):
    """Else the second customer's 1 would be taken as the first one's, sent twice."""
    first, second = (
        Simulator(live.settings, "http://127.0.0.1:9/wechat", openid, fake_url=fake_wechat.url)
        for openid in ("o_twin_a", "o_twin_b")
    )
    ids = [{next(sim._ids) for _ in range(2000)} for sim in (first, second)]
    assert ids[0].isdisjoint(ids[1])
