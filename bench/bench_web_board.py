"""The public board's endpoints against the cheapest endpoint of the same app, in one run on this
machine: in-process (Flask test client, no HTTP server), a real SQLite file (WAL,
synchronous=FULL), N published cases.

    python bench/bench_web_board.py [N]

Prints requests per second and milliseconds per request of each endpoint, and its cost as a
multiple of `GET /healthz` (the raw limit of this app on this machine: routing, one JSON answer).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hotline import create_app, publication, services
from hotline.cli import upgrade_database
from hotline.domain.lifecycle import Actor
from hotline.extensions import db
from hotline.seed import seed_demo

LETTERS = [
    ("我叫张建华，家住贵阳市云岩区中华北路88号3栋2单元501室，电话13985012345。小区旁边的建筑工地"
    "每天夜里十二点以后还在施工，噪音很大，老人孩子无法休息，请帮助解决。"),
    ("六盘水市水城区米箩镇到县城的公路坑洼严重，雨天车辆无法通行，村民出行和农产品外运都很困难，"
    "希望尽快修复。我叫陈国富，电话15885901234。"),
    "我是毕节市威宁县哈喇河镇的村民杨光荣，去年危房改造的补助款至今没有到位，房子漏雨，请帮忙。",
    "遵义市红花岗区幸福小区物业擅自提高物业费，业主多次协商无果，联系人李秀英13608511234。",
]
REPLY = ("经核查，情况属实。有关部门已于11月25日约谈责任单位，责令限期整改，并安排专人跟踪督办。"
         "如仍有问题，请拨打12345反映。")
MESSAGE = {"line": "board", "category": "consult", "name": "赵敏", "phone": "13312345678",
           "content": "请问贵阳市公租房申请需要哪些材料？在哪里办理？家里三口人，收入不高。"}


def publish_cases(n: int) -> str:
    op, sup = Actor("op", "operator"), Actor("sup", "supervisor")
    handler = Actor("h", "handler", "gz-housing")
    number = ""
    for i in range(n):
        data = {"line": "board", "channel": "web", "category": "complaint",
                "content": LETTERS[i % len(LETTERS)] + f"（第{i}件）", "public_consent": True,
                "citizen": {"name": "张建华", "phone": "13985012345"}, "region": "520103"}
        case, _ = services.create_case(data, op)
        number = case.number
        if case.status == "received":
            services.act(number, "dispatch", op, {"department": "gz-housing"})
        handler = Actor("h", "handler", case.department_code)
        services.act(number, "accept", handler, {})
        services.act(number, "reply", handler, {"text": REPLY})
        services.act(number, "review", op, {"approve": True})
        services.act(number, "close", op, {})
        publication.approve(case, sup)
        db.session.commit()
    return number


def measure(client, method: str, path: str, rounds: int, **kw) -> list[float]:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        resp = client.open(path, method=method, **kw)
        times.append(time.perf_counter() - start)
        assert resp.status_code < 500, (path, resp.status_code)
    return times


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 60
    tmp = tempfile.mkdtemp()
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp}/bench.db", "INSTANCE_PATH": tmp,
                      "SECRET_KEY": "bench", "WEB_RATE_LIMITS": {
                          k: "1000000/minute" for k in ("write", "write_attempt", "status",
                                                        "status_tail_failures", "board")}})
    upgrade_database(app)
    with app.app_context():
        seed_demo()
        started = time.perf_counter()
        last = publish_cases(n)
        print(f"published {n} cases through the lifecycle and approval in "
              f"{time.perf_counter() - started:.1f} s")
    client = app.test_client()
    rounds = 200
    cases = [
        ("GET /healthz (baseline)", "GET", "/healthz", {}),
        ("GET /api/v1/public/board", "GET", "/api/v1/public/board", {}),
        ("GET /board (HTML page)", "GET", "/board", {}),
        ("GET /board?q=噪音 (search)", "GET", "/board?q=噪音", {}),
        (f"GET /board/{last}", "GET", f"/board/{last}", {}),
        ("GET /api/v1/public/cases (wrong tail)", "GET",
         f"/api/v1/public/cases/{last}?phone_tail=0000", {}),
        ("GET /api/v1/public/cases (right tail)", "GET",
         f"/api/v1/public/cases/{last}?phone_tail=2345", {}),
    ]
    results = []
    for label, method, path, kw in cases:
        measure(client, method, path, 20, **kw)  # warm up
        results.append((label, statistics.median(measure(client, method, path, rounds, **kw))))
    writes = []
    for i in range(50):
        body = {**MESSAGE, "content": MESSAGE["content"] + f"（{i}）"}
        writes.extend(measure(client, "POST", "/api/v1/public/messages", 1, json=body))
    results.append(("POST /api/v1/public/messages (intake)", statistics.median(writes)))
    base = results[0][1]
    print(f"{'endpoint':44} {'req/s':>8} {'ms/req':>8} {'× baseline':>11}")
    for label, median in results:
        print(f"{label:44} {1 / median:8.0f} {median * 1000:8.2f} {median / base:11.1f}")


if __name__ == "__main__":
    main()
