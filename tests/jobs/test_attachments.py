"""Attachments are kept (issue 9, point 5): images, voice and video sent while filing are
downloaded from WeChat by a job into our storage, retried when WeChat fails, shown as failed
when they cannot be had, linked from 查看 and listed by `ticket show --json`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from bot.dev.embedded import enqueue_scheduled
from jobs.queue import make_queue
from jobs.sweeps import requeue_downloads
from tests.factories import OFFICER, invoke, run_worker, seed_bound_staff, ticket_of

MEDIA = "/cgi-bin/media/get"
PHOTO = b"\xff\xd8\xff\xe0 a photo of the meter \xff\xd9"


def file_with_media(live_wechat, openid: str, *media: tuple[str, str]) -> str:
    """A complaint whose description is followed by pictures, voice or video."""
    live_wechat.click(openid, "COMPLAINT_NEW")
    live_wechat.text(openid, "5")
    live_wechat.text(openid, "燃气表箱门坏了")
    for kind, media_id in media:
        fields = {"MediaId": media_id}
        if kind == "image":
            fields["PicUrl"] = f"http://example.invalid/{media_id}.jpg"
        if kind == "video":
            fields["ThumbMediaId"] = f"thumb-{media_id}"
        reply = live_wechat.push(live_wechat.message(openid, kind, **fields))
        assert "已作为附件保存" in reply
    replies = [live_wechat.text(openid, answer) for answer in ("幸福路1号", "张三", "13800138000")]
    assert "附件" in replies[-1]  # the summary counts them
    confirmation = live_wechat.text(openid, "1")
    return confirmation.split("受理单号：")[1][:14]


def retry_now(live) -> None:
    """Let rq's scheduled retry fall due at once (what the scheduler does after the backoff)."""
    queue = make_queue(live)
    registry = queue.scheduled_job_registry
    for job_id in registry.get_job_ids():
        registry.schedule(queue.fetch_job(job_id), datetime.now(UTC) - timedelta(1))
    assert enqueue_scheduled(queue) >= 1


def test_a_download_that_fails_twice_then_succeeds_is_kept(live, live_wechat, fake_wechat):
    seed_bound_staff(live)
    fake_wechat.put_media("m-photo", PHOTO, "image/jpeg")
    number = file_with_media(live_wechat, "o_photo", ("image", "m-photo"))
    fake_wechat.fail_next(MEDIA, -1, times=2)
    run_worker(live)
    (row,) = ticket_of(live, number).files
    assert (row.status, row.attempts) == ("pending", 1) and "-1" in row.last_error
    retry_now(live)
    run_worker(live)
    (row,) = ticket_of(live, number).files
    assert (row.status, row.attempts) == ("pending", 2)
    retry_now(live)
    run_worker(live)
    (row,) = ticket_of(live, number).files
    assert (row.status, row.attempts, row.last_error) == ("stored", 3, "")
    stored = live.settings.media_dir / row.path
    assert stored.read_bytes() == PHOTO and row.path == f"{number}/{row.id}-image.jpg"
    (item,) = ticket_of(live, number).attachments  # what the back office's page reads
    assert (item["file"], item["status"], item["media_id"]) == (row.path, "stored", "m-photo")
    assert fake_wechat.stats()["calls"][MEDIA] == 3


def test_images_voice_and_video_are_all_kept_and_linked_from_the_ticket(
    live, live_wechat, fake_wechat
):
    seed_bound_staff(live)
    fake_wechat.put_media("m-clip", b"video bytes", "video/mp4", video=True)
    number = file_with_media(
        live_wechat, "o_media", ("image", "m-1"), ("voice", "voice-2"), ("video", "m-clip")
    )
    run_worker(live)
    files = ticket_of(live, number).files
    assert [(f.kind, f.status) for f in files] == [
        ("image", "stored"),
        ("voice", "stored"),
        ("video", "stored"),  # fetched through the video_url WeChat answers for a video
    ]
    assert (live.settings.media_dir / files[2].path).read_bytes() == b"video bytes"
    shown = live_wechat.text(OFFICER, f"查看 {number}")
    assert "附件：共3个（图片1个、语音1个、视频1个），已保存3个" in shown
    links = [line.split()[-1] for line in shown.splitlines() if "/media/" in line]
    assert len(links) == 3
    path = links[2].removeprefix(live.settings.web.base_url)
    response = live_wechat.client.get(path)
    assert response.status_code == 200 and response.data == b"video bytes"
    assert live_wechat.client.get(path[:-3] + "abc").status_code == 404  # forged


def test_an_expired_media_shows_as_failed_never_dropped(live, live_wechat, fake_wechat):
    seed_bound_staff(live)
    fake_wechat.expire_media("m-old")
    number = file_with_media(live_wechat, "o_late", ("image", "m-old"), ("image", "m-ok"))
    run_worker(live)
    failed, stored = ticket_of(live, number).files
    assert (failed.status, failed.attempts) == ("failed", 1) and "40007" in failed.last_error
    assert [item["status"] for item in ticket_of(live, number).attachments] == ["failed", "stored"]
    assert stored.status == "stored"
    assert make_queue(live).scheduled_job_registry.count == 0  # a permanent error: no retry
    shown = live_wechat.text(OFFICER, f"查看 {number}")
    assert "已保存1个，下载失败1个" in shown and "图片（下载失败）" in shown
    data = json.loads(invoke(live, "ticket", "show", number, "--json").output)
    assert [(a["kind"], a["status"]) for a in data["attachments"]] == [
        ("image", "failed"),
        ("image", "stored"),
    ]
    assert data["attachments"][0]["last_error"] and data["attachments"][1]["path"]


def test_retries_run_out_into_failed(live, live_wechat, fake_wechat):
    seed_bound_staff(live)
    number = file_with_media(live_wechat, "o_flaky", ("image", "m-flaky"))
    fake_wechat.fail_next(MEDIA, -1, times=10)
    run_worker(live)
    for _ in live.settings.media.retry_seconds:
        retry_now(live)
        run_worker(live)
    (row,) = ticket_of(live, number).files
    assert row.status == "failed" and row.attempts == len(live.settings.media.retry_seconds) + 1


def test_a_download_lost_with_redis_is_queued_again_by_the_sweep(live, live_wechat, fake_wechat):
    seed_bound_staff(live)
    number = file_with_media(live_wechat, "o_lost", ("image", "m-lost"))
    live.redis.flushdb()  # the job is gone, the row is not
    run_worker(live)
    assert ticket_of(live, number).files[0].status == "pending"
    later = datetime.now(UTC) + timedelta(seconds=live.settings.media.resend_after_seconds + 1)
    assert requeue_downloads(live, later) == 1
    run_worker(live)
    assert ticket_of(live, number).files[0].status == "stored"
