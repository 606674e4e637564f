"""Routing commands: `hotline routing-eval FILE.jsonl` (how well routing does on labelled
messages), `hotline routing-train` (train the topic model on the shipped real messages and the
centre's closed cases), `hotline routing-models` and `hotline routing-activate ID`."""

from __future__ import annotations

import click

from hotline.audit import as_command_line


def _app():
    from hotline import create_app

    return create_app()


def _has_tables(app) -> bool:
    from sqlalchemy import inspect

    from hotline.extensions import db

    return inspect(db.engine).has_table("routing_models")


@click.command("routing-eval")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--demo", is_flag=True,
              help="use the shipped demo rules and departments instead of the database's")
@click.option("--lexicon-only", is_flag=True, help="route without the learned topic model")
def routing_eval(path: str, demo: bool, lexicon_only: bool) -> None:
    """Route every labelled message and print accuracy per field, confusions and throughput,
    with the same rules and topic model as intake."""
    from routing import Router, default_rules, demo_departments
    from routing.evaluate import main as evaluate_main
    from routing.learned import TopicModel

    router = None
    model = None
    app = _app()
    with app.app_context():
        from routing.training import ensure_model, shipped_model

        if not demo and _has_tables(app):
            from routing.integration import current_router

            if not lexicon_only:
                ensure_model(progress=click.echo)
            router = current_router()
            if not router.departments:
                model = router.model
                router = None  # an empty database: the demo configuration, with the model
        elif not lexicon_only:
            model = TopicModel.loads(shipped_model(progress=click.echo)[0])
    if router is None:
        departments = demo_departments()
        router = Router(default_rules(departments), departments,
                        model=None if lexicon_only else model)
    raise SystemExit(evaluate_main(path, router))


@click.command("routing-train")
@click.option("--folds", default=5, show_default=True, type=click.IntRange(2, 10),
              help="cross-validation folds for the figures")
@click.option("--shipped-only", is_flag=True, help="leave the centre's closed cases out")
@as_command_line
def routing_train(folds: int, shipped_only: bool) -> None:
    """Train a topic model; print its cross-validated accuracy per topic and the confidence
    table; make it active if it is not worse than the active one on held-back messages."""
    from routing.training import train

    app = _app()
    steps = 2 * folds + 7  # the progress messages routing.training.train gives
    with app.app_context(), click.progressbar(length=steps, label="training",
                                              show_eta=False, file=None) as bar:
        done = {"n": 0}

        def progress(message: str) -> None:
            done["n"] += 1
            bar.label = message[:60]
            bar.update(1)

        row = train("cli", folds=folds, include_cases=not shipped_only, progress=progress)
        bar.update(steps - done["n"])
    _print_model(row)


@click.command("routing-models")
def routing_models() -> None:
    """List the stored topic models, newest first."""
    from sqlalchemy import select

    from hotline.extensions import db
    from hotline.models import RoutingModel

    app = _app()
    with app.app_context():
        for row in db.session.scalars(select(RoutingModel).order_by(RoutingModel.id.desc())):
            cv = (row.figures or {}).get("cross_validation", {})
            unseen = (row.figures or {}).get("unseen_matters", {})
            acc = f"cv {cv['accuracy']:.3f}" if cv else "cv -"
            acc += f" unseen matters {unseen['accuracy']:.3f}" if unseen else ""
            click.echo(f"{row.id:4d} {'*' if row.active else ' '} {row.created_at:%Y-%m-%d %H:%M}"
                       f" {row.examples:6d} examples  {acc}  {row.note or ''}")


@click.command("routing-activate")
@click.argument("model_id", type=int)
@as_command_line
def routing_activate(model_id: int) -> None:
    """Make a stored topic model the active one (roll back to an earlier model)."""
    from hotline.domain.errors import DomainError
    from routing.training import activate

    app = _app()
    with app.app_context():
        try:
            row = activate(model_id)
        except DomainError as exc:
            raise click.ClickException(exc.message) from None
        click.echo(f"topic model {row.id} is active")


def _print_model(row) -> None:
    figures = row.figures or {}
    cv = figures.get("cross_validation", {})
    click.echo(f"model {row.id}: {row.examples} examples "
               f"({figures.get('meta', {}).get('by_source', {})}); {row.note}")
    if cv:
        click.echo(f"topic accuracy ({cv['folds']}-fold cross-validated): {cv['accuracy']:.3f}"
                   f" (n={cv['n']})")
        for topic, item in cv["per_class"].items():
            click.echo(f"  {topic}: {item['accuracy']:.3f} (n={item['n']})")
        click.echo("confidence threshold: share at or above, accuracy among them")
        for threshold, share, accuracy in cv["thresholds"]:
            click.echo(f"  {threshold:.2f}: {share:.3f} {accuracy:.3f}")
    unseen = figures.get("unseen_matters", {})
    if unseen:
        click.echo(f"topic accuracy on unseen matters ({unseen['folds']} folds of "
                   f"{unseen['matters']} matters, each held out whole): "
                   f"{unseen['accuracy']:.3f} — what a new matter gets")
        click.echo("  " + ", ".join(f"{topic} {item['accuracy']:.3f}"
                                    for topic, item in unseen["per_class"].items()))
        click.echo("  confidence threshold on unseen matters: " + ", ".join(
            f"{t:.2f}: {share:.3f} {accuracy:.3f}" for t, share, accuracy in unseen["thresholds"]))
    held = figures.get("held_back", {})
    if held:
        click.echo(f"held-back part (n={held['n']}): new {held['new']}, "
                   f"active before {held['current']}")


commands = [routing_eval, routing_train, routing_models, routing_activate]
