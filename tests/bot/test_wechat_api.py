"""The outbound WeChat client against the fake WeChat API over real HTTP."""

from __future__ import annotations

import ast
import logging
import threading
import time
import traceback
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

import bot.cli as cli_module
from bot.dev.fake_wechat import FakeWeChat, FakeWeChatServer
from bot.menu import menu_payload
from bot.wechat_api import ApiError, WeChatApi, trim_template_value

APPID = "wxbihuan"
SECRET = "bihuan-secret"
TEMPLATE = "/cgi-bin/message/template/send"
CUSTOM = "/cgi-bin/message/custom/send"
MENU = "/cgi-bin/menu/create"
TOKEN = "/cgi-bin/token"
PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fake() -> FakeWeChat:
    return FakeWeChat(APPID, SECRET)


@pytest.fixture
def server(fake: FakeWeChat) -> Iterator[FakeWeChatServer]:
    with FakeWeChatServer(fake) as running:
        yield running


@pytest.fixture
def wechat_settings(runtime, server: FakeWeChatServer):
    return runtime.settings.override(
        wechat={
            "app_id": APPID,
            "app_secret": SECRET,
            "api_base_url": server.url,
            "api_timeout_seconds": 2.0,
        }
    )


@pytest.fixture
def api(wechat_settings, runtime) -> WeChatApi:
    return WeChatApi(wechat_settings, runtime.redis)


def send(api: WeChatApi, openid: str = "o_user", **data: str) -> str:
    return api.send_template(
        openid,
        "TPL_NEW",
        data or {"thing1": "燃气表漏气"},
        "https://bihuan.test/t/1",
        client_msg_id=uuid.uuid4().hex,
    )


# ----- the calls --------------------------------------------------------------------------


def test_template_message_is_delivered_with_its_fields(api: WeChatApi, fake: FakeWeChat) -> None:
    msgid = api.send_template(
        "o_user",
        "TPL_NEW",
        {"thing1": "燃气表漏气", "time2": "10:30"},
        "https://bihuan.test/t/7",
        client_msg_id="ticket-7-created",
    )
    [delivered] = fake.messages("o_user")
    assert msgid == str(delivered["msgid"])
    assert delivered["body"] == {
        "touser": "o_user",
        "template_id": "TPL_NEW",
        "url": "https://bihuan.test/t/7",
        "client_msg_id": "ticket-7-created",
        "data": {"thing1": {"value": "燃气表漏气"}, "time2": {"value": "10:30"}},
    }


def test_client_msg_id_makes_a_repeated_send_deliver_once(api: WeChatApi, fake: FakeWeChat) -> None:
    args = ("o_user", "TPL_NEW", {"thing1": "催办"}, "https://bihuan.test/t/7")
    first = api.send_template(*args, client_msg_id="ticket-7-reminder-1")
    again = api.send_template(*args, client_msg_id="ticket-7-reminder-1")
    other = api.send_template(*args, client_msg_id="ticket-7-reminder-2")
    assert first == again != other
    assert len(fake.messages("o_user")) == 2


def test_text_message_goes_out_as_a_customer_service_message(
    api: WeChatApi, fake: FakeWeChat
) -> None:
    assert api.send_text("o_user", "您的工单已受理") is None
    [delivered] = fake.messages("o_user")
    assert delivered["kind"] == "custom"
    assert delivered["body"] == {
        "touser": "o_user",
        "msgtype": "text",
        "text": {"content": "您的工单已受理"},
    }


def test_create_menu_publishes_the_payload(api: WeChatApi, fake: FakeWeChat) -> None:
    payload = {"button": [{"type": "click", "name": "我要投诉", "key": "COMPLAINT_NEW"}]}
    api.create_menu(payload)
    assert fake.menu() == payload


