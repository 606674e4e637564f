"""Writing on the web: the form and the JSON API both make a case with channel web; mistakes
are shown next to the field; attachments within limits; one case however often it is sent."""

from __future__ import annotations

import io

from hotline.extensions import db
from hotline.models import Attachment, Case

from .conftest import csrf_of, submission_of

PHOTO = b"\xff\xd8\xff\xe0" + b"\x00\x10JFIF" + b"\x00" * 2048
PDF = b"%PDF-1.7\n" + b"0" * 1024

LETTER_FORM = {
    "line": "board",
    "category": "complaint",
    "title": "小区旁工地夜间施工噪音扰民",
    "content": "云岩区中华北路一处建筑工地每天夜里十二点以后还在施工，噪音很大，老人孩子无法休息，"
               "向区住建局反映过没有结果，请帮助解决。",
    "name": "张建华",
    "phone": "139 8501 2345",
    "region": "520103",
    "public_consent": "yes",
}


def open_form(browser, path="/write"):
    page = browser.get(path)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    return {"csrf_token": csrf_of(html), "submission": submission_of(html)}, html


def test_form_lists_every_line_and_its_categories(browser):
    _, html = open_form(browser)
    for text in ("省长信箱", "服务民营企业省长直通车", "扶贫专线", "情况反映", "联系捐赠",
                 "是否愿意公开", "贵阳市", "威宁县"):
        assert text in html, text
    assert 'enctype="multipart/form-data"' in html


def test_written_message_becomes_a_web_case_and_the_citizen_gets_its_number(app, browser):
    hidden, _ = open_form(browser)
    resp = browser.post("/write", data={**LETTER_FORM, **hidden})
    assert resp.status_code == 303
    assert resp.headers["Location"] == "/write/done"
    done = browser.get("/write/done").get_data(as_text=True)
    case = db.session.query(Case).one()
    assert case.number in done and case.number.startswith("BD")
    assert case.channel == "web" and case.public_consent is True
    assert case.citizen_phone == "+8613985012345" and case.citizen_name == "张建华"
    assert case.content.startswith("小区旁工地夜间施工噪音扰民\n云岩区")
    assert case.region == "520103"
    assert case.events[0].actor == "citizen:web"


def test_sending_the_same_form_twice_makes_one_case(browser):
    hidden, _ = open_form(browser)
    first = browser.post("/write", data={**LETTER_FORM, **hidden})
    second = browser.post("/write", data={**LETTER_FORM, **hidden})
    assert first.status_code == second.status_code == 303
    assert db.session.query(Case).count() == 1


def test_mistakes_are_shown_in_chinese_next_to_the_field_and_input_is_kept(browser):
    hidden, _ = open_form(browser)
    resp = browser.post("/write", data={**LETTER_FORM, **hidden, "phone": "12345",
                                        "content": "太吵了"})
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert "请填写正确的手机号码" in html and "至少 10 个字" in html
    assert 'id="phone-error"' in html and 'id="content-error"' in html
    assert "张建华" in html  # what was typed is still in the form
    assert db.session.query(Case).count() == 0


def test_zhitongche_asks_for_the_enterprise(browser):
    hidden, _ = open_form(browser)
    data = {**LETTER_FORM, **hidden, "line": "zhitongche", "category": "situation"}
    resp = browser.post("/write", data=data)
    assert resp.status_code == 400
    assert "请填写企业名称" in resp.get_data(as_text=True)
    hidden, _ = open_form(browser)
    resp = browser.post("/write", data={**data, **hidden, "enterprise": "贵州黔兴建筑有限公司"})
    assert resp.status_code == 303
    case = db.session.query(Case).one()
    assert case.number.startswith("ZT") and case.citizen_enterprise == "贵州黔兴建筑有限公司"


def test_a_category_of_another_line_is_refused_with_a_clear_message(browser):
    hidden, _ = open_form(browser)
    resp = browser.post("/write", data={**LETTER_FORM, **hidden, "category": "donation"})
    assert resp.status_code == 400
    assert "所选类别不属于所选栏目" in resp.get_data(as_text=True)


def test_photos_and_pdfs_are_attached_and_staff_can_download_them(app, browser, api, tokens):
    hidden, _ = open_form(browser)
    data = {**LETTER_FORM, **hidden,
            "attachments": [(io.BytesIO(PHOTO), "工地夜间.jpg"), (io.BytesIO(PDF), "信访回复.pdf")]}
    resp = browser.post("/write", data=data, content_type="multipart/form-data")
    assert resp.status_code == 303, resp.get_data(as_text=True)
    files = db.session.query(Attachment).order_by(Attachment.id).all()
    assert [(a.filename, a.content_type, a.size) for a in files] == [
        ("工地夜间.jpg", "image/jpeg", len(PHOTO)), ("信访回复.pdf", "application/pdf", len(PDF))]
    download = api.get(files[0].url, tokens.operator)
    assert download.status_code == 200 and download.data == PHOTO
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert api.get(files[0].url).status_code == 401  # not for the public


