"""Outbound calls to the WeChat API (公众号接口): template and customer-service messages, menu,
and the download of temporary media (media/get).

Every failure becomes one `ApiError` whose `kind` tells the caller what to do (WECHAT.md):
retry later, fall back to a template message, mark the customer, or alert operators. Token
errors are handled here: the shared token is refreshed once under the lock and the call retried.

A client keeps its HTTP connections alive (one `requests.Session`, which reads the proxy and CA
settings of the environment once, not on every call) and remembers the shared token for
`TOKEN_MEMO_SECONDS` instead of asking Redis before every call: a token replaced meanwhile by
another process is refused (40001) and refreshed as any other, and the old one stays valid for
minutes after its replacement anyway.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import requests
from redis import Redis
from redis.exceptions import LockError
from urllib3.exceptions import NewConnectionError

from bot import wechat
from bot.settings import Settings
from bot.tokens import SharedToken

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.weixin.qq.com"
TOKEN_CODES = frozenset({40001, 40014, 42001})
ALERT_KINDS = frozenset({"quota_exhausted", "operations"})
_KIND_BY_CODE: dict[int, str] = {
    -1: "transient",
    45011: "rate_limited",
    45009: "quota_exhausted",
    45015: "fallback_to_template",
    45047: "fallback_to_template",
    43004: "not_follower",
    43101: "opted_out",
    40164: "operations",
    48001: "operations",
    40013: "operations",  # invalid appid (token fetch): configuration
    40125: "operations",  # invalid appsecret (token fetch): configuration
}


class ApiError(Exception):
    """A failed WeChat call. kind: transient (not done; try again), in_doubt (the request may
    have reached WeChat: a read timeout, a connection lost after sending, an HTTP 5xx from a
    gateway), rate_limited, quota_exhausted, fallback_to_template, not_follower, opted_out,
    permanent or operations."""

    def __init__(self, code: int, message: str, kind: str) -> None:
        super().__init__(f"WeChat error {code} ({kind}): {message}")
        self.code = code
        self.message = message
        self.kind = kind

    @property
    def retry_later(self) -> bool:
        """True when the same call may succeed later (rq should retry with backoff)."""
        return self.kind in ("transient", "rate_limited")

    @property
    def may_have_happened(self) -> bool:
        return self.kind == "in_doubt"


@dataclass(frozen=True)
class Media:
    """A downloaded temporary media file (图片、语音、视频)."""

    content: bytes
    content_type: str


T = TypeVar("T")
CHUNK_BYTES = 64 * 1024
TOKEN_MEMO_SECONDS = 30.0


class _TokenRejected(ApiError):
    """The access token was refused (40001, 40014, 42001); never leaves this module."""


def error_for(code: int, message: str) -> ApiError:
    """The ApiError for a WeChat errcode; unknown codes are permanent."""
    if code in TOKEN_CODES:
        return _TokenRejected(code, message, "transient")
    return ApiError(code, message, _KIND_BY_CODE.get(code, "permanent"))


class WeChatApi:
    """The calls Bihuan makes, with the access token shared through ``redis``."""

    def __init__(
        self,
        settings: Settings,
        redis: Redis,
        session: requests.Session | None = None,
        timeout: float | None = None,
    ) -> None:
        config = settings.wechat
        self._app_id = config.app_id
        self._secret = config.app_secret
        self._base = (config.api_base_url or DEFAULT_BASE_URL).rstrip("/")
        self._timeout = timeout or config.api_timeout_seconds
        self._download_timeout = settings.media.download_timeout_seconds
        self._http = session or http_session(self._base)
        self._memo: tuple[str, float] | None = None  # (token, monotonic time read)
        self.tokens = SharedToken(
            redis, self._fetch_token, key=f"bihuan:wechat:access_token:{config.app_id}"
        )
        self._client = wechat.ApiClient(
            config.app_id, self._base, self._timeout, self.tokens.get, http=self._http
        )

    def send_template(
        self, openid: str, template_id: str, data: dict[str, str], url: str, client_msg_id: str
    ) -> str:
        """Send a template message (模板消息); returns WeChat's msgid. Values are trimmed."""
        body = {
            "touser": openid,
            "template_id": template_id,
            "url": url,
            "client_msg_id": client_msg_id,
            "data": {
                key: {"value": trim_template_value(key, value)} for key, value in data.items()
            },
        }
        answer = self._call("post", "message/template/send", body)
        return str(answer.get("msgid", ""))

    def send_text(self, openid: str, text: str) -> None:
        """Send a customer-service text message (客服消息), only inside the user's window."""
        body = {"touser": openid, "msgtype": "text", "text": {"content": text}}
        self._call("post", "message/custom/send", body)

    def create_scene_qr(self, scene: str, expire_seconds: int) -> str:
        """A temporary parameter QR code (带参数二维码): scanning it sends us a SCAN event (or
        subscribe, for a new follower) carrying `scene`. Returns the URL the QR code encodes."""
        body = {
            "expire_seconds": expire_seconds,
            "action_name": "QR_STR_SCENE",
            "action_info": {"scene": {"scene_str": scene}},
        }
        answer = self._call("post", "qrcode/create", body)
        return str(answer.get("url", ""))

    def create_menu(self, payload: dict) -> None:
        """Publish the menu (自定义菜单); clients see it after about 5 minutes."""
        self._call("post", "menu/create", payload)

    def get_media(self, media_id: str, max_bytes: int) -> Media:
        """Download a temporary media file (media/get; WeChat keeps it 3 days). A video answers
        with a download URL, which is fetched in turn. Raises ApiError (40007: gone)."""
        return self._authorized("media/get", lambda token: self._media(media_id, token, max_bytes))

    # ----- calls and tokens -----------------------------------------------------------------

    def _call(self, method: str, endpoint: str, data: dict | None = None) -> dict:
        return self._authorized(
            endpoint, lambda token: self._attempt(method, endpoint, data, token)
        )

    def _authorized(self, endpoint: str, attempt: Callable[[str], T]) -> T:
        """Run ``attempt`` with the shared token; refresh it once under the lock if refused."""
        token = self._token(None)
        try:
            return attempt(token)
        except _TokenRejected:
            log.info("WeChat refused the access token on %s; refreshing once", endpoint)
        try:
            return attempt(self._token(token))
        except _TokenRejected as exc:
            log.warning("WeChat refused a fresh access token on %s too: %s", endpoint, exc)
            raise ApiError(exc.code, exc.message, "transient") from None

    def _media(self, media_id: str, token: str, max_bytes: int) -> Media:
        params = {"access_token": token, "media_id": media_id}
        response = self._get(self._base + "/cgi-bin/media/get", params, "media/get")
        kind = response.headers.get("Content-Type", "")
        if not kind.startswith(("application/json", "text/plain")):
            return Media(_read_limited(response, max_bytes), kind)
        answer = _json_answer(response, "media/get")
        if answer.get("errcode"):
            raise _reported(error_for(int(answer["errcode"]), f"media/get: {answer.get('errmsg')}"))
        url = answer.get("video_url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise _reported(ApiError(-1, "media/get: answer without media", "transient"))
        video = self._get(url, {}, "media/get video")
        return Media(_read_limited(video, max_bytes), video.headers.get("Content-Type", ""))

    def _get(self, url: str, params: dict, endpoint: str) -> requests.Response:
        """A streamed GET; the URL holds the token, so no exception chains it into logs."""
        try:
            response = self._http.get(
                url, params=params, timeout=self._download_timeout, stream=True
            )
        except requests.RequestException as exc:
            raise _reported(_transport_error(exc, endpoint)) from None
        if response.status_code != 200:
            raise _reported(_http_error(response.status_code, endpoint))
        return response

    def _attempt(self, method: str, endpoint: str, data: dict | None, token: str) -> dict:
        try:
            return self._client.call(method, endpoint, data, {"access_token": token})
        except wechat.WeChatClientException as exc:
            raise _reported(_client_error(exc, endpoint, sent=True)) from exc
        except requests.RequestException as exc:
            raise _reported(_transport_error(exc, endpoint, sent=True)) from None

    def _token(self, stale: str | None) -> str:
        """The shared token (remembered for TOKEN_MEMO_SECONDS), or one other than `stale`."""
        if stale is None and self._memo is not None:
            token, read_at = self._memo
            if time.monotonic() - read_at < TOKEN_MEMO_SECONDS:
                return token
        try:
            token = self.tokens.get() if stale is None else self.tokens.refresh(stale)
        except LockError:
            raise ApiError(-1, "access token lock busy", "transient") from None
        self._memo = (token, time.monotonic())
        return token

    def _fetch_token(self) -> tuple[str, int]:
        """GET /cgi-bin/token; the secret is in the URL, so no exception chains it into logs."""
        params = {"grant_type": "client_credential", "appid": self._app_id, "secret": self._secret}
        try:
            response = self._http.get(
                self._base + "/cgi-bin/token", params=params, timeout=self._timeout
            )
        except requests.RequestException as exc:
            raise _reported(_transport_error(exc, "token")) from None
        answer = _json_answer(response, "token")
        if answer.get("errcode"):
            message = f"token: {answer.get('errmsg', '')}"
            raise _reported(error_for(int(answer["errcode"]), message))
        if not answer.get("access_token"):
            raise _reported(ApiError(-1, "token answer without access_token", "transient"))
        return str(answer["access_token"]), int(answer.get("expires_in", 7200))


def http_session(base_url: str) -> requests.Session:
    """A session that keeps connections alive, with the environment's proxies (for
    `base_url`, NO_PROXY respected) and CA bundle read once: requests would otherwise scan the
    environment on every call."""
    session = requests.Session()
    session.proxies.update(requests.utils.get_environ_proxies(base_url))
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle:
        session.verify = bundle
    session.trust_env = False
    return session


def _read_limited(response: requests.Response, max_bytes: int) -> bytes:
    """The body, refusing (for good) one larger than ``max_bytes``."""
    chunks, size = [], 0
    try:
        for chunk in response.iter_content(CHUNK_BYTES):
            size += len(chunk)
            if size > max_bytes:
                raise _reported(ApiError(-3, f"media larger than {max_bytes} bytes", "permanent"))
            chunks.append(chunk)
    except requests.RequestException as exc:
        raise _reported(_transport_error(exc, "media/get")) from None
    return b"".join(chunks)


def _json_answer(response: requests.Response, endpoint: str) -> dict[str, Any]:
    if response.status_code != 200:
        raise _reported(_http_error(response.status_code, endpoint))
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise _reported(ApiError(-1, f"{endpoint}: answer is not JSON", "transient"))
    return answer


def _client_error(exc: Any, endpoint: str, sent: bool = False) -> ApiError:
    """Classify wechatpy's exception: an errcode, or an HTTP error / non-JSON body."""
    if exc.errcode is not None:
        return error_for(int(exc.errcode), f"{endpoint}: {exc.errmsg}")
    status = getattr(exc.response, "status_code", None)
    if isinstance(status, int) and status != 200:
        return _http_error(status, endpoint, sent)
    kind = "in_doubt" if sent else "transient"
    return ApiError(-1, f"{endpoint}: {exc.errmsg or 'unreadable answer'}", kind)


def _http_error(status: int, endpoint: str, sent: bool = False) -> ApiError:
    if status >= 500:
        return ApiError(-1, f"{endpoint}: HTTP {status}", "in_doubt" if sent else "transient")
    if status == 429:
        return ApiError(-1, f"{endpoint}: HTTP 429", "rate_limited")
    return ApiError(-1, f"{endpoint}: HTTP {status}", "permanent")


def _transport_error(exc: requests.RequestException, endpoint: str, sent: bool = False) -> ApiError:
    """Network errors and timeouts; the message leaves out the URL (it holds credentials).

    For a call that sends something (`sent`), only a failure to connect proves that nothing
    was sent; a read timeout or a connection lost afterwards leaves the send in doubt.
    """
    kind = "in_doubt" if sent and not _never_connected(exc) else "transient"
    return ApiError(-1, f"{endpoint}: {type(exc).__name__}", kind)


def _never_connected(exc: requests.RequestException) -> bool:
    if isinstance(exc, requests.ConnectTimeout):
        return True
    if not isinstance(exc, requests.ConnectionError):
        return False
    reason = exc.args[0] if exc.args else None
    reason = getattr(reason, "reason", reason)  # urllib3's MaxRetryError wraps the cause
    return isinstance(reason, NewConnectionError)


def _reported(error: ApiError) -> ApiError:
    if error.kind in ALERT_KINDS:
        log.error("WECHAT OPERATIONS ALERT: %s", error)
    elif error.kind == "permanent":
        log.warning("WeChat call failed for good: %s", error)
    return error


# ----- template values --------------------------------------------------------------------

ELLIPSIS = "…"
_KEY_TYPE = re.compile(r"([a-z_]+?)\d+")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
# type: (max length, characters kept or None for any, may end with "…")
_VALUE_RULES: dict[str, tuple[int, re.Pattern[str] | None, bool]] = {
    "thing": (20, None, True),
    "character_string": (32, re.compile(r"[\x21-\x7e]"), False),
    "phrase": (5, re.compile(r"[\u4e00-\u9fff]"), False),
    "number": (32, re.compile(r"[\d.]"), False),
    "letter": (32, re.compile(r"[A-Za-z]"), False),
    "symbol": (5, None, False),
    "phone_number": (17, None, False),
    "car_number": (8, None, False),
    "name": (20, None, False),
    "amount": (16, None, False),
    "time": (32, None, False),
    "date": (32, None, False),
    "const": (20, None, False),
}


def trim_template_value(key: str, value: str) -> str:
    """``value`` cut to what WeChat accepts for the type its key names (thing3 → thing).

    Characters a type does not allow are dropped (character_string keeps printable ASCII
    without spaces, phrase keeps Chinese characters, number keeps its first decimal number);
    a name with Chinese characters keeps 10. Only `thing` ends a cut value with "…". Keys of
    no known type (keyword1, first, remark) are returned unchanged.
    """
    match = _KEY_TYPE.fullmatch(key)
    kind = match.group(1) if match else ""
    if kind not in _VALUE_RULES:
        return value
    limit, allowed, ellipsis = _VALUE_RULES[kind]
    if allowed is not None:
        value = "".join(allowed.findall(value))
    if kind == "number":
        found = _NUMBER.search(value)
        value = found.group() if found else ""
    if kind == "name" and not value.isascii():
        limit = 10
    if len(value) <= limit:
        return value
    if ellipsis:
        return value[: limit - 1] + ELLIPSIS
    return value[:limit].rstrip(".") if kind == "number" else value[:limit]