def test_token_is_fetched_once_and_shared_by_clients_on_the_same_redis(
    api: WeChatApi, fake: FakeWeChat, wechat_settings, runtime
) -> None:
    send(api)
    WeChatApi(wechat_settings, runtime.redis).send_text("o_user", "另一个进程")
    send(api)
    assert fake.stats()["tokens_issued"] == 1
    assert fake.stats()["messages"] == 3


def test_api_client_takes_its_token_from_the_callable_and_never_fetches_one(
    api: WeChatApi, fake: FakeWeChat, server: FakeWeChatServer
) -> None:
    from bot.wechat import ApiClient

    api.create_menu({"button": [{"type": "click", "name": "查询", "key": "MINE"}]})
    client = ApiClient(APPID, server.url, 2.0, api.tokens.get)
    assert client.call("get", "menu/get")["menu"]["button"][0]["key"] == "MINE"
    with pytest.raises(RuntimeError):
        client.fetch_access_token()
    assert fake.stats()["tokens_issued"] == 1


# ----- errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("errcode", "kind"),
    [
        (-1, "transient"),
        (45011, "rate_limited"),
        (45009, "quota_exhausted"),
        (43004, "not_follower"),
        (43101, "opted_out"),
        (40003, "permanent"),
        (40037, "permanent"),
        (47003, "permanent"),
        (99999, "permanent"),
        (40164, "operations"),
        (48001, "operations"),
    ],
)
def test_template_error_codes_have_their_kind(
    api: WeChatApi, fake: FakeWeChat, errcode: int, kind: str
) -> None:
    fake.fail_next(TEMPLATE, errcode)
    with pytest.raises(ApiError) as raised:
        send(api)
    assert (raised.value.code, raised.value.kind) == (errcode, kind)
    assert fake.messages() == []


@pytest.mark.parametrize("errcode", [45015, 45047])
def test_closed_customer_service_window_asks_for_a_template(
    api: WeChatApi, fake: FakeWeChat, errcode: int
) -> None:
    fake.fail_next(CUSTOM, errcode)
    with pytest.raises(ApiError) as raised:
        api.send_text("o_user", "您好")
    assert raised.value.kind == "fallback_to_template"
    assert fake.messages() == []


@pytest.mark.parametrize("status", [500, 502, 503])
def test_http_server_error_on_a_send_leaves_it_in_doubt(
    api: WeChatApi, fake: FakeWeChat, status: int
) -> None:
    """A gateway's 5xx does not say whether WeChat acted: never repeated blindly."""
    fake.fail_next(TEMPLATE, -1, http_status=status)
    with pytest.raises(ApiError) as raised:
        send(api)
    assert raised.value.kind == "in_doubt" and raised.value.may_have_happened
    assert not raised.value.retry_later


def test_unreachable_wechat_is_transient_and_keeps_the_secret_out_of_the_error(
    runtime, wechat_settings
) -> None:
    closed = FakeWeChatServer(FakeWeChat(APPID, SECRET)).start()
    url = closed.url
    closed.stop()
    api = WeChatApi(wechat_settings.override(wechat={"api_base_url": url}), runtime.redis)
    with pytest.raises(ApiError) as raised:
        api.send_text("o_user", "您好")
    assert raised.value.kind == "transient"
    logged = "".join(traceback.format_exception(raised.value))
    assert "ConnectionError" in logged
    assert SECRET not in logged


@pytest.mark.parametrize(
    ("errcode", "kind"), [(40125, "operations"), (45009, "quota_exhausted"), (-1, "transient")]
)
def test_token_fetch_errors_have_their_kind(
    api: WeChatApi, fake: FakeWeChat, errcode: int, kind: str
) -> None:
    fake.fail_next(TOKEN, errcode)
    with pytest.raises(ApiError) as raised:
        send(api)
    assert (raised.value.code, raised.value.kind) == (errcode, kind)
    assert fake.stats()["calls"].get(TEMPLATE) is None


