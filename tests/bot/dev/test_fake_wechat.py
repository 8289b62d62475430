"""The fake WeChat API, spoken to over real HTTP with requests and with wechatpy."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException

from bot.dev.fake_wechat import FakeWeChat, FakeWeChatServer

APPID = "wxfake"
SECRET = "fakesecret"
TEMPLATE_PATH = "/cgi-bin/message/template/send"
CUSTOM_PATH = "/cgi-bin/message/custom/send"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FakeBackedClient(WeChatClient):
    """wechatpy hard-codes the token URL; fetch it from API_BASE_URL like the other calls."""

    def fetch_access_token(self) -> dict:
        return self._fetch_access_token(
            url=self.API_BASE_URL + "token",
            params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
        )


@pytest.fixture
def fake() -> FakeWeChat:
    return FakeWeChat(APPID, SECRET)


@pytest.fixture
def server(fake: FakeWeChat) -> Iterator[FakeWeChatServer]:
    with FakeWeChatServer(fake) as running:
        yield running


@pytest.fixture
def url(server: FakeWeChatServer) -> str:
    return server.url


@pytest.fixture
def client(url: str) -> WeChatClient:
    wechat = FakeBackedClient(APPID, SECRET, timeout=10)
    wechat.API_BASE_URL = url + "/cgi-bin/"
    return wechat


def get_token(url: str) -> str:
    params = {"grant_type": "client_credential", "appid": APPID, "secret": SECRET}
    answer = requests.get(url + "/cgi-bin/token", params=params, timeout=5).json()
    return answer["access_token"]


def send_template(url: str, token: str, touser: str = "o_user", **extra: object) -> dict:
    body = {"touser": touser, "template_id": "TPL", "data": {"thing1": {"value": "报修"}}}
    body.update(extra)
    answer = requests.post(
        url + TEMPLATE_PATH, params={"access_token": token}, json=body, timeout=10
    )
    return answer.json()


# ----- tokens -----------------------------------------------------------------------------


def test_token_endpoint_issues_a_token_and_counts_it(url: str, fake: FakeWeChat) -> None:
    params = {"grant_type": "client_credential", "appid": APPID, "secret": SECRET}
    answer = requests.get(url + "/cgi-bin/token", params=params, timeout=5).json()
    assert answer["expires_in"] == 7200
    assert len(answer["access_token"]) > 20
    assert fake.stats()["tokens_issued"] == 1


@pytest.mark.parametrize(
    ("params", "errcode"),
    [
        ({"grant_type": "client_credential", "appid": "wxother", "secret": SECRET}, 40013),
        ({"grant_type": "client_credential", "appid": APPID, "secret": "wrong"}, 40125),
        ({"grant_type": "password", "appid": APPID, "secret": SECRET}, 40002),
    ],
)
def test_token_endpoint_refuses_bad_credentials(url: str, params: dict, errcode: int) -> None:
    answer = requests.get(url + "/cgi-bin/token", params=params, timeout=5).json()
    assert answer["errcode"] == errcode
    assert "access_token" not in answer


def test_new_token_invalidates_the_old_one_without_grace(url: str) -> None:
    old = get_token(url)
    new = get_token(url)
    assert send_template(url, old)["errcode"] == 40001
    assert send_template(url, new)["errcode"] == 0


def test_old_token_keeps_working_during_the_grace_period() -> None:
    clock = FakeClock()
    fake = FakeWeChat(APPID, SECRET, token_grace_seconds=300, clock=clock)
    with FakeWeChatServer(fake) as server:
        old = get_token(server.url)
        get_token(server.url)
        clock.now += 299
        assert send_template(server.url, old)["errcode"] == 0
        clock.now += 2
        assert send_template(server.url, old)["errcode"] == 40001


def test_token_expires_after_its_lifetime() -> None:
    clock = FakeClock()
    fake = FakeWeChat(APPID, SECRET, clock=clock)
    with FakeWeChatServer(fake) as server:
        token = get_token(server.url)
        clock.now += 7199
        assert send_template(server.url, token)["errcode"] == 0
        clock.now += 1
        assert send_template(server.url, token)["errcode"] == 40001


def test_stable_token_is_reused_until_force_refresh(url: str, fake: FakeWeChat) -> None:
    body = {"grant_type": "client_credential", "appid": APPID, "secret": SECRET}
    first = requests.post(url + "/cgi-bin/stable_token", json=body, timeout=5).json()
    again = requests.post(url + "/cgi-bin/stable_token", json=body, timeout=5).json()
    forced = requests.post(
        url + "/cgi-bin/stable_token", json={**body, "force_refresh": True}, timeout=5
    ).json()
    assert again["access_token"] == first["access_token"]
    assert forced["access_token"] != first["access_token"]
    assert forced["expires_in"] == 7200
    assert fake.stats()["tokens_issued"] == 2
    assert send_template(url, forced["access_token"])["errcode"] == 0
    assert send_template(url, first["access_token"])["errcode"] == 40001


def test_stable_token_and_plain_token_do_not_invalidate_each_other(url: str) -> None:
    body = {"grant_type": "client_credential", "appid": APPID, "secret": SECRET}
    stable = requests.post(url + "/cgi-bin/stable_token", json=body, timeout=5).json()
    plain = get_token(url)
    assert send_template(url, stable["access_token"])["errcode"] == 0
    assert send_template(url, plain)["errcode"] == 0


def test_unknown_or_missing_token_is_refused(url: str, fake: FakeWeChat) -> None:
    assert send_template(url, "not-a-token")["errcode"] == 40001
    missing = requests.post(url + TEMPLATE_PATH, json={"touser": "o"}, timeout=5).json()
    assert missing["errcode"] == 41001
    assert fake.messages() == []


def test_expire_tokens_kills_old_tokens_and_new_ones_work(url: str) -> None:
    old = get_token(url)
    assert requests.post(url + "/_fake/expire_tokens", timeout=5).json()["errcode"] == 0
    assert send_template(url, old)["errcode"] == 40001
    assert send_template(url, get_token(url))["errcode"] == 0


# ----- wechatpy against the fake ----------------------------------------------------------


def test_wechatpy_fetches_a_token_from_the_fake(client: WeChatClient, fake: FakeWeChat) -> None:
    token = client.access_token
    assert token
    assert client.access_token == token
    assert fake.stats()["tokens_issued"] == 1


def test_wechatpy_sends_a_template_message(client: WeChatClient, fake: FakeWeChat) -> None:
    data = {"thing1": {"value": "空调不制冷"}, "character_string2": {"value": "BH-0001"}}
    answer = client.message.send_template("o_user", "TPL_NEW", data, url="https://x.test/t/1")
    assert answer["errcode"] == 0
    [delivered] = fake.messages("o_user")
    assert delivered["kind"] == "template"
    assert delivered["msgid"] == answer["msgid"]
    assert delivered["body"]["data"] == data
    assert delivered["body"]["url"] == "https://x.test/t/1"


def test_wechatpy_sends_a_custom_message(client: WeChatClient, fake: FakeWeChat) -> None:
    assert client.message.send_text("o_user", "您好，已收到您的投诉")["errcode"] == 0
    [delivered] = fake.messages()
    assert delivered["kind"] == "custom"
    assert delivered["touser"] == "o_user"
    assert delivered["body"]["text"] == {"content": "您好，已收到您的投诉"}


def test_wechatpy_creates_and_reads_the_menu(client: WeChatClient, fake: FakeWeChat) -> None:
    assert client.menu.get() is None
    menu = {
        "button": [
            {"type": "click", "name": "我要投诉", "key": "COMPLAIN"},
            {"name": "查询", "sub_button": [{"type": "click", "name": "我的工单", "key": "MINE"}]},
        ]
    }
    assert client.menu.create(menu)["errcode"] == 0
    assert client.menu.get() == {"menu": menu}
    assert fake.menu() == menu


def test_menu_create_keeps_only_the_last_menu(client: WeChatClient) -> None:
    client.menu.create({"button": [{"type": "click", "name": "旧", "key": "OLD"}]})
    client.menu.create({"button": [{"type": "click", "name": "新", "key": "NEW"}]})
    assert client.menu.get()["menu"]["button"][0]["key"] == "NEW"


@pytest.mark.parametrize(
    ("buttons", "errcode"),
    [
        ([{"type": "click", "name": f"b{i}", "key": f"K{i}"} for i in range(4)], 40016),
        ([{"type": "click", "name": "投诉投诉投诉", "key": "K"}], 40018),
        ([{"type": "click", "name": "b", "key": "K" * 129}], 40019),
        ([{"name": "m", "sub_button": [{"type": "click", "name": "s", "key": "K"}] * 6}], 40023),
    ],
)
def test_menu_breaking_size_rules_is_refused(
    client: WeChatClient, buttons: list, errcode: int
) -> None:
    with pytest.raises(WeChatClientException) as raised:
        client.menu.create({"button": buttons})
    assert raised.value.errcode == errcode
    assert client.menu.get() is None


def test_wechatpy_refreshes_after_expire_tokens(client: WeChatClient, fake: FakeWeChat) -> None:
    client.message.send_text("o_user", "一")
    fake.expire_tokens()
    assert client.message.send_text("o_user", "二")["errcode"] == 0
    assert fake.stats()["tokens_issued"] == 2
    assert [m["body"]["text"]["content"] for m in fake.messages()] == ["一", "二"]


# ----- template messages ------------------------------------------------------------------


def test_client_msg_id_dedupes_per_openid(url: str, fake: FakeWeChat) -> None:
    token = get_token(url)
    first = send_template(url, token, client_msg_id="ticket-7-reminder")
    again = send_template(url, token, client_msg_id="ticket-7-reminder")
    other_user = send_template(url, token, touser="o_other", client_msg_id="ticket-7-reminder")
    assert first["errcode"] == again["errcode"] == 0
    assert again["msgid"] == first["msgid"]
    assert other_user["msgid"] != first["msgid"]
    assert len(fake.messages("o_user")) == 1
    assert len(fake.messages("o_other")) == 1


def test_client_msg_id_dedupe_window_ends_after_ten_minutes() -> None:
    clock = FakeClock()
    fake = FakeWeChat(APPID, SECRET, clock=clock)
    with FakeWeChatServer(fake) as server:
        token = get_token(server.url)
        first = send_template(server.url, token, client_msg_id="c1")
        clock.now += 601
        later = send_template(server.url, token, client_msg_id="c1")
    assert later["msgid"] != first["msgid"]
    assert len(fake.messages()) == 2


def test_messages_without_client_msg_id_are_all_delivered(url: str, fake: FakeWeChat) -> None:
    token = get_token(url)
    answers = [send_template(url, token) for _ in range(2)]
    assert answers[0]["msgid"] != answers[1]["msgid"]
    assert len(fake.messages()) == 2


@pytest.mark.parametrize(
    ("key", "value", "errcode"),
    [
        ("thing1", "一" * 20, 0),
        ("thing1", "一" * 21, 47003),
        ("character_string2", "A" * 32, 0),
        ("character_string2", "A" * 33, 47003),
        ("character_string2", "工单一", 47003),
        ("phrase3", "已处理", 0),
        ("phrase3", "已经处理完毕了", 47003),
        ("keyword1", "一" * 200, 0),
    ],
)
def test_template_field_types_are_checked(url: str, key: str, value: str, errcode: int) -> None:
    answer = send_template(url, get_token(url), data={key: {"value": value}})
    assert answer["errcode"] == errcode


def test_template_without_touser_or_template_id_is_refused(url: str, fake: FakeWeChat) -> None:
    token = get_token(url)
    assert send_template(url, token, touser="")["errcode"] == 40003
    assert send_template(url, token, template_id="")["errcode"] == 40037
    assert fake.messages() == []


def test_malformed_json_body_is_a_data_format_error(url: str) -> None:
    answer = requests.post(
        url + TEMPLATE_PATH, params={"access_token": get_token(url)}, data=b"{nope", timeout=5
    )
    assert answer.json()["errcode"] == 47001


# ----- control endpoints ------------------------------------------------------------------


def test_fake_messages_filters_by_touser_and_since(url: str) -> None:
    token = get_token(url)
    for touser in ("o_a", "o_b", "o_a"):
        send_template(url, token, touser=touser)
    all_messages = requests.get(url + "/_fake/messages", timeout=5).json()
    for_a = requests.get(url + "/_fake/messages", params={"touser": "o_a"}, timeout=5).json()
    after_first = requests.get(
        url + "/_fake/messages", params={"touser": "o_a", "since": for_a[0]["seq"]}, timeout=5
    ).json()
    assert [m["touser"] for m in all_messages] == ["o_a", "o_b", "o_a"]
    assert [m["seq"] for m in all_messages] == sorted(m["seq"] for m in all_messages)
    assert [m["seq"] for m in for_a] == [all_messages[0]["seq"], all_messages[2]["seq"]]
    assert after_first == [for_a[1]]


def test_fake_messages_rejects_a_bad_since(url: str) -> None:
    answer = requests.get(url + "/_fake/messages", params={"since": "x"}, timeout=5)
    assert answer.status_code == 400


@pytest.mark.parametrize("errcode", [45015, 40001, -1])
def test_injected_error_is_answered_exactly_times_times(url: str, errcode: int) -> None:
    token = get_token(url)
    rule = {"path": TEMPLATE_PATH, "errcode": errcode, "times": 2}
    assert requests.post(url + "/_fake/fail", json=rule, timeout=5).status_code == 200
    answers = [send_template(url, token)["errcode"] for _ in range(3)]
    assert answers == [errcode, errcode, 0]


def test_injected_error_only_hits_its_path(url: str, fake: FakeWeChat) -> None:
    token = get_token(url)
    fake.fail_next(CUSTOM_PATH, 45015)
    assert send_template(url, token)["errcode"] == 0
    custom = {"touser": "o_user", "msgtype": "text", "text": {"content": "你好"}}
    params = {"access_token": token}
    first = requests.post(url + CUSTOM_PATH, params=params, json=custom, timeout=5).json()
    second = requests.post(url + CUSTOM_PATH, params=params, json=custom, timeout=5).json()
    assert (first["errcode"], second["errcode"]) == (45015, 0)
    assert [m["kind"] for m in fake.messages()] == ["template", "custom"]


def test_injected_http_500_is_a_server_error(url: str, fake: FakeWeChat) -> None:
    token = get_token(url)
    fake.fail_next(TEMPLATE_PATH, -1, times=1, http_status=500)
    body = {"touser": "o_user", "template_id": "TPL", "data": {}}
    params = {"access_token": token}
    failed = requests.post(url + TEMPLATE_PATH, params=params, json=body, timeout=5)
    ok = requests.post(url + TEMPLATE_PATH, params=params, json=body, timeout=5)
    assert failed.status_code == 500
    assert ok.status_code == 200
    assert len(fake.messages()) == 1


def test_wechatpy_sees_injected_errors(client: WeChatClient, fake: FakeWeChat) -> None:
    fake.fail_next(CUSTOM_PATH, 45015)
    fake.fail_next(CUSTOM_PATH, -1, http_status=502)
    with pytest.raises(WeChatClientException) as window_closed:
        client.message.send_text("o_user", "一")
    with pytest.raises(WeChatClientException) as bad_gateway:
        client.message.send_text("o_user", "二")
    assert window_closed.value.errcode == 45015
    assert bad_gateway.value.response.status_code == 502
    assert client.message.send_text("o_user", "三")["errcode"] == 0
    assert [m["body"]["text"]["content"] for m in fake.messages()] == ["三"]


def test_wechatpy_retries_an_injected_40001_with_a_new_token(
    client: WeChatClient, fake: FakeWeChat
) -> None:
    client.access_token  # noqa: B018 - fetch the first token
    fake.fail_next(TEMPLATE_PATH, 40001)
    answer = client.message.send_template("o_user", "TPL", {"thing1": {"value": "x"}})
    assert answer["errcode"] == 0
    assert fake.stats()["tokens_issued"] == 2
    assert len(fake.messages()) == 1


def test_fail_rejects_a_malformed_rule(url: str) -> None:
    no_errcode = requests.post(url + "/_fake/fail", json={"path": TEMPLATE_PATH}, timeout=5)
    bad_path = requests.post(url + "/_fake/fail", json={"path": "x", "errcode": 1}, timeout=5)
    assert no_errcode.status_code == bad_path.status_code == 400


def test_slow_answers_exactly_times_times(url: str) -> None:
    token = get_token(url)
    rule = {"path": TEMPLATE_PATH, "seconds": 0.5, "times": 1}
    assert requests.post(url + "/_fake/slow", json=rule, timeout=5).status_code == 200
    durations = []
    for _ in range(2):
        started = time.monotonic()
        assert send_template(url, token)["errcode"] == 0
        durations.append(time.monotonic() - started)
    assert durations[0] >= 0.5
    assert durations[1] < 0.4


def test_slow_answer_trips_a_client_timeout(url: str, fake: FakeWeChat) -> None:
    token = get_token(url)
    fake.slow_next(TEMPLATE_PATH, 1.0)
    with pytest.raises(requests.Timeout):
        requests.post(
            url + TEMPLATE_PATH,
            params={"access_token": token},
            json={"touser": "o", "template_id": "T"},
            timeout=0.2,
        )


def test_slow_call_does_not_block_other_calls(url: str, fake: FakeWeChat) -> None:
    token = get_token(url)
    fake.slow_next(TEMPLATE_PATH, 1.0)
    slow = threading.Thread(target=send_template, args=(url, token))
    slow.start()
    time.sleep(0.1)
    started = time.monotonic()
    assert requests.get(url + "/_fake/stats", timeout=5).status_code == 200
    assert time.monotonic() - started < 0.5
    slow.join()


def test_stats_counts_tokens_and_calls_per_path(url: str) -> None:
    token = get_token(url)
    send_template(url, token)
    send_template(url, token)
    requests.get(url + "/cgi-bin/menu/get", params={"access_token": token}, timeout=5)
    stats = requests.get(url + "/_fake/stats", timeout=5).json()
    assert stats["tokens_issued"] == 1
    assert stats["calls"] == {"/cgi-bin/token": 1, TEMPLATE_PATH: 2, "/cgi-bin/menu/get": 1}
    assert stats["messages"] == 2


def test_reset_forgets_everything(url: str, fake: FakeWeChat) -> None:
    token = get_token(url)
    send_template(url, token)
    fake.fail_next(TEMPLATE_PATH, 45009)
    assert requests.post(url + "/_fake/reset", timeout=5).json()["errcode"] == 0
    assert fake.stats() == {"tokens_issued": 0, "calls": {}, "messages": 0}
    assert send_template(url, token)["errcode"] == 40001
    assert send_template(url, get_token(url))["errcode"] == 0


def test_concurrent_sends_from_ten_threads_are_all_recorded(url: str, fake: FakeWeChat) -> None:
    token = get_token(url)
    answers: list[dict] = []

    def send(worker: int) -> None:
        for n in range(5):
            answers.append(send_template(url, token, touser=f"o_{worker}", client_msg_id=str(n)))

    workers = [threading.Thread(target=send, args=(i,)) for i in range(10)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    delivered = fake.messages()
    assert all(answer["errcode"] == 0 for answer in answers)
    assert len({answer["msgid"] for answer in answers}) == 50
    assert len(delivered) == 50
    assert [m["seq"] for m in delivered] == list(range(1, 51))
    assert fake.stats()["calls"][TEMPLATE_PATH] == 50


def test_concurrent_duplicates_deliver_once(url: str, fake: FakeWeChat) -> None:
    token = get_token(url)
    answers: list[dict] = []
    workers = [
        threading.Thread(
            target=lambda: answers.append(send_template(url, token, client_msg_id="same"))
        )
        for _ in range(10)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert len({answer["msgid"] for answer in answers}) == 1
    assert len(fake.messages()) == 1


# ----- lifecycle --------------------------------------------------------------------------


def test_server_stop_frees_the_port_and_url_needs_a_running_server() -> None:
    server = FakeWeChatServer(FakeWeChat()).start()
    url = server.url
    server.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(url + "/_fake/stats", timeout=1)
    with pytest.raises(RuntimeError):
        _ = server.url


def test_two_fakes_keep_separate_state() -> None:
    with FakeWeChatServer(FakeWeChat()) as one, FakeWeChatServer(FakeWeChat()) as two:
        send_template(one.url, get_token(one.url))
        assert one.fake.stats()["messages"] == 1
        assert two.fake.stats()["messages"] == 0


def test_module_does_not_import_wechatpy() -> None:
    code = "import sys, bot.dev.fake_wechat; print('wechatpy' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[3],
    )
    assert result.stdout.strip() == "False"
