"""The webhook over HTTP: signatures, AES modes, hostile bodies, de-duplication, limits,
freshness (timestamp and nonce) and the configured mode."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from bot import wechat
from bot.app import create_app
from bot.runtime import build_runtime
from bot.webhook import MAX_REPLY_BYTES, clip_reply
from models.inbound import InboundMessage
from models.notification.tables import Notification
from tests.concurrency import run_in_threads
from tests.wechat_client import WeChatTestClient

# Tencent's official safe-mode test vector (WXBizMsgCrypt sample).
VECTOR_TOKEN = "spamtest"
VECTOR_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
VECTOR_APPID = "wx2c2769f8efd9abc2"
VECTOR_TIMESTAMP = "1409735669"
VECTOR_NONCE = "1320562132"
VECTOR_MSG_SIGNATURE = "5d197aaffba7e9b25a30732f161a50dee96bd5fa"
VECTOR_ENCRYPT = (
    "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8P"
    "GHQHFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa"
    "+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8"
    "tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9Fy"
    "JvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE="
)
OTHER_KEY = "ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210abcdefg"
# The official vector was signed in 2014: its tests accept a timestamp that old.
VECTOR_SKEW = 20 * 365 * 86400


def aes_setup(runtime, current=VECTOR_KEY, previous="", token=VECTOR_TOKEN, mode="safe"):
    settings = runtime.settings.override(
        wechat={
            "token": token,
            "app_id": VECTOR_APPID,
            "encoding_aes_key": current,
            "encoding_aes_key_previous": previous,
            "mode": mode,
            "max_clock_skew_seconds": VECTOR_SKEW,
        }
    )
    aes_runtime = build_runtime(settings, redis=runtime.redis)
    return create_app(runtime=aes_runtime).test_client(), settings


# --- URL verification -----------------------------------------------------------------------


def test_get_with_valid_signature_returns_echostr(client, settings):
    token = settings.wechat.token
    params = {
        "timestamp": "1",
        "nonce": "n",
        "echostr": "hello-echo",
        "signature": wechat.sign(token, "1", "n"),
    }
    response = client.get("/wechat", query_string=params)
    assert response.status_code == 200 and response.get_data(as_text=True) == "hello-echo"


def test_get_with_bad_signature_is_403(client):
    params = {"timestamp": "1", "nonce": "n", "echostr": "x", "signature": "0" * 40}
    assert client.get("/wechat", query_string=params).status_code == 403


# --- plaintext mode -------------------------------------------------------------------------


def test_plaintext_push_gets_a_plaintext_reply(wechat):
    reply = wechat.text("o_plain", "你好")
    assert "投诉" in reply
    assert "<Encrypt>" not in wechat.last_response.get_data(as_text=True)


def test_push_signed_with_another_token_is_403(wechat):
    xml = wechat_fields_xml("o_x", "你好")
    assert wechat.post_xml(xml, token="not-our-token").status_code == 403


def wechat_fields_xml(openid, content, msg_id=42):
    return wechat_module_xml(
        {
            "ToUserName": "gh",
            "FromUserName": openid,
            "CreateTime": 1,
            "MsgType": "text",
            "Content": content,
            "MsgId": msg_id,
        }
    )


def wechat_module_xml(fields):
    return wechat.build_push_xml(fields)


@pytest.mark.parametrize(
    "body",
    [
        b"<xml><ToUserName>gh</ToUserName><FromUserName>o",  # truncated
        b"not xml at all",
        b"",
        b"<xml></xml>",  # no sender, no type
        b"<xml><FromUserName>o</FromUserName></xml>",  # no MsgType
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        b"<xml><FromUserName>o</FromUserName><MsgType>text</MsgType><Content>&b;</Content></xml>",
        b'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        b"<xml><FromUserName>o</FromUserName><MsgType>text</MsgType><Content>&xxe;</Content></xml>",
        "<xml><FromUserName>o</FromUserName><MsgType>text</MsgType><Content>é</Content></xml>".encode(
            "latin-1"
        ),  # not UTF-8
    ],
)
def test_hostile_or_malformed_bodies_are_400(wechat, body):
    response = wechat.post_xml(body)
    assert response.status_code == 400
    assert response.get_data(as_text=True).startswith("bad message")


def test_body_over_64_kib_is_413(wechat):
    huge = wechat_fields_xml("o_big", "长" * 30000)
    assert len(huge.encode()) > 65536
    assert wechat.post_xml(huge).status_code == 413


def test_a_message_type_it_does_not_handle_answers_success(wechat):
    fields = wechat.message("o_video", "video", MediaId="m", ThumbMediaId="t")
    response = wechat.post_xml(wechat_module_xml(fields))
    assert response.status_code == 200 and response.get_data(as_text=True) == "success"


def test_the_same_type_inside_a_conversation_gets_the_current_step(wechat):
    wechat.click("o_video2", "COMPLAINT_NEW")
    fields = wechat.message("o_video2", "video", MediaId="m", ThumbMediaId="t")
    reply = wechat.reply_text(wechat.post_xml(wechat_module_xml(fields)))
    assert "诉求类型" in reply or "报装" in reply


def test_unknown_event_answers_success(wechat):
    unknown = wechat.event_fields("o_evt", "TEMPLATESENDJOBFINISH", Status="success")
    response = wechat.post_xml(wechat_module_xml(unknown))
    assert response.status_code == 200 and response.get_data(as_text=True) == "success"


# --- safe mode (AES) ------------------------------------------------------------------------


def vector_params():
    return {
        "timestamp": VECTOR_TIMESTAMP,
        "nonce": VECTOR_NONCE,
        "encrypt_type": "aes",
        "msg_signature": VECTOR_MSG_SIGNATURE,
        "signature": wechat.sign(VECTOR_TOKEN, VECTOR_TIMESTAMP, VECTOR_NONCE),
    }


def vector_body():
    return (
        f"<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName>"
        f"<Encrypt><![CDATA[{VECTOR_ENCRYPT}]]></Encrypt></xml>"
    ).encode()


def test_official_vector_decrypts_to_the_documented_message():
    keys = wechat.AesKeys(VECTOR_TOKEN, VECTOR_APPID, VECTOR_KEY)
    xml, key = wechat.decrypt(
        vector_body(), keys, VECTOR_MSG_SIGNATURE, VECTOR_TIMESTAMP, VECTOR_NONCE
    )
    fields = wechat.parse(xml)
    assert key == VECTOR_KEY
    assert fields["Content"] == "abcdteT" and fields["MsgId"] == "6054768590064713728"


def test_official_vector_through_the_webhook_gets_an_encrypted_reply(runtime):
    client, settings = aes_setup(runtime)
    response = client.post("/wechat", query_string=vector_params(), data=vector_body())
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "<Encrypt>" in body and "<MsgSignature>" in body
    keys = wechat.AesKeys(VECTOR_TOKEN, VECTOR_APPID, VECTOR_KEY)
    reply = wechat.reply_fields(wechat.decrypt_reply(body, keys))
    assert reply["ToUserName"] == "oyORnuP8q7ou2gfYjqLzSIWZf0rs" and reply["Content"]


def test_previous_key_still_decrypts_and_the_reply_uses_it(runtime):
    client, settings = aes_setup(runtime, current=OTHER_KEY, previous=VECTOR_KEY)
    response = client.post("/wechat", query_string=vector_params(), data=vector_body())
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    only_previous = wechat.AesKeys(VECTOR_TOKEN, VECTOR_APPID, VECTOR_KEY)
    only_current = wechat.AesKeys(VECTOR_TOKEN, VECTOR_APPID, OTHER_KEY)
    assert wechat.reply_fields(wechat.decrypt_reply(body, only_previous))["Content"]
    with pytest.raises(wechat.BadMessage):
        wechat.decrypt_reply(body, only_current)


def test_bad_msg_signature_is_403(runtime):
    client, _ = aes_setup(runtime)
    params = vector_params() | {"msg_signature": "f" * 40}
    assert client.post("/wechat", query_string=params, data=vector_body()).status_code == 403


def test_wrong_appid_is_400(runtime):
    settings = runtime.settings.override(
        wechat={
            "token": VECTOR_TOKEN,
            "app_id": "wx_someone_else",
            "encoding_aes_key": VECTOR_KEY,
            "mode": "safe",
            "max_clock_skew_seconds": VECTOR_SKEW,
        }
    )
    client = create_app(runtime=build_runtime(settings, redis=runtime.redis)).test_client()
    response = client.post("/wechat", query_string=vector_params(), data=vector_body())
    assert response.status_code == 400


def test_garbage_ciphertext_is_400(runtime):
    client, _ = aes_setup(runtime)
    garbage = "bm90IGEgcmVhbCBjaXBoZXJ0ZXh0"
    params = vector_params() | {
        "msg_signature": wechat.sign(VECTOR_TOKEN, VECTOR_TIMESTAMP, VECTOR_NONCE, garbage)
    }
    body = f"<xml><Encrypt><![CDATA[{garbage}]]></Encrypt></xml>".encode()
    assert client.post("/wechat", query_string=params, data=body).status_code == 400


def test_safe_mode_round_trip_with_our_own_encryption(runtime):
    client, settings = aes_setup(runtime, token="tok")
    keys = wechat.AesKeys("tok", VECTOR_APPID, VECTOR_KEY)
    poster = WeChatTestClient(client, settings, keys=keys)
    assert "投诉" in poster.click("o_aes", "COMPLAINT_NEW")


# --- de-duplication -------------------------------------------------------------------------


def test_three_identical_pushes_have_one_effect_and_the_same_reply(wechat, runtime):
    wechat.click("o_dup", "COMPLAINT_NEW")
    replies = [wechat.text("o_dup", "1", msg_id=777001) for _ in range(3)]
    assert replies[0] and replies[0] == replies[1] == replies[2]
    with runtime.sessions() as session:
        assert (
            session.scalar(
                select(func.count()).select_from(
                    select(InboundMessage).filter_by(dedupe_key="msg:777001").subquery()
                )
            )
            == 1
        )
    state = runtime.conversations.get("o_dup")
    assert state.step == "content"  # advanced once, not three times


def test_concurrent_identical_pushes_have_one_effect(app, runtime):
    first = WeChatTestClient(app.test_client(), runtime.settings)
    first.click("o_conc", "COMPLAINT_NEW")

    def push():
        poster = WeChatTestClient(app.test_client(), runtime.settings)
        return poster.text("o_conc", "1", msg_id=888001)

    replies, errors = run_in_threads(push, 3)
    assert not errors and len(replies) == 3
    assert len(set(replies)) == 1 and replies[0]
    assert runtime.conversations.get("o_conc").step == "content"


def test_duplicate_events_are_deduplicated_by_sender_and_time(wechat, runtime):
    fields = wechat.event_fields("o_evdup", "CLICK", EventKey="COMPLAINT_MINE")
    xml = wechat_module_xml(fields)
    replies = [wechat.reply_text(wechat.post_xml(xml)) for _ in range(3)]
    assert replies[0] == replies[1] == replies[2]
    with runtime.sessions() as session:
        assert (
            session.scalar(
                select(func.count()).select_from(
                    select(InboundMessage).filter_by(openid="o_evdup").subquery()
                )
            )
            == 1
        )


# --- limits and failures ---------------------------------------------------------------------


def test_clip_reply_never_exceeds_2048_bytes_and_keeps_characters_whole():
    clipped = clip_reply("投" * 5000)
    assert len(clipped.encode("utf-8")) <= MAX_REPLY_BYTES
    assert clipped.endswith("…")
    assert clip_reply("短") == "短"


def test_failing_handler_is_logged_kept_for_replay_and_answered_busy(
    wechat, runtime, monkeypatch, caplog
):
    import models.ticket.intake as intake

    def boom(*_args, **_kwargs):
        raise RuntimeError("database exploded")

    monkeypatch.setattr(intake, "recent_for_customer", boom)
    reply = wechat.text("o_fail", "查询", msg_id=999001)
    assert reply == "系统繁忙，请稍后再试。"
    assert "database exploded" in caplog.text and "999001" in caplog.text
    with runtime.sessions() as session:
        row = session.scalars(select(InboundMessage).filter_by(dedupe_key="msg:999001")).one()
        assert row.status == "failed" and "RuntimeError" in row.error and "查询" in row.raw_xml

    monkeypatch.undo()
    from bot.replay import replay_failed

    assert replay_failed(runtime) == (1, 0)
    with runtime.sessions() as session:
        row = session.scalars(select(InboundMessage).filter_by(dedupe_key="msg:999001")).one()
        assert row.status == "done" and "投诉" in row.reply and row.late
        (late,) = session.scalars(select(Notification).filter_by(kind="late_reply")).all()
    assert late.payload["note"] == row.reply  # the customer, told 「系统繁忙」, now gets the answer


def test_healthz_reports_database_redis_and_calendar_years(client):
    response = client.get("/healthz")
    body = response.get_json()
    assert response.status_code == 200
    assert body["database"] == "ok" and body["redis"] == "ok"
    assert set(body["calendar"].values()) <= {"official", "configured", "provisional"}


# --- freshness and mode -----------------------------------------------------------------------


@pytest.mark.parametrize("offset", [-301, 301, -25 * 365 * 86400])
def test_a_push_signed_too_far_from_now_is_403(wechat, offset):
    stale = str(int(time.time()) + offset)
    response = wechat.post_xml(wechat_fields_xml("o_stale", "投诉"), timestamp=stale)
    assert response.status_code == 403 and "stale" in response.get_data(as_text=True)


def test_a_push_signed_within_the_window_is_accepted(wechat):
    recent = str(int(time.time()) - 250)
    response = wechat.post_xml(wechat_fields_xml("o_recent", "电话", 4201), timestamp=recent)
    assert response.status_code == 200 and "0558" in wechat.reply_text(response)


def test_a_nonce_reused_with_another_body_is_403(wechat, runtime):
    first = wechat.post_xml(wechat_fields_xml("o_nonce", "电话", 4301), nonce="same-nonce")
    assert first.status_code == 200
    other = wechat.post_xml(wechat_fields_xml("o_nonce", "投诉", 4302), nonce="same-nonce")
    assert other.status_code == 403 and "nonce" in other.get_data(as_text=True)
    with runtime.sessions() as session:
        keys = session.scalars(select(InboundMessage.dedupe_key)).all()
    assert keys == ["msg:4301"]  # the second body was never recorded


def test_the_same_request_again_is_wechats_retry_and_gets_the_same_answer(wechat):
    xml = wechat_fields_xml("o_retry", "电话", 4401)
    first = wechat.post_xml(xml, nonce="retry-nonce", timestamp=str(int(time.time())))
    again = wechat.post_xml(xml, nonce="retry-nonce", timestamp=first.request.args["timestamp"])
    assert again.status_code == 200
    assert wechat.reply_text(again) == wechat.reply_text(first) != ""


def test_in_safe_mode_a_plaintext_push_is_refused_even_a_staff_command(runtime):
    client, settings = aes_setup(runtime, token="tok", mode="safe")
    poster = WeChatTestClient(
        client, settings, keys=wechat.AesKeys("tok", VECTOR_APPID, VECTOR_KEY)
    )
    plain = poster.post_xml(
        wechat_fields_xml("o_officer", "派单 TS202611280001 运行维护部"), encrypt=False
    )
    assert plain.status_code == 403 and "safe mode" in plain.get_data(as_text=True)
    assert "投诉" in poster.click("o_aes", "COMPLAINT_NEW")  # encrypted pushes still work


def test_in_compat_mode_both_forms_are_accepted(runtime):
    client, settings = aes_setup(runtime, token="tok", mode="compat")
    poster = WeChatTestClient(
        client, settings, keys=wechat.AesKeys("tok", VECTOR_APPID, VECTOR_KEY)
    )
    assert "投诉" in poster.click("o_compat", "COMPLAINT_NEW")
    plain = poster.post_xml(wechat_fields_xml("o_compat2", "电话", 4501), encrypt=False)
    assert plain.status_code == 200 and "0558" in poster.reply_text(plain)


def test_in_plaintext_mode_an_encrypted_push_is_400(runtime, wechat):
    keys = wechat_module_keys()
    encrypted = WeChatTestClient(wechat.client, runtime.settings, keys=keys)
    response = encrypted.post_xml(wechat_fields_xml("o_enc", "电话", 4601))
    assert response.status_code == 400


def wechat_module_keys():
    return wechat.AesKeys("test-token", VECTOR_APPID, VECTOR_KEY)


@pytest.mark.parametrize(
    ("values", "key"),
    [
        ({"mode": "plaintext", "encoding_aes_key": VECTOR_KEY, "app_id": "wx1"}, "wechat.mode"),
        ({"mode": "safe"}, "wechat.mode"),
        ({"mode": "secret"}, "wechat.mode"),
        ({"send_timeout_seconds": 30.0}, "wechat.send_timeout_seconds"),
        ({"reply_budget_seconds": 5.0}, "wechat.reply_budget_seconds"),
    ],
)
def test_contradictory_wechat_settings_stop_start_up(settings, values, key):
    from bot.settings import SettingsError

    with pytest.raises(SettingsError, match=key.replace(".", r"\.")):
        settings.override(wechat=values)


def test_a_push_is_answered_without_the_apps_cookie_session_or_hooks(wechat, app):
    """`/wechat` is answered by the webhook alone: a push brings no cookie and gets none, and
    none of the back office's per-request work runs for it."""
    seen = []
    app.before_request(lambda: seen.append("office"))
    wechat.client.set_cookie("session", "anything")
    assert "投诉" in wechat.text("o_cookie", "你好")
    assert "Set-Cookie" not in wechat.last_response.headers and seen == []
    wechat.client.get("/login")
    assert seen == ["office"]