@pytest.mark.parametrize(
    ("errcode", "alert"),
    [(45009, True), (40164, True), (48001, True), (45011, False), (47003, False)],
)
def test_operations_problems_are_logged_as_alerts(
    api: WeChatApi, fake: FakeWeChat, caplog, errcode: int, alert: bool
) -> None:
    fake.fail_next(TEMPLATE, errcode)
    with caplog.at_level(logging.INFO, logger="bot.wechat_api"), pytest.raises(ApiError):
        send(api)
    alerts = [
        r
        for r in caplog.records
        if r.levelno == logging.ERROR and r.getMessage().startswith("WECHAT OPERATIONS ALERT")
    ]
    assert len(alerts) == (1 if alert else 0)
    if alert:
        assert str(errcode) in alerts[0].getMessage()


# ----- token errors -----------------------------------------------------------------------


def test_expired_token_is_refreshed_once_and_the_call_retried(
    api: WeChatApi, fake: FakeWeChat
) -> None:
    send(api)
    fake.expire_tokens()
    send(api, thing1="第二条")
    assert fake.stats()["tokens_issued"] == 2
    assert fake.stats()["calls"][TEMPLATE] == 3
    assert [m["body"]["data"]["thing1"]["value"] for m in fake.messages()] == [
        "燃气表漏气",
        "第二条",
    ]


@pytest.mark.parametrize("errcode", [40001, 40014, 42001])
def test_each_token_error_code_triggers_one_refresh(
    api: WeChatApi, fake: FakeWeChat, errcode: int
) -> None:
    fake.fail_next(CUSTOM, errcode)
    api.send_text("o_user", "您好")
    assert fake.stats()["tokens_issued"] == 2
    assert len(fake.messages()) == 1


def test_token_refused_twice_is_transient_after_one_refresh(
    api: WeChatApi, fake: FakeWeChat
) -> None:
    fake.fail_next(TEMPLATE, 40001, times=2)
    with pytest.raises(ApiError) as raised:
        send(api)
    assert (raised.value.code, raised.value.kind) == (40001, "transient")
    assert fake.stats()["tokens_issued"] == 2
    assert fake.stats()["calls"][TEMPLATE] == 2


def test_twenty_threads_with_a_stale_token_cause_one_fetch(
    api: WeChatApi, fake: FakeWeChat, wechat_settings, runtime
) -> None:
    send(api)
    fake.expire_tokens()
    start = threading.Barrier(20)
    errors: list[Exception] = []

    def worker(n: int) -> None:
        client = WeChatApi(wechat_settings, runtime.redis)  # as if in its own process
        start.wait()
        try:
            client.send_text(f"o_{n}", "您好")
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert fake.stats()["tokens_issued"] == 2
    assert len(fake.messages()) == 21


# ----- timeouts ---------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "kind"), [(TEMPLATE, "in_doubt"), (TOKEN, "transient")])
def test_slow_wechat_gives_a_quick_error_in_doubt_only_for_the_send(
    runtime, wechat_settings, fake: FakeWeChat, path: str, kind: str
) -> None:
    api = WeChatApi(wechat_settings.override(wechat={"api_timeout_seconds": 0.3}), runtime.redis)
    fake.slow_next(path, 2.0)
    started = time.monotonic()
    with pytest.raises(ApiError) as raised:
        send(api)
    assert time.monotonic() - started < 1.5
    assert raised.value.kind == kind


# ----- template values --------------------------------------------------------------------


def test_long_values_are_trimmed_and_accepted(api: WeChatApi, fake: FakeWeChat) -> None:
    send(
        api,
        thing1="燃气表" * 10,
        character_string2="工单 TS-2024-0001 号" + "9" * 40,
        phrase3="已经处理完毕",
    )
    [delivered] = fake.messages()
    data = {key: item["value"] for key, item in delivered["body"]["data"].items()}
    assert data["thing1"] == ("燃气表" * 10)[:19] + "…"
    assert data["character_string2"] == ("TS-2024-0001" + "9" * 40)[:32]
    assert data["phrase3"] == "已经处理完"


