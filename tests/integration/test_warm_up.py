"""Warm-up: a process that serves is ready before its first message — the web app gunicorn
loads has jieba, the router and the active topic model loaded before any request — and warming
up leaves nothing behind: no case, no case number taken, no message stored or queued. A worker
brings a newly trained model into the process it forks its jobs from, without a restart."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

from redis import Redis
from sqlalchemy import func, select

from channels.wechat.warmup import SAMPLE
from hotline import warm_up
from hotline.extensions import db
from hotline.gunicorn_conf import answer
from hotline.metrics import LATENCY, REQUESTS
from hotline.models import Case, InboxMessage
from hotline.queue import QUEUE_NAMES
from hotline.warmup import refresh, settle_web_worker
from routing import integration, segment
from tests.conftest import CASE, activate_topic_model

ROOT = Path(__file__).resolve().parents[2]
WECHAT = {"WECHAT_TOKEN": "warmUpToken", "WECHAT_APPID": "wx0123456789abcdef",
          "WECHAT_AES_KEY": "kWxPEV2UEDyxWpmPdKC3F0dgmFbOk3B3lLqYs4nXg6u"}
# What gunicorn --preload loads in its master, before it forks the web workers.
LOADED_BY_GUNICORN = """
import json
import hotline.wsgi_app
from routing import integration, segment

router = integration._cache["router"]
print(json.dumps({
    "jieba": segment._tokenizer is not None and bool(segment._tokenizer.initialized),
    "router": router is not None,
    "model": router.model.meta.get("id") if router is not None and router.model else None,
}))
"""


def row_counts() -> dict[str, int]:
    return {table.name: db.session.scalar(select(func.count()).select_from(table))
            for table in db.metadata.sorted_tables}


def test_the_app_gunicorn_loads_has_jieba_the_router_and_the_model_before_any_request(
        app, small_topic_model):
    model_id = activate_topic_model(small_topic_model)
    env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "HOTLINE_INSTANCE_PATH": app.instance_path, "SECRET_KEY": "test-secret", **WECHAT}
    env.pop("REDIS_URL", None)
    out = subprocess.run([sys.executable, "-c", LOADED_BY_GUNICORN], env=env, cwd=ROOT, check=False,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == \
        {"jieba": True, "router": True, "model": model_id}


def test_warming_up_leaves_no_case_no_number_taken_and_no_message(app, api, tokens,
                                                                   redis_url):
    app.config.update(REDIS_URL=redis_url, **WECHAT)
    before = row_counts()
    warm_up(app)
    db.session.rollback()
    assert row_counts() == before
    queued = Redis.from_url(redis_url)
    assert [q for q in QUEUE_NAMES if queued.llen(f"rq:queue:{q}")] == []

    assert segment._tokenizer is not None and segment._tokenizer.initialized
    assert integration._cache["router"] is not None

    # The rehearsed intake gave its number back: the day's first real case is -0001.
    for line, category in (("fupin", "policy_consult"), ("zhitongche", "situation")):
        case = api.post("/cases", tokens.operator,
                        {**CASE, "line": line, "category": category}).get_json()
        assert case["number"].endswith("-0001"), case
    assert db.session.scalar(select(func.count(Case.id))) == 2


def test_a_worker_holds_a_newly_trained_model_before_it_forks_the_next_job(app, small_topic_model,
                                                                           redis_url):
    app.config["REDIS_URL"] = redis_url
    first = activate_topic_model(small_topic_model)
    warm_up(app)
    assert integration._cache["router"].model.meta["id"] == first

    second = activate_topic_model(small_topic_model)  # retrained while the worker runs
    refresh(app)  # what the worker does before forking each job's child
    assert integration._cache["router"].model.meta["id"] == second


def test_after_warming_up_the_first_case_compiles_no_statement(app, api, tokens, caplog):
    """The rehearsal runs the statements a real intake runs (the day's case number included,
    taken as a real request takes it): a process's first case finds them all compiled."""
    db.engine._compiled_cache.clear()  # what earlier tests compiled in this process
    warm_up(app)
    db.session.rollback()
    with caplog.at_level("INFO", logger="sqlalchemy.engine.Engine"):
        case = api.post("/cases", tokens.operator, CASE).get_json()
    assert case["number"].endswith("-0001"), case
    compiled = [r.getMessage() for r in caplog.records
                if r.name == "sqlalchemy.engine.Engine" and "[generated in" in r.getMessage()]
    assert compiled == [], "\n".join(s[:160] for s in compiled)


