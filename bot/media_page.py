"""GET /media/<token>: a stored attachment, for whoever holds its signed link (查看 in WeChat).
Anything else is a 404 with a reason: no file name or path ever comes from the request."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, send_file

from bot.runtime import Runtime
from models.ticket.tables import Attachment

blueprint = Blueprint("media", __name__)


@blueprint.get("/media/<token>")
def attachment(token: str) -> Response:
    runtime: Runtime = current_app.extensions["bihuan"]
    attachment_id = runtime.media_links.read(token)
    if attachment_id is None:
        return _missing("链接无效或已过期")
    with runtime.sessions() as session:
        row = session.get(Attachment, attachment_id)
        found = (row.path, row.content_type) if row is not None and row.status == "stored" else None
    if found is None:
        return _missing("附件尚未保存或已下载失败")
    path = (runtime.settings.media_dir / found[0]).resolve()
    if not path.is_relative_to(runtime.settings.media_dir.resolve()) or not path.is_file():
        return _missing("附件文件不存在")
    response = send_file(path, mimetype=found[1] or None, max_age=3600)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _missing(reason: str) -> Response:
    response = jsonify(error="not found", reason=reason)
    response.status_code = 404
    return response