def test_other_methods_on_the_webhook_are_405(client):
    response = client.put("/wechat", data=b"<xml/>")
    assert response.status_code == 405
    assert response.get_data(as_text=True) == "method not allowed"


def test_a_bug_outside_the_inbox_is_a_logged_500_and_the_next_push_is_answered(
    wechat, monkeypatch, caplog
):
    """A crash before the push reaches the inbox (nothing recorded): 500, so WeChat sends it
    again, with the traceback in the log."""
    from handlers.incoming import IncomingMessage

    real = IncomingMessage.from_fields

    def broken(_fields):
        raise RuntimeError("boom")

    monkeypatch.setattr(IncomingMessage, "from_fields", broken)
    response = wechat.post_xml(wechat_module_xml(wechat.message("o_bug", "text", Content="你好")))
    assert response.status_code == 500 and "boom" in caplog.text
    monkeypatch.setattr(IncomingMessage, "from_fields", real)
    assert "投诉" in wechat.text("o_bug", "你好")


def test_a_push_reads_as_its_flat_fields():
    """Each field's text, stripped (CDATA or not, entities of XML's own resolved); a field with
    children, attributes or a name given twice reads as ""; text that looks like a document
    type inside a field is only text."""
    fields = wechat.parse(
        "<?xml version='1.0' encoding='GBK'?>\n<xml>\n"
        "  <FromUserName><![CDATA[o1]]></FromUserName><MsgType>event</MsgType>\n"
        "  <Content><![CDATA[  你好 <!DOCTYPE x> ]]></Content><Amp>a &amp; b &lt;c&gt;</Amp>\n"
        "  <ScanCodeInfo><ScanType>qrcode</ScanType></ScanCodeInfo><Empty/>\n"
        "  <Dup>a</Dup><Dup>b</Dup><Attr a='1'>x</Attr><Parts>a<![CDATA[b]]>c</Parts>\n"
        "</xml>"
    )
    assert fields == {
        "FromUserName": "o1",
        "MsgType": "event",
        "Content": "你好 <!DOCTYPE x>",
        "Amp": "a & b <c>",
        "ScanCodeInfo": "",
        "Empty": "",
        "Dup": "",
        "Attr": "",
        "Parts": "abc",
    }


