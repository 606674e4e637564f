"""Benchmark: the report summary over 1,000,000 cases in SQLite, as a ratio to the bare
GROUP BY on the same machine in the same run; and the ledger export's memory for 1,000,000 rows.

    python bench/bench_reports.py              # 1,000,000 cases (builds a ~1.5 GB database once)
    python bench/bench_reports.py 100000       # fewer, for a quick look
    python bench/bench_reports.py --keep DIR   # build in DIR and reuse it on later runs
    python bench/bench_reports.py 1000000 --keep DIR --postgresql postgresql://u:p@host/db
                                               # the same cases copied into PostgreSQL too
    python bench/bench_reports.py --no-export  # the summary only
    python bench/bench_reports.py --summary-on URL [--period 2026-07]
                                               # the summary on a kept PostgreSQL database
                                               # (make_pg_10m.py's 10M), of another month

What is built: a migrated SQLite database (WAL) with the demo lines, categories and
departments, and N cases received in October 2026 with the timeline a real month leaves:
a quarter answered on the spot, most dispatched, signed for, replied, reviewed and closed,
some returned (退单), extended, reopened, a third of the closed ones surveyed — about five
timeline steps per case. Written with raw sqlite3 `executemany` (the ORM would take an hour).

What is timed (wall clock, median of three runs, after one warm-up run that loads jieba and
the summary's code):

- baseline: `SELECT category_id, count(*) FROM cases WHERE received_at in the month GROUP BY
  category_id` through the raw sqlite3 driver — the least a breakdown by category can cost;
- the summary of `GET /api/v1/stats/summary?period=2026-10` (every section: volume, handling,
  outcome, departments, hot issues, phone), read from the figures kept with every step
  (`hotline.reports.rollup`), and each section alone; and, for comparison in the same run, the
  same summary read from the cases (how every summary was made before the figures tables, and
  how it still is while a rebuild is pending);
- the rebuild of the figures tables from the cases (`hotline report-figures --rebuild`), once,
  after the build (the bench writes the cases with raw SQL, which the session does not see).

With `--postgresql URL` the same cases are copied into that (emptied) PostgreSQL database
(COPY) and the summary is timed there as well, against the bare GROUP BY through psycopg.

Memory of the export: the ledger of all N cases written to /dev/null as CSV and as XLSX, each
in a fresh process, with tracemalloc's peak of Python allocations and the process's peak RSS
(ru_maxrss) before and after the export; and, for comparison, the peak
of reading the same rows into a list (what a non-streaming export would hold).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, seeded_app, take_option, timed, utc_text

from hotline import create_app
from hotline.cli import upgrade_database
from hotline.domain.deadlines import PROVINCE_TZ, end_of_day
from hotline.domain.workdays import WorkCalendar
from hotline.extensions import db

NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=PROVINCE_TZ)
MONTH_START = dt.datetime(2026, 10, 1, tzinfo=PROVINCE_TZ)
TOPICS = [("劳动和社会保障", "工资福利"), ("城乡建设", "住房保障"), ("经济管理", "企业经营"),
          ("交通运输", "公路建设"), ("财税金融", "税收"), ("农村农业", "扶贫开发"),
          ("教育文体", "义务教育"), ("卫生健康", "医疗保障"), ("市场监管", "食品安全"),
          ("生态环境", "污染防治")]
TEXTS = ["包工头拖欠农民工工资至今未发", "开发商逾期交房业主多次反映无果", "稳岗补贴迟迟没有到账",
         "通组公路修到一半停工雨天无法出行", "增值税留抵退税办理进度慢", "易地扶贫搬迁安置房漏水",
         "孩子入学学位不足", "医保报销比例咨询", "餐馆使用过期食材", "养殖场污水直排河道"]
REGIONS = ["520102", "520103", "520111", "520302", "520402", "520502", "520526", "520527",
           "520602", "522301", "522601", "522701"]
DEPARTMENTS = ["gz-hrss", "gz-housing", "gz-tax", "gz-market", "gz-transport", "gz-education",
               "gz-health", "gz-env", "gov-520100", "gov-520300", "gov-520500", "gov-520600"]


def build(path: Path, n: int) -> None:
    app = seeded_app(f"sqlite:///{path}", path.parent)
    with app.app_context():
        lines = {code: (lid, prefix) for code, lid, prefix in db.session.execute(
            db.text("SELECT code, id, number_prefix FROM lines"))}
        cats = {}
        for lid, cid in db.session.execute(db.text("SELECT line_id, id FROM categories")):
            cats.setdefault(lid, []).append(cid)
        db.session.remove()
    cal = WorkCalendar()
    due_cache: dict[dt.date, tuple[str, str, str]] = {}

    def deadlines(day: dt.date) -> tuple[str, str, str]:
        if day not in due_cache:
            accept = cal.add_working_days(day, 1).date
            due = cal.add_working_days(day, 10).date
            due_cache[day] = (accept.isoformat(), due.isoformat(), utc_text(end_of_day(due)))
        return due_cache[day]

    rng = random.Random(20261001)
    con = sqlite3.connect(path)
    con.execute("PRAGMA synchronous=OFF")  # bench data, written once
    con.execute("PRAGMA journal_mode=WAL")
    case_sql = (
        "INSERT INTO cases (id, number, line_id, channel, category_id, topic1, topic2, kind, "
        "status, department_code, region, citizen_name, citizen_phone, content, "
        "public_consent, supervised, received_at, created_at, updated_at, deadline_base_at, "
        "accept_due_date, due_date, due_at, deadline_provisional, extension_days, accepted_at,"
        " replied_at, closed_at, reply_text, version, due_key) VALUES "
        "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,0,0,?,?,?,?,?,?,?,0,?,?,?,?,?,1,?)")
    event_sql = ("INSERT INTO case_events (case_id, action, actor, actor_role, at, "
                 "from_status, to_status, data) VALUES (?,?,?,?,?,?,?,?)")
    survey_sql = ("INSERT INTO surveys (case_id, round, channel, sent_at, answered_at, rating) "
                  "VALUES (?,1,'sms',?,?,?)")
    seconds = 31 * 86400
    counters: dict[str, int] = {}
    cases, events, surveys = [], [], []
    line_weights = [("zhitongche", 0.3), ("fupin", 0.3), ("board", 0.4)]
    started = time.perf_counter()
    # Cases are written in the order they came in, as intake writes them: the rows of a month
    # lie together in the table, as they do in a real database.
    arrivals = sorted(rng.randrange(seconds) for _ in range(n))
    for case_id in range(1, n + 1):
        line = rng.choices([x[0] for x in line_weights], [x[1] for x in line_weights])[0]
        lid, prefix = lines[line]
        received = MONTH_START + dt.timedelta(seconds=arrivals[case_id - 1])
        day = received.date()
        key = f"{prefix}{day:%Y%m%d}"
        counters[key] = counters.get(key, 0) + 1
        accept_due, due_date, due_at = deadlines(day)
        t1, t2 = rng.choice(TOPICS)
        region = rng.choice(REGIONS)
        rec = utc_text(received)
        status, dep, kind, ext = "received", None, "handle", 0
        accepted = replied = closed = reply = None
        ev = [(case_id, "create", "op", "operator", rec, None, "received", None)]
        r = rng.random()
        if r < 0.25:  # 即时答复
            kind, status = "instant", "closed"
            replied = utc_text(received + dt.timedelta(minutes=8))
            closed = utc_text(received + dt.timedelta(minutes=9))
            reply = "已当场解答。"
            ev += [(case_id, "answer", "op", "operator", replied, "received", "answered", None),
                   (case_id, "close", "op", "operator", closed, "answered", "closed", None)]
        elif r < 0.97:
            dep = rng.choice(DEPARTMENTS)
            at = received + dt.timedelta(minutes=30)
            ev.append((case_id, "dispatch", "op", "operator", utc_text(at), "received",
                       "dispatched", json.dumps({"department": dep, "kind": "handle"})))
            status = "dispatched"
            if rng.random() < 0.03:  # 退单, then sent to the right one
                at += dt.timedelta(hours=3)
                ev.append((case_id, "return", "h", "handler", utc_text(at), "dispatched",
                           "returned", json.dumps({"reason": rng.choice(
                               ["非本单位职责", "属地管理事项", "诉求不清"]), "department": dep},
                               ensure_ascii=False)))
                dep = rng.choice(DEPARTMENTS)
                at += dt.timedelta(hours=1)
                ev.append((case_id, "dispatch", "op", "operator", utc_text(at), "returned",
                           "dispatched", json.dumps({"department": dep, "kind": "handle"})))
            if rng.random() < 0.95:
                at += dt.timedelta(hours=rng.choice([1, 4, 20, 40]))
                accepted = utc_text(at)
                ev.append((case_id, "accept", "h", "handler", accepted, "dispatched",
                           "accepted", None))
                status = "accepted"
                if rng.random() < 0.02:
                    ext = 5
                    ev.append((case_id, "extension", "h", "handler", utc_text(at), "accepted",
                               "accepted", json.dumps({"working_days": 5, "reason": "需核查"})))
                    ev.append((case_id, "extension-decision", "sup", "supervisor",
                               utc_text(at), "accepted", "accepted",
                               json.dumps({"approve": True, "working_days": 5})))
                    accept_due, due_date, due_at = accept_due, *deadlines_ext(cal, day, 15)
                reply_at = received + dt.timedelta(days=rng.choice([1, 2, 3, 5, 8, 12, 16]))
                if reply_at < NOW:
                    replied, reply, status = utc_text(reply_at), "已办理。", "replied"
                    ev.append((case_id, "reply", "h", "handler", replied, "accepted", "replied",
                               None))
                    done = reply_at + dt.timedelta(hours=5)
                    if done < NOW and rng.random() < 0.9:
                        closed, status = utc_text(done), "closed"
                        ev += [(case_id, "review", "op", "operator", closed, "replied",
                                "reviewed", json.dumps({"approve": True})),
                               (case_id, "close", "op", "operator", closed, "reviewed",
                                "closed", None)]
                        if rng.random() < 0.3:
                            surveys.append((case_id, closed, closed, rng.choice(
                                ["satisfied"] * 7 + ["basically_satisfied"] * 2
                                + ["unsatisfied"])))
        cases.append((case_id, f"{key}-{counters[key]:05d}", lid, rng.choice(
            ["phone", "phone", "wechat", "web"]), rng.choice(cats[lid]), t1, t2, kind, status,
            dep, region, "市民", f"139{case_id:08d}", f"{rng.choice(TEXTS)}（{region}）", rec, rec,
            rec, rec, accept_due, due_date, due_at, ext, accepted, replied, closed, reply,
            due_at))
        events += ev
        if len(cases) >= 50_000:
            _flush(con, case_sql, cases, event_sql, events, survey_sql, surveys)
    _flush(con, case_sql, cases, event_sql, events, survey_sql, surveys)
    con.execute("ANALYZE")
    con.close()
    print(f"built {n:,} cases in {time.perf_counter() - started:.0f} s: {path} "
          f"({path.stat().st_size / 1e9:.2f} GB)")
    rebuild_figures(f"sqlite:///{path}", path.parent)


def rebuild_figures(url: str, instance: Path) -> None:
    from hotline.reports import rollup

    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(instance),
                      "SECRET_KEY": "bench", "HOTLINE_AREAS": ()})
    with app.app_context():
        started = time.perf_counter()
        n = rollup.rebuild(db.session)
        db.session.commit()
        cells = db.session.scalar(db.text("SELECT count(*) FROM report_cells"))
        counts = db.session.scalar(db.text("SELECT count(*) FROM report_counts"))
        print(f"figures rebuilt from {n:,} cases in {time.perf_counter() - started:.0f} s "
              f"({cells:,} cells, {counts:,} breakdown rows)")
        db.session.remove()


COPIED = ("cases", "case_events", "surveys")


def copy_to_postgresql(path: Path, url: str) -> None:
    """The SQLite bench database's cases, timelines and surveys copied into PostgreSQL."""
    import psycopg

    seeded_app(url, path.parent, empty_postgresql=True)
    started = time.perf_counter()
    src = sqlite3.connect(path)
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as pg:
        for table in COPIED:
            columns = [r[1] for r in src.execute(f"PRAGMA table_info({table})")]
            names = ", ".join(columns)
            with pg.cursor() as cur, cur.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in src.execute(f"SELECT {names} FROM {table}"):
                    copy.write_row(row)
            pg.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                       f"(SELECT max(id) FROM {table}))")
            pg.commit()
        pg.execute("DELETE FROM report_rebuilds")
        pg.commit()
        pg.autocommit = True
        pg.execute("VACUUM ANALYZE")
    src.close()
    print(f"copied into PostgreSQL in {time.perf_counter() - started:.0f} s")
    rebuild_figures(url, path.parent)