def gunicorn_worker(app):
    """A gunicorn sync worker of `app`, as gunicorn's master makes one before it forks it."""
    from gunicorn.config import Config
    from gunicorn.workers.sync import SyncWorker

    from hotline.accesslog import RedactingLogger

    config = Config()
    config.set("accesslog", "-")  # an operator's access log: the rehearsals stay out of it too
    worker = SyncWorker(0, os.getpid(), [], None, 30, config, RedactingLogger(config))
    worker.wsgi = app
    return worker


def test_a_settling_web_worker_answers_its_own_requests_and_leaves_nothing_behind(
        app, redis_url, json_log, capsys):
    """Before it takes a client's request, a web worker answers a health probe, a case posted
    to the API, WeChat's check of the address and a WeChat message through gunicorn's own
    code, as a client's: all four answered, and nothing of them stays — no case, no user, no
    message stored or queued, no log line, no count in the metrics, none of the worker's
    requests used up (it restarts after max_requests)."""
    app.config.update(REDIS_URL=redis_url, **WECHAT)
    worker = gunicorn_worker(app)
    answers = []

    def serve(request: bytes) -> bytes:
        answers.append(answer(worker, request))
        return answers[-1]

    for labels in (("GET", "/healthz", "200"), ("POST", "/api/v1/cases", "201"),
                   ("GET", "/channels/wechat", "200"),
                   ("POST", "/channels/wechat", "200")):  # as in a fresh process
        if labels in REQUESTS._metrics:
            REQUESTS.remove(*labels)
            LATENCY.remove(*labels[:2])
    before, counted = row_counts(), scraped(app)
    settle_web_worker(app, serve)
    db.session.rollback()

    assert [a.split(b"\r\n", 1)[0] for a in answers] == [
        b"HTTP/1.1 200 OK", b"HTTP/1.1 201 CREATED", b"HTTP/1.1 200 OK", b"HTTP/1.1 200 OK"]
    assert b'"number":"' in answers[1]  # the case's answer, as a client reads it
    assert answers[2].endswith(b"warm-up") and answers[3].endswith(b"success")
    assert row_counts() == before
    queued = Redis.from_url(redis_url)
    assert [q for q in QUEUE_NAMES if queued.llen(f"rq:queue:{q}")] == []
    assert json_log() == []
    assert "GET /healthz" not in capsys.readouterr().out
    assert scraped(app) == counted
    assert worker.nr == 0
    # The first case's and the first WeChat message's counts and durations find their series
    # made (uncounted).
    for method, path, status in (("POST", "/api/v1/cases", "201"),
                                 ("POST", "/channels/wechat", "200")):
        assert (method, path, status) in REQUESTS._metrics
        assert (method, path) in LATENCY._metrics


def scraped(app) -> list[str]:
    """The request metrics' lines of a scrape of /metrics (this process's own counts)."""
    from hotline.metrics import metrics_view

    with app.test_request_context("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"}):
        body = metrics_view().get_data(as_text=True)
    return [line for line in body.splitlines() if line.startswith("hotline_http_request")]


def test_after_warming_up_a_first_wechat_message_compiles_no_statement(app, redis_url, caplog):
    """What a worker's job child runs for a WeChat message (stored by the webhook, then done by
    the job: the conversation, intake, the reply written) was compiled by the warm-up of the
    process it is forked from."""
    from channels.wechat.simulator import Simulator
    from hotline import inbox

    app.config.update(REDIS_URL=redis_url, **WECHAT)
    db.engine._compiled_cache.clear()  # what earlier tests compiled in this process
    warm_up(app)
    db.session.rollback()
    sim = Simulator(WECHAT["WECHAT_TOKEN"], appid=WECHAT["WECHAT_APPID"])
    openid = "oFirstMessage000000000000000"
    message_id = inbox.receive("wechat", "msg:default:first-1", openid,
                               {"account": "default", "xml": sim.text(openid, SAMPLE)})
    other = "oSecondCitizen00000000000000"
    later = inbox.receive("wechat", "msg:default:second-1", other,
                          {"account": "default", "xml": sim.text(other, SAMPLE)})
    with caplog.at_level("INFO", logger="sqlalchemy.engine.Engine"):
        assert inbox.process(message_id) == "processed"
        assert inbox.process_waiting() is None  # the job then does the message after it
    assert db.session.get(InboxMessage, later).processed_at is not None
    messages = [r.getMessage() for r in caplog.records if r.name == "sqlalchemy.engine.Engine"]
    compiled = [statement for statement, parameters in itertools.pairwise(messages)
                if parameters.startswith("[generated in")]
    assert compiled == [], "\n".join(s[:160] for s in compiled)
