"""Pictures and voice messages are fetched from WeChat (a local fake of its API) by a periodic
job within WeChat's 3 days, and staff download them from the case."""

from __future__ import annotations

import pytest

from channels.wechat.media import fetch_pending, pending

from ..media_fetching import gone_once, is_a_periodic_job, stored_after_an_outage
from .conftest import number_in

PICTURE = b"\xff\xd8\xff\xe0" + b"JFIF-photo-of-the-bridge" * 40
VOICE = b"#!AMR\n" + b"\x3c" * 600


@pytest.fixture
def wechat_api(wechat, fake_wechat, tmp_path):
    wechat.config.update(WECHAT_API_BASE=fake_wechat.api_base,
                         WECHAT_MEDIA_FOLDER=str(tmp_path / "media"))
    return fake_wechat


def test_pictures_and_voice_are_kept_and_staff_can_download_them(
        wechat_api, citizen, api, tokens):
    wechat_api.add_media("Img_bridge_01", PICTURE, "image/jpeg")
    wechat_api.add_media("Voice_bridge_01", VOICE, "audio/amr")
    number = number_in(citizen.send(citizen.sim.image(
        citizen.openid, "http://mmbiz.qpic.cn/bridge.jpg", "Img_bridge_01")))
    citizen.send(citizen.sim.voice(citizen.openid, "Voice_bridge_01", "桥面裂开了"))
    assert len(pending()) == 2

    assert fetch_pending() == {"stored": 2}
    assert pending() == []
    assert fetch_pending() == {}  # nothing fetched twice

    case = api.get(f"/cases/{number}", tokens.operator).get_json()
    files = {a["kind"]: a for a in case["attachments"]}
    assert files["image"]["size"] == len(PICTURE)
    assert files["voice"]["content_type"] == "audio/amr"
    resp = api.get(files["image"]["url"], tokens.operator)
    assert resp.status_code == 200 and resp.data == PICTURE
    assert api.get(files["voice"]["url"], tokens.operator).data == VOICE
    assert api.get(files["voice"]["url"]).status_code == 401
    # A handler of another department learns nothing about the file.
    assert api.get(files["image"]["url"], tokens.other_handler).status_code == 404


def test_media_wechat_no_longer_has_is_noted_once_and_not_retried(wechat_api, citizen, api,
                                                                   tokens):
    number = number_in(citizen.send(citizen.sim.image(
        citizen.openid, "http://mmbiz.qpic.cn/gone.jpg", "Img_expired")))
    gone_once(fetch_pending)
    events = api.get(f"/cases/{number}", tokens.operator).get_json()["events"]
    assert events[-1]["action"] == "media" and "已失效" in events[-1]["note"]


def test_a_wechat_outage_leaves_the_media_for_the_next_run(wechat_api, citizen):
    wechat_api.add_media("Img_later", PICTURE, "image/jpeg")
    citizen.send(citizen.sim.image(citizen.openid, "http://mmbiz.qpic.cn/l.jpg", "Img_later"))
    stored_after_an_outage(fetch_pending, wechat_api, 502, "media/get", PICTURE)


def test_the_fetch_is_a_periodic_job_of_the_workers(wechat):
    is_a_periodic_job(wechat, "channels.wechat.media.fetch_pending_media")
