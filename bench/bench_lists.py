"""Benchmark: case list pages, deep pages, a department's queue and the ledger export over
1,000,000 cases, as ratios to the bare SQL of the same rows on the same machine in the same
run, on SQLite and PostgreSQL.

    python bench/bench_lists.py DIR [N] [--postgresql URL] [--no-sqlite] [--no-export]
                                [--no-before]

Uses the database `bench/bench_reports.py N --keep DIR` builds (and, with `--postgresql`, a
PostgreSQL database it copied the cases into, or the 10M one `bench/make_pg_10m.py` makes);
brings it up to the latest migration first.

What is timed (median of 5, after a warm-up), each through the code the API runs:

- `GET /api/v1/cases?status=closed&sort=due`, page 1 (20 rows): `hotline.listing.case_page`
  with `case_list_conditions`, the rows dumped with `CaseSchema`;
- the same list's page 200, by `page=200` (OFFSET) and by `cursor=` (keyset, the cursor of
  page 199);
- the department queue `status=dispatched&department=gz-tax&sort=due`, page 1;
- before (for comparison in the same run): the count over a subquery of every column and the
  order the list used before (`due_at IS NULL, due_at, id`);
- baseline: the bare count plus the bare page of ids in primary-key order (the least a page
  with its total can cost), through the raw driver;
- the ledger (台账) of one department (`department=gz-tax`, about 6% of the cases) as CSV and
  XLSX, every byte consumed, against the baseline of the same columns fetched by the raw
  driver and written with `csv.writer`.

The query plans (EXPLAIN) of each list query are printed with the figures.

Findings on PostgreSQL 15.18 at 1M (EXPLAIN, as printed by the run):
- `status=closed&sort=due` page 1: Limit 21 over Index Only Scan using ix_cases_status_due_key
  (status = 'closed') — no sort. The count reads at most 10,001 entries of the same index, then
  takes the planner's estimate (863,675 for 864,597 closed cases).
- page 200 by cursor: Index Only Scan using ix_cases_status_due_key with Index Cond
  `status = 'closed' AND ROW(due_key, id) > ROW(…)`: the page starts at the row.
- the department queue: Limit 21 over Index Only Scan using
  ix_cases_department_status_due_key (department_code, status) — no sort.
- the ledger of a department: Parallel Bitmap Heap Scan on ix_cases_department_status, Sort on
  (received_at, id), Gather Merge (no index has the department and the order; the bare SQL
  has the same plan). SQLite walks ix_cases_received and reads each row.
SQLite 3.40 at 1M: SEARCH USING COVERING INDEX ix_cases_status_due_key (status=?) for page 1,
(status=? AND due_key>?) after a cursor, ix_cases_department_status_due_key for the queue.
"""

from __future__ import annotations

import csv
import io
import sqlite3
import sys
from pathlib import Path

from _common import take_option
from _common import timed as median_time

from hotline import create_app
from hotline.cli import upgrade_database
from hotline.domain.lifecycle import Actor
from hotline.extensions import db


def timed(fn, runs: int = 5) -> float:
    """The median of `runs` timings after a warm-up call."""
    return median_time(fn, runs=runs, warm_up=True)


def line(label: str, base: float, now: float, before: float | None = None) -> None:
    out = (f"  {label:46} bare {base * 1000:8.1f} ms | now {now * 1000:8.1f} ms "
           f"{now / base:5.2f}x")
    if before is not None:
        out += f" | before {before * 1000:8.1f} ms {before / base:5.2f}x"
    print(out, flush=True)