@pytest.mark.parametrize(
    ("key", "value", "trimmed"),
    [
        ("thing1", "一" * 20, "一" * 20),
        ("thing1", "一" * 21, "一" * 19 + "…"),
        ("character_string2", "A" * 33, "A" * 32),
        ("character_string2", "工单 TS001", "TS001"),
        ("phrase3", "已处理。", "已处理"),
        ("number4", "约 12,345.60 元", "12345.60"),
        ("letter5", "abc-DEF", "abcDEF"),
        ("name6", "张" * 12, "张" * 10),
        ("name6", "Zhang San Feng Wang Wu", "Zhang San Feng Wang "),
        ("phone_number7", "0571-8888-8888 转 1234", "0571-8888-8888 转 "),
        ("car_number8", "浙A12345 挂", "浙A12345 "),
        ("keyword1", "一" * 200, "一" * 200),
        ("remark", "备注" * 100, "备注" * 100),
    ],
)
def test_trim_template_value_follows_the_type_of_the_key(
    key: str, value: str, trimmed: str
) -> None:
    assert trim_template_value(key, value) == trimmed


TYPED_KEYS = [
    "thing1",
    "character_string2",
    "phrase3",
    "letter4",
    "symbol5",
    "phone_number6",
    "car_number7",
    "name8",
    "number9",
]


@hypothesis_settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    values=st.lists(st.text(max_size=80), min_size=len(TYPED_KEYS), max_size=len(TYPED_KEYS)),
    digit=st.integers(0, 9),
)
def test_trimmed_values_are_never_refused_by_wechat(
    api: WeChatApi, values: list[str], digit: int
) -> None:
    data = dict(zip(TYPED_KEYS, values, strict=True))
    data["number9"] = f"{digit}{data['number9']}"  # a number needs at least one digit
    send(api, **data)


# ----- bihuan menu push -------------------------------------------------------------------


def invoke(runtime, settings, *args: str) -> Result:
    obj = cli_module.Obj()
    obj._settings, obj._runtime = settings, runtime
    return CliRunner().invoke(cli_module.cli, list(args), obj=obj, catch_exceptions=False)


def test_menu_push_publishes_the_configured_menu(runtime, wechat_settings, fake) -> None:
    result = invoke(runtime, wechat_settings, "menu", "push")
    assert result.exit_code == 0, result.output
    assert "菜单已发布" in result.stdout
    assert fake.menu() == menu_payload(wechat_settings)


def test_menu_push_refuses_a_menu_breaking_the_limits(runtime, wechat_settings, fake) -> None:
    buttons = [{"name": f"菜单{i}", "type": "click", "key": f"K{i}"} for i in range(4)]
    broken = wechat_settings.override(menu={"buttons": buttons})
    result = invoke(runtime, broken, "menu", "push")
    assert result.exit_code == 1
    assert "一级菜单" in result.stderr
    assert "菜单已发布" not in result.output
    assert fake.stats()["calls"] == {}


def test_menu_push_reports_a_wechat_refusal(runtime, wechat_settings, fake) -> None:
    fake.fail_next(MENU, 48001)
    result = invoke(runtime, wechat_settings, "menu", "push")
    assert result.exit_code == 1
    assert "48001" in result.stderr
    assert fake.menu() is None


# ----- architecture -----------------------------------------------------------------------


def test_only_bot_wechat_imports_wechatpy() -> None:
    importers = set()
    for package in ("bot", "handlers", "models", "jobs"):
        for path in (PROJECT / package).rglob("*.py"):
            if _imports_wechatpy(path):
                importers.add(path.relative_to(PROJECT).as_posix())
    assert importers == {"bot/wechat.py"}


def _imports_wechatpy(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import) and any(
            a.name.split(".")[0] == "wechatpy" for a in node.names
        ):
            return True
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "wechatpy":
            return True
    return False
