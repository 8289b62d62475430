"""One inbound WeChat push as plain values (no wechatpy objects past the webhook)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from models.core.conversation import Inbound

PLAIN_KINDS = {"text", "image", "voice", "location"}
VIDEO_KINDS = {"video", "shortvideo"}  # both are kept as "video" evidence


@dataclass(frozen=True)
class IncomingMessage:
    openid: str
    kind: str  # text, image, voice, location, video, shortvideo, link, event...
    event: str = ""  # lower-case: subscribe, unsubscribe, click, view, templatesendjobfinish...
    event_key: str = ""
    text: str = ""
    media_id: str = ""
    pic_url: str = ""
    recognition: str = ""
    latitude: float | None = None
    longitude: float | None = None
    label: str = ""
    msg_id: str = ""
    create_time: int = 0
    status: str = ""  # TEMPLATESENDJOBFINISH

    @classmethod
    def from_fields(cls, fields: dict[str, str]) -> IncomingMessage:
        return cls(
            openid=fields["FromUserName"],
            kind=fields["MsgType"].lower(),
            event=fields.get("Event", "").lower(),
            event_key=fields.get("EventKey", ""),
            text=fields.get("Content", ""),
            media_id=fields.get("MediaId", ""),
            pic_url=fields.get("PicUrl", ""),
            recognition=fields.get("Recognition", ""),
            latitude=_float(fields.get("Location_X")),
            longitude=_float(fields.get("Location_Y")),
            label=fields.get("Label", ""),
            msg_id=fields.get("MsgId", "") or fields.get("MsgID", ""),
            create_time=_int(fields.get("CreateTime")),
            status=fields.get("Status", ""),
        )

    def dedupe_key(self) -> str:
        """MsgId for messages; sender + time + event for events (they carry no MsgId)."""
        if self.kind != "event" and self.msg_id and self.msg_id != "0":
            return f"msg:{self.msg_id}"
        basis = f"{self.openid}|{self.create_time}|{self.event}|{self.event_key}|{self.msg_id}"
        return "evt:" + hashlib.sha256(basis.encode()).hexdigest()

    def is_click(self, key: str | None = None) -> bool:
        return (
            self.kind == "event"
            and self.event == "click"
            and (key is None or self.event_key == key)
        )

    def as_conversation_input(self) -> Inbound:
        """What the complaint conversation sees of this message."""
        if self.kind == "voice":
            return Inbound(kind="voice", text=self.recognition, media_id=self.media_id)
        if self.kind in VIDEO_KINDS:
            return Inbound(kind="video", media_id=self.media_id)
        if self.kind in PLAIN_KINDS:
            return Inbound(
                kind=self.kind,
                text=self.text,
                media_id=self.media_id,
                pic_url=self.pic_url,
                latitude=self.latitude,
                longitude=self.longitude,
                label=self.label,
            )
        if self.is_click():
            return Inbound(kind="click", text=self.event_key)
        if self.kind == "event":
            return Inbound(kind="event", text=self.event)
        return Inbound(kind="other")


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


def _int(value: str | None) -> int:
    try:
        return int(value) if value else 0
    except ValueError:
        return 0
