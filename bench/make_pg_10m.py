"""Make a 10,000,000-case PostgreSQL database for the benchmarks, inside the server, in minutes.

    python bench/make_pg_10m.py SOURCE_URL TARGET_URL [--copies 10]

SOURCE_URL is the PostgreSQL database `bench/bench_reports.py 1000000 --keep DIR --postgresql
SOURCE_URL` made: a million cases received in October 2026 with their timelines, surveys and
report figures (rebuilt from the cases there). TARGET_URL names the database to make; it is
dropped first if it exists. What happens, all of it server-side (no row passes through Python):

1. `CREATE DATABASE target TEMPLATE source`: a file copy of the month.
2. The indexes of the big tables are dropped (kept: primary keys and unique constraints), as a
   bulk load does, and `INSERT … SELECT … CROSS JOIN generate_series(1, copies - 1)` writes
   the month again `copies - 1` times, each copy 35·k days earlier (five weeks: weekdays stay
   weekdays) — a year of a big centre's cases, about 0.9 million a month. Every instant and
   date of a case, its timeline and its surveys moves with it (a case without a deadline keeps
   `due_key`'s far-off instant); ids are offset per copy, numbers carry the shifted day.
3. The report figures are copied the same way, in SQL: the cells and breakdown counts of the
   month, their day shifted, and the breakdown values that hold dates (the deadlines of the
   unanswered cases, the days a reply round started and ended) shifted with them — what
   `hotline report-figures --rebuild` would count from the shifted cases (the rebuild reads
   every case in Python: over an hour at 10M). `bench_reports.py --period` checks it: the
   summary of a month read from the figures equals the one read from the cases.
4. The indexes are built again, sequences set past the new ids, `VACUUM ANALYZE`.

It prints the time of each step. Run it niced (`nice -n 10`): it keeps both cores busy.
"""

from __future__ import annotations

import sys
import time
from urllib.parse import urlsplit, urlunsplit

import psycopg

SHIFT_DAYS = 35
BIG = ("cases", "case_events", "surveys")
NO_DEADLINE_FROM = "9999-01-01"  # due_key of a case without a deadline (models.core.NO_DEADLINE)


