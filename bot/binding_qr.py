"""The binding code's QR code (绑定二维码), drawn on our server with segno.

Preferably a WeChat parameter QR code with the scene `bind_<code>`: scanning it with WeChat
binds at once (`handlers.binding`). When WeChat cannot make one (an API error, no account
configured), the QR code holds the text `绑定 <code>` to send in the chat instead.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import segno

from bot.runtime import Runtime
from bot.wechat_api import ApiError
from handlers.binding import SCENE_PREFIX
from models.people.staff import CODE_VALID_MINUTES, binding_text

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BindingQr:
    svg: str  # inline <svg>
    scan_binds: bool  # True: scanning binds; False: it shows the text to send


def binding_qr(runtime: Runtime, code: str) -> BindingQr:
    try:
        url = runtime.wechat_api().create_scene_qr(SCENE_PREFIX + code, CODE_VALID_MINUTES * 60)
    except ApiError as error:
        log.warning("no parameter QR code for a binding code: %s", error)
        url = ""
    content, scan_binds = (url, True) if url else (binding_text(code), False)
    return BindingQr(svg=segno.make(content, error="m").svg_inline(scale=5), scan_binds=scan_binds)