def deadlines_ext(cal: WorkCalendar, day: dt.date, days: int) -> tuple[str, str]:
    due = cal.add_working_days(day, days).date
    return due.isoformat(), utc_text(end_of_day(due))


def _flush(con, case_sql, cases, event_sql, events, survey_sql, surveys) -> None:
    with con:
        con.executemany(case_sql, cases)
        con.executemany(event_sql, events)
        con.executemany(survey_sql, surveys)
    cases.clear()
    events.clear()
    surveys.clear()


def bench_summary(path: Path, url: str | None = None, month: str = "2026-10") -> None:
    """The summary on the SQLite bench database, or on PostgreSQL at `url`."""
    from hotline.models import ReportRebuild
    from hotline.reports.hot import hot_issues
    from hotline.reports.periods import parse_period
    from hotline.reports.phone import phone_figures
    from hotline.reports.scope import Scope
    from hotline.reports.summary import Report, build_summary, report_for

    period = parse_period(month)
    bare_sql = ("SELECT category_id, count(*) FROM cases WHERE received_at >= %s AND "
                "received_at < %s GROUP BY category_id")
    start, end = utc_text(period.start_at), utc_text(period.end_before)
    if url is None:
        con = sqlite3.connect(path)
        driver = f"raw sqlite3 {sqlite3.sqlite_version}"

        def bare() -> None:
            con.execute(bare_sql.replace("%s", "?"), (start, end)).fetchall()
    else:
        import psycopg

        con = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))
        driver = "raw psycopg, PostgreSQL " + con.execute("SHOW server_version").fetchone()[0]

        def bare() -> None:
            con.execute(bare_sql, (start, end)).fetchall()

    app = create_app({"DATABASE_URL": url or f"sqlite:///{path}",
                      "INSTANCE_PATH": str(path.parent), "SECRET_KEY": "bench",
                      "HOTLINE_AREAS": ()})
    with app.app_context():
        scope = Scope(period)
        started = time.perf_counter()
        summary = build_summary(scope, now=NOW)  # warm-up: jieba, imports, page cache
        first = time.perf_counter() - started
        bare()
        base = timed(bare)
        whole = timed(lambda: build_summary(scope, now=NOW))

        def from_cases() -> dict:
            pending = ReportRebuild(reason="bench: read the cases")
            db.session.add(pending)
            db.session.commit()
            try:
                return build_summary(scope, now=NOW)
            finally:
                db.session.delete(pending)
                db.session.commit()

        started = time.perf_counter()
        old_summary = from_cases()
        old = time.perf_counter() - started  # once: it takes a minute or two at 1M
        assert old_summary["total"] == summary["total"]
        same = {k: v for k, v in old_summary.items() if k != "as_of"} == \
            {k: v for k, v in summary.items() if k != "as_of"}
        parts = {
            "volume (5 breakdowns, day/week/month)": lambda: report_for(scope, now=NOW).volume(),
            "handling (incl. timeline steps)": lambda: report_for(scope, now=NOW).handling(),
            "outcome": lambda: report_for(scope, now=NOW).outcome(),
            "departments ranked": lambda: report_for(scope, now=NOW).ranking(),
            "hot issues": lambda: hot_issues(scope),
            "phone": lambda: phone_figures(scope),
            "departments ranked, from the cases": lambda: Report(scope, now=NOW).ranking(),
        }
        print(f"\nsummary over {summary['total']:,} cases of {month} on "
              f"{'SQLite' if url is None else 'PostgreSQL'} (median of 3):")
        print(f"  bare GROUP BY category_id ({driver:22}) {base * 1000:8.0f} ms   1.0x")
        print(f"  whole summary, from the figures tables     {whole * 1000:8.0f} ms "
              f"{whole / base:6.1f}x")
        print(f"  the same, first in a fresh process         {first * 1000:8.0f} ms "
              f"{first / base:6.1f}x   (jieba loaded, the sample's terms segmented)")
        print(f"  whole summary, from the cases (before, 1x) {old * 1000:8.0f} ms "
              f"{old / base:6.1f}x   same figures: {same}")
        for name, fn in parts.items():
            t = timed(fn)
            print(f"    {name:40} {t * 1000:8.0f} ms {t / base:6.1f}x")
        check = summary["by_category"]
        print(f"  by_category sums to {sum(c['percent'] for c in check):.2f}% over "
              f"{len(check)} categories; on-time rate {summary['outcome']['on_time_rate']}")
    con.close()


