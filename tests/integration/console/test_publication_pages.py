"""Publication in the console (网上公开): the masked draft beside the original, edited and
approved onto the board by a supervisor, a stale edit kept and refused, personal data left in
the draft stopping the approval, withdrawal, and who may do what (the API's roles)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from hotline.api.admin import create_user

from ..web.conftest import LETTER, REPLY
from .conftest import csrf_of


@pytest.fixture
def consented(api: Any, tokens: Any):
    """A web letter with consent to publish, closed with the department's answer."""
    housing = create_user("住建承办", "handler", "gz-housing")[1]

    def make(**overrides: Any) -> str:
        resp = api.post("/cases", tokens.operator, {**LETTER, **overrides})
        assert resp.status_code == 201, resp.get_json()
        number = resp.get_json()["number"]
        for action, token, body in (
                ("dispatch", tokens.operator, {"department": "gz-housing"}),
                ("accept", housing, {}),
                ("reply", housing, {"text": REPLY}),
                ("review", tokens.operator, {"approve": True}),
                ("close", tokens.operator, {})):
            resp = api.post(f"/cases/{number}/{action}", token, body)
            assert resp.status_code == 200, resp.get_json()
        return number

    return make


def form_of(client: Any, number: str) -> dict[str, str]:
    html = client.get(f"/console/publications/{number}").get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', html)[1]
    return {"csrf_token": csrf_of(html), "version": version}


def texts(title: str, question: str, answer: str) -> dict[str, str]:
    return {"title": title, "question": question, "answer": answer}


QUESTION = ("小区旁边的建筑工地每天夜里十二点以后还在施工，噪音很大，老人孩子无法休息，"
            "向区住建局反映过没有结果，请帮助解决。")


def test_the_draft_is_masked_beside_the_original(console_as, consented):
    number = consented()
    sup = console_as("supervisor")
    listing = sup.get("/console/publications").get_data(as_text=True)
    assert number in listing
    page = sup.get(f"/console/publications/{number}").get_data(as_text=True)
    original = page.split('id="original"')[1].split('id="draft"')[0]
    draft = page.split('id="draft"')[1]
    assert "<mark" in original and "张建华" in original and "13985012345" in original
    assert "张建华" not in draft and "13985012345" not in draft and "张某某" in draft


def test_supervisor_edits_and_approves_and_the_case_is_on_the_board(console_as, consented,
                                                                   app):
    number = consented()
    sup = console_as("supervisor")
    resp = sup.post(f"/console/publications/{number}/approve", data={
        **form_of(sup, number), **texts("工地夜间施工噪音扰民", QUESTION, REPLY),
        "note": "标题改得更明确"}, follow_redirects=True)
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert "已批准公开" in page and f'href="/board/{number}"' in page
    board = app.test_client().get(f"/board/{number}").get_data(as_text=True)
    assert "工地夜间施工噪音扰民" in board and "张建华" not in board


def test_an_edit_on_a_changed_draft_is_refused_and_the_text_kept(console_as, consented):
    number = consented()
    sup, op = console_as("supervisor"), console_as("operator")
    seen = form_of(sup, number)
    saved = op.post(f"/console/publications/{number}/save", data={
        **form_of(op, number), **texts("夜间施工噪音", QUESTION, REPLY)}, follow_redirects=True)
    assert "公开稿已保存" in saved.get_data(as_text=True)
    stale = sup.post(f"/console/publications/{number}/approve", data={
        **seen, **texts("我改的标题", QUESTION, REPLY)})
    assert stale.status_code == 409
    page = stale.get_data(as_text=True)
    assert "此公开稿已被他人修改" in page and 'value="我改的标题"' in page
    board = console_as("operator").get(f"/console/publications/{number}").get_data(as_text=True)
    assert "已公开" not in board.split("</h1>")[0]


def test_personal_data_left_in_the_draft_stops_the_approval_until_confirmed(console_as,
                                                                           consented, app):
    number = consented()
    sup = console_as("supervisor")
    leaky = texts("噪音扰民", QUESTION + "联系人手机13985012345。", REPLY)
    resp = sup.post(f"/console/publications/{number}/approve",
                    data={**form_of(sup, number), **leaky})
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    assert "仍有疑似个人信息" in page and "13985012345" in page.split('id="remaining"')[1]
    assert app.test_client().get(f"/board/{number}").status_code == 404
    fixed = texts("噪音扰民", QUESTION, REPLY)
    ok = sup.post(f"/console/publications/{number}/approve",
                  data={**form_of(sup, number), **fixed}, follow_redirects=True)
    assert "已批准公开" in ok.get_data(as_text=True)
    assert app.test_client().get(f"/board/{number}").status_code == 200


def test_withdrawal_takes_it_off_the_board_with_a_reason(console_as, consented, app):
    number = consented()
    sup = console_as("supervisor")
    sup.post(f"/console/publications/{number}/approve",
             data={**form_of(sup, number), **texts("噪音扰民", QUESTION, REPLY)})
    assert app.test_client().get(f"/board/{number}").status_code == 200
    empty = sup.post(f"/console/publications/{number}/withdraw",
                     data={**form_of(sup, number), "reason": ""})
    assert empty.status_code == 400 and "请写明撤回公开的理由" in empty.get_data(as_text=True)
    sup.post(f"/console/publications/{number}/withdraw",
             data={**form_of(sup, number), "reason": "来信人要求撤回"})
    assert app.test_client().get(f"/board/{number}").status_code == 404


def test_operator_edits_but_only_a_supervisor_approves_and_handlers_stay_out(console_as,
                                                                            consented, app):
    number = consented()
    op = console_as("operator")
    assert 'href="/console/publications"' in op.get("/console/cases").get_data(as_text=True)
    page = op.get(f"/console/publications/{number}").get_data(as_text=True)
    assert 'id="save"' in page and 'id="approve"' not in page
    resp = op.post(f"/console/publications/{number}/approve",
                   data={**form_of(op, number), **texts("噪音扰民", QUESTION, REPLY)})
    assert resp.status_code == 403
    assert app.test_client().get(f"/board/{number}").status_code == 404
    for role in ("handler", "other_handler"):
        client = console_as(role)
        assert "网上公开" not in client.get("/console/cases").get_data(as_text=True)
        assert client.get("/console/publications").status_code == 403
        assert client.get(f"/console/publications/{number}").status_code == 403
