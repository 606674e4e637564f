"""Benchmark: one supervision sweep over 1,000,000 open cases in SQLite, as a ratio to a bare
indexed SELECT of the same rows on the same machine, in the same run.

    python bench/bench_sweep.py            # 1,000,000 cases
    python bench/bench_sweep.py 200000     # fewer, for a quick look
    python bench/bench_sweep.py --postgresql URL   # on a kept PostgreSQL bench database
    python bench/bench_sweep.py --postgresql URL --steady   # its marks set beforehand

What is built: a migrated SQLite database (WAL, as `hotline run` makes it) with the demo lines,
categories and departments, and N open cases written with bulk inserts (raw sqlite3,
`executemany` in one transaction: SQLAlchemy's ORM would take minutes). Cases were received
over the last 16 working days, so that about a third are past their answer deadline, an
eighth are within the two-day reminder window, and a tenth are dispatched but not yet signed
for — far more than a real hotline carries, to load the sweep.

What is timed (wall clock, best of a few runs where a run changes nothing):

- baseline: for each of the sweep's four kinds, the bare indexed SELECT of the candidate rows'
  ids (status and deadline range only), fetched by the raw sqlite3 driver — the least any
  sweep must read; and the same as COUNT(*) (the index range scan alone);
- the first sweep ("catching up"): every reminder, escalation, timeline event and points entry
  for the whole backlog, committed;
- a steady-state sweep a minute later: the same selection, nothing new to write (what runs
  every five minutes);
- a sweep the next day: one day's worth of new reminders and escalations.

The output is the timings and their ratios to the baseline. With `--postgresql URL` the same
on a kept PostgreSQL database, and each kind's plan.

Findings (EXPLAIN, PostgreSQL 15.18, as printed by the runs): at 1M and 10M every kind is an
Index Scan on ix_cases_status_due_mark / ix_cases_status_accept_mark whose Index Cond holds the
mark (`due_mark < 2`), then a Nested Loop Anti Join probing uq_supervision_marks for the few
rows left — once the planner knows that the open cases are nearly all marked (the multivariate
statistics cases_status_marks, made by migration 1000_baseline, before it by
0963_sweep_marks_statistics; without them it seq-scanned the 10M table, 10.4 s). SQLite: SEARCH cases USING INDEX ix_cases_status_due_mark (status=? AND
due_at<? AND …), the mark read from the index. Measured: SQLite 1M steady 352 ms / 922 ms bare
(0.38x; 4.6x before); PostgreSQL 1M 837 / 937 ms (0.89x); PostgreSQL 10M 137 ms / 9.7 s (0.01x).
"""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from _common import seeded_app, utc_text

from hotline import create_app
from hotline.cli import upgrade_database
from hotline.domain.deadlines import PROVINCE_TZ, Policy, end_of_day, local_date
from hotline.domain.workdays import WorkCalendar
from hotline.extensions import db

# A fixed "now" in a year the packaged calendar covers: Tuesday 17 November 2026, 10:00.
NOW = dt.datetime(2026, 11, 17, 10, 0, tzinfo=PROVINCE_TZ)
STATUSES = [("accepted", 0.5), ("dispatched", 0.3), ("received", 0.08), ("returned", 0.02),
            ("replied", 0.1)]


