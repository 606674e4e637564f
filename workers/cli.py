"""Commands of the workers' area, added to `hotline` (`hotline.wiring.COMMANDS`)."""

from __future__ import annotations

import datetime as dt
import json

import click


def _instant(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    from hotline.domain.deadlines import PROVINCE_TZ

    moment = dt.datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=PROVINCE_TZ)


@click.command("sweep")
@click.option("--at", "at", default=None, metavar="ISO-TIME",
              help="sweep as of this time (default now; local time if no offset)")
@click.option("--surveys/--no-surveys", default=True, show_default=True,
              help="also remind citizens who have not answered their survey")
def sweep_cmd(at: str | None, surveys: bool) -> None:
    """Run the supervision sweep once: reminders (催办), escalations (督办), points."""
    from hotline import create_app

    from .sweeps import remind_surveys, sweep

    app = create_app()
    with app.app_context():
        now = _instant(at)
        report = sweep(now)
        if surveys:
            report.survey_reminders = remind_surveys(now)
    click.echo(json.dumps(report.as_dict(), ensure_ascii=False))


@click.command("relay")
def relay_cmd() -> None:
    """Queue every due outbox message for the workers now (the periodic relay, once)."""
    from hotline import create_app

    from .relay import relay

    app = create_app()
    with app.app_context():
        report = relay()
    click.echo(json.dumps({"queued": report.queued, "recovered": report.recovered,
                           "unknown": report.unknown}))


commands = [sweep_cmd, relay_cmd]