def test_a_push_whose_root_is_not_xml_is_400(wechat):
    response = wechat.post_xml(
        b"<root><FromUserName>o</FromUserName><MsgType>text</MsgType></root>"
    )
    assert response.status_code == 400


def _signed(settings) -> dict:
    timestamp, nonce = str(int(time.time())), wechat.random_nonce()
    signature = wechat.sign(settings.wechat.token, timestamp, nonce)
    return {"timestamp": timestamp, "nonce": nonce, "signature": signature}


def test_head_on_the_webhook_is_answered_like_get_without_a_body(client, settings):
    params = {**_signed(settings), "echostr": "hello-echo"}
    response = client.head("/wechat", query_string=params)
    assert response.status_code == 200 and response.get_data() == b""
    assert response.headers["Content-Length"] == str(len("hello-echo"))


def test_a_405_names_the_methods_the_webhook_takes(client):
    response = client.delete("/wechat")
    assert response.status_code == 405 and response.headers["Allow"] == "GET, HEAD, POST"


def test_a_name_given_twice_in_the_query_counts_by_its_first_value(client, settings):
    signed = _signed(settings)
    query = "&".join(f"{name}={value}" for name, value in signed.items())
    response = client.get(f"/wechat?{query}&echostr=first&signature={'0' * 40}&echostr=second")
    assert response.status_code == 200 and response.get_data(as_text=True) == "first"