EXPORT_CHILD = r"""
import os, resource, sys, time, tracemalloc
sys.path.insert(0, sys.argv[1])
from hotline import create_app
from hotline.models.types import utcnow
app = create_app({"DATABASE_URL": "sqlite:///" + sys.argv[2], "INSTANCE_PATH": sys.argv[3],
                  "SECRET_KEY": "bench", "HOTLINE_AREAS": ()})
mode, trace = sys.argv[4], sys.argv[5] == "1"
with app.app_context():
    from hotline.extensions import db
    from hotline.reports import ledger
    from hotline.reports.xlsxstream import stream_xlsx  # imports done before measuring
    db.session.execute(db.text("SELECT 1"))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if trace:
        tracemalloc.start()
    t = time.perf_counter()
    size = rows = 0
    if mode == "list":
        from hotline.models import Case
        rows = len(db.session.execute(ledger._query([], Case.duplicate_of_id.is_not(None),
                                                    utcnow())).all())
    else:
        with open(os.devnull, "wb") as out:
            for chunk in ledger.export([], mode, utcnow()):
                size += len(chunk)
                out.write(chunk)
    elapsed = time.perf_counter() - t
    peak = tracemalloc.get_traced_memory()[1] if trace else 0
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"{elapsed:.2f} {size} {peak} {before * 1024} {after * 1024} {rows}")
"""


