"""The `hotline` command: run everything on one machine, workers, database and users."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import click
from flask import Flask

from . import create_app, wiring
from .audit import as_command_line
from .config import SERVER_URL_ENV, server_url, setting
from .extensions import db


def _app(web: bool = True) -> Flask:
    return create_app(web=web)


def upgrade_database(app: Flask) -> None:
    """Bring the schema to the newest revision. A database the revision chain before the
    baseline built is restamped to the baseline first; one that chain left part of the way is
    refused with what to do (hotline/baseline.py, docs/upgrading.md)."""
    from flask_migrate import upgrade

    from .baseline import BASELINE, RevisionBeforeBaseline, restamp_replaced_chain

    with app.app_context():
        try:
            with db.engine.begin() as connection:
                restamped = restamp_replaced_chain(connection)
        except RevisionBeforeBaseline as refused:
            raise click.ClickException(str(refused)) from None
        if restamped:
            click.echo(f"database: the revision chain before the baseline is complete, "
                       f"restamped to {BASELINE}")
        upgrade(revision="head")


def ensure_routing_model(app: Flask) -> None:
    """A fresh install routes with the topic model trained on the shipped real messages: made
    here (once per machine; cached) when the database has no active model.

    The model is made in a child process (`_in_child`), which leaves it in the machine's cache,
    where this process then finds it: training takes scikit-learn, scipy and hundreds of MB that
    a process keeps once it has had them, and `hotline run`'s supervisor, which calls this,
    runs for as long as the install does (its PSS after a first training: 381 MB when it
    trained itself, 123 MB now, as after a start with the model cached). With the model cached
    already, the child only reads it."""
    from routing.training import active_model_row, ensure_model, shipped_model

    def say(message: str) -> None:
        click.echo(f"routing: {message}")

    with app.app_context():
        if active_model_row() is None:
            db.engine.dispose()  # no connection of this process's is carried into the child
            if not _in_child(lambda: shipped_model(progress=say)):
                say("the model was not made in a process of its own; making it here")
        row = ensure_model(progress=say)
        say(f"topic model {row.id} active ({row.examples} examples)")


def _in_child(work: Callable[[], object]) -> bool:
    """Run `work` in a child forked from this process and wait for it; whether it succeeded.
    The child ends with `os._exit`: nothing of this process's (its database pool, its
    exit handlers) is closed or run twice."""
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            work()
            code = 0
        except Exception:  # the parent is told by the exit code (a Ctrl-C too, unlogged)
            logging.getLogger("hotline.run").exception("the child process failed")
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


class _CommandLine(click.Group):
    """`hotline`: the core's commands are defined here; the areas' (`hotline.wiring.COMMANDS`)
    are added when a command this module does not define is named, or the commands are listed
    (`hotline --help`). So a core command such as `create-user` imports none of the areas'
    command modules (nor what they import: the routing engine, the WeChat simulator); a module
    of theirs that fails to import fails every other use of `hotline`, with the import's error.
    """

    areas_added = False

    def _add_areas(self) -> None:
        if not self.areas_added:
            for command in wiring.commands():
                self.add_command(command)
            self.areas_added = True

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands:
            self._add_areas()
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._add_areas()
        return super().list_commands(ctx)


@click.group(cls=_CommandLine)
def main() -> None:
    """Hotline: citizen hotline and message-board backend."""


@main.command("init-db")
@as_command_line
def init_db() -> None:
    """Create or upgrade the database schema (migrations)."""
    app = _app()
    upgrade_database(app)
    ensure_routing_model(app)
    click.echo(f"database ready: {app.config['SQLALCHEMY_DATABASE_URI']}")


_HISTORY_HELP = ("also make the cases of the last DAYS days through the case lifecycle, "
                 "back-dated (0: none)")


@main.command("seed-demo")
@click.option("--history", "history_days", default=0, show_default=True,
              type=click.IntRange(0, 366), metavar="DAYS", help=_HISTORY_HELP)
@click.option("--seed", default=2026, show_default=True, type=int,
              help="random seed of the history")
@as_command_line
def seed_demo_cmd(history_days: int, seed: int) -> None:
    """Add the demo lines, categories and Guizhou departments (idempotent), and with
    --history a believable past of cases."""
    from .seed import seed_demo

    app = _app()
    with app.app_context():
        added = seed_demo()
        click.echo("seeded: " + ", ".join(f"{k} +{v}" for k, v in added.items()))
        if history_days:
            _seed_history(history_days, seed)


def _seed_history(days: int, seed: int) -> None:
    from .demo import HistoryExists, seed_history

    try:
        report = seed_history(days, seed=seed)
    except HistoryExists as exc:
        click.echo(exc.message)
        return
    for line in report.lines():
        click.echo(line)


@main.command("create-user")
@click.argument("name")
@click.option("--role", required=True,
              type=click.Choice(["operator", "handler", "supervisor", "admin"]))
@click.option("--department", default=None, help="department code (handlers only)")
@click.option("--password", "with_password", is_flag=True,
              help="set a console password: prompted for, or read from standard input when "
                   "that is not a terminal")
@click.option("--token-days", type=click.IntRange(1, 3650), default=None, metavar="N",
              help="the API token expires after N days (default: it does not expire)")
@as_command_line
def create_user_cmd(name: str, role: str, department: str | None, with_password: bool,
                    token_days: int | None) -> None:
    """Create a user; the API token is printed as the last line (it is shown only once)."""
    from .domain.errors import DomainError, ValidationFailed
    from .domain.staff import check_role_department
    from .identity import create_user

    try:  # before asking for a password that would be thrown away
        check_role_department(role, department)
    except ValidationFailed as exc:
        raise click.UsageError(_domain_message(exc)) from None
    password = _read_password() if with_password else None
    app = _app(web=False)
    with app.app_context():
        try:
            user, token = create_user(name, role, department, password=password,
                                      token_days=token_days)
        except DomainError as exc:
            raise click.ClickException(_domain_message(exc)) from None
        click.echo(f"created {role} {user.name}" + (f" of {department}" if department else ""))
        if password is None:
            click.echo(f"no console password yet: set one with `hotline set-password {user.name}`"
                       f" to sign in at /console")
        else:
            base = (app.config.get("PUBLIC_BASE_URL") or "http://127.0.0.1:8000").rstrip("/")
            click.echo(f"{user.name} can sign in at /console: open {base}/console "
                       f"once `hotline run` is up")
        if token_days:
            click.echo(f"the API token below expires in {token_days} days")
    click.echo(token)


@main.command("set-password")
@click.argument("name")
@click.option("--must-change", is_flag=True,
              help="the user must choose a new password at the next sign-in")
@as_command_line
def set_password_cmd(name: str, must_change: bool) -> None:
    """Set a user's console password (prompted for, or read from standard input when that is
    not a terminal); every open console session of the user ends and a sign-in lock is lifted.
    """
    from sqlalchemy import select

    from .domain.errors import DomainError
    from .identity import reset_password
    from .models import User

    password = _read_password()
    app = _app(web=False)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.name == name))
        if user is None:
            raise click.ClickException(f"no user {name}")
        try:
            reset_password(user, password, by=None, must_change=must_change)
        except DomainError as exc:
            raise click.ClickException(_domain_message(exc)) from None
        db.session.commit()
        click.echo(f"password set for {user.name}")


def _say_who_can_sign_in(app: Flask, console_url: str) -> None:
    """Point at the staff console, and at the command that makes its first account when no one
    can sign in yet (nothing ships with a default password)."""
    from sqlalchemy import func, select

    from .models import User

    with app.app_context():
        can_sign_in = db.session.scalar(select(func.count()).select_from(User).where(
            User.password_hash.is_not(None), User.active.is_(True)))
    click.echo(f"staff console: {console_url}")
    if not can_sign_in:
        click.echo("no one can sign in yet: create the first admin with "
                   "`hotline create-user admin --role admin --password`")


def _read_password() -> str:
    """From a prompt (typed twice) on a terminal; else the first line of standard input."""
    if sys.stdin.isatty():
        return click.prompt("password", hide_input=True, confirmation_prompt=True)
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        raise click.UsageError("no password on standard input")
    return line


def _domain_message(exc: Exception) -> str:
    """What staff read of a refusal: its field messages (Chinese), else its message (the API's
    `message` is for the developers of clients; its `fields` are what staff are shown)."""
    fields = getattr(exc, "fields", None) or {}
    details = " ".join(m for ms in fields.values() for m in ms)
    return details or exc.message  # type: ignore[attr-defined]


@main.command()
@click.option("--burst", is_flag=True, help="work off the queues and exit")
def worker(burst: bool) -> None:
    """Run an RQ worker with the scheduler (periodic jobs of workers/schedule.py)."""
    from workers.worker import run_worker

    run_worker(_app(), burst=burst)


#: Seconds a web worker may spend on one request before gunicorn replaces it.
WEB_TIMEOUT = 300
#: `hotline run`'s web workers: twice the two cores of a small machine. A sync worker waits
#: on the disk at each commit (an fsync) with the core idle; with SQLite's one writer, two
#: workers left one core idle while the other waited. bench/bench_wechat.py (50 senders,
#: SQLite, back to back at load 5.9): 2 workers 94 webhooks/s, p99 819 ms; 4 workers 135/s,
#: p99 569 ms (another run at load 5.7: 197/s, 422 ms). PostgreSQL, CPU-bound here: 175/s,
#: p99 413 ms with 2 and 171/s, 477 ms with 4. Each worker shares the app's memory with the
#: others (forked after the warm-up, --preload).
WEB_WORKERS = 4


def gunicorn_command(bind: str, workers: int) -> list[str]:
    """The web server as `hotline run` starts it (and the benchmarks, to measure the same).

    Sync workers: with SQLite they answer webhooks fastest (threads made writers wait on each
    other: WeChat p99 0.44-0.98 s against 0.33 s, bench/bench_wechat.py --threads). The timeout
    leaves room for a streamed ledger export of a million rows (27 s as CSV, 37 s as XLSX in
    bench/bench_reports.py); a hung worker is still replaced. --preload: the app is built and
    warmed up once (hotline/warmup.py), then the web workers are forked ready, each settling
    before its first request (hotline/gunicorn_conf.py); a replaced worker is ready at once too.
    The app writes one line per request (hotline.logs: client, request line with its secrets
    redacted, status, time, request id, case): no second access log; gunicorn's own lines go
    through the redacting logger all the same."""
    return [sys.executable, "-m", "gunicorn", "--bind", bind, "--workers", str(workers),
            "--timeout", str(WEB_TIMEOUT), "--graceful-timeout", "10", "--preload",
            "--config", "python:hotline.gunicorn_conf",
            "--logger-class", "hotline.accesslog.RedactingLogger", "hotline.wsgi_app:app"]


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--demo", is_flag=True, help="add the demo lines, categories and departments")
@click.option("--history", "history_days", default=0, show_default=True,
              type=click.IntRange(0, 366), metavar="DAYS",
              help="with --demo: " + _HISTORY_HELP)
@click.option("--web-workers", default=WEB_WORKERS, show_default=True, type=int)
def run(host: str, port: int, demo: bool, history_days: int, web_workers: int) -> None:
    """Everything on one machine: web server, worker with scheduler, and (when REDIS_URL /
    DATABASE_URL are unset) an embedded redis-server and a SQLite file in the instance folder.
    A child that exits is started again (see hotline/runner.py)."""
    from .config import instance_secret
    from .embedded import EmbeddedRedis
    from .runner import Child, Supervisor

    if history_days and not demo:
        raise click.UsageError("--history goes with --demo")
    logging.basicConfig(level=logging.INFO, format="[%(asctime)s] %(name)s: %(message)s")
    # Whatever this install writes — the SQLite database and its WAL, the embedded Redis's
    # files, exports — is for the account that runs it (the children inherit the umask).
    os.umask(0o077)
    # This process serves nothing (its children do): its app has no web parts, unless the
    # demo's history is to be made, whose steps read the areas' settings.
    app = _app(web=bool(history_days))
    env = dict(os.environ)
    env["DATABASE_URL"] = app.config["SQLALCHEMY_DATABASE_URI"]
    env[SERVER_URL_ENV] = server_url(host, port)  # links name this server (no PUBLIC_BASE_URL)
    children = []
    if not app.config.get("REDIS_URL"):
        redis = EmbeddedRedis(Path(app.instance_path) / "redis",
                              port=setting("HOTLINE_REDIS_PORT", 0) or None,
                              password=instance_secret(app.instance_path, "redis_password"))
        redis_child = Child("embedded redis-server", lambda: redis.start().process,
                            stop=lambda _: redis.stop())
        redis_child.launch(time.monotonic())
        if redis_child.process is None:
            raise click.ClickException("the embedded redis-server did not start")
        children.append(redis_child)
        env["REDIS_URL"] = redis.url
        click.echo(f"embedded redis-server on 127.0.0.1:{redis.port}")
    upgrade_database(app)
    ensure_routing_model(app)
    if demo:
        from .seed import seed_demo

        with app.app_context():
            added = seed_demo()
            click.echo("demo data: " + ", ".join(f"{k} +{v}" for k, v in added.items()))
            if history_days:
                _seed_history(history_days, 2026)
    click.echo(f"database: {env['DATABASE_URL']}")
    if not env.get("PROMETHEUS_MULTIPROC_DIR"):
        # The web processes' request counts, added up at each scrape (hotline/metrics.py).
        metrics_dir = Path(app.instance_path) / "metrics"
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir(mode=0o700, parents=True)
        env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    children += [
        Child("worker", lambda: subprocess.Popen(
            [sys.executable, "-m", "hotline.cli", "worker"], env=env, process_group=0)),
        Child("gunicorn", lambda: subprocess.Popen(
            gunicorn_command(f"{host}:{port}", web_workers), env=env, process_group=0)),
    ]
    click.echo(f"Hotline is starting: ready when http://{host}:{port}/readyz answers "
               "(Ctrl-C stops it)")
    _say_who_can_sign_in(app, f"http://{host}:{port}/console")
    Supervisor(children).run()


if __name__ == "__main__":
    main()
