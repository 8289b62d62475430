"""Business records: `bihuan business import` (report, rejects, idempotence) and `link`."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from click.testing import CliRunner
from sqlalchemy import select

import bot.cli as cli_module
from bot.rate_page import read_business_token
from models.rating.business import parse_time
from models.rating.tables import BusinessRecord

HEADER = "type,order_no,phone,openid,staff,completed_at\n"
GOOD = (
    "报装,BZ2026001,13800138000,,陈静,2026-11-20 14:30\n"
    "点火,DH2026002,,o_customer_9,刘洋,2026-11-21\n"
)
SECRET = "test-secret-key"


def invoke(runtime, *args, settings=None):
    obj = cli_module.Obj()
    obj._settings, obj._runtime = settings or runtime.settings, runtime
    return CliRunner().invoke(cli_module.cli, list(args), obj=obj, catch_exceptions=False)


def records(runtime) -> dict[str, SimpleNamespace]:
    """Each stored record by order number, with the name of its responsible staff member."""
    with runtime.sessions() as session:
        return {
            r.order_no: SimpleNamespace(
                id=r.id,
                kind=r.kind,
                phone=r.phone,
                openid=r.openid,
                staff=r.staff.name,
                completed_at=r.completed_at,
            )
            for r in session.scalars(select(BusinessRecord))
        }


def write(tmp_path, text: str, encoding: str = "utf-8") -> str:
    path = tmp_path / "business.csv"
    path.write_bytes(text.encode(encoding))
    return str(path)


def test_import_stores_each_record_with_its_responsible_staff(runtime, demo, tmp_path):
    result = invoke(runtime, "business", "import", write(tmp_path, HEADER + GOOD))
    assert result.exit_code == 0, result.output
    assert "成功 2 行（新增 2，更新 0，未变 0），拒绝 0 行" in result.output
    stored = records(runtime)
    assert stored["BZ2026001"].staff == "陈静" and stored["BZ2026001"].kind == "报装"
    assert stored["BZ2026001"].phone == "13800138000" and stored["BZ2026001"].openid is None
    assert stored["DH2026002"].openid == "o_customer_9" and stored["DH2026002"].phone == ""
    local = stored["BZ2026001"].completed_at.astimezone(ZoneInfo("Asia/Shanghai"))
    assert (local.day, local.hour, local.minute) == (20, 14, 30)


def test_import_is_idempotent_and_updates_changed_rows(runtime, demo, tmp_path):
    path = write(tmp_path, HEADER + GOOD)
    invoke(runtime, "business", "import", path)
    again = invoke(runtime, "business", "import", path)
    assert "成功 2 行（新增 0，更新 0，未变 2）" in again.output
    changed = GOOD.replace("陈静", "王芳")
    third = invoke(runtime, "business", "import", write(tmp_path, HEADER + changed))
    assert "新增 0，更新 1，未变 1" in third.output
    assert len(records(runtime)) == 2 and records(runtime)["BZ2026001"].staff == "王芳"


def test_bad_rows_are_rejected_with_line_and_reason_and_the_rest_imported(runtime, demo, tmp_path):
    rows = (
        GOOD
        + "抄表,X1,13800138000,,陈静,2026-11-20\n"  # line 4: unknown type
        + "维修,X2,12345,,陈静,2026-11-20\n"  # line 5: bad phone
        + "维修,X3,13800138000,,无名氏,2026-11-20\n"  # line 6: unknown staff
        + "维修,X4,,,陈静,2026-11-20\n"  # line 7: nobody to link
        + "维修,X5,13800138000,,陈静,昨天\n"  # line 8: bad time
        + "维修,BZ2026001,13800138000,,陈静,2026-11-20\n"  # line 9: duplicate in the file
        + "维修,,13800138000,,陈静,2026-11-20\n"  # line 10: no order number
    )
    result = invoke(runtime, "business", "import", write(tmp_path, HEADER + rows))
    assert result.exit_code == 1
    assert "成功 2 行" in result.output and "拒绝 7 行" in result.output
    for line, words in [
        (4, "业务类型「抄表」无效"),
        (5, "电话「12345」无效"),
        (6, "未知员工「无名氏」"),
        (7, "至少填一项"),
        (8, "完成时间「昨天」无效"),
        (9, "在文件中重复"),
        (10, "业务单号为空"),
    ]:
        assert f"第{line}行：" in result.output and words in result.output
    assert set(records(runtime)) == {"BZ2026001", "DH2026002"}


def test_a_gbk_file_from_excel_is_read(runtime, demo, tmp_path):
    result = invoke(runtime, "business", "import", write(tmp_path, HEADER + GOOD, "gb18030"))
    assert result.exit_code == 0 and "成功 2 行" in result.output


def test_a_file_without_the_columns_is_refused_whole(runtime, demo, tmp_path):
    result = invoke(runtime, "business", "import", write(tmp_path, "order_no,phone\nX,1\n"))
    assert result.exit_code == 1 and "缺少列" in result.output and "staff" in result.output
    assert records(runtime) == {}


def test_link_prints_a_signed_rate_url_for_the_order(runtime, demo, tmp_path):
    settings = runtime.settings.override(web={"secret_key": SECRET})
    invoke(runtime, "business", "import", write(tmp_path, HEADER + GOOD))
    result = invoke(runtime, "business", "link", "BZ2026001", settings=settings)
    assert result.exit_code == 0, result.output
    url = result.output.strip().splitlines()[0]
    assert url.startswith(f"{settings.web.base_url}/rate?b=")
    token = url.split("b=", 1)[1]
    assert read_business_token(token, SECRET, 3600) == records(runtime)["BZ2026001"].id


def test_link_needs_the_secret_key_and_a_known_order(runtime, demo):
    assert "BIHUAN_WEB__SECRET_KEY" in invoke(runtime, "business", "link", "X").output
    settings = runtime.settings.override(web={"secret_key": SECRET})
    unknown = invoke(runtime, "business", "link", "NOPE", settings=settings)
    assert unknown.exit_code == 1 and "没有业务单号为 NOPE" in unknown.output


def test_completion_times_in_the_usual_forms():
    zone = ZoneInfo("Asia/Shanghai")
    expected = datetime(2026, 11, 20, 6, 30, tzinfo=UTC)
    for raw in (
        "2026-11-20 14:30",
        "2026/11/20 14:30",
        "2026-11-20T14:30:00+08:00",
        "2026-11-20 14:30:00",
    ):
        assert parse_time(raw, zone) == expected, raw
    assert parse_time("2026-11-20", zone) == datetime(2026, 11, 19, 16, 0, tzinfo=UTC)
    assert parse_time("20/11/2026", zone) is None and parse_time("", zone) is None
