"""A local fake of the WeChat Official Account API (公众号接口), served over real HTTP.

Same paths, query strings and JSON shapes as ``api.weixin.qq.com`` as wechatpy 1.8.18 calls
them, plus control endpoints under ``/_fake/`` for tests and the terminal simulator: read the
delivered messages, inject errors, slow answers and answers that come after the work is done
(``/_fake/late``), expire tokens, reset, read counters.

Only the standard library and Flask/werkzeug are used; wechatpy is deliberately not imported.
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import re
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, request
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

logger = logging.getLogger(__name__)

TOKEN_LIFETIME_SECONDS = 7200
CLIENT_MSG_ID_WINDOW_SECONDS = 600.0
API_PREFIX = "/cgi-bin/"

ERRMSG: dict[int, str] = {
    -1: "system error",
    0: "ok",
    40001: "invalid credential, access_token is invalid or not latest",
    40002: "invalid grant_type",
    40003: "invalid openid",
    40007: "invalid media_id",
    40013: "invalid appid",
    40016: "invalid button size",
    40018: "invalid button name size",
    40019: "invalid button key size",
    40023: "invalid sub button size",
    40025: "invalid sub button name size",
    40026: "invalid sub button key size",
    40037: "invalid template_id",
    40125: "invalid appsecret",
    41001: "access_token missing",
    46003: "menu no exist",
    47001: "data format error",
}

# Category-template field types (类目模板参数类型): the key prefix names the type.
# Each rule is (max length, allowed characters or None for any).
_FIELD_RULES: dict[str, tuple[int, re.Pattern[str] | None]] = {
    "thing": (20, None),
    "character_string": (32, re.compile(r"[\x21-\x7e]*")),
    "phrase": (5, re.compile(r"[\u4e00-\u9fff]*")),
    "number": (32, re.compile(r"\d+(\.\d+)?")),
    "letter": (32, re.compile(r"[A-Za-z]*")),
    "symbol": (5, None),
    "phone_number": (17, None),
    "car_number": (8, None),
    "name": (20, None),
}
_FIELD_KEY = re.compile(r"([a-z_]+?)\d+")
_MENU_RULES = {  # level: (max buttons, size errcode, max name bytes, name errcode, key errcode)
    "top": (3, 40016, 16, 40018, 40019),
    "sub": (5, 40023, 60, 40025, 40026),
}
_MAX_KEY_BYTES = 128
_POLL_SECONDS = 0.05  # how fast stop() is noticed by serve_forever


def error(errcode: int, errmsg: str | None = None) -> dict[str, Any]:
    """The JSON body WeChat answers for ``errcode``."""
    return {"errcode": errcode, "errmsg": errmsg or ERRMSG.get(errcode, "error")}


@dataclass
class _Token:
    kind: str  # "token" or "stable"
    expires_at: float
    revoked_at: float | None = None


@dataclass
class _Fault:
    errcode: int
    http_status: int
    times: int


@dataclass
class _Delay:
    seconds: float
    times: int


@dataclass
class _Media:
    content: bytes
    content_type: str
    video: bool = False  # media/get answers a video with {"video_url": …}


# What an unknown media id downloads as (the simulator's /image, /voice, /video ids).
PLACEHOLDERS = {
    "voice": _Media(b"#!AMR\n" + b"\x00" * 32, "audio/amr"),
    "video": _Media(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 32, "video/mp4", video=True),
    "image": _Media(b"\xff\xd8\xff\xe0fake-jpeg\xff\xd9", "image/jpeg"),
}


@dataclass
class _State:
    tokens: dict[str, _Token] = field(default_factory=dict)
    tokens_issued: int = 0
    calls: Counter[str] = field(default_factory=Counter)
    messages: list[dict[str, Any]] = field(default_factory=list)
    sent_client_msg_ids: dict[tuple[str, str], tuple[int, float]] = field(default_factory=dict)
    next_msgid: int = 1_000_000_001
    menu: dict[str, Any] | None = None
    faults: dict[str, list[_Fault]] = field(default_factory=dict)
    delays: dict[str, list[_Delay]] = field(default_factory=dict)
    media: dict[str, _Media] = field(default_factory=dict)
    expired_media: set[str] = field(default_factory=set)
    late_answers: dict[str, list[_Delay]] = field(default_factory=dict)


class FakeWeChat:
    """State of one fake official account plus the Flask app serving it. Thread-safe."""

    def __init__(
        self,
        appid: str = "wxfake",
        secret: str = "fakesecret",
        token_grace_seconds: float = 0.0,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.appid = appid
        self.secret = secret
        self.token_grace_seconds = token_grace_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._state = _State()
        self.app = self._build_app()

    # ----- Python control API -------------------------------------------------------------

    def messages(self, touser: str | None = None, since: int = 0) -> list[dict[str, Any]]:
        """Delivered messages (kind, seq, touser, body[, msgid]) in order, after seq ``since``."""
        with self._lock:
            found = [
                m
                for m in self._state.messages
                if m["seq"] > since and (touser is None or m["touser"] == touser)
            ]
            return copy.deepcopy(found)

    def fail_next(self, path: str, errcode: int, times: int = 1, http_status: int = 200) -> None:
        """Make the next ``times`` calls to ``path`` answer ``errcode`` (with ``http_status``)."""
        with self._lock:
            self._state.faults.setdefault(path, []).append(_Fault(errcode, http_status, times))

    def slow_next(self, path: str, seconds: float, times: int = 1) -> None:
        """Make the next ``times`` calls to ``path`` sleep ``seconds`` before answering."""
        with self._lock:
            self._state.delays.setdefault(path, []).append(_Delay(seconds, times))

    def put_media(
        self, media_id: str, content: bytes, content_type: str, video: bool = False
    ) -> None:
        """What media/get answers for ``media_id`` (unknown ids get a small placeholder)."""
        with self._lock:
            self._state.media[media_id] = _Media(content, content_type, video)

    def expire_media(self, media_id: str) -> None:
        """media/get answers 40007 for ``media_id`` from now on (WeChat's 3 days are over)."""
        with self._lock:
            self._state.expired_media.add(media_id)

    def answer_late_next(self, path: str, seconds: float, times: int = 1) -> None:
        """Handle the next ``times`` calls to ``path`` at once (a message is delivered), but
        answer only ``seconds`` later: the caller cannot know whether its send happened."""
        with self._lock:
            self._state.late_answers.setdefault(path, []).append(_Delay(seconds, times))

    def expire_tokens(self) -> None:
        """Every token issued so far answers 40001 from now on."""
        with self._lock:
            self._state.tokens.clear()

    def reset(self) -> None:
        """Forget tokens, messages, menu, injected faults and counters."""
        with self._lock:
            self._state = _State()

    def stats(self) -> dict[str, Any]:
        """``{"tokens_issued": n, "calls": {path: n}, "messages": n}``."""
        with self._lock:
            return {
                "tokens_issued": self._state.tokens_issued,
                "calls": dict(self._state.calls),
                "messages": len(self._state.messages),
            }

    def menu(self) -> dict[str, Any] | None:
        """The last menu created, as posted to ``menu/create``."""
        with self._lock:
            return copy.deepcopy(self._state.menu)

    # ----- tokens -------------------------------------------------------------------------

    def _check_credentials(self, body: dict[str, Any]) -> dict[str, Any] | None:
        if body.get("grant_type") != "client_credential":
            return error(40002)
        if body.get("appid") != self.appid:
            return error(40013)
        if body.get("secret") != self.secret:
            return error(40125)
        return None

    def _issue_token(self, kind: str, reuse_current: bool = False) -> dict[str, Any]:
        """Issue a token of ``kind``; older tokens of that kind die after the grace period.

        With ``reuse_current`` a live, unrevoked token of that kind is answered instead
        (stable_token without force_refresh).
        """
        now = self._clock()
        with self._lock:
            live = [
                (value, token)
                for value, token in self._state.tokens.items()
                if token.kind == kind and token.revoked_at is None and now < token.expires_at
            ]
            if reuse_current and live:
                value, token = live[-1]
                return {"access_token": value, "expires_in": int(token.expires_at - now)}
            for _value, token in live:
                token.revoked_at = now + self.token_grace_seconds
            value = secrets.token_urlsafe(48)
            self._state.tokens[value] = _Token(kind, now + TOKEN_LIFETIME_SECONDS)
            self._state.tokens_issued += 1
        return {"access_token": value, "expires_in": TOKEN_LIFETIME_SECONDS}

    def _token_error(self) -> dict[str, Any] | None:
        """None when the request's access_token is valid, else the WeChat error body."""
        value = request.args.get("access_token", "")
        if not value:
            return error(41001)
        now = self._clock()
        with self._lock:
            token = self._state.tokens.get(value)
            alive = token is not None and now < token.expires_at
            if alive and token.revoked_at is not None and now >= token.revoked_at:
                alive = False
        return None if alive else error(40001)

    # ----- messages and menu --------------------------------------------------------------

    def _record(self, kind: str, body: dict[str, Any], msgid: int | None = None) -> None:
        """Append a delivered message; the caller holds the lock."""
        entry: dict[str, Any] = {
            "seq": len(self._state.messages) + 1,
            "kind": kind,
            "touser": body.get("touser"),
            "body": body,
        }
        if msgid is not None:
            entry["msgid"] = msgid
        self._state.messages.append(entry)

    def _send_template(self, body: dict[str, Any]) -> dict[str, Any]:
        invalid = _template_error(body)
        if invalid:
            return invalid
        client_msg_id = body.get("client_msg_id")
        now = self._clock()
        with self._lock:
            key = (body["touser"], str(client_msg_id))
            earlier = self._state.sent_client_msg_ids.get(key) if client_msg_id else None
            if earlier and now - earlier[1] < CLIENT_MSG_ID_WINDOW_SECONDS:
                return {**error(0), "msgid": earlier[0]}
            msgid = self._state.next_msgid
            self._state.next_msgid += 1
            if client_msg_id:
                self._state.sent_client_msg_ids[key] = (msgid, now)
            self._record("template", body, msgid)
        return {**error(0), "msgid": msgid}

    def _send_custom(self, body: dict[str, Any]) -> dict[str, Any]:
        if not body.get("touser"):
            return error(40003)
        if not isinstance(body.get("msgtype"), str):
            return error(47001)
        with self._lock:
            self._record("custom", body)
        return error(0)

    def _create_qrcode(self, body: dict[str, Any]) -> dict[str, Any]:
        """A temporary string-scene QR code; recorded like a message (kind "qrcode")."""
        scene = body.get("action_info", {}).get("scene", {}).get("scene_str", "")
        expire = body.get("expire_seconds", 30)
        if body.get("action_name") != "QR_STR_SCENE" or not 0 < len(str(scene)) <= 64:
            return error(40053)
        if not isinstance(expire, int) or not 60 <= expire <= 2_592_000:
            return error(40097)
        with self._lock:
            ticket = f"fake-qr-{len(self._state.messages) + 1}"
            self._record("qrcode", body)
        url = f"http://weixin.qq.com/q/{ticket}"
        return {"ticket": ticket, "expire_seconds": expire, "url": url}

    def _create_menu(self, body: dict[str, Any]) -> dict[str, Any]:
        invalid = _menu_error(body.get("button"), "top")
        if invalid:
            return invalid
        with self._lock:
            self._state.menu = body
        return error(0)

    def _get_menu(self) -> dict[str, Any]:
        with self._lock:
            if self._state.menu is None:
                return error(46003)
            return {"menu": copy.deepcopy(self._state.menu)}

    def _find_media(self, media_id: str) -> _Media | None:
        with self._lock:
            if not media_id or media_id in self._state.expired_media:
                return None
            known = self._state.media.get(media_id)
        if known is not None:
            return known
        kind = next((k for k in PLACEHOLDERS if media_id.startswith(k)), "image")
        return PLACEHOLDERS[kind]

    def _http_media(self) -> Response:
        token_error = self._token_error()
        if token_error:
            return _json(token_error)
        media_id = request.args.get("media_id", "")
        media = self._find_media(media_id)
        if media is None:
            return _json(error(40007))
        if media.video:
            return _json({"video_url": f"{request.host_url}_fake/media/{media_id}"})
        return _media_response(media, media_id)

    def _http_video(self, media_id: str) -> Response:
        media = self._find_media(media_id)
        if media is None:
            return Response(status=404)
        return _media_response(media, media_id)

    # ----- faults and delays --------------------------------------------------------------

    def _take(self, queues: dict[str, list[Any]], path: str) -> Any:
        """Consume one use of the first fault/delay queued for ``path``; caller holds lock."""
        queue = queues.get(path)
        if not queue:
            return None
        item = queue[0]
        item.times -= 1
        if item.times <= 0:
            queue.pop(0)
        return item

    def _before_api_call(self) -> Response | None:
        """Count the call, apply an injected delay, then an injected fault if any."""
        path = request.path
        if not path.startswith(API_PREFIX):
            return None
        with self._lock:
            self._state.calls[path] += 1
            delay = self._take(self._state.delays, path)
        if delay:
            time.sleep(delay.seconds)
        with self._lock:
            fault = self._take(self._state.faults, path)
        if fault:
            return _json(error(fault.errcode), fault.http_status)
        return None

    def _after_api_call(self, response: Response) -> Response:
        """Hold the answer back when a late answer was asked for (the work is done)."""
        if request.path.startswith(API_PREFIX):
            with self._lock:
                late = self._take(self._state.late_answers, request.path)
            if late:
                time.sleep(late.seconds)
        return response

    # ----- HTTP ---------------------------------------------------------------------------

    def _build_app(self) -> Flask:
        app = Flask(__name__)
        app.before_request(self._before_api_call)
        app.after_request(self._after_api_call)
        routes: list[tuple[str, str, Callable[..., Response]]] = [
            ("/cgi-bin/token", "GET", self._http_token),
            ("/cgi-bin/stable_token", "POST", self._http_stable_token),
            ("/cgi-bin/message/template/send", "POST", self._authed(self._send_template)),
            ("/cgi-bin/message/custom/send", "POST", self._authed(self._send_custom)),
            ("/cgi-bin/menu/create", "POST", self._authed(self._create_menu)),
            ("/cgi-bin/qrcode/create", "POST", self._authed(self._create_qrcode)),
            ("/cgi-bin/menu/get", "GET", self._authed(lambda _body: self._get_menu())),
            ("/cgi-bin/media/get", "GET", self._http_media),
            ("/_fake/media/<media_id>", "GET", self._http_video),
            ("/_fake/messages", "GET", self._http_messages),
            ("/_fake/fail", "POST", self._http_fail),
            ("/_fake/slow", "POST", self._http_slow),
            ("/_fake/late", "POST", self._http_late),
            ("/_fake/expire_tokens", "POST", self._http_simple(self.expire_tokens)),
            ("/_fake/reset", "POST", self._http_simple(self.reset)),
            ("/_fake/stats", "GET", lambda: _json(self.stats())),
        ]
        for rule, method, view in routes:
            app.add_url_rule(rule, endpoint=rule, view_func=view, methods=[method])
        return app

    def _authed(
        self, handler: Callable[[dict[str, Any]], dict[str, Any]]
    ) -> Callable[[], Response]:
        """Wrap an API handler: check access_token, parse the JSON body, answer JSON."""

        def view() -> Response:
            token_error = self._token_error()
            if token_error:
                return _json(token_error)
            body = _json_body() if request.method == "POST" else {}
            if body is None:
                return _json(error(47001))
            return _json(handler(body))

        return view

    def _http_token(self) -> Response:
        invalid = self._check_credentials(request.args.to_dict())
        return _json(invalid or self._issue_token("token"))

    def _http_stable_token(self) -> Response:
        body = _json_body()
        if body is None:
            return _json(error(47001))
        invalid = self._check_credentials(body)
        if invalid:
            return _json(invalid)
        reuse = not body.get("force_refresh")
        return _json(self._issue_token("stable", reuse_current=reuse))

    def _http_messages(self) -> Response:
        since = request.args.get("since", "0")
        if not since.isdigit():
            return _json({"error": "since must be a non-negative integer"}, 400)
        return _json(self.messages(request.args.get("touser"), int(since)))

    def _http_fail(self) -> Response:
        body = _json_body() or {}
        try:
            self.fail_next(
                _path_arg(body),
                int(body["errcode"]),
                int(body.get("times", 1)),
                int(body.get("http_status", 200)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            return _json({"error": f"bad request: {exc}"}, 400)
        return _json(error(0))

    def _http_slow(self) -> Response:
        body = _json_body() or {}
        try:
            self.slow_next(_path_arg(body), float(body["seconds"]), int(body.get("times", 1)))
        except (KeyError, TypeError, ValueError) as exc:
            return _json({"error": f"bad request: {exc}"}, 400)
        return _json(error(0))

    def _http_late(self) -> Response:
        body = _json_body() or {}
        try:
            self.answer_late_next(
                _path_arg(body), float(body["seconds"]), int(body.get("times", 1))
            )
        except (KeyError, TypeError, ValueError) as exc:
            return _json({"error": f"bad request: {exc}"}, 400)
        return _json(error(0))

    @staticmethod
    def _http_simple(action: Callable[[], None]) -> Callable[[], Response]:
        def view() -> Response:
            action()
            return _json(error(0))

        return view


def _template_error(body: dict[str, Any]) -> dict[str, Any] | None:
    """The error WeChat gives for a malformed template message, or None."""
    if not body.get("touser"):
        return error(40003)
    if not body.get("template_id"):
        return error(40037)
    data = body.get("data", {})
    if not isinstance(data, dict):
        return error(47001)
    for key, item in data.items():
        if not isinstance(item, dict) or not isinstance(item.get("value", ""), str):
            return error(47001)
        if not _field_value_ok(key, item.get("value", "")):
            return error(47003, f"argument invalid! data.{key}.value invalid")
    return None


def _field_value_ok(key: str, value: str) -> bool:
    """Check a category-template value against the type its key names (thing3 → thing)."""
    match = _FIELD_KEY.fullmatch(key)
    rule = _FIELD_RULES.get(match.group(1)) if match else None
    if rule is None:
        return True
    max_length, allowed = rule
    return len(value) <= max_length and (allowed is None or allowed.fullmatch(value) is not None)


def _menu_error(buttons: Any, level: str) -> dict[str, Any] | None:
    """The error WeChat gives for a menu breaking the size rules, or None."""
    max_buttons, size_code, max_name, name_code, key_code = _MENU_RULES[level]
    if not isinstance(buttons, list) or not 0 < len(buttons) <= max_buttons:
        return error(size_code)
    for button in buttons:
        if not isinstance(button, dict):
            return error(47001)
        if len(str(button.get("name", "")).encode()) > max_name:
            return error(name_code)
        if len(str(button.get("key", "")).encode()) > _MAX_KEY_BYTES:
            return error(key_code)
        if level == "top" and "sub_button" in button and button["sub_button"]:
            invalid = _menu_error(button["sub_button"], "sub")
            if invalid:
                return invalid
    return None


def _media_response(media: _Media, media_id: str) -> Response:
    extension = media.content_type.rsplit("/", 1)[-1]
    disposition = f'attachment; filename="{media_id}.{extension}"'
    return Response(
        media.content,
        content_type=media.content_type,
        headers={"Content-disposition": disposition},
    )


def _json(payload: Any, status: int = 200) -> Response:
    body = json.dumps(payload, ensure_ascii=False)
    return Response(body, status=status, content_type="application/json; charset=utf-8")


def _json_body() -> dict[str, Any] | None:
    """The request body as a JSON object (wechatpy sends no Content-Type), or None."""
    try:
        body = json.loads(request.get_data() or b"{}")
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _path_arg(body: dict[str, Any]) -> str:
    path = body["path"]
    if not isinstance(path, str) or not path.startswith("/"):
        raise ValueError("path must start with /")
    return path


class _QuietRequestHandler(WSGIRequestHandler):
    """Access log lines go to this module's logger at DEBUG instead of werkzeug's stderr."""

    def log(self, type: str, message: str, *args: Any) -> None:  # noqa: A002
        level = logging.DEBUG if type == "info" else logging.WARNING
        logger.log(level, "%s - " + message, self.address_string(), *args)


class FakeWeChatServer:
    """Serve a FakeWeChat over real HTTP from a daemon thread."""

    def __init__(self, fake: FakeWeChat, host: str = "127.0.0.1", port: int = 0) -> None:
        self.fake = fake
        self.host = host
        self.port = port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:54321``; set once started."""
        if self._server is None:
            raise RuntimeError("FakeWeChatServer is not started")
        return f"http://{self.host}:{self._server.server_port}"

    def start(self) -> FakeWeChatServer:
        if self._server is not None:
            raise RuntimeError("FakeWeChatServer already started")
        self._server = make_server(
            self.host, self.port, self.fake.app, threaded=True, request_handler=_QuietRequestHandler
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": _POLL_SECONDS},
            name="fake-wechat",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> FakeWeChatServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    """Run the fake in the foreground: ``python -m bot.dev.fake_wechat --port 8081``."""
    parser = argparse.ArgumentParser(description="本地模拟微信公众号接口")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--appid", default="wxfake")
    parser.add_argument("--secret", default="fakesecret")
    parser.add_argument("--token-grace", type=float, default=300.0)
    args = parser.parse_args(argv)
    fake = FakeWeChat(args.appid, args.secret, token_grace_seconds=args.token_grace)
    server = FakeWeChatServer(fake, args.host, args.port).start()
    print(f"模拟微信接口已启动: {server.url}")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
