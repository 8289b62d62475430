"""Signed, expiring links to stored attachments (附件链接): what 查看 and `ticket show` print,
so that staff can open a customer's photo from WeChat. A link names one attachment, is signed
with the web secret and expires after `media.link_max_age_days`."""

from __future__ import annotations

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

SALT = "bihuan-attachment"


class MediaLinks:
    def __init__(self, base_url: str, secret: str, max_age_days: int) -> None:
        self._base = base_url.rstrip("/")
        self._signer = URLSafeTimedSerializer(secret, salt=SALT)
        self._max_age = max_age_days * 24 * 3600

    def url(self, attachment_id: int) -> str:
        return f"{self._base}/media/{self._signer.dumps(attachment_id)}"

    def read(self, token: str) -> int | None:
        """The attachment id a link names, or None (forged, expired, malformed)."""
        try:
            value = self._signer.loads(token, max_age=self._max_age)
        except (BadSignature, SignatureExpired):
            return None
        return value if isinstance(value, int) else None
