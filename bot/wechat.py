"""The one module that imports wechatpy: signatures, AES, parsing, replies (inbound), and
the thin outbound API client at the end (used by bot.wechat_api).

Everything here is a thin, explicit wrapper so the rest of the code deals in plain values and
our own exceptions. wechatpy compares signatures with `!=`; we compare in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from xml.etree import ElementTree

import requests
from wechatpy import WeChatClient
from wechatpy.crypto import PrpCrypto, WeChatCrypto
from wechatpy.exceptions import WeChatClientException


class BadSignature(Exception):
    """The push was not signed with our token."""


class BadMessage(Exception):
    """The body cannot be decrypted or parsed."""


def sign(*parts: str) -> str:
    """WeChat's signature: sha1 of the sorted, concatenated parts."""
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def signature_ok(expected_parts: tuple[str, ...], given: str) -> bool:
    return hmac.compare_digest(sign(*expected_parts).encode(), (given or "").encode())


def check_url_signature(token: str, signature: str, timestamp: str, nonce: str) -> None:
    if not token or not signature_ok((token, timestamp, nonce), signature):
        raise BadSignature()


@dataclass(frozen=True)
class AesKeys:
    """The current EncodingAESKey and, during a rotation, the previous one."""

    token: str
    app_id: str
    current: str
    previous: str = ""

    def candidates(self) -> list[str]:
        return [key for key in (self.current, self.previous) if key]


def extract_encrypt(body: bytes) -> str:
    """The <Encrypt> element of an encrypted push."""
    fields = _parse_xml(body)
    encrypt = fields.get("Encrypt")
    if not isinstance(encrypt, str) or not encrypt:
        raise BadMessage("missing Encrypt")
    return encrypt


def decrypt(
    body: bytes, keys: AesKeys, msg_signature: str, timestamp: str, nonce: str
) -> tuple[str, str]:
    """Check msg_signature and decrypt; returns (plain xml, the key that worked)."""
    encrypt = extract_encrypt(body)
    if not signature_ok((keys.token, timestamp, nonce, encrypt), msg_signature):
        raise BadSignature()
    for key in keys.candidates():
        try:
            crypto = WeChatCrypto(keys.token, key, keys.app_id)
            return PrpCrypto(crypto.key).decrypt(encrypt, keys.app_id), key
        except Exception:  # noqa: BLE001 - any failure means "not this key"
            continue
    raise BadMessage("cannot decrypt with any configured key or wrong appid")


def encrypt_reply(
    xml: str, keys: AesKeys, key: str, nonce: str, timestamp: str | None = None
) -> str:
    """The encrypted envelope of a reply, signed, using the key the push was decrypted with."""
    crypto = WeChatCrypto(keys.token, key, keys.app_id)
    return crypto.encrypt_message(xml, nonce, timestamp or str(int(time.time())))


def parse(xml: str | bytes) -> dict[str, str]:
    """The fields of a push as strings; BadMessage for anything malformed.

    A push is one `<xml>` element of flat fields: each child's text, stripped; a child with
    attributes or children of its own, or a name given twice, reads as "" (WeChat's nested
    fields are not used). A document type is refused (entities: XXE, billion laughs); a push
    needs a sender and a type.
    """
    fields = _parse_xml(xml)
    for required in ("FromUserName", "MsgType"):
        if not fields.get(required):
            raise BadMessage(f"missing {required}")
    return fields


def _parse_xml(body: str | bytes) -> dict[str, str]:
    try:
        data = body.encode("utf-8") if isinstance(body, str) else body
        root = _refusing_doctypes(data)
    except (ElementTree.ParseError, UnicodeError) as exc:
        raise BadMessage(f"malformed XML: {type(exc).__name__}") from exc
    if root.tag != "xml":
        raise BadMessage("the root element is not <xml>")
    fields: dict[str, str] = {}
    for child in root:
        flat = not len(child) and not child.attrib and child.tag not in fields
        fields[child.tag] = (child.text or "").strip() if flat else ""
    return fields


def _refusing_doctypes(data: bytes) -> ElementTree.Element:
    """The document's root. A document type declaration, where entities are declared, is
    refused before parsing; it can only come before the root element, so text inside the
    fields that reads like one is no matter."""
    if b"<!DOCTYPE" in data.split(b"<xml", 1)[0]:
        raise BadMessage("malformed XML: a document type is not allowed")
    return ElementTree.fromstring(data, parser=ElementTree.XMLParser(encoding="utf-8"))