def test_a_body_shorter_than_its_declared_length_is_408_and_nothing_is_recorded(
    client, settings, runtime
):
    body = wechat_fields_xml("o_short", "你好").encode()
    response = client.post(
        "/wechat",
        query_string=_signed(settings),
        data=body,
        environ_overrides={"CONTENT_LENGTH": str(len(body) + 10)},
    )
    assert response.status_code == 408
    with runtime.sessions() as session:
        assert session.scalar(select(func.count(InboundMessage.id))) == 0


@pytest.mark.parametrize("length", ["ten", "-1"])
def test_a_content_length_that_is_no_length_is_400(client, settings, length):
    response = client.post(
        "/wechat",
        query_string=_signed(settings),
        data=b"<xml/>",
        environ_overrides={"CONTENT_LENGTH": length},
    )
    assert response.status_code == 400 and "Content-Length" in response.get_data(as_text=True)


def test_a_reply_is_wechats_text_reply_and_keeps_any_text_whole():
    text = "甲]]>乙 <b>&amp; ]]]]>"
    xml = wechat.text_reply_xml("o_to", "gh_from", text)
    fields = wechat.reply_fields(xml)
    assert fields["Content"] == text
    assert (fields["ToUserName"], fields["FromUserName"], fields["MsgType"]) == (
        "o_to",
        "gh_from",
        "text",
    )
    assert abs(int(fields["CreateTime"]) - time.time()) < 5


def test_a_query_value_sent_as_raw_utf8_reads_as_its_characters(client, settings):
    """WSGI passes the query's raw bytes as latin-1; the webhook reads them as UTF-8."""
    signed = _signed(settings)
    query = "&".join(f"{name}={value}" for name, value in signed.items())
    raw = f"{query}&echostr=你好".encode().decode("latin-1")
    response = client.get("/wechat", environ_overrides={"QUERY_STRING": raw})
    assert response.status_code == 200 and response.get_data(as_text=True) == "你好"
