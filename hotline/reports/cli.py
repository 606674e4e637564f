"""`hotline report`: write a bulletin on demand (and save its files), or print a summary;
`hotline report-figures`: the state of the figures kept with every step, and their rebuild."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..domain.errors import DomainError


@click.command("report")
@click.option("--period", required=True,
              help="2026-W44 (week), 2026-10 (month), 2026-Q4 (quarter), 2026, "
                   "or 2026-10-01..2026-10-15")
@click.option("--line", "line_code", default=None, help="one line (default: all lines)")
@click.option("--out", "out_dir", default=None, type=click.Path(file_okay=False),
              help="folder for the HTML and XLSX files (default: <instance>/bulletins)")
@click.option("--json", "as_json", is_flag=True,
              help="print the figures as JSON instead of writing a bulletin")
def report(period: str, line_code: str | None, out_dir: str | None, as_json: bool) -> None:
    """Write the bulletin of a period: kept in the database (served by the API) and saved as
    HTML and XLSX files."""
    from .. import create_app
    from .bulletin import write_bulletin
    from .periods import parse_period
    from .scope import Scope
    from .summary import build_summary

    app = create_app()
    with app.app_context():
        try:
            parsed = parse_period(period)
            if as_json:
                summary = build_summary(Scope(parsed, line=line_code))
                click.echo(json.dumps(summary, ensure_ascii=False, indent=2))
                return
            bulletin = write_bulletin(parsed, line_code, created_by="cli")
        except DomainError as exc:
            raise click.ClickException(f"{exc.message} {exc.fields or ''}".strip()) from None
        folder = Path(out_dir or Path(app.instance_path) / "bulletins")
        folder.mkdir(parents=True, exist_ok=True)
        stem = f"bulletin-{bulletin.period}-{bulletin.scope}"
        (folder / f"{stem}.html").write_text(bulletin.html, encoding="utf-8")
        (folder / f"{stem}.xlsx").write_bytes(bulletin.xlsx)
        s = bulletin.summary
        o = s["outcome"]

        def pct(r: dict) -> str:
            return "—" if r["value"] is None else f"{r['value']:.2f}%"

        click.echo(f"{bulletin.title}: 受理 {s['total']} 件，回应率 {pct(o['response_rate'])}，"
                   f"按期答复率 {pct(o['on_time_rate'])}，办结率 {pct(o['resolution_rate'])}，"
                   f"满意率 {pct(o['satisfaction_rate'])}")
        click.echo(f"bulletin #{bulletin.id} stored; files:")
        click.echo(str(folder / f"{stem}.html"))
        click.echo(str(folder / f"{stem}.xlsx"))


@click.command("report-figures")
@click.option("--rebuild", is_flag=True,
              help="count every case again into the figures tables (after a bulk load)")
def report_figures(rebuild: bool) -> None:
    """Say whether the report figures kept with every step hold every case; with --rebuild,
    count them again (one transaction; steps made meanwhile wait for it)."""
    import time

    from .. import create_app
    from ..extensions import db
    from . import rollup

    app = create_app()
    with app.app_context():
        if rebuild:
            started = time.perf_counter()
            n = rollup.rebuild(db.session)
            db.session.commit()
            click.echo(f"counted {n} cases in {time.perf_counter() - started:.1f} s")
        state = "complete" if rollup.complete(db.session) else "a rebuild is needed"
        click.echo(f"report figures: {state}")


commands = [report, report_figures]
