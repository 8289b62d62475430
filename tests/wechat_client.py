"""Posts pushes to /wechat the way WeChat does: signed, and encrypted in safe mode."""

from __future__ import annotations

import itertools
import time

from bot import wechat


class WeChatTestClient:
    def __init__(self, client, settings, keys: wechat.AesKeys | None = None):
        self.client = client
        self.settings = settings
        self.keys = keys
        self._ids = itertools.count(int(time.time() * 1000))
        self.last_response = None

    # --- messages -------------------------------------------------------------------------
    def text(self, openid: str, content: str, msg_id: int | None = None) -> str:
        return self.push(self.message(openid, "text", Content=content, msg_id=msg_id))

    def click(self, openid: str, key: str) -> str:
        return self.push(self.event_fields(openid, "CLICK", EventKey=key))

    def event(self, openid: str, event: str, **fields) -> str:
        return self.push(self.event_fields(openid, event, **fields))

    def image(self, openid: str) -> str:
        n = next(self._ids)
        return self.push(
            self.message(
                openid, "image", PicUrl=f"http://example.invalid/{n}.jpg", MediaId=f"media-{n}"
            )
        )

    def voice(self, openid: str, recognition: str = "") -> str:
        return self.push(
            self.message(
                openid,
                "voice",
                MediaId=f"voice-{next(self._ids)}",
                Format="amr",
                Recognition=recognition,
            )
        )

    def location(self, openid: str, lat: float, lng: float, label: str) -> str:
        return self.push(
            self.message(openid, "location", Location_X=lat, Location_Y=lng, Scale=15, Label=label)
        )

    def message(self, openid: str, kind: str, msg_id: int | None = None, **fields) -> dict:
        return {
            "ToUserName": "gh_test",
            "FromUserName": openid,
            "CreateTime": int(time.time()),
            "MsgType": kind,
            **fields,
            "MsgId": msg_id if msg_id is not None else next(self._ids),
        }

    def event_fields(self, openid: str, event: str, **fields) -> dict:
        return {
            "ToUserName": "gh_test",
            "FromUserName": openid,
            "CreateTime": next(self._ids),
            "MsgType": "event",
            "Event": event,
            **fields,
        }

    # --- transport ------------------------------------------------------------------------
    def push(self, fields: dict) -> str:
        response = self.post_xml(wechat.build_push_xml(fields))
        assert response.status_code == 200, response.get_data(as_text=True)
        return self.reply_text(response)

    def post_xml(
        self,
        xml: str | bytes,
        token: str | None = None,
        timestamp: str | None = None,
        nonce: str | None = None,
        encrypt: bool | None = None,
        **extra_params,
    ):
        """POST a push; the timestamp and nonce are fresh unless given. Encrypted when the
        client has keys (or `encrypt` says so)."""
        timestamp = timestamp or str(int(time.time()))
        nonce = nonce or wechat.random_nonce()
        token = token if token is not None else self.settings.wechat.token
        params = {
            "timestamp": timestamp,
            "nonce": nonce,
            "signature": wechat.sign(token, timestamp, nonce),
        }
        body = xml.encode("utf-8") if isinstance(xml, str) else xml
        if self.keys is not None and encrypt is not False:
            encrypted, msg_signature = wechat.encrypt_push(
                body.decode(), self.keys, timestamp, nonce
            )
            body = encrypted.encode()
            params.update(encrypt_type="aes", msg_signature=msg_signature)
        params.update(extra_params)
        self.last_response = self.client.post(
            "/wechat", query_string=params, data=body, content_type="text/xml"
        )
        return self.last_response

    def reply_text(self, response) -> str:
        body = response.get_data(as_text=True)
        if body in ("", "success"):
            return ""
        if "<Encrypt>" in body:
            body = wechat.decrypt_reply(body, self.keys)
        return wechat.reply_fields(body).get("Content", "")
