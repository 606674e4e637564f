"""The status look-up: number + last four digits of the phone. A wrong tail looks exactly like a
number that does not exist; tries are limited per client, and once a number's look-ups have
failed too often (from anyone) the whole phone number is asked for instead of the tail — never
a lock-out of the citizen."""

from __future__ import annotations

import statistics
import time

import pytest

from .conftest import csrf_of


def test_citizen_sees_status_and_steps_by_number_and_phone_tail(api, closed_case):
    case = closed_case()
    resp = api.get(f"/public/cases/{case['number']}?phone_tail=2345")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["status"] == "closed" and body["status_label"] == "已办结"
    labels = [s["label"] for s in body["steps"]]
    assert labels[0] == "已受理（网站留言）"
    assert "已转交贵州省住房和城乡建设厅办理" in labels and labels[-1] == "已办结"
    assert body["answer"].startswith("经核查")
    # Four digits are a weak proof: the citizen's own data is masked all the same.
    assert "张建华" not in body["question"] and "13985012345" not in str(body)
    assert body["published_url"] is None


def test_open_case_shows_department_and_deadline_but_no_answer_yet(api, tokens, new_case):
    case = new_case()
    if case["status"] == "received":  # routing may have dispatched it already
        api.post(f"/cases/{case['number']}/dispatch", tokens.operator, {"department": "gz-hrss"})
    body = api.get(f"/public/cases/{case['number']}?phone_tail=2345").get_json()
    assert body["status_label"] == "已转办"
    assert body["department_name"] and body["due_date"]
    assert body["answer"] is None


def test_wrong_tail_is_indistinguishable_from_a_number_that_does_not_exist(api, new_case):
    number = new_case()["number"]
    missing = number[:-4] + "9999"
    # The same request id on both (each response echoes its request's own)
    same = {"X-Request-ID": "probe-1"}
    wrong = api.get(f"/public/cases/{number}?phone_tail=1111", headers=same)
    absent = api.get(f"/public/cases/{missing}?phone_tail=1111", headers=same)
    assert wrong.status_code == absent.status_code == 404
    assert wrong.data == absent.data
    assert dict(wrong.headers) == dict(absent.headers)


def test_wrong_tail_takes_as_long_as_a_missing_number(app, api, new_case):
    app.config["WEB_RATE_LIMITS"] = {"status": "10000/minute",
                                     "status_tail_failures": "10000/minute"}
    number = new_case()["number"]
    missing = number[:-4] + "9999"

    def timed(path: str) -> float:
        start = time.perf_counter()
        assert api.get(path).status_code == 404
        return time.perf_counter() - start

    for _ in range(5):  # warm up
        timed(f"/public/cases/{number}?phone_tail=1111")
        timed(f"/public/cases/{missing}?phone_tail=1111")
    wrong, absent = [], []
    for i in range(60):
        # Interleaved, and each goes first half of the time: drift and whatever the first
        # request of a pair pays hit both alike.
        pair = [(wrong, number), (absent, missing)]
        for times, asked in (pair if i % 2 else pair[::-1]):
            times.append(timed(f"/public/cases/{asked}?phone_tail=1111"))
    ratio = statistics.median(wrong) / statistics.median(absent)
    assert 0.67 < ratio < 1.5, ratio


def test_status_page_finds_the_case_with_the_form(browser, new_case):
    number = new_case()["number"]
    page = browser.get(f"/status?number={number}").get_data(as_text=True)
    assert f'value="{number}"' in page
    resp = browser.post("/status", data={"csrf_token": csrf_of(page), "number": number.lower(),
                                         "phone_tail": "２３４５"})
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert f"工单 {number}" in html and "办理过程" in html
    assert resp.headers["Cache-Control"] == "no-store"


def test_status_page_says_the_same_for_wrong_tail_and_missing_number(browser, new_case):
    number = new_case()["number"]
    token = csrf_of(browser.get("/status").get_data(as_text=True))
    wrong = browser.post("/status", data={"csrf_token": token, "number": number,
                                          "phone_tail": "0000"})
    absent = browser.post("/status", data={"csrf_token": token, "number": number[:-4] + "9999",
                                           "phone_tail": "0000"})
    assert wrong.status_code == absent.status_code == 404
    strip = (lambda html, n: html.replace(n, "N"))
    assert strip(wrong.get_data(as_text=True), number) == \
        strip(absent.get_data(as_text=True), number[:-4] + "9999")
    assert "没有找到编号与电话后四位相符的工单" in wrong.get_data(as_text=True)


