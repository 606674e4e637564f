"""`hotline phone-urls`: what to enter for each line's number in Twilio's console."""

from __future__ import annotations

import click
from sqlalchemy import select

PATHS = (
    ("A call comes in (Webhook, HTTP POST)", "/voice"),
    ("Call status changes (HTTP POST)", "/status"),
    ("A message comes in (Webhook, HTTP POST)", "/sms"),
)


@click.command("phone-urls")
def phone_urls() -> None:
    """Print the webhook URLs of each line's phone number, and the operators' dequeue URL."""
    from hotline import create_app
    from hotline.extensions import db
    from hotline.models import Line

    app = create_app()
    base = (app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    if not base:
        click.echo("PUBLIC_BASE_URL is not set: Twilio needs the public address of this server "
                   "(and signs requests against it).", err=True)
        base = "https://<PUBLIC_BASE_URL>"
    prefix = base + "/channels/twilio"
    with app.app_context():
        lines = db.session.scalars(select(Line).where(Line.phone_number.is_not(None))
                                   .order_by(Line.code)).all()
        for line in lines:
            state = "" if line.active else "  (inactive)"
            click.echo(f"{line.name} {line.phone_number} [{line.code}], hours {line.hours}{state}")
            for label, path in PATHS:
                click.echo(f"  {label}: {prefix}{path}")
            click.echo(f"  operators' softphone TwiML (dequeue): {prefix}/dequeue?line={line.code}")
    if not lines:
        click.echo("no line has a phone number (PATCH /api/v1/lines/<code> {\"phone_number\"})")
    if not app.config.get("TWILIO_AUTH_TOKEN"):
        click.echo("TWILIO_AUTH_TOKEN is not set: every Twilio webhook will be refused.", err=True)


commands = [phone_urls]
