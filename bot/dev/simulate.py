"""`bihuan simulate`: chat with a running server exactly as WeChat would push to it.

Each typed line is a signed text message (encrypted when an EncodingAESKey is configured);
lines starting with "/" are events and other message kinds. After each line it prints what this
openid received from the (fake) WeChat API since the simulator started: earlier sessions'
messages are not repeated. /clock and /sweep move the dev server's clock.
"""

from __future__ import annotations

import itertools
import shlex
import time
import zlib

import requests

from bot import wechat
from bot.settings import Settings

HELP = """命令：
  直接输入文字            发送文本消息
  /click KEY              点击菜单（如 /click COMPLAINT_NEW、/click RATE_5）
  /location 纬度 经度 地址  发送位置
  /image                  发送一张图片
  /voice [识别文字]        发送语音
  /video                  发送一段视频
  /clock +2h | 时间 | reset  拨动开发服务器的时钟（如 /clock +25m、/clock 2026-11-30T12:05）
  /sweep [时间]            立即执行一次清扫（提醒、超期、回访超时、日报）
  /subscribe /unsubscribe 关注 / 取消关注
  /inbox                  查看本用户收到的模板消息和客服消息
  /help                   显示本帮助
  /quit                   退出"""

ACCOUNT = "gh_simulated"
ID_STEP = 1000


class Simulator:
    def __init__(
        self, settings: Settings, url: str, openid: str, session=None, fake_url: str | None = None
    ):
        self.settings = settings
        self.url = url
        self.openid = openid
        self.http = session or requests.Session()
        self.fake_url = fake_url or f"http://127.0.0.1:{settings.dev.fake_wechat_port}"
        # Message ids unique across simulators started together (WeChat's are unique; equal
        # ones would be taken as one push sent twice): each openid keeps its own residue.
        start = int(time.time() * 1000) * ID_STEP + zlib.crc32(openid.encode()) % ID_STEP
        self._ids = itertools.count(start, ID_STEP)
        self._seen = self._latest_seq()

    def _latest_seq(self) -> int:
        """Where this session starts reading: after every message delivered so far."""
        try:
            response = self.http.get(
                f"{self.fake_url}/_fake/messages", params={"touser": self.openid}, timeout=2
            )
            response.raise_for_status()
            return max((message["seq"] for message in response.json()), default=0)
        except (requests.RequestException, ValueError):
            return 0

    def inbox(self) -> list[str]:
        """Messages this openid received from the (fake) WeChat API since the last look."""
        try:
            response = self.http.get(
                f"{self.fake_url}/_fake/messages",
                params={"touser": self.openid, "since": self._seen},
                timeout=2,
            )
            response.raise_for_status()
        except requests.RequestException:
            return []
        received = response.json()
        if received:
            self._seen = max(message["seq"] for message in received)
        return [format_outbound(message) for message in received]

    def send_line(self, line: str) -> str:
        """Send what one typed line means; returns the bot's reply text ("" for none)."""
        if line.startswith(("/clock", "/sweep")):
            return self.dev_command(line)
        if line.startswith("/"):
            return self.send(self._command_fields(line))
        return self.send(self._message("text", Content=line))

    def dev_command(self, line: str) -> str:
        """/clock and /sweep: the dev server's clock (bot/dev/clock.py)."""
        name, _, argument = line[1:].partition(" ")
        argument = argument.strip()
        if name == "clock":
            body = {"reset": True} if argument == "reset" else {"at": argument or "+0m"}
        else:
            body = {"at": argument}
        base = self.url.rsplit("/wechat", 1)[0]
        response = self.http.post(f"{base}/_dev/{name}", json=body, timeout=30)
        if response.status_code == 404:
            raise ValueError(
                "服务器没有开发时钟：仅 make run（未配置真实公众号时）提供 /clock 和 /sweep"
            )
        answer = response.json()
        if response.status_code != 200:
            raise ValueError(answer.get("error", response.text))
        if name == "clock":
            return (
                f"[时钟] 服务器时间现在是 {answer['now']}（偏移 {answer['offset_minutes']} 分钟）"
            )
        return (
            f"[清扫 {answer['at']}] 提醒和超期 {answer['alerts']} 条，日报 {answer['digests']} 条，"
            f"重新排队 {answer['requeued']} 条"
        )

    def _command_fields(self, line: str) -> dict:
        parts = shlex.split(line[1:]) or [""]
        name, args = parts[0].lower(), parts[1:]
        if name == "click" and args:
            return self._event("CLICK", EventKey=args[0])
        if name == "location" and len(args) >= 2:
            return self._message(
                "location",
                Location_X=float(args[0]),
                Location_Y=float(args[1]),
                Scale=15,
                Label=" ".join(args[2:]),
            )
        if name == "image":
            n = next(self._ids)
            return self._message(
                "image", PicUrl=f"http://example.invalid/{n}.jpg", MediaId=f"media-{n}"
            )
        if name == "video":
            return self._message(
                "video", MediaId=f"video-{next(self._ids)}", ThumbMediaId=f"thumb-{next(self._ids)}"
            )
        if name == "voice":
            return self._message(
                "voice",
                MediaId=f"voice-{next(self._ids)}",
                Format="amr",
                Recognition=" ".join(args),
            )
        if name in ("subscribe", "unsubscribe"):
            return self._event(name)
        raise ValueError(f"未知命令：{line}（输入 /help 查看命令）")

    def _message(self, kind: str, **fields) -> dict:
        return {
            "ToUserName": ACCOUNT,
            "FromUserName": self.openid,
            "CreateTime": int(time.time()),
            "MsgType": kind,
            **fields,
            "MsgId": next(self._ids),
        }

    def _event(self, event: str, **fields) -> dict:
        return {
            "ToUserName": ACCOUNT,
            "FromUserName": self.openid,
            "CreateTime": next(self._ids),
            "MsgType": "event",
            "Event": event,
            **fields,
        }

    def send(self, fields: dict) -> str:
        xml = wechat.build_push_xml(fields)
        token = self.settings.wechat.token
        timestamp, nonce = str(int(time.time())), wechat.random_nonce()
        params = {
            "timestamp": timestamp,
            "nonce": nonce,
            "signature": wechat.sign(token, timestamp, nonce),
            "openid": self.openid,
        }
        keys = _keys(self.settings)
        body = xml
        if keys is not None:
            body, msg_signature = wechat.encrypt_push(xml, keys, timestamp, nonce)
            params.update(encrypt_type="aes", msg_signature=msg_signature)
        response = self.http.post(
            self.url,
            params=params,
            data=body.encode("utf-8"),
            headers={"Content-Type": "text/xml"},
            timeout=10,
        )
        if response.status_code == 403:
            raise ValueError(
                "服务器拒绝了签名（HTTP 403）：请让模拟器和服务器使用同一个 "
                "BIHUAN_WECHAT__TOKEN（make run 与 make simulate 默认都用 local-dev-token）"
                + ("，以及同一个 BIHUAN_WECHAT__ENCODING_AES_KEY" if keys else "")
                + "。"
            )
        response.raise_for_status()
        return reply_text(response.text, keys)


