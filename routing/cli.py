"""`hotline routing-eval FILE.jsonl`: how well routing does on labelled messages."""

from __future__ import annotations

import click


@click.command("routing-eval")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--demo", is_flag=True,
              help="use the shipped demo rules and departments instead of the database's")
def routing_eval(path: str, demo: bool) -> None:
    """Route every labelled message and print accuracy per field, confusions and throughput."""
    from routing.evaluate import main as evaluate_main

    router = None
    if not demo:
        from hotline import create_app

        app = create_app()
        with app.app_context():
            from sqlalchemy import inspect

            from hotline.extensions import db
            from routing.integration import current_router

            if inspect(db.engine).has_table("routing_rules"):
                router = current_router()
                if not router.departments:
                    router = None  # an empty database: evaluate the demo configuration
    raise SystemExit(evaluate_main(path, router))


commands = [routing_eval]