def build(path: Path, n: int) -> None:
    app = seeded_app(f"sqlite:///{path}", path.parent)
    with app.app_context():
        db.engine.dispose()

    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous=OFF")  # generation only; the sweep runs with FULL
    lines = conn.execute("SELECT id, number_prefix FROM lines").fetchall()
    categories: dict[int, list[int]] = {}
    for cat_id, line_id in conn.execute("SELECT id, line_id FROM categories"):
        categories.setdefault(line_id, []).append(cat_id)
    departments = [d for (d,) in conn.execute("SELECT code FROM departments")]

    calendar, policy = WorkCalendar(), Policy()
    today = local_date(NOW)
    days = []  # the last 16 working days and their deadlines
    day = today
    while len(days) < 16:
        day -= dt.timedelta(days=1)
        if calendar.is_workday(day):
            accept = calendar.add_working_days(day, policy.accept_days).date
            due = calendar.add_working_days(day, policy.reply_days).date
            days.append((day, accept.isoformat(), due.isoformat(), utc_text(end_of_day(due))))

    rng = random.Random(20261117)
    # Drawn once: per-row datetime arithmetic would dominate the generation time.
    statuses = rng.choices([s for s, _ in STATUSES], [w for _, w in STATUSES], k=1000)
    moments = [(day, accept, due, due_at, utc_text(dt.datetime.combine(
        day, dt.time(9, minute), tzinfo=PROVINCE_TZ)))
        for day, accept, due, due_at in days for minute in range(60)]

    def rows():
        for i in range(n):
            line_id, prefix = lines[i % 2]  # 扶贫专线 and 直通车
            received_day, accept, due, due_at, at = moments[rng.randrange(len(moments))]
            status = statuses[i % 1000]
            department = None if status in ("received", "returned") else \
                departments[i % len(departments)]
            yield (f"{prefix}{received_day:%Y%m%d}-{i:07d}", line_id, "phone",
                   categories[line_id][i % len(categories[line_id])], "handle", status,
                   department, "520100", "反映工程款拖欠问题，请协调解决。", 0, 0, at, at, at, at,
                   accept, due, due_at, 0, 0, 1)

    # Indexes are built once after the rows are in, as a bulk load does.
    indexes = conn.execute("SELECT name, sql FROM sqlite_master WHERE type='index' "
                           "AND tbl_name='cases' AND sql IS NOT NULL").fetchall()
    for name, _ in indexes:
        conn.execute(f'DROP INDEX "{name}"')
    started = time.perf_counter()
    conn.executemany(
        "INSERT INTO cases (number, line_id, channel, category_id, kind, status, "
        "department_code, region, content, public_consent, supervised, received_at, "
        "created_at, updated_at, deadline_base_at, accept_due_date, due_date, due_at, "
        "deadline_provisional, extension_days, version, due_key) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (row + (row[17],) for row in rows()))  # due_key: the deadline (every case has one)
    conn.commit()
    for _, sql in indexes:
        conn.execute(sql)
    conn.execute("ANALYZE")
    conn.commit()
    conn.close()
    print(f"built {n:,} open cases in {time.perf_counter() - started:.1f} s")


def baseline(path: Path | str, now: dt.datetime, what: str) -> float:
    """The four kinds' candidate rows by their indexes alone (`path`: the SQLite file, or a
    PostgreSQL URL)."""
    pg = isinstance(path, str)
    today: object = local_date(now)
    cutoff = WorkCalendar().add_working_days(local_date(now), 2).date
    if pg:  # psycopg binds dates and naive UTC instants as the columns hold them
        now_text: object = now.astimezone(dt.UTC).replace(tzinfo=None)
        cutoff_at: object = end_of_day(cutoff).astimezone(dt.UTC).replace(tzinfo=None)
    else:
        today = local_date(now).isoformat()
        now_text, cutoff_at = utc_text(now), utc_text(end_of_day(cutoff))
    held, unanswered = "('dispatched','accepted')", \
        "('received','dispatched','accepted','returned','reopened')"
    queries = [
        (("SELECT {} FROM cases WHERE status='dispatched' AND accept_due_date>=? "
         "AND accept_due_date<=?"), (today, today)),
        ("SELECT {} FROM cases WHERE status='dispatched' AND accept_due_date<?", (today,)),
        (f"SELECT {{}} FROM cases WHERE status IN {held} AND due_at>=? AND due_at<=?",
         (now_text, cutoff_at)),
        (f"SELECT {{}} FROM cases WHERE status IN {unanswered} AND due_at<?", (now_text,)),
    ]
    if pg:
        import psycopg

        conn = psycopg.connect(path.replace("postgresql+psycopg://", "postgresql://"))
        queries = [(sql.replace("?", "%s"), params) for sql, params in queries]
    else:
        conn = sqlite3.connect(path)
    best = float("inf")
    rows = 0
    for _ in range(3):
        started = time.perf_counter()
        rows = 0
        for sql, params in queries:
            if what == "ids":
                rows += len(conn.execute(sql.format("id"), params).fetchall())
            else:
                rows += conn.execute(sql.format("count(*)"), params).fetchone()[0]
        best = min(best, time.perf_counter() - started)
    conn.close()
    print(f"  baseline ({what}): {rows:,} candidate rows in {best * 1000:.0f} ms")
    return best


def timed_sweep(app, now: dt.datetime, label: str, repeat: int = 1) -> float:
    from workers.sweeps import sweep

    best = float("inf")
    with app.app_context():
        for _ in range(repeat):
            started = time.perf_counter()
            report = sweep(now)
            best = min(best, time.perf_counter() - started)
            db.session.remove()
    written = ", ".join(f"{k} {v:,}" for k, v in report.counts.items())
    print(f"  {label}: {best * 1000:.0f} ms ({written}; points {report.points_entries:,})")
    return best


def explain(app, now: dt.datetime) -> None:
    """The plan of each kind's candidate SELECT, as a steady sweep sends it."""
    from sqlalchemy import event

    from workers.sweeps import sweep

    sent: list[tuple[str, object]] = []

    def keep(conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.startswith("INSERT INTO supervision_marks"):
            sent.append((statement, parameters))

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", keep)
        try:
            sweep(now)
        finally:
            event.remove(db.engine, "before_cursor_execute", keep)
        for statement, parameters in sent:
            select_part = statement[statement.index("SELECT"):statement.index("ON CONFLICT")]
            plan = db.session.connection().exec_driver_sql(
                "EXPLAIN " + select_part, parameters).scalars().all()
            kind = next(p for p in parameters.values() if str(p).startswith(("remind", "esc")))
            print(f"  plan, {kind}: " + " / ".join(p.strip() for p in plan[:4]))
        db.session.rollback()


def on_postgresql(url: str, steady_only: bool = False) -> None:
    """The same sweeps on a PostgreSQL database made by `bench_reports.py --postgresql` or
    `make_pg_10m.py` (its open cases: received, dispatched and not signed for, signed for and
    not answered by 20 November 2026), at that database's moment."""
    import psycopg

    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": tempfile.gettempdir(),
                      "SECRET_KEY": "bench", "HOTLINE_AREAS": ()})
    upgrade_database(app)
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as raw:
        version = raw.execute("SHOW server_version").fetchone()[0]
        cases, open_ = raw.execute(
            "SELECT count(*), count(*) FILTER (WHERE status IN ('received', 'dispatched', "
            "'accepted', 'returned', 'reopened')) FROM cases").fetchone()
    now = dt.datetime(2026, 11, 20, 10, 0, tzinfo=PROVINCE_TZ)  # bench_reports.NOW
    print(f"PostgreSQL {version}: {cases:,} cases, {open_:,} open", flush=True)
    ids = baseline(url, now, "ids")
    # --steady: the marks of the backlog were set beforehand (a first sweep over the 10M
    # database's 660,000 overdue cases reads the 13 GB table serially: INSERT … SELECT is
    # never parallel in PostgreSQL 15).
    first = None if steady_only else timed_sweep(app, now, "first sweep (whole backlog)")
    later = now + dt.timedelta(minutes=1)
    steady = timed_sweep(app, later, "steady sweep (nothing new)", repeat=3)
    steady_ids = baseline(url, later, "ids")
    steady_count = baseline(url, later, "count")
    daily = timed_sweep(app, now + dt.timedelta(days=1), "next day's sweep")
    explain(app, now + dt.timedelta(days=1, minutes=1))
    print(f"  steady sweep / bare indexed SELECT of the ids: {steady / steady_ids:.2f}x")
    print(f"  steady sweep / COUNT(*) over the same index ranges: {steady / steady_count:.2f}x")
    if first is not None:
        print(f"  first sweep  / bare indexed SELECT of the ids: {first / ids:.2f}x")
    print(f"  next day     / bare indexed SELECT of the ids: {daily / ids:.2f}x")


