"""What the browser tests share: Debian's headless Chromium through Playwright (JavaScript
off, as the pages need none), the screens they are seen on, and the app served over HTTP on
127.0.0.1 by werkzeug in a thread."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from werkzeug.serving import make_server

from bot.app import create_app

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENS = {
    "desktop-1280": {"viewport": {"width": 1280, "height": 800}},
    "phone-390": {
        "viewport": {"width": 390, "height": 844},
        "device_scale_factor": 2,
        "is_mobile": True,
        "has_touch": True,
    },
}

needs_chromium = pytest.mark.skipif(
    not os.path.exists(CHROMIUM),
    reason=f"Debian's chromium is not installed at {CHROMIUM} (.ci/run installs it)",
)


@contextmanager
def serving(site) -> Iterator[str]:
    """The app of runtime `site` served on a free port: its base URL."""
    server = make_server("127.0.0.1", 0, create_app(runtime=site), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)


@contextmanager
def chromium() -> Iterator:
    """A Playwright browser of Debian's Chromium."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def new_context(browser, screen: str):
    """A browser context of its own (one person's device) on one of `SCREENS`, in Chinese,
    JavaScript off."""
    return browser.new_context(**SCREENS[screen], java_script_enabled=False, locale="zh-CN")


def width_of(screen: str) -> int:
    return SCREENS[screen]["viewport"]["width"]
