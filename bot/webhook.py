"""`/wechat`: verify, decrypt, parse, de-duplicate, dispatch, reply (WECHAT.md).

Never a 500 and never a hang: a bad signature, a stale timestamp, a reused nonce or a push in
the wrong mode is 403; a bad body 400; a large one 413; a body that stops arriving 408. A push
the database cannot take is spooled (`bot.spool`) and answered 「已收到」; one that not even the
spool can keep is a 503, so that WeChat sends it again.

Freshness: the signed `timestamp` must be within `wechat.max_clock_skew_seconds` of our
clock, and a `nonce` may not come back with another body inside that window (WeChat's own
retry of the same push, byte for byte, is let through: the inbox answers it from the first
copy, so a replay of it has no effect either). Mode (`wechat.mode`): plaintext pushes only;
compat, both; safe, ciphertext only.
"""

from __future__ import annotations

import hashlib
import logging
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from http import HTTPStatus
from urllib.parse import parse_qsl

from bot import wechat
from bot.inbox import Inbox, Nonce, Refused, ReplayedNonce
from bot.runtime import Runtime
from handlers.incoming import IncomingMessage
from models.core import replies

log = logging.getLogger(__name__)
PATH = "/wechat"
MAX_REPLY_BYTES = replies.MAX_REPLY_BYTES
ALLOWED = "GET, HEAD, POST"
PLAIN, XML = "text/plain; charset=utf-8", "application/xml; charset=utf-8"


