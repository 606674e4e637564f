"""Bulletins: written on demand, by the schedule and by `hotline report`; kept and served."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
from click.testing import CliRunner
from sqlalchemy import func, select

from hotline.extensions import db
from hotline.reports.jobs import write_due_bulletins
from hotline.reports.models import Bulletin

from .conftest import local

OCT12 = local(2026, 10, 12, 9, 30)


def test_supervisor_writes_a_monthly_bulletin_and_staff_read_it(api, tokens, build):
    build.closed(OCT12, local(2026, 10, 13, 9, 0))
    build.replied(OCT12, local(2026, 10, 30, 9, 0), department="gov-520100")
    resp = api.post("/bulletins", tokens.supervisor, {"period": "2026-10",
                                                     "line": "zhitongche"})
    assert resp.status_code == 201, resp.get_json()
    meta = resp.get_json()
    assert meta["title"] == "服务民营企业省长直通车2026年10月月度通报"
    assert (meta["kind"], meta["period"], meta["line"]) == ("month", "2026-10", "zhitongche")

    page = api.get(meta["html_url"], tokens.operator)
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "服务民营企业省长直通车2026年10月月度通报" in html
    assert "本期共受理群众和企业诉求 <b>2</b> 件" in html
    assert "按期答复率 50.00%" in html
    assert html.count("data:image/svg+xml;base64,") == 3  # trend, categories, ranking
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]

    book = openpyxl.load_workbook(io.BytesIO(api.get(meta["xlsx_url"], tokens.operator).data))
    assert {"概况", "诉求类别", "单位排名", "每日受理", "热点问题"} <= set(book.sheetnames)
    ranking = list(book["单位排名"].iter_rows(min_row=4, values_only=True))
    assert [(r[0], r[2]) for r in ranking] == [(1, "贵州省人力资源和社会保障厅"),
                                              (2, "贵阳市人民政府")]

    detail = api.get(f"/bulletins/{meta['id']}", tokens.operator).get_json()
    assert detail["summary"]["total"] == 2
    listed = api.get("/bulletins?kind=month", tokens.operator).get_json()
    assert [b["id"] for b in listed["items"]] == [meta["id"]]


def test_writing_a_bulletin_again_replaces_it(api, tokens, build):
    first = api.post("/bulletins", tokens.supervisor, {"period": "2026-W42"}).get_json()
    build.case(OCT12)
    again = api.post("/bulletins", tokens.supervisor, {"period": "2026-W42"})
    assert again.status_code == 200
    assert again.get_json()["id"] == first["id"]
    assert api.get(f"/bulletins/{first['id']}", tokens.operator).get_json()["summary"][
        "total"] == 1


def test_only_a_supervisor_writes_bulletins(api, tokens):
    assert api.post("/bulletins", tokens.operator, {"period": "2026-10"}).status_code == 403
    assert api.post("/bulletins", tokens.supervisor, {"period": "2026-13"}).status_code == 400
    assert api.post("/bulletins", tokens.supervisor,
                    {"period": "2026-10", "line": "nosuch"}).status_code == 422
    assert api.get("/bulletins/999.html", tokens.operator).status_code == 404


def test_schedule_writes_each_due_bulletin_once(app, build):
    build.case(local(2026, 9, 28, 10, 0))  # the centre's first case, in the third quarter
    build.replied(OCT12, local(2026, 10, 13, 9, 0))
    monday = local(2026, 11, 2, 1, 0)  # after October, week 44 and the third quarter ended
    written = write_due_bulletins(now=monday)
    scopes = ["all", "fupin", "zhitongche", "board"]
    assert sorted(written) == sorted(f"{p}/{s}" for p in ("2026-W44", "2026-10", "2026-Q3")
                                     for s in scopes)
    assert write_due_bulletins(now=local(2026, 11, 2, 2, 0)) == []
    october = db.session.scalar(select(Bulletin).where(Bulletin.period == "2026-10",
                                                       Bulletin.scope == "all"))
    assert october.summary["total"] == 1
    assert october.title == "政民互动平台2026年10月月度通报"


def test_report_command_writes_the_bulletin_files(app, build, tmp_path: Path):
    from hotline.cli import main

    build.closed(OCT12, local(2026, 10, 13, 9, 0))
    env = {"DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "HOTLINE_INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "test"}
    result = CliRunner().invoke(main, ["report", "--period", "2026-10", "--line", "zhitongche",
                                       "--out", str(tmp_path / "out")], env=env)
    assert result.exit_code == 0, result.output
    assert "受理 1 件" in result.output and "按期答复率 100.00%" in result.output
    html = tmp_path / "out" / "bulletin-2026-10-zhitongche.html"
    assert html.exists() and (tmp_path / "out" / "bulletin-2026-10-zhitongche.xlsx").exists()
    assert "月度通报" in html.read_text(encoding="utf-8")
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Bulletin)) == 1

    weekly = CliRunner().invoke(main, ["report", "--period", "2026-W44", "--json"], env=env)
    assert weekly.exit_code == 0 and '"label": "2026-W44"' in weekly.output
    bad = CliRunner().invoke(main, ["report", "--period", "2026-Q5"], env=env)
    assert bad.exit_code != 0 and "2026-Q4" in bad.output


def test_no_bulletin_is_due_before_the_first_case(app, build):
    """A fresh install has nothing to report: the hourly job finds nothing due (it drew twelve
    empty bulletins at a fresh `hotline run`'s start), until the first case comes."""
    from hotline.reports.jobs import due_bulletins

    monday = local(2026, 11, 2, 1, 0)
    assert due_bulletins(now=monday) == [] and write_due_bulletins(now=monday) == []
    build.case(OCT12)
    assert len(due_bulletins(now=monday)) == 8  # W44 and October, for all and each line


def test_a_period_that_ended_before_the_first_case_has_no_bulletin_due(app, build):
    """A centre whose first case came this week has nothing to report of last week, month or
    quarter (after its first case, a fresh `hotline run` drew twelve empty bulletins)."""
    from hotline.reports.jobs import due_bulletins

    build.case(local(2026, 11, 2, 9, 0))  # Monday of week 45, its first case
    assert due_bulletins(now=local(2026, 11, 2, 10, 0)) == []
    assert write_due_bulletins(now=local(2026, 11, 2, 10, 0)) == []
    # Once week 45 has ended, its bulletin is due (it holds the case); October's is not.
    due = due_bulletins(now=local(2026, 11, 9, 1, 0))
    assert sorted({period.label for period, _ in due}) == ["2026-W45"]
    build.case(local(2026, 10, 31, 23, 30))  # a call logged late: October had a case after all
    assert sorted({period.label for period, _ in due_bulletins(
        now=local(2026, 11, 9, 1, 0))}) == ["2026-10", "2026-W45"]


def test_the_worker_runs_the_scheduled_bulletin_job_from_the_reports_queue(app, redis_client,
                                                                           build):
    from rq import Queue

    from hotline.domain.deadlines import local_date
    from hotline.models.types import utcnow
    from hotline.reports.jobs import JOB_PATH
    from hotline.reports.periods import last_complete
    from workers import schedule
    from workers.worker import HotlineSimpleWorker

    today = local_date(utcnow())
    # A centre that has received cases since before the last quarter that has ended.
    build.case(local(*last_complete("quarter", today).start.timetuple()[:3], 9, 30))
    entries = [(p.func, p.interval, p.queue) for p in schedule.periodic_jobs(app)
               if p.func == JOB_PATH]
    assert entries == [(JOB_PATH, 3600, "reports")]  # hourly, on the reports queue
    queue = Queue("reports", connection=redis_client)
    job = queue.enqueue(JOB_PATH)
    HotlineSimpleWorker([queue], connection=redis_client).work(burst=True)
    assert job.get_status(refresh=True) == "finished", job.latest_result()
    db.session.expire_all()
    periods = set(db.session.scalars(select(Bulletin.period)))
    assert periods == {last_complete(k, today).label for k in ("week", "month", "quarter")}


def test_the_hourly_job_queues_each_bulletin_so_the_outbox_goes_between_them(app, redis_client,
                                                                            build):
    """The hourly job writes no bulletin itself: it queues one job per due bulletin, and a job
    on a queue the worker takes first (the outbox's relay, a notification) runs before them,
    not after a dozen charts and workbooks."""
    from rq import Queue

    from hotline.queue import QUEUE_NAMES
    from hotline.reports.jobs import JOB_PATH, WRITE_PATH, due_bulletins
    from workers.worker import HotlineSimpleWorker

    def work(max_jobs: int) -> None:
        queues = [Queue(name, connection=redis_client) for name in QUEUE_NAMES]
        HotlineSimpleWorker(queues, connection=redis_client).work(burst=True, max_jobs=max_jobs)

    def written() -> int:
        db.session.expire_all()
        return db.session.scalar(select(func.count()).select_from(Bulletin))

    build.case(OCT12)  # a centre that has received cases
    app.config["BULLETIN_KINDS"] = ("week",)
    due = len(due_bulletins())
    assert due == 4  # last week's: for all lines and for each of the three
    reports = Queue("reports", connection=redis_client)
    hourly = reports.enqueue(JOB_PATH)
    work(max_jobs=1)
    assert hourly.get_status(refresh=True) == "finished", hourly.latest_result()
    assert written() == 0
    assert [job.func_name for job in reports.get_jobs()] == [WRITE_PATH] * due

    meanwhile = Queue("default", connection=redis_client).enqueue(len, "发送")
    work(max_jobs=1)
    assert meanwhile.get_status(refresh=True) == "finished" and written() == 0
    work(max_jobs=100)
    assert written() == due and reports.count == 0
    reports.enqueue(JOB_PATH)  # an hour later: nothing is due, nothing queued
    work(max_jobs=100)
    assert written() == due