def run(url: str, folder: Path, export: bool, compare: bool = True) -> None:
    from sqlalchemy import func, select

    from hotline import listing
    from hotline.api.schemas import CaseSchema
    from hotline.models import Case
    from hotline.reports import ledger
    from hotline.reports.scope import case_list_conditions

    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(folder), "SECRET_KEY": "bench",
                      "HOTLINE_AREAS": ()})
    upgrade_database(app)
    pg = url.startswith("postgresql")
    if pg:
        import psycopg

        raw = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))
        raw.autocommit = True
        raw.execute("ANALYZE cases")
        ph = "%s"
        version = "PostgreSQL " + raw.execute("SHOW server_version").fetchone()[0]
    else:
        raw = sqlite3.connect(url.removeprefix("sqlite:///"))
        raw.execute("ANALYZE")
        ph = "?"
        version = f"SQLite {sqlite3.sqlite_version}"
    schema = CaseSchema()
    supervisor = Actor("sup", "supervisor")
    now_at = time_now()
    old_due = (Case.due_at.is_(None), Case.due_at, Case.id)
    with app.app_context():
        total = db.session.scalar(select(func.count(Case.id)))
        print(f"\n{version}, {total:,} cases: case list pages (20 rows), median of 5",
              flush=True)
        rows = [
            ("status=closed&sort=due, page 1", {"status": "closed"}, 1,
             f"status = {ph}", ("closed",)),
            ("queue dispatched+gz-tax, sort=due, page 1",
             {"status": "dispatched", "department": "gz-tax"}, 1,
             f"status = {ph} AND department_code = {ph}", ("dispatched", "gz-tax")),
            ("status=closed&sort=due, page 200 (OFFSET)", {"status": "closed"}, 200,
             f"status = {ph}", ("closed",)),
        ]
        for label, args, page, where, params in rows:
            conditions = case_list_conditions({**args, "sort": "due"}, supervisor, now_at)

            def bare(where=where, params=params, page=page) -> None:
                raw.execute(f"SELECT count(*) FROM cases WHERE {where}", params).fetchall()
                raw.execute(f"SELECT id FROM cases WHERE {where} ORDER BY id LIMIT 20 "
                            f"OFFSET {(page - 1) * 20}", params).fetchall()

            def listed(conditions=conditions, page=page) -> None:
                found = listing.case_page(conditions, listing.LIST_ORDER["due"], sort="due",
                                          page=page, per_page=20)
                schema.dump(found.rows, many=True)
                db.session.rollback()

            def before(conditions=conditions, page=page) -> None:
                query = select(Case).where(*conditions)
                db.session.scalar(select(func.count()).select_from(query.subquery()))
                found = db.session.scalars(query.order_by(*old_due).offset((page - 1) * 20)
                                           .limit(20)).all()
                schema.dump(found, many=True)
                db.session.rollback()

            line(label, timed(bare), timed(listed), timed(before) if compare else None)

        # Page 200 by cursor: the cursor page 199 answered with.
        conditions = case_list_conditions({"status": "closed", "sort": "due"}, supervisor,
                                          now_at)
        cursor = listing.case_page(conditions, listing.LIST_ORDER["due"], sort="due",
                                   page=199, per_page=20).next_cursor

        def bare_deep() -> None:
            raw.execute(f"SELECT count(*) FROM cases WHERE status = {ph}", ("closed",)).fetchall()
            raw.execute(f"SELECT id FROM cases WHERE status = {ph} ORDER BY id LIMIT 20 "
                        "OFFSET 3980", ("closed",)).fetchall()

        def by_cursor() -> None:
            found = listing.case_page(conditions, listing.LIST_ORDER["due"], sort="due",
                                      per_page=20, cursor=cursor)
            schema.dump(found.rows, many=True)
            db.session.rollback()

        line("status=closed&sort=due, page 200 (cursor)", timed(bare_deep), timed(by_cursor))
        counted = listing.count_cases(conditions)
        print(f"  total for status=closed: {counted[0]:,} "
              f"({'exact' if counted[1] else 'estimate'})")

        plans = {
            "closed, page 1": select(Case.id).where(Case.status == "closed")
            .order_by(*listing.LIST_ORDER["due"].clauses()).limit(21),
            "closed, after a cursor": select(Case.id).where(
                Case.status == "closed",
                listing.LIST_ORDER["due"].after(listing.decode_cursor(
                    cursor, "due", listing.LIST_ORDER["due"])))
            .order_by(*listing.LIST_ORDER["due"].clauses()).limit(21),
            "queue": select(Case.id).where(Case.status == "dispatched",
                                           Case.department_code == "gz-tax")
            .order_by(*listing.LIST_ORDER["due"].clauses()).limit(21),
            "ledger of a department": ledger._query([Case.department_code == "gz-tax"],
                                                    Case.duplicate_of_id.is_not(None), now_at),
        }
        prefix = "EXPLAIN" if pg else "EXPLAIN QUERY PLAN"
        for name, stmt in plans.items():
            compiled = stmt.compile(db.engine, compile_kwargs={"literal_binds": True})
            plan = [" ".join(str(c) for c in r) for r in raw.execute(f"{prefix} {compiled}")]
            print(f"  plan, {name}: " + " / ".join(p.strip() for p in plan[:5]))

        if export:
            bench_ledger(raw, ph, ledger, now_at)
    raw.close()


def bench_ledger(raw, ph: str, ledger, now_at) -> None:
    """The ledger of one department against a raw fetch of its columns and csv.writer."""
    from hotline.models import Case

    conditions = [Case.department_code == "gz-tax"]
    # The columns the ledger is made of, as stored.
    columns = ("number, line_id, channel, category_id, topic1, topic2, topic3, kind, status, "
               "department_code, region, citizen_name, citizen_phone, citizen_enterprise, "
               "content, public_consent, supervised, received_at, accept_due_date, due_date, "
               "extension_days, accepted_at, replied_at, closed_at, due_at, reply_text, "
               "answer_text")
    sql = (f"SELECT {columns}, duplicate_of_id IS NOT NULL FROM cases "
           f"WHERE department_code = {ph} ORDER BY received_at, id")
    count = 0

    def bare() -> None:
        nonlocal count
        out = io.StringIO()
        writer = csv.writer(out)
        count = 0
        cur = raw.cursor()
        cur.execute(sql, ("gz-tax",))
        while batch := cur.fetchmany(1000):
            writer.writerows(batch)
            count += len(batch)
            out.seek(0)
            out.truncate()

    def export(fmt: str) -> float:
        def go() -> None:
            for _ in ledger.export(conditions, fmt, now_at):
                pass
            db.session.rollback()
        return timed(go, runs=3)

    base = timed(bare, runs=3)
    print(f"\n  ledger of gz-tax ({count:,} rows), median of 3:")
    line("CSV, streamed", base, export("csv"))
    line("XLSX, streamed", base, export("xlsx"))


def time_now():
    import datetime as dt

    return dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)  # bench_reports.NOW


def main() -> None:
    args = sys.argv[1:]
    pg_url = take_option(args, "--postgresql")
    export = "--no-export" not in args
    compare = "--no-before" not in args  # the old order sorts every row: minutes at 10M
    sqlite_too = "--no-sqlite" not in args
    args = [a for a in args if not a.startswith("--no-")]
    folder = Path(args[0])
    n = int(args[1]) if len(args) > 1 else 1_000_000
    if sqlite_too:
        run(f"sqlite:///{folder / f'reports-{n}.db'}", folder, export, compare)
    if pg_url:
        run(pg_url, folder, export, compare)


if __name__ == "__main__":
    main()
