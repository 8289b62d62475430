"""The local spool (本地暂存): pushes kept on the web host's disk while the database cannot
record them, replayed in arrival order once it can (`bot.replay.replay_spool`).

Why a spool rather than refusing the push so that WeChat retries: WeChat retries only three
times within about 15 seconds, so any outage longer than that would lose the customer's
message; and the customer would see 「该公众号暂时无法提供服务」. A spooled push is answered
「已收到，稍后回复」 and its real answer is sent as a customer-service message once handled.
Only when the spool cannot take it (disk full, `wechat.spool_max_files` reached) is the push
refused with a 503, so that WeChat does retry.

One file per push, written to a temporary name, fsync'd and renamed into place; names sort
in arrival order and carry a digest of the sender, so that a sender's next push can join the
queue behind the ones already waiting (`holds`). Files are readable by the owner only (they
hold what the customer typed) and are deleted as soon as the database has the push.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

log = logging.getLogger(__name__)
SUFFIX = ".push"
LOCK_NAME = ".replay.lock"


@dataclass(frozen=True)
class SpooledPush:
    path: Path
    openid: str
    xml: str
    received_at: datetime
    nonce: str = ""  # the signed URL's nonce and the body's digest, checked at replay
    digest: str = ""


class Spool:
    def __init__(self, directory: Path, max_files: int) -> None:
        self.directory = directory
        self.max_files = max_files

    def put(
        self, openid: str, xml: str, received_at: datetime, nonce: str = "", digest: str = ""
    ) -> bool:
        """Keep one push on disk; False when it cannot be kept (full, not writable)."""
        data = {
            "openid": openid,
            "xml": xml,
            "received_at": received_at.isoformat(),
            "nonce": nonce,
            "digest": digest,
        }
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            if self.count() >= self.max_files:
                log.error("spool %s is full (%s pushes)", self.directory, self.max_files)
                return False
            self._write(openid, json.dumps(data, ensure_ascii=False).encode("utf-8"))
            return True
        except OSError:
            log.exception("cannot write to the spool %s", self.directory)
            return False

    def _write(self, openid: str, data: bytes) -> None:
        name = f"{time.time_ns():020d}-{os.getpid()}-{_sender(openid)}"
        final = self.directory / f"{name}{SUFFIX}"
        temporary = self.directory / f".{name}.tmp"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(descriptor, data)
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        os.rename(temporary, final)
        _fsync_directory(self.directory)

    def count(self) -> int:
        return len(self._names())

    def holds(self, openid: str) -> bool:
        """Whether an earlier push of this sender is still waiting here (asked at every
        push: one directory listing, and nothing more while the spool is empty)."""
        names = self._names()
        if not names:
            return False
        tail = f"-{_sender(openid)}{SUFFIX}"
        return any(name.endswith(tail) for name in names)

    def entries(self) -> Iterator[SpooledPush]:
        """The waiting pushes, oldest first (unreadable files are skipped and logged)."""
        for path in sorted(self._paths()):
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                yield SpooledPush(
                    path,
                    data["openid"],
                    data["xml"],
                    datetime.fromisoformat(data["received_at"]),
                    data.get("nonce", ""),
                    data.get("digest", ""),
                )
            except (OSError, ValueError, KeyError):
                log.exception("unreadable spooled push %s", path.name)

    def remove(self, entry: SpooledPush) -> None:
        entry.path.unlink(missing_ok=True)

    @contextmanager
    def replaying(self) -> Iterator[bool]:
        """One replayer at a time across processes: yields False when another holds it."""
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        with open(self.directory / LOCK_NAME, "a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _paths(self) -> Iterator[Path]:
        return (self.directory / name for name in self._names())

    def _names(self) -> list[str]:
        """The names of the spooled pushes (none while the directory does not exist)."""
        try:
            return [name for name in os.listdir(self.directory) if name.endswith(SUFFIX)]
        except FileNotFoundError:
            return []


def _sender(openid: str) -> str:
    return hashlib.sha256(openid.encode("utf-8")).hexdigest()[:16]


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