def text_reply_xml(to_user: str, from_user: str, content: str) -> str:
    """A passive text reply, in WeChat's documented form. A "]]>" in a value would end its
    CDATA section: it is split across two."""
    return (
        f"<xml><ToUserName>{_cdata(to_user)}</ToUserName>"
        f"<FromUserName>{_cdata(from_user)}</FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime>"
        f"<MsgType><![CDATA[text]]></MsgType><Content>{_cdata(content)}</Content></xml>"
    )


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def random_nonce() -> str:
    return secrets.token_hex(8)


# --- helpers used by the simulator and tests to build what WeChat sends ---------------------


def build_push_xml(fields: dict[str, str | int | float]) -> str:
    """The XML of one push, as WeChat formats it (CDATA for text)."""
    parts = []
    for name, value in fields.items():
        if isinstance(value, str):
            parts.append(f"<{name}><![CDATA[{value}]]></{name}>")
        else:
            parts.append(f"<{name}>{value}</{name}>")
    return "<xml>" + "".join(parts) + "</xml>"


def encrypt_push(xml: str, keys: AesKeys, timestamp: str, nonce: str) -> tuple[str, str]:
    """(encrypted body, msg_signature) for a push, as WeChat would send it in safe mode."""
    crypto = WeChatCrypto(keys.token, keys.current, keys.app_id)
    encrypt = PrpCrypto(crypto.key).encrypt(xml, keys.app_id).decode()
    body = (
        f"<xml><ToUserName><![CDATA[{keys.app_id}]]></ToUserName>"
        f"<Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
    )
    return body, sign(keys.token, timestamp, nonce, encrypt)


def decrypt_reply(body: str, keys: AesKeys) -> str:
    """The plain XML inside an encrypted reply (simulator, tests)."""
    fields = _parse_xml(body)
    sig = sign(keys.token, fields["TimeStamp"], fields["Nonce"], fields["Encrypt"])
    if not hmac.compare_digest(sig, fields.get("MsgSignature", "")):
        raise BadSignature()
    for key in keys.candidates():
        try:
            crypto = WeChatCrypto(keys.token, key, keys.app_id)
            return PrpCrypto(crypto.key).decrypt(fields["Encrypt"], keys.app_id)
        except Exception:  # noqa: BLE001
            continue
    raise BadMessage("cannot decrypt reply")


def reply_fields(xml: str) -> dict:
    """The fields of a plain reply (simulator, tests)."""
    return _parse_xml(xml)


# --- outbound: the API client (bot.wechat_api decides what errors mean) -----------------------


class ApiClient(WeChatClient):
    """wechatpy's client for the API at ``base_url`` (the host; /cgi-bin/ is appended), with
    the access token supplied by the ``token`` callable.

    No automatic retry on 40001 (it would refresh without the shared lock) and no token fetch
    of its own: wechatpy hard-codes the real token URL, our code fetches the token instead.
    """

    def __init__(
        self,
        app_id: str,
        base_url: str,
        timeout: float,
        token: Callable[[], str],
        http: requests.Session | None = None,
    ) -> None:
        super().__init__(app_id, "", timeout=timeout, auto_retry=False)
        self.API_BASE_URL = base_url.rstrip("/") + "/cgi-bin/"
        self._token = token
        if http is not None:
            self._http = http

    @property
    def access_token(self) -> str:
        return self._token()

    def fetch_access_token(self) -> dict:
        raise RuntimeError("the access token is fetched by bot.tokens.SharedToken, not wechatpy")

    def call(
        self, method: str, endpoint: str, data: dict | None = None, params: dict | None = None
    ) -> dict:
        """The decoded JSON answer of ``endpoint`` (relative to /cgi-bin/).

        Raises WeChatClientException (errcode set for a WeChat error, None for an HTTP error
        or a body that is not JSON) or a requests exception (timeout, connection).
        """
        kwargs: dict = {"params": dict(params or {})}
        if data is not None:
            kwargs["data"] = data
        result = self._request(method, endpoint, **kwargs)
        if not isinstance(result, dict):
            raise WeChatClientException(
                None, "answer is not a JSON object", client=self, response=result
            )
        return result