def _plain(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def _db_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def _maintenance(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/postgres"))


def step(label: str, started: float) -> float:
    now = time.perf_counter()
    print(f"  {label:58} {now - started:7.1f} s", flush=True)
    return now


def _columns(pg: psycopg.Connection, table: str) -> list[tuple[str, str]]:
    return pg.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'public' AND table_name = %s ORDER BY ordinal_position",
        (table,)).fetchall()


def _shifted(table: str, column: str, data_type: str, offsets: dict[str, str]) -> str:
    """The SQL of one column of copy `k`."""
    shift = f"(k.k * {SHIFT_DAYS})"
    if column == "id":
        return f"id + k.k * {offsets[table]}"
    if column in ("case_id", "duplicate_of_id", "merged_into_id"):
        return f"{column} + k.k * {offsets['cases']}"
    if table == "cases" and column == "number":
        # ZT20261001-00001: the day in the number is the (shifted) day received.
        return ("substring(number from '^[^0-9]*') || to_char(to_date(substring(number from "
                f"'([0-9]{{8}})-'), 'YYYYMMDD') - {shift}, 'YYYYMMDD') || "
                "substring(number from '-[0-9]+$')")
    if table == "cases" and column == "idempotency_key":
        return "NULL"
    if table == "cases" and column == "due_key":
        return (f"CASE WHEN due_key >= '{NO_DEADLINE_FROM}' THEN due_key "
                f"ELSE due_key - make_interval(days => {shift}) END")
    if data_type.startswith("timestamp"):
        return f"{column} - make_interval(days => {shift})"
    if data_type == "date":
        return f"{column} - {shift}"
    return column


def generate(source: str, target: str, copies: int) -> None:
    total = time.perf_counter()
    with psycopg.connect(_maintenance(_plain(target)), autocommit=True) as admin:
        t = time.perf_counter()
        admin.execute(f'DROP DATABASE IF EXISTS "{_db_name(target)}"')
        admin.execute(f'CREATE DATABASE "{_db_name(target)}" TEMPLATE "{_db_name(source)}"')
        t = step("copy of the 1M month (CREATE DATABASE … TEMPLATE)", t)
    with psycopg.connect(_plain(target), autocommit=True) as pg:
        pg.execute("SET maintenance_work_mem = '512MB'")
        pg.execute("SET synchronous_commit = off")  # bench data: a crash means running it again
        indexes = pg.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = 'public' "
            "AND i.tablename = ANY(%s) AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
            "WHERE c.conname = i.indexname)", (list(BIG),)).fetchall()
        for name, _ in indexes:
            pg.execute(f'DROP INDEX "{name}"')
        offsets = {table: str(pg.execute(f"SELECT coalesce(max(id), 0) FROM {table}")
                              .fetchone()[0]) for table in BIG}
        n = int(offsets["cases"])
        t = step(f"{len(indexes)} indexes dropped; the month holds {n:,} cases", t)
        for table in BIG:
            columns = _columns(pg, table)
            names = ", ".join(c for c, _ in columns)
            values = ", ".join(_shifted(table, c, d, offsets) for c, d in columns)
            rows = pg.execute(
                f"INSERT INTO {table} ({names}) SELECT {values} FROM {table} "
                f"CROSS JOIN generate_series(1, {copies - 1}) AS k(k) "
                f"WHERE {table}.id <= {offsets[table]}").rowcount
            t = step(f"{table}: {rows:,} rows written", t)
        shift = f"(k.k * {SHIFT_DAYS})"
        cell_columns = [c for c, _ in _columns(pg, "report_cells")]
        cells = pg.execute(
            f"INSERT INTO report_cells ({', '.join(cell_columns)}) SELECT "
            + ", ".join(f"day - {shift}" if c == "day" else c for c in cell_columns)
            + f" FROM report_cells CROSS JOIN generate_series(1, {copies - 1}) AS k(k)"
        ).rowcount
        # Breakdown values with dates in them move with their cases (rollup.contribution).
        moved_due = (
            "to_json(to_char(((value::json #>> '{}')::timestamptz "
            f"- make_interval(days => {shift})) AT TIME ZONE 'UTC', "
            "'YYYY-MM-DD\"T\"HH24:MI:SS') || '+00:00')::text")
        moved_days = (
            f"'[\"' || to_char((value::json ->> 0)::date - {shift}, 'YYYY-MM-DD') || '\",\"' "
            f"|| to_char((value::json ->> 1)::date - {shift}, 'YYYY-MM-DD') || '\"]'")
        moved = (f"CASE dimension WHEN 'unanswered_due' THEN {moved_due} "
                 f"WHEN 'workdays' THEN {moved_days} ELSE value END")
        counts = pg.execute(
            "INSERT INTO report_counts (day, line_id, department_code, dimension, value_key, "
            f"value, n) SELECT day - {shift}, line_id, department_code, dimension, "
            f"CASE WHEN dimension IN ('unanswered_due', 'workdays') THEN {moved} "
            f"ELSE value_key END, {moved}, n "
            f"FROM report_counts CROSS JOIN generate_series(1, {copies - 1}) AS k(k)"
        ).rowcount
        t = step(f"figures: {cells:,} cells and {counts:,} breakdown rows", t)
        for _, definition in indexes:
            pg.execute(definition)
        t = step(f"{len(indexes)} indexes built", t)
        for table in BIG:
            pg.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                       f"(SELECT max(id) FROM {table}))")
        pg.execute("VACUUM ANALYZE")
        t = step("VACUUM ANALYZE", t)
        cases = pg.execute("SELECT count(*) FROM cases").fetchone()[0]
        size = pg.execute("SELECT pg_size_pretty(pg_database_size(current_database()))"
                          ).fetchone()[0]
    print(f"made {cases:,} cases in {time.perf_counter() - total:.0f} s ({size})", flush=True)


def main() -> None:
    args = sys.argv[1:]
    copies = 10
    if "--copies" in args:
        i = args.index("--copies")
        copies = int(args[i + 1])
        del args[i:i + 2]
    generate(args[0], args[1], copies)


if __name__ == "__main__":
    main()