def test_a_file_that_is_not_a_photo_or_pdf_is_refused(browser):
    hidden, _ = open_form(browser)
    data = {**LETTER_FORM, **hidden,
            "attachments": [(io.BytesIO(b"<script>alert(1)</script>"), "照片.jpg")]}
    resp = browser.post("/write", data=data, content_type="multipart/form-data")
    assert resp.status_code == 400
    assert "不是 JPG、PNG 图片或 PDF 文件" in resp.get_data(as_text=True)
    assert db.session.query(Case).count() == 0


def test_too_many_or_too_large_attachments_are_refused(app, browser):
    hidden, _ = open_form(browser)
    four = [(io.BytesIO(PHOTO), f"{i}.jpg") for i in range(4)]
    resp = browser.post("/write", data={**LETTER_FORM, **hidden, "attachments": four},
                        content_type="multipart/form-data")
    assert resp.status_code == 400 and "最多上传 3 个附件" in resp.get_data(as_text=True)
    big = PHOTO + b"\x00" * (5 * 1024 * 1024)
    resp = browser.post("/write", data={**LETTER_FORM, **hidden,
                                        "attachments": [(io.BytesIO(big), "大.jpg")]},
                        content_type="multipart/form-data")
    assert resp.status_code == 400 and "超过 5 MB" in resp.get_data(as_text=True)
    huge = b"\xff\xd8\xff" + b"\x00" * (17 * 1024 * 1024)
    resp = browser.post("/write", data={**LETTER_FORM, **hidden,
                                        "attachments": [(io.BytesIO(huge), "太大.jpg")]},
                        content_type="multipart/form-data")
    assert resp.status_code == 413 and "附件太大" in resp.get_data(as_text=True)
    assert db.session.query(Case).count() == 0


def test_a_robot_filling_the_hidden_field_is_refused(browser):
    hidden, _ = open_form(browser)
    resp = browser.post("/write", data={**LETTER_FORM, **hidden, "website": "http://spam"})
    assert resp.status_code == 400
    assert db.session.query(Case).count() == 0


MESSAGE = {
    "line": "board", "category": "appeal",
    "content": "我是毕节市威宁县哈喇河镇的村民，去年危房改造的补助款至今没有到位，"
               "房子漏雨，请帮忙。",
    "name": "杨光荣", "phone": "13765432109", "public_consent": False,
}


def test_public_api_takes_a_message_and_answers_with_the_number(api):
    resp = api.post("/public/messages", json=MESSAGE)
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["number"].startswith("BD")
    assert body["status_label"] in ("已受理", "已转办")  # routing may dispatch it at once
    assert body["number"] in body["message"]
    assert resp.headers["Location"] == f"/api/v1/public/cases/{body['number']}"
    case = db.session.query(Case).one()
    assert case.channel == "web" and case.public_consent is False


def test_public_api_retry_with_the_same_key_returns_the_same_case(api):
    headers = {"Idempotency-Key": "e7b1c3a0-2f4d-4d7a-9a39-1f0f2a6b9e11"}
    first = api.post("/public/messages", json=MESSAGE, headers=headers)
    again = api.post("/public/messages", json=MESSAGE, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.get_json()["number"] == again.get_json()["number"]
    other = api.post("/public/messages", json={**MESSAGE, "content": MESSAGE["content"] + "急！"},
                     headers=headers)
    assert other.status_code == 409
    assert db.session.query(Case).count() == 1


def test_public_api_refuses_bad_input_naming_the_field(api):
    for body, field in (({**MESSAGE, "phone": "110"}, "phone"),
                        ({**MESSAGE, "surprise": 1}, "surprise"),
                        ({k: v for k, v in MESSAGE.items() if k != "category"}, "category"),
                        ({**MESSAGE, "content": "x" * 5001}, "content"),
                        ({**MESSAGE, "public_consent": "maybe"}, "public_consent")):
        resp = api.post("/public/messages", json=body)
        assert resp.status_code == 400, body
        assert field in resp.get_json()["error"]["fields"]
    assert api.post("/public/messages", json={**MESSAGE, "category": "nope"}).status_code == 422
    resp = api.post("/public/messages", data="line=board", content_type="text/plain")
    assert resp.status_code == 400
    assert db.session.query(Case).count() == 0
