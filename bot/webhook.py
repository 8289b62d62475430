"""`/wechat`: verify, decrypt, parse, de-duplicate, dispatch, reply (WECHAT.md).

Never a 500 and never a hang: a bad signature is 403, a bad body 400, a large one 413; a
failing handler is logged, its push kept for replay, and the customer told to try again.
"""

from __future__ import annotations

import logging
import time

from flask import Blueprint, Response, current_app, request

from bot import wechat
from bot.runtime import Runtime
from handlers.incoming import IncomingMessage
from models.core import replies

log = logging.getLogger(__name__)
blueprint = Blueprint("wechat", __name__)
MAX_REPLY_BYTES = replies.MAX_REPLY_BYTES


@blueprint.get("/wechat")
def verify_url() -> Response:
    runtime: Runtime = current_app.extensions["bihuan"]
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


@blueprint.post("/wechat")
def receive() -> Response:
    runtime: Runtime = current_app.extensions["bihuan"]
    limit = runtime.settings.wechat.max_body_bytes
    if request.content_length is not None and request.content_length > limit:
        return _plain("body too large", 413)
    body = request.stream.read(limit + 1)
    if len(body) > limit:
        return _plain("body too large", 413)
    try:
        return _receive(runtime, body)
    except wechat.BadSignature:
        return _plain("invalid signature", 403)
    except wechat.BadMessage as exc:
        log.warning("rejected push: %s", exc)
        return _plain(f"bad message: {exc}", 400)


def _receive(runtime: Runtime, body: bytes) -> Response:
    args = request.args
    timestamp, nonce = args.get("timestamp", ""), args.get("nonce", "")
    settings = runtime.settings
    wechat.check_url_signature(settings.wechat.token, args.get("signature", ""), timestamp, nonce)
    aes_key = None
    if args.get("encrypt_type", "raw").lower() == "aes":
        keys = runtime.aes_keys()
        if keys is None:
            raise wechat.BadMessage("encrypted push but no EncodingAESKey configured")
        xml, aes_key = wechat.decrypt(body, keys, args.get("msg_signature", ""), timestamp, nonce)
    else:
        xml = _utf8(body)
    fields = wechat.parse(xml)
    message = IncomingMessage.from_fields(fields)
    reply = current_app.extensions["bihuan.inbox"].handle(message, xml)
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
