"""Benchmark: case list pages sorted by deadline over 1,000,000 cases, as ratios to the bare
SQL of the same rows on the same machine in the same run, on SQLite and PostgreSQL.

    python bench/bench_lists.py DIR [N] [--postgresql URL]

Uses the database `bench/bench_reports.py N --keep DIR` builds (and, with `--postgresql`, the
PostgreSQL database it copied the cases into); brings it up to the latest migration first.

What is timed (median of 5, after a warm-up):

- `GET /api/v1/cases?status=closed&sort=due`, page 1 (20 rows) and page 200, as the API makes
  it: `case_list_conditions`, the count, the page in `LIST_ORDER["due"]`, the rows dumped;
- the department queue `status=dispatched&department=gz-tax&sort=due`, page 1;
- the same with the order the list used before (`due_at IS NULL, due_at, id`);
- baseline: the bare count plus the bare page of ids in primary-key order (the least a page
  with its total can cost), through the raw driver.

The query plans (EXPLAIN) of both orders are printed.
"""

from __future__ import annotations

import sqlite3
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hotline import create_app
from hotline.cli import upgrade_database
from hotline.domain.lifecycle import Actor
from hotline.extensions import db

NOW_ORDER_NAME = "coalesce(due_at, NO_DEADLINE), id (ix_cases_*_due_key)"


def timed(fn, runs: int = 5) -> float:
    fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def run(url: str, folder: Path) -> None:
    from sqlalchemy import func, select

    from hotline.api.cases import LIST_ORDER
    from hotline.api.schemas import CaseSchema
    from hotline.models import Case
    from hotline.reports.scope import case_list_conditions

    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(folder), "SECRET_KEY": "bench",
                      "HOTLINE_AREAS": ()})
    upgrade_database(app)
    pg = url.startswith("postgresql")
    if pg:
        import psycopg

        raw = psycopg.connect(url)
        raw.autocommit = True
        raw.execute("ANALYZE cases")
        ph = "%s"
    else:
        raw = sqlite3.connect(url.removeprefix("sqlite:///"))
        raw.execute("ANALYZE")
        ph = "?"
    schema = CaseSchema()
    supervisor = Actor("sup", "supervisor")
    old_due = (Case.due_at.is_(None), Case.due_at, Case.id)
    rows = [
        ("status=closed&sort=due, page 1", {"status": "closed"}, 1,
         f"status = {ph}", ("closed",)),
        ("status=closed&sort=due, page 200", {"status": "closed"}, 200,
         f"status = {ph}", ("closed",)),
        ("queue dispatched+gz-tax, sort=due, page 1",
         {"status": "dispatched", "department": "gz-tax"}, 1,
         f"status = {ph} AND department_code = {ph}", ("dispatched", "gz-tax")),
    ]
    print(f"\n{'PostgreSQL' if pg else 'SQLite'}: case list pages (20 rows), median of 5")
    with app.app_context():
        for label, args, page, where, params in rows:
            def bare(where=where, params=params, page=page) -> None:
                raw.execute(f"SELECT count(*) FROM cases WHERE {where}", params).fetchall()
                raw.execute(f"SELECT id FROM cases WHERE {where} ORDER BY id LIMIT 20 "
                            f"OFFSET {(page - 1) * 20}", params).fetchall()

            def listed(order, args=args, page=page) -> None:
                query = select(Case).where(*case_list_conditions(
                    {**args, "sort": "due"}, supervisor, time_now()))
                db.session.scalar(select(func.count()).select_from(query.subquery()))
                found = db.session.scalars(query.order_by(*order).offset((page - 1) * 20)
                                           .limit(20)).all()
                schema.dump(found, many=True)
                db.session.rollback()

            base = timed(bare)
            now = timed(lambda: listed(LIST_ORDER["due"]))
            before = timed(lambda: listed(old_due))
            print(f"  {label:44} bare {base * 1000:7.1f} ms | now {now * 1000:7.1f} ms "
                  f"{now / base:5.1f}x | before {before * 1000:7.1f} ms {before / base:5.1f}x")
        for name, order in (("now", LIST_ORDER["due"]), ("before", old_due)):
            stmt = select(Case.id).where(Case.status == "closed").order_by(*order).limit(20)
            compiled = stmt.compile(db.engine, compile_kwargs={"literal_binds": True})
            prefix = "EXPLAIN" if pg else "EXPLAIN QUERY PLAN"
            plan = [" ".join(str(c) for c in r) for r in raw.execute(f"{prefix} {compiled}")]
            print(f"  plan {name}: " + " / ".join(p.strip() for p in plan[:4]))
    raw.close()


def time_now():
    import datetime as dt

    return dt.datetime.now(dt.UTC)


def main() -> None:
    args = sys.argv[1:]
    pg_url = None
    if "--postgresql" in args:
        i = args.index("--postgresql")
        pg_url = args[i + 1]
        del args[i:i + 2]
    folder = Path(args[0])
    n = int(args[1]) if len(args) > 1 else 1_000_000
    run(f"sqlite:///{folder / f'reports-{n}.db'}", folder)
    if pg_url:
        run(pg_url, folder)


if __name__ == "__main__":
    main()
