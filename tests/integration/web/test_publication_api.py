"""Publication by staff: only closed, consented cases; a masked draft; edits on the timeline with
the original kept; approval by a supervisor; withdrawal; a reopened case leaves the board."""

from __future__ import annotations

from .conftest import LETTER


def events(api, tokens, number):
    case = api.get(f"/cases/{number}", tokens.supervisor).get_json()
    return [e["action"] for e in case["events"]], case


def test_candidates_are_closed_cases_whose_writer_consented(api, tokens, closed_case,
                                                            new_case):
    consented = closed_case()
    closed_case(public_consent=False)
    new_case(public_consent=True)  # still open
    resp = api.get("/publications", tokens.operator)
    assert resp.status_code == 200
    numbers = [i["number"] for i in resp.get_json()["items"]]
    assert numbers == [consented["number"]]
    item = resp.get_json()["items"][0]
    assert item["state"] == "none"
    assert "张建华" not in item["title"]


def test_the_draft_masks_every_kind_of_personal_data_and_keeps_look_alikes(api, tokens,
                                                                          closed_case):
    content = (
        "我叫李秀英，身份证号520102198507153829，住在遵义市红花岗区老城街道丁字口社区"
        "幸福小区5栋2单元302室，手机139 8501 2345，家里座机0851-28221234。"
        "根据黔府办发〔2016〕39号文件，我应领取的2025年度养老补贴1800元至今未到账，"
        "工行卡号6222021234567890128。此前反映过，编号FP20261101-0003。"
        "邻居王德明也是同样情况，他的车牌贵C·D12345停在小区门口。")
    case = closed_case(content=content, citizen={"name": "李秀英", "phone": "13985012345"},
                       region="520302",
                       reply="经查，李秀英同志的补贴已于2026年11月30日补发，请注意查收。")
    draft = api.get(f"/publications/{case['number']}", tokens.operator).get_json()
    question, answer = draft["question"], draft["answer"]
    for secret in ("李秀英", "520102198507153829", "5栋2单元302室", "139 8501 2345",
                   "28221234", "6222021234567890128", "王德明", "D12345"):
        assert secret not in question, secret
    assert "李某某" in question and "李某某" in answer
    for kept in ("黔府办发〔2016〕39号", "2025年度", "1800元", "FP20261101-0003",
                 "遵义市红花岗区", "2026年11月30日"):
        assert kept in question + answer, kept
    kinds = {f["kind"] for f in draft["findings"]["question"]}
    assert {"name", "id_card", "address", "mobile", "landline", "bank_card", "plate"} <= kinds
    assert draft["remaining"] == {}
    assert draft["original"]["content"] == content
    assert draft["publishable"] is True and draft["state"] == "none"


def test_staff_edit_is_on_the_timeline_and_the_original_stays_on_the_case(api, tokens,
                                                                          closed_case):
    case = closed_case()
    number = case["number"]
    resp = api.put(f"/publications/{number}", tokens.operator,
                   {"title": "工地夜间施工噪音扰民", "note": "标题改得更明确"})
    assert resp.status_code == 200, resp.get_json()
    pub = resp.get_json()
    assert pub["title"] == "工地夜间施工噪音扰民" and pub["state"] == "draft"
    actions, full = events(api, tokens, number)
    assert actions[-2:] == ["publication_draft", "publication_edit"]
    edit = full["events"][-1]
    assert edit["note"] == "标题改得更明确" and edit["actor"] == "op1"
    assert edit["data"]["changes"]["title"]["after"] == "工地夜间施工噪音扰民"
    assert full["content"] == LETTER["content"]  # the original is untouched
    assert "张建华" in full["content"]


def test_only_a_supervisor_approves_and_then_the_case_is_on_the_board(api, tokens,
                                                                      closed_case):
    number = closed_case()["number"]
    assert api.post(f"/publications/{number}/approve", tokens.operator, {}).status_code == 403
    assert api.get(f"/public/board/{number}").status_code == 404
    resp = api.post(f"/publications/{number}/approve", tokens.supervisor, {"note": "同意公开"})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["state"] == "approved"
    assert resp.get_json()["url"] == f"/board/{number}"
    board = api.get(f"/public/board/{number}").get_json()
    assert "张某某" in board["question"] and "张建华" not in board["question"]
    assert board["answer"].startswith("经核查")
    actions, _ = events(api, tokens, number)
    assert actions[-1] == "publication_approve"


