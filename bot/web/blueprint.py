"""The back office's blueprint, its templates and its vendored static files."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint(
    "web",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/assets",
)