def format_outbound(message: dict) -> str:
    body = message.get("body", {})
    if message.get("kind") == "custom":
        return f"[客服消息] {body.get('text', {}).get('content', '')}"
    fields = "，".join(
        f"{key}={value.get('value', '')}" for key, value in body.get("data", {}).items()
    )
    link = f" 链接 {body['url']}" if body.get("url") else ""
    return f"[模板消息 {body.get('template_id', '')}] {fields}{link}"


def reply_text(body: str, keys: wechat.AesKeys | None) -> str:
    if body in ("", "success"):
        return ""
    if keys is not None and "<Encrypt>" in body:
        body = wechat.decrypt_reply(body, keys)
    return wechat.reply_fields(body).get("Content", "")


def _keys(settings: Settings) -> wechat.AesKeys | None:
    config = settings.wechat
    if not config.encoding_aes_key:
        return None
    return wechat.AesKeys(config.token, config.app_id, config.encoding_aes_key)


def repl(simulator: Simulator) -> None:  # pragma: no cover - interactive
    print(f"模拟微信用户 {simulator.openid} → {simulator.url}\n{HELP}")
    while True:
        try:
            line = input("你> ").strip()
        except (EOFError, KeyboardInterrupt):
            print()
            return
        if not line:
            continue
        if line in ("/quit", "/exit"):
            return
        if line == "/help":
            print(HELP)
            continue
        if line != "/inbox":
            try:
                reply = simulator.send_line(line)
            except (ValueError, requests.RequestException) as exc:
                print(f"[错误] {exc}")
                continue
            print(f"公众号> {reply}" if reply else "公众号> （无回复）")
            time.sleep(0.5)  # let the embedded worker send what this message caused
        for message in simulator.inbox():
            print(f"  {message}")
