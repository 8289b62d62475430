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

from werkzeug.exceptions import ClientDisconnected
from werkzeug.wrappers import Request, Response

from bot import wechat
from bot.inbox import Inbox, Nonce, Refused, ReplayedNonce
from bot.runtime import Runtime
from handlers.incoming import IncomingMessage
from models.core import replies

log = logging.getLogger(__name__)
PATH = "/wechat"
MAX_REPLY_BYTES = replies.MAX_REPLY_BYTES


class Rejected(Exception):
    """A push we refuse, with the HTTP status and a short reason."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


class WithWebhook:
    """WSGI: `/wechat` answered by the webhook on its own, every other path by the app.

    The webhook needs nothing of Flask (no app or request context, session, login or
    template machinery), so a push does not pay for them: the adapter is this class."""

    def __init__(self, app, runtime: Runtime, inbox: Inbox) -> None:
        self._app, self._runtime = app, runtime
        self.inbox = inbox  # where pushes go (a test may give one with its own clock)

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") != PATH:
            return self._app(environ, start_response)
        response = self._answer(Request(environ))
        return response(environ, start_response)

    def _answer(self, request: Request) -> Response:
        try:
            if request.method == "POST":
                return receive(self._runtime, self.inbox, request)
            if request.method in ("GET", "HEAD"):
                return verify_url(self._runtime, request)
            return _plain("method not allowed", 405)
        except Exception:  # noqa: BLE001 - a bug: logged, and WeChat sends the push again
            log.exception("push to %s failed", PATH)
            return _plain("internal error", 500)


def verify_url(runtime: Runtime, request: Request) -> Response:
    args = request.args
    try:
        wechat.check_url_signature(
            runtime.settings.wechat.token,
            args.get("signature", ""),
            args.get("timestamp", ""),
            args.get("nonce", ""),
        )
    except wechat.BadSignature:
        return _plain("invalid signature", 403)
    return _plain(args.get("echostr", ""), 200)


def receive(runtime: Runtime, inbox: Inbox, request: Request) -> Response:
    try:
        body = _read_body(runtime, request)
        return _receive(runtime, inbox, request, body)
    except Rejected as rejected:
        log.warning("rejected push: %s", rejected.reason)
        return _plain(rejected.reason, rejected.status)
    except wechat.BadSignature:
        return _plain("invalid signature", 403)
    except ReplayedNonce:
        log.warning("rejected push: nonce reused with another body")
        return _plain("nonce already used", 403)
    except wechat.BadMessage as exc:
        log.warning("rejected push: %s", exc)
        return _plain(f"bad message: {exc}", 400)
    except Refused:
        log.error("push refused: neither the database nor the spool can keep it")
        return _plain("busy, send again", 503)


def _read_body(runtime: Runtime, request: Request) -> bytes:
    """The body, at most `wechat.max_body_bytes`, cut off after `body_timeout_seconds` of
    silence from the client (behind gunicorn; nginx buffers bodies in production)."""
    config = runtime.settings.wechat
    limit = config.max_body_bytes
    if request.content_length is not None and request.content_length > limit:
        raise Rejected(413, "body too large")
    sock = request.environ.get("gunicorn.socket")
    if sock is not None:
        sock.settimeout(config.body_timeout_seconds)
    try:
        body = request.stream.read(limit + 1)
    except (OSError, ClientDisconnected) as exc:
        _stop_reading(sock)
        raise Rejected(408, "body not received in time") from exc
    finally:
        if sock is not None:
            sock.settimeout(None)
    if len(body) > limit:
        raise Rejected(413, "body too large")
    return body


def _stop_reading(sock) -> None:
    """Nothing more is read from a client that stalled: gunicorn then closes the connection
    after our 408 instead of waiting for the rest of the body to keep it alive."""
    if sock is None:
        return
    try:
        sock.shutdown(socket.SHUT_RD)
    except OSError:
        pass


def _receive(runtime: Runtime, inbox: Inbox, request: Request, body: bytes) -> Response:
    args = request.args
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
        return _plain("success", 200)
    reply_xml = wechat.text_reply_xml(
        message.openid, fields.get("ToUserName", ""), clip_reply(reply)
    )
    if aes_key is not None:
        reply_xml = wechat.encrypt_reply(
            reply_xml, runtime.aes_keys(), aes_key, nonce, str(int(time.time()))
        )
    return Response(reply_xml, status=200, mimetype="application/xml")


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


def _plain(text: str, status: int) -> Response:
    return Response(text, status=status, mimetype="text/plain")