def test_an_open_case_or_one_without_consent_cannot_be_published(api, tokens, new_case,
                                                                 closed_case):
    open_case = new_case(public_consent=True)
    resp = api.post(f"/publications/{open_case['number']}/approve", tokens.supervisor, {})
    assert resp.status_code == 409
    private = closed_case(public_consent=False)
    for call in (lambda n: api.post(f"/publications/{n}/approve", tokens.supervisor, {}),
                 lambda n: api.put(f"/publications/{n}", tokens.operator, {"title": "标题"})):
        resp = call(private["number"])
        assert resp.status_code == 409
        assert "consent" in resp.get_json()["error"]["message"]
    assert api.get(f"/public/board/{private['number']}").status_code == 404


def test_personal_data_typed_back_in_by_an_editor_blocks_approval_until_confirmed(
        api, tokens, closed_case):
    number = closed_case()["number"]
    draft = api.get(f"/publications/{number}", tokens.operator).get_json()
    api.put(f"/publications/{number}", tokens.operator,
            {"answer": draft["answer"] + "联系人：刘光明，电话13608511234。"})
    resp = api.post(f"/publications/{number}/approve", tokens.supervisor, {})
    assert resp.status_code == 422
    error = resp.get_json()["error"]
    assert error["code"] == "personal_data_left"
    assert {f["kind"] for f in error["fields"]["answer"]} >= {"name", "mobile"}
    assert api.get(f"/public/board/{number}").status_code == 404
    resp = api.post(f"/publications/{number}/approve", tokens.supervisor,
                    {"confirm_remaining": True, "note": "经办人同意公开联系方式"})
    assert resp.status_code == 200


def test_withdrawn_case_leaves_the_board(api, tokens, published_case):
    number = published_case()["number"]
    assert api.get(f"/public/board/{number}").status_code == 200
    resp = api.post(f"/publications/{number}/withdraw", tokens.operator,
                    {"reason": "当事人要求撤下"})
    assert resp.status_code == 200 and resp.get_json()["state"] == "withdrawn"
    assert api.get(f"/public/board/{number}").status_code == 404
    assert api.get("/public/board").get_json()["total"] == 0
    listed = api.get("/publications?state=withdrawn", tokens.operator).get_json()["items"]
    assert [i["number"] for i in listed] == [number]


def test_editing_an_approved_publication_takes_it_off_until_approved_again(api, tokens,
                                                                           published_case):
    number = published_case()["number"]
    resp = api.put(f"/publications/{number}", tokens.operator, {"title": "夜间施工噪音问题"})
    assert resp.get_json()["state"] == "draft"
    assert api.get(f"/public/board/{number}").status_code == 404
    api.post(f"/publications/{number}/approve", tokens.supervisor, {})
    assert api.get(f"/public/board/{number}").get_json()["title"] == "夜间施工噪音问题"


def test_reopened_case_leaves_the_board_and_returns_to_the_work_list(api, tokens,
                                                                     published_case, drive):
    number = published_case()["number"]
    resp = api.post(f"/cases/{number}/reopen", tokens.supervisor,
                    {"reason": "回访不满意：夜间施工仍在继续"})
    assert resp.status_code == 200
    assert api.get(f"/public/board/{number}").status_code == 404
    actions, _ = events(api, tokens, number)
    assert actions[-2:] == ["reopen", "publication_withdraw"]
    drive(number, reply="区住建局已对施工单位立案处罚，夜间施工已停止。")
    draft = api.get(f"/publications/{number}", tokens.operator).get_json()
    assert draft["state"] == "draft" and draft["source_changed"] is True
    assert "立案处罚" in draft["proposed"]["answer"]
    listed = api.get("/publications", tokens.operator).get_json()["items"]
    assert [i["number"] for i in listed] == [number]


def test_stale_version_is_refused(api, tokens, closed_case):
    number = closed_case()["number"]
    first = api.put(f"/publications/{number}", tokens.operator, {"title": "一", "version": 0})
    assert first.status_code == 200
    stale = api.put(f"/publications/{number}", tokens.operator, {"title": "二", "version": 0})
    assert stale.status_code == 409
    assert stale.get_json()["error"]["code"] == "stale_version"


def test_handlers_have_no_access_to_publication(api, tokens, closed_case):
    number = closed_case()["number"]
    assert api.get("/publications", tokens.handler).status_code == 403
    assert api.get(f"/publications/{number}", tokens.handler).status_code == 403
    assert api.get("/publications").status_code == 401


def test_publication_endpoints_are_in_the_openapi_document(api):
    paths = api.get("/openapi.json").get_json()["paths"]
    assert "/publications/{number}/approve" in paths
    assert "/public/cases/{number}" in paths and "/public/messages" in paths
    assert "security" not in paths["/public/board"]["get"]