def main() -> None:
    if "--postgresql" in sys.argv:
        on_postgresql(sys.argv[sys.argv.index("--postgresql") + 1], "--steady" in sys.argv)
        return
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with tempfile.TemporaryDirectory(prefix="hotline-bench-sweep-") as tmp:
        path = Path(tmp) / "bench.db"
        build(path, n)
        app = create_app({"DATABASE_URL": f"sqlite:///{path}", "INSTANCE_PATH": tmp,
                          "SECRET_KEY": "bench", "HOTLINE_AREAS": ()})
        ids = baseline(path, NOW, "ids")
        count = baseline(path, NOW, "count")
        first = timed_sweep(app, NOW, "first sweep (whole backlog)")
        later = NOW + dt.timedelta(minutes=1)
        steady = timed_sweep(app, later, "steady sweep (nothing new)", repeat=3)
        steady_ids = baseline(path, later, "ids")
        next_day = NOW + dt.timedelta(days=1)
        daily = timed_sweep(app, next_day, "next day's sweep")
        print(f"\n{n:,} open cases, SQLite {sqlite3.sqlite_version}")
        print(f"  steady sweep / bare indexed SELECT of the ids: {steady / steady_ids:.2f}x")
        print(f"  steady sweep / COUNT(*) over the same index ranges: {steady / count:.2f}x")
        print(f"  first sweep  / bare indexed SELECT of the ids: {first / ids:.2f}x")
        print(f"  next day     / bare indexed SELECT of the ids: {daily / ids:.2f}x")


if __name__ == "__main__":
    main()
