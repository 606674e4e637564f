"""Abuse protection of the public pages: CSRF, rate limits on writing, escaping, no open
redirects, security headers, and forms that keep working when Redis is down."""

from __future__ import annotations

from hotline.extensions import db
from hotline.models import Case

from .conftest import csrf_of, submission_of
from .test_write_form import LETTER_FORM


def form(browser):
    html = browser.get("/write").get_data(as_text=True)
    return {"csrf_token": csrf_of(html), "submission": submission_of(html)}


def test_form_post_without_a_token_is_refused_and_nothing_is_written(browser):
    browser.get("/write")
    resp = browser.post("/write", data=LETTER_FORM)
    assert resp.status_code == 400
    assert "页面已过期" in resp.get_data(as_text=True)
    assert db.session.query(Case).count() == 0


def test_a_token_from_another_browser_session_is_refused(app, browser):
    other = app.test_client()
    stolen = form(other)
    browser.get("/write")
    resp = browser.post("/write", data={**LETTER_FORM, **stolen})
    assert resp.status_code == 400
    assert db.session.query(Case).count() == 0


def test_a_forged_or_expired_token_is_refused(app, browser):
    hidden = form(browser)
    forged = {**hidden, "csrf_token": hidden["csrf_token"][:-4] + "AAAA"}
    assert browser.post("/write", data={**LETTER_FORM, **forged}).status_code == 400
    app.config["WEB_CSRF_MAX_AGE"] = -1
    assert browser.post("/write", data={**LETTER_FORM, **hidden}).status_code == 400
    assert db.session.query(Case).count() == 0


def test_a_post_from_another_site_is_refused_even_with_a_token(browser):
    hidden = form(browser)
    evil = browser.post("/write", data={**LETTER_FORM, **hidden},
                        headers={"Origin": "https://evil.example.com"})
    assert evil.status_code == 400
    cross = browser.post("/write", data={**LETTER_FORM, **hidden},
                         headers={"Sec-Fetch-Site": "cross-site"})
    assert cross.status_code == 400
    assert db.session.query(Case).count() == 0
    ours = browser.post("/write", data={**LETTER_FORM, **hidden},
                        headers={"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"})
    assert ours.status_code == 303


def test_status_and_survey_forms_need_the_token_too(browser):
    assert browser.post("/status", data={"number": "BD20261123-0001",
                                         "phone_tail": "1234"}).status_code == 400
    assert browser.post("/survey/anything", data={"rating": "satisfied"}).status_code == 400


def test_writing_is_limited_per_client(app, browser):
    app.config["WEB_RATE_LIMITS"] = {"write": "2/10minute"}
    codes = []
    for i in range(3):
        hidden = form(browser)
        data = {**LETTER_FORM, **hidden, "content": LETTER_FORM["content"] + f"（第{i + 1}次）"}
        codes.append(browser.post("/write", data=data).status_code)
    assert codes == [303, 303, 429]
    assert db.session.query(Case).count() == 2


def test_mistakes_count_against_a_looser_limit(app, browser):
    app.config["WEB_RATE_LIMITS"] = {"write_attempt": "3/10minute"}
    hidden = form(browser)
    codes = [browser.post("/write", data={**LETTER_FORM, **hidden, "phone": "1"}).status_code
             for _ in range(4)]
    assert codes == [400, 400, 400, 429]


def test_json_writing_is_limited_too(app, api):
    app.config["WEB_RATE_LIMITS"] = {"write": "1/10minute"}
    body = {"category": "consult", "content": "请问贵阳市公租房申请需要哪些材料？在哪里办理？",
            "name": "赵敏", "phone": "13312345678"}
    assert api.post("/public/messages", json=body).status_code == 201
    resp = api.post("/public/messages", json={**body, "content": body["content"] + "谢谢"})
    assert resp.status_code == 429 and resp.headers["Retry-After"]


def test_rate_limits_fall_back_to_memory_when_redis_is_down(app, api):
    from channels.web.security import RateLimiter

    app.config["WEB_RATE_LIMITS"] = {"status": "3/minute"}
    app.extensions["hotline_web_limiter"] = RateLimiter("redis://127.0.0.1:1/0")  # nothing there
    codes = [api.get(f"/public/cases/BD20261123-0001?phone_tail={1000 + i}").status_code
             for i in range(4)]
    assert codes == [404, 404, 404, 429]


def test_rate_limits_are_shared_through_redis(app, api, redis_url):
    from channels.web.security import RateLimiter

    app.config["WEB_RATE_LIMITS"] = {"status": "3/minute"}
    # Two processes of the same site: each its own limiter, one Redis.
    first, second = RateLimiter(redis_url), RateLimiter(redis_url)
    app.extensions["hotline_web_limiter"] = first
    codes = [api.get(f"/public/cases/BD20261123-0002?phone_tail={1000 + i}",
                     environ_base={"REMOTE_ADDR": "10.9.9.9"}).status_code for i in range(2)]
    app.extensions["hotline_web_limiter"] = second
    codes += [api.get(f"/public/cases/BD20261123-0002?phone_tail={1000 + i}",
                      environ_base={"REMOTE_ADDR": "10.9.9.9"}).status_code for i in range(2)]
    assert codes == [404, 404, 404, 429]


XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_text_from_citizens_and_staff_is_escaped_on_every_page(browser, api, tokens,
                                                               closed_case):
    case = closed_case(content="噪音问题<script>alert('x')</script>请处理，谢谢。"
                               "夜里十二点还在施工。")
    number = case["number"]
    api.put(f"/publications/{number}", tokens.operator, {"title": XSS, "answer": "已处理" + XSS})
    api.post(f"/publications/{number}/approve", tokens.supervisor, {"confirm_remaining": True})
    for path in ("/board", f"/board/{number}", f"/board?q={XSS}"):
        html = browser.get(path).get_data(as_text=True)
        assert "<script>alert" not in html and "<img src=x" not in html, path
        assert "&lt;script&gt;" in html or path.startswith("/board?q"), path
    status = browser.get("/status?number=" + XSS)
    assert "<script>alert" not in status.get_data(as_text=True)


def test_redirects_only_go_to_our_own_pages(browser):
    for path in ("/write?next=https://evil.example.com", "/write/done?next=//evil.example.com",
                 "/status?next=https://evil.example.com&number=BD20261123-0001"):
        resp = browser.get(path)
        location = resp.headers.get("Location", "")
        assert not location.startswith(("http", "//")), (path, location)
    resp = browser.get("/write/done")  # nothing written yet
    assert resp.status_code == 303 and resp.headers["Location"] == "/write"
    hidden = form(browser)
    resp = browser.post("/write?next=https://evil.example.com", data={**LETTER_FORM, **hidden})
    assert resp.headers["Location"] == "/write/done"


def test_pages_carry_security_headers_and_forms_are_not_cached(browser):
    resp = browser.get("/write")
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Cache-Control"] == "no-store"
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    html = resp.get_data(as_text=True)
    assert "<script>" not in html and " style=" not in html  # nothing inline for the CSP to block
    assert browser.get("/board").headers["X-Frame-Options"] == "DENY"
    assert browser.get("/web-static/board.css").status_code == 200