def test_malformed_tail_is_a_bad_request(api, new_case):
    number = new_case()["number"]
    for tail in ("12", "abcd", "12345", ""):
        resp = api.get(f"/public/cases/{number}?phone_tail={tail}")
        assert resp.status_code == 400, tail
    assert api.get(f"/public/cases/{number}").status_code == 400


def test_status_lookups_are_limited_per_client(app, api, new_case):
    app.config["WEB_RATE_LIMITS"] = {"status": "5/minute"}
    number = new_case()["number"]
    codes = [api.get(f"/public/cases/{number}?phone_tail={1000 + i}").status_code
             for i in range(7)]
    assert codes == [404] * 5 + [429] * 2
    resp = api.get(f"/public/cases/{number}?phone_tail=2345")
    assert resp.status_code == 429  # even the right tail, until the window passes
    assert resp.get_json()["error"]["code"] == "too_many_requests"
    assert 0 < int(resp.headers["Retry-After"]) <= 60
    other = api.get(f"/public/cases/{number}?phone_tail=2345",
                    environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert other.status_code == 200  # another client is not held up


def test_guessing_tails_of_one_number_from_many_addresses_is_stopped(app, api, new_case):
    app.config["WEB_RATE_LIMITS"] = {"status_tail_failures": "4/hour"}
    number = new_case()["number"]
    codes = [api.get(f"/public/cases/{number}?phone_tail={1000 + i}",
                     environ_base={"REMOTE_ADDR": f"10.0.0.{i}"}).status_code
             for i in range(4)]
    assert codes == [404] * 4
    # From now on four digits open nothing, not even the right ones, from any address: the
    # guesser has had its 4 tries of 10,000.
    for tail, address in (("1004", "10.0.0.9"), ("2345", "10.0.0.10")):
        resp = api.get(f"/public/cases/{number}?phone_tail={tail}",
                       environ_base={"REMOTE_ADDR": address})
        assert resp.status_code == 403
        assert resp.get_json()["error"]["code"] == "phone_required"
        assert number not in resp.get_data(as_text=True) and "13985012345" not in str(resp.data)
    # A number that does not exist is guarded the same way: no difference to learn from.
    missing = number[:-4] + "9999"
    codes = [api.get(f"/public/cases/{missing}?phone_tail={1000 + i}",
                     environ_base={"REMOTE_ADDR": f"10.0.1.{i}"}).status_code
             for i in range(6)]
    assert codes == [404] * 4 + [403] * 2


def test_a_strangers_wrong_tails_do_not_lock_the_citizen_out(app, api, new_case):
    number = new_case()["number"]  # the citizen's phone is 13985012345
    stranger = {"REMOTE_ADDR": "203.0.113.7"}
    for tail in range(1000, 1030):  # far past what the defaults allow for one number
        assert api.get(f"/public/cases/{number}?phone_tail={tail}",
                       environ_base=stranger).status_code in (403, 404, 429)
    citizen = {"REMOTE_ADDR": "223.104.5.6"}
    asked = api.get(f"/public/cases/{number}?phone_tail=2345", environ_base=citizen)
    assert asked.status_code == 403 and asked.get_json()["error"]["fields"]["phone"]
    for phone in ("13985012345", "+86 139 8501 2345"):
        resp = api.get(f"/public/cases/{number}", query_string={"phone": phone},
                       environ_base=citizen)
        assert resp.status_code == 200, resp.get_json()
        assert resp.get_json()["number"] == number
    wrong = api.get(f"/public/cases/{number}?phone=13985012346", environ_base=citizen)
    assert wrong.status_code == 404


def test_default_limits_leave_guessing_a_tail_hopeless(app, api, new_case):
    """With the shipped limits, everyone together gets at most a few tail guesses of a number a
    month — one chance in a thousand of 10,000 — and then the whole phone is needed."""
    from limits import parse_many

    from channels.web.security import DEFAULT_LIMITS

    guesses_a_year = min(item.amount * 365 * 86400 / item.get_expiry()
                         for item in parse_many(DEFAULT_LIMITS["status_tail_failures"]))
    assert guesses_a_year / 10_000 < 0.02
    number = new_case()["number"]
    allowed = min(item.amount for item in parse_many(DEFAULT_LIMITS["status_tail_failures"]))
    for i in range(allowed):
        assert api.get(f"/public/cases/{number}?phone_tail={1000 + i}",
                       environ_base={"REMOTE_ADDR": f"198.51.100.{i}"}).status_code == 404
    resp = api.get(f"/public/cases/{number}?phone_tail=2345",
                   environ_base={"REMOTE_ADDR": "198.51.100.200"})
    assert resp.status_code == 403


def test_status_page_asks_for_the_whole_phone_and_finds_the_case(app, browser, new_case):
    app.config["WEB_RATE_LIMITS"] = {"status_tail_failures": "2/hour"}
    number = new_case()["number"]
    token = csrf_of(browser.get("/status").get_data(as_text=True))
    for tail in ("0000", "1111"):
        assert browser.post("/status", data={"csrf_token": token, "number": number,
                                             "phone_tail": tail}).status_code == 404
    resp = browser.post("/status", data={"csrf_token": token, "number": number,
                                         "phone_tail": "2345"})
    assert resp.status_code == 403
    html = resp.get_data(as_text=True)
    assert "完整电话号码" in html and 'name="phone"' in html and "办理过程" not in html
    resp = browser.post("/status", data={"csrf_token": token, "number": number,
                                         "phone": "139 8501 2345"})
    assert resp.status_code == 200
    assert f"工单 {number}" in resp.get_data(as_text=True)


def test_status_page_limit_shows_a_chinese_page(app, browser, new_case):
    app.config["WEB_RATE_LIMITS"] = {"status": "2/minute"}
    number = new_case()["number"]
    token = csrf_of(browser.get("/status").get_data(as_text=True))
    for _ in range(2):
        browser.post("/status", data={"csrf_token": token, "number": number,
                                      "phone_tail": "0000"})
    resp = browser.post("/status", data={"csrf_token": token, "number": number,
                                         "phone_tail": "2345"})
    assert resp.status_code == 429
    assert "操作太频繁" in resp.get_data(as_text=True)
    assert resp.headers["Retry-After"]


def test_behind_a_trusted_proxy_each_citizen_has_own_limit(app, api, new_case):
    app.config["WEB_RATE_LIMITS"] = {"status": "2/minute"}
    app.config["TRUSTED_PROXIES"] = 1
    number = new_case()["number"]

    def ask(client_ip: str, claimed: str = "") -> int:
        forwarded = f"{claimed}, {client_ip}" if claimed else client_ip
        return api.get(f"/public/cases/{number}?phone_tail=0000",
                       headers={"X-Forwarded-For": forwarded},
                       environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code

    assert [ask("223.104.1.1") for _ in range(3)] == [404, 404, 429]
    assert ask("223.104.1.2") == 404
    # A client cannot get a fresh count by claiming another address in front of the proxy's.
    assert ask("223.104.1.1", claimed="8.8.8.8") == 429


@pytest.mark.parametrize("name", ["TRUSTED_PROXIES", "WEB_TRUSTED_PROXIES"])
def test_the_proxy_count_set_in_the_environment_is_honoured(app, api, new_case, monkeypatch,
                                                            name):
    # The README said "set WEB_TRUSTED_PROXIES=N"; the environment was never read, so behind
    # a proxy every citizen shared the proxy's one limit.
    monkeypatch.setenv(name, "1")
    app.config["WEB_RATE_LIMITS"] = {"status": "2/minute"}
    number = new_case()["number"]

    def ask(client_ip: str) -> int:
        return api.get(f"/public/cases/{number}?phone_tail=0000",
                       headers={"X-Forwarded-For": client_ip},
                       environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code

    assert [ask("223.104.1.1") for _ in range(3)] == [404, 404, 429]
    assert ask("223.104.1.2") == 404  # another citizen behind the same proxy