class Rejected(Exception):
    """A push we refuse, with the HTTP status and a short reason."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


@dataclass(frozen=True)
class Answer:
    """An HTTP answer of the webhook: status, body text and its media type."""

    status: int
    text: str
    content_type: str = PLAIN


class WithWebhook:
    """WSGI: `/wechat` answered by the webhook on its own, every other path by the app.

    The webhook needs nothing of a framework (no app or request context, session, login or
    template machinery, not even a request object): a push is the WSGI environ, read once,
    and its answer one string. The adapter is this class."""

    def __init__(self, app, runtime: Runtime, inbox: Inbox) -> None:
        self._app, self._runtime = app, runtime
        self.inbox = inbox  # where pushes go (a test may give one with its own clock)

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != PATH:
            return self._app(environ, start_response)
        method = environ.get("REQUEST_METHOD", "GET")
        answer = self._answer(method, environ)
        body = answer.text.encode("utf-8")
        headers = [("Content-Type", answer.content_type), ("Content-Length", str(len(body)))]
        if answer.status == 405:
            headers.append(("Allow", ALLOWED))
        start_response(_status_line(answer.status), headers)
        return [] if method == "HEAD" else [body]

    def _answer(self, method: str, environ: dict) -> Answer:
        try:
            if method == "POST":
                return receive(self._runtime, self.inbox, environ)
            if method in ("GET", "HEAD"):
                return verify_url(self._runtime, query(environ))
            return Answer(405, "method not allowed")
        except Exception:  # noqa: BLE001 - a bug: logged, and WeChat sends the push again
            log.exception("push to %s failed", PATH)
            return Answer(500, "internal error")


@cache
def _status_line(status: int) -> str:
    return f"{status} {HTTPStatus(status).phrase}"


def query(environ: dict) -> dict[str, str]:
    """The query string's parameters; the first value of a name given twice. (WSGI hands
    the raw bytes over as latin-1: back to bytes, then read as UTF-8, as werkzeug does.)"""
    raw = environ.get("QUERY_STRING", "").encode("latin-1", "replace").decode("utf-8", "replace")
    args: dict[str, str] = {}
    for name, value in parse_qsl(raw, keep_blank_values=True):
        args.setdefault(name, value)
    return args


def verify_url(runtime: Runtime, args: dict[str, str]) -> Answer:
    try:
        wechat.check_url_signature(
            runtime.settings.wechat.token,
            args.get("signature", ""),
            args.get("timestamp", ""),
            args.get("nonce", ""),
        )
    except wechat.BadSignature:
        return Answer(403, "invalid signature")
    return Answer(200, args.get("echostr", ""))


def receive(runtime: Runtime, inbox: Inbox, environ: dict) -> Answer:
    try:
        body = _read_body(runtime, environ)
        return _receive(runtime, inbox, query(environ), body)
    except Rejected as rejected:
        log.warning("rejected push: %s", rejected.reason)
        return Answer(rejected.status, rejected.reason)
    except wechat.BadSignature:
        return Answer(403, "invalid signature")
    except ReplayedNonce:
        log.warning("rejected push: nonce reused with another body")
        return Answer(403, "nonce already used")
    except wechat.BadMessage as exc:
        log.warning("rejected push: %s", exc)
        return Answer(400, f"bad message: {exc}")
    except Refused:
        log.error("push refused: neither the database nor the spool can keep it")
        return Answer(503, "busy, send again")


def _read_body(runtime: Runtime, environ: dict) -> bytes:
    """The body, at most `wechat.max_body_bytes`, cut off after `body_timeout_seconds` of
    silence from the client (behind gunicorn; nginx buffers bodies in production). A body
    with neither a length nor an end the server marks (chunked) is empty, as in werkzeug."""
    config = runtime.settings.wechat
    limit = config.max_body_bytes
    length = _content_length(environ)
    if length is not None and length > limit:
        raise Rejected(413, "body too large")
    if length is None and not environ.get("wsgi.input_terminated"):
        return b""
    wanted = limit + 1 if length is None else length
    sock = environ.get("gunicorn.socket")
    if sock is not None:
        sock.settimeout(config.body_timeout_seconds)
    try:
        body = environ["wsgi.input"].read(wanted)
    except OSError as exc:
        _stop_reading(sock)
        raise Rejected(408, "body not received in time") from exc
    finally:
        if sock is not None:
            sock.settimeout(None)
    if length is not None and len(body) < length:
        raise Rejected(408, "body not received in full")
    if len(body) > limit:
        raise Rejected(413, "body too large")
    return body


def _content_length(environ: dict) -> int | None:
    """The declared length of the body; None when absent, 400 when not a length."""
    given = environ.get("CONTENT_LENGTH", "")
    if not given:
        return None
    try:
        length = int(given)
    except ValueError as exc:
        raise Rejected(400, "invalid Content-Length") from exc
    if length < 0:
        raise Rejected(400, "invalid Content-Length")
    return length


def _stop_reading(sock) -> None:
    """Nothing more is read from a client that stalled: gunicorn then closes the connection
    after our 408 instead of waiting for the rest of the body to keep it alive."""
    if sock is None:
        return
    try:
        sock.shutdown(socket.SHUT_RD)
    except OSError:
        pass


def _receive(runtime: Runtime, inbox: Inbox, args: dict[str, str], body: bytes) -> Answer:
    timestamp, nonce = args.get("timestamp", ""), args.get("nonce", "")
    config = runtime.settings.wechat
    wechat.check_url_signature(config.token, args.get("signature", ""), timestamp, nonce)
    _check_fresh(timestamp, config.max_clock_skew_seconds)
    encrypted = args.get("encrypt_type", "raw").lower() == "aes"
    _check_mode(config.mode, encrypted)
    aes_key = None
    if encrypted:
        xml, aes_key = wechat.decrypt(
            body, runtime.aes_keys(), args.get("msg_signature", ""), timestamp, nonce
        )
    else:
        xml = _utf8(body)
    fields = wechat.parse(xml)
    message = IncomingMessage.from_fields(fields)
    digest = hashlib.sha256(body).hexdigest()
    reply = inbox.handle(message, xml, Nonce(nonce, digest))
    if not reply:
        return Answer(200, "success")
    reply_xml = wechat.text_reply_xml(
        message.openid, fields.get("ToUserName", ""), clip_reply(reply)
    )
    if aes_key is not None:
        reply_xml = wechat.encrypt_reply(
            reply_xml, runtime.aes_keys(), aes_key, nonce, str(int(time.time()))
        )
    return Answer(200, reply_xml, XML)


def _check_fresh(timestamp: str, max_skew: int) -> None:
    try:
        skew = abs(time.time() - int(timestamp))
    except ValueError as exc:
        raise Rejected(403, "invalid timestamp") from exc
    if skew > max_skew:
        raise Rejected(403, "stale timestamp")


def _check_mode(mode: str, encrypted: bool) -> None:
    if mode == "safe" and not encrypted:
        raise Rejected(403, "plaintext push refused in safe mode")
    if mode == "plaintext" and encrypted:
        raise Rejected(400, "encrypted push but wechat.mode is plaintext")


def clip_reply(text: str) -> str:
    """At most 2048 UTF-8 bytes, cut on a character boundary with an ellipsis."""
    return replies.clip(text, MAX_REPLY_BYTES)


def _utf8(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise wechat.BadMessage("body is not UTF-8") from exc