def bench_export(path: Path, n: int) -> None:
    print(f"\nledger export of {n:,} rows (fresh process each; peak RSS of the process before "
          "the export -> after it):")
    for mode in ("csv", "xlsx", "list"):
        timing = _child(path, mode, trace=False)
        traced = _child(path, mode, trace=True)
        seconds, size, _, rss_before, rss_after, _ = timing
        peak = traced[2]
        label = {"csv": "CSV, streamed", "xlsx": "XLSX, streamed",
                 "list": "rows read into a list (no streaming, for comparison)"}[mode]
        extra = f", {size / 1e6:.0f} MB out, {n / seconds:,.0f} rows/s" if size else ""
        print(f"  {label:54} {seconds:6.1f} s{extra}; peak Python allocations "
              f"{peak / 1e6:7.1f} MB, peak RSS {rss_before / 1e6:.0f} -> {rss_after / 1e6:.0f} MB")


def _child(path: Path, mode: str, trace: bool) -> list[float]:
    out = subprocess.run([sys.executable, "-c", EXPORT_CHILD, str(ROOT), str(path),
                          str(path.parent), mode, "1" if trace else "0"],
                         capture_output=True, text=True, check=True)
    return [float(x) for x in out.stdout.split()[-6:]]


def main() -> None:
    args = sys.argv[1:]
    month = take_option(args, "--period") or "2026-10"
    summary_on = take_option(args, "--summary-on")
    if summary_on:  # a kept PostgreSQL database (e.g. make_pg_10m.py's): no build
        bench_summary(Path(tempfile.gettempdir()) / "none", summary_on, month)
        return
    keep = take_option(args, "--keep")
    keep = Path(keep) if keep else None
    pg_url = take_option(args, "--postgresql")
    export = "--no-export" not in args
    rebuild = "--rebuild" in args  # a kept database made by an older version: migrate, recount
    args = [a for a in args if a not in ("--no-export", "--rebuild")]
    n = int(args[0]) if args else 1_000_000
    folder = keep or Path(tempfile.mkdtemp(prefix="bench-reports-"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"reports-{n}.db"
    if not path.exists():
        build(path, n)
    else:
        print(f"reusing {path}")
        if rebuild:
            app = create_app({"DATABASE_URL": f"sqlite:///{path}",
                              "INSTANCE_PATH": str(path.parent), "SECRET_KEY": "bench",
                              "HOTLINE_AREAS": ()})
            started = time.perf_counter()
            upgrade_database(app)
            print(f"migrated in {time.perf_counter() - started:.0f} s")
            rebuild_figures(f"sqlite:///{path}", path.parent)
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
          f"SQLite {sqlite3.sqlite_version}")
    bench_summary(path)
    if pg_url:
        copy_to_postgresql(path, pg_url)
        bench_summary(path, pg_url)
    if export:
        bench_export(path, n)
    if keep is None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


if __name__ == "__main__":
    main()
