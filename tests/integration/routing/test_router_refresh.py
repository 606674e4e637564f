"""Each process keeps its router (rules, departments, topic model) between cases; an admin's
rule change still decides the very next case in every other process — another web worker, a
worker — without a restart, Redis or not: each process checks its router against the change
stamps the rules', departments' and models' tables get in the changing transaction
(`hotline.reference`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
TEXT = "遵义市汇川区某工地拖欠农民工工资三个月，老板跑了，请帮忙讨薪"
# Another process of the same installation: it routes each line it reads, as intake would,
# each in a transaction of its own (as each request and each job is).
OTHER_PROCESS = """
import sys
from hotline import create_app
from hotline.extensions import db
from routing.integration import suggest

app = create_app({"DATABASE_URL": sys.argv[1], "REDIS_URL": sys.argv[2] or None,
                  "SECRET_KEY": "test-secret", "INSTANCE_PATH": sys.argv[3]})
with app.app_context():
    for line in sys.stdin:
        print(suggest(line.strip(), line="board")["department"], flush=True)
        db.session.rollback()
"""


@pytest.mark.parametrize("announced", [True, False], ids=["redis", "no-redis"])
def test_a_rule_change_decides_the_next_case_in_a_process_that_routed_before(
        app, api, tokens, redis_url, announced):
    app.config["REDIS_URL"] = redis_url if announced else None
    other = subprocess.Popen(
        [sys.executable, "-c", OTHER_PROCESS, app.config["SQLALCHEMY_DATABASE_URI"],
         app.config["REDIS_URL"] or "", app.instance_path],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT)

    def routed_there() -> str:
        other.stdin.write(TEXT + "\n")
        other.stdin.flush()
        return other.stdout.readline().strip()

    try:
        before = routed_there()
        assert before and before != "gz-hrss"
        assert routed_there() == before  # its router is kept

        created = api.post("/rules", tokens.admin, {
            "keywords": ["讨薪"], "department": "gz-hrss", "priority": 900})
        assert created.status_code == 201
        assert routed_there() == "gz-hrss"

        rule_id = created.get_json()["id"]
        assert api.patch(f"/rules/{rule_id}", tokens.admin, {"active": False}).status_code == 200
        assert routed_there() == before
    finally:
        other.stdin.close()
        other.wait(30)


def test_a_rule_change_reaches_a_kept_router_though_a_savepoint_after_it_rolled_back(app):
    """A transaction that changed a rule and then rolled back a savepoint (as a webhook's
    duplicate refusal does) still gives the rules a new stamp at its commit: a router kept
    from before routes by the new rule at the next case."""
    from hotline.extensions import db
    from hotline.models import RoutingRule
    from routing.integration import current_router

    with app.app_context():
        before = current_router().route(TEXT, line="board").department
        assert before != "gz-hrss"
        db.session.commit()
        db.session.add(RoutingRule(keywords=["讨薪"], department="gz-hrss", priority=900))
        db.session.flush()
        db.session.begin_nested().rollback()
        db.session.commit()
        assert current_router().route(TEXT, line="board").department == "gz-hrss"


def test_a_rule_added_in_a_savepoint_rolled_back_leaves_the_kept_router(app):
    from hotline.extensions import db
    from hotline.models import RoutingRule
    from routing.integration import current_router

    with app.app_context():
        kept = current_router()
        db.session.commit()
        savepoint = db.session.begin_nested()
        db.session.add(RoutingRule(keywords=["讨薪"], department="gz-hrss", priority=900))
        db.session.flush()
        savepoint.rollback()
        db.session.commit()
        assert current_router() is kept
