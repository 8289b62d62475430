"""The floor: Flask + wechatpy, verify the signature, parse, echo. Nothing stored.

gunicorn -w 1 --chdir bench/peers echo_app:app
"""

from __future__ import annotations

import os

from flask import Flask, Response, request
from wechatpy import create_reply, parse_message
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.utils import check_signature

TOKEN = os.environ["BENCH_TOKEN"]
app = Flask(__name__)


@app.post("/wechat")
def echo() -> Response:
    args = request.args
    try:
        check_signature(TOKEN, args["signature"], args["timestamp"], args["nonce"])
    except (InvalidSignatureException, KeyError):
        return Response("invalid signature", status=403)
    message = parse_message(request.get_data())
    reply = create_reply(getattr(message, "content", "success"), message)
    return Response(reply.render(), mimetype="application/xml")
