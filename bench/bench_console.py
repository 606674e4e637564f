"""The staff console's pages against the JSON list of the same query, in one run on this
machine: in-process (Flask test client, no HTTP server), a real SQLite file (WAL,
synchronous=FULL) with the demo centre and its back-dated history (`seed-demo --history`).

    python bench/bench_console.py [DAYS]      # DAYS of demo history, 90 by default

Each page is requested by a signed-in user (the operator for the desk and the case search, a
clerk of the busiest department for its queue) and timed against `GET /api/v1/cases` with the
same filters as that user (a bearer token), median of repeated requests after a warm-up. It
prints milliseconds per request and the page's cost as a multiple of its JSON list: the page
may cost more (it renders HTML, counts its queues), not a different order of magnitude.
"""

from __future__ import annotations

import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select

from hotline import create_app
from hotline.api.admin import create_user
from hotline.cli import upgrade_database
from hotline.demo import seed_history
from hotline.extensions import db
from hotline.identity import set_password
from hotline.models import Case
from hotline.seed import seed_demo

PASSWORD = "bench-Pass-2026"
REPEAT = 30


def timed(client, path: str, headers: dict | None = None) -> float:
    for _ in range(3):
        resp = client.get(path, headers=headers or {})
        assert resp.status_code == 200, (path, resp.status_code)
    times = []
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        client.get(path, headers=headers or {})
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def signed_in(app, name: str):
    client = app.test_client()
    page = client.get("/console/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    resp = client.post("/console/login", data={"csrf_token": token, "username": name,
                                               "password": PASSWORD})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    return client


def main() -> None:
    days = int(sys.argv[1]) if len(sys.argv) > 1 else 90
    folder = tempfile.mkdtemp(prefix="hotline-bench-console-")
    app = create_app({"INSTANCE_PATH": folder, "DATABASE_URL": f"sqlite:///{folder}/h.db",
                      "SECRET_KEY": "bench", "REDIS_URL": None, "TESTING": True})
    upgrade_database(app)
    with app.app_context():
        seed_demo()
        t0 = time.perf_counter()
        seed_history(days, seed=2026)
        cases = db.session.scalar(select(func.count(Case.id)))
        busiest = db.session.execute(
            select(Case.department_code, func.count(Case.id))
            .where(Case.department_code.is_not(None))
            .group_by(Case.department_code).order_by(func.count(Case.id).desc())).first()[0]
        print(f"demo history: {days} days, {cases} cases ({time.perf_counter() - t0:.0f} s); "
              f"busiest department {busiest}")
        tokens = {}
        for name, role, dep in (("op", "operator", None), ("clerk", "handler", busiest)):
            user, tokens[name] = create_user(name, role, dep)
            set_password(user, PASSWORD)
        db.session.commit()
    pairs = [
        ("operator's desk", "op", "/console/desk",
         "/api/v1/cases?status=received&per_page=20"),
        ("case search", "op", "/console/cases", "/api/v1/cases?per_page=20"),
        ("department queue", "clerk", "/console/department",
         "/api/v1/cases?status=dispatched&sort=due&per_page=20"),
    ]
    print(f"{'page':18s} {'page ms':>8s} {'JSON ms':>8s} {'ratio':>6s}")
    for label, who, page, json_path in pairs:
        client = signed_in(app, who)
        if client.get(page).status_code == 404:
            print(f"{label:18s} (no page at {page})")
            continue
        page_ms = timed(client, page)
        json_ms = timed(app.test_client(), json_path,
                        {"Authorization": f"Bearer {tokens[who]}"})
        print(f"{label:18s} {page_ms:8.1f} {json_ms:8.1f} {page_ms / json_ms:6.2f}")


if __name__ == "__main__":
    main()
