"""Call recordings on the case page: fetched from Twilio (here the local fake, with the account's
credentials) by a periodic job, then played in the page to whoever may see the case."""

from __future__ import annotations

import re
import struct

import pytest

from channels.phone.recordings import fetch_pending
from hotline.extensions import db
from hotline.models import Attachment

from ..media_fetching import gone_once, is_a_periodic_job, stored_after_an_outage
from .test_case_page import case_in

SID = "RE" + "5f3c" * 8


def wav(seconds: float = 0.5) -> bytes:
    """A real (silent) 8 kHz mono 16-bit WAV file."""
    frames = b"\x00\x00" * int(8000 * seconds)
    header = b"RIFF" + struct.pack("<I", 36 + len(frames)) + b"WAVEfmt " + struct.pack(
        "<IHHIIHH", 16, 1, 1, 8000, 16000, 2, 16) + b"data" + struct.pack("<I", len(frames))
    return header + frames


@pytest.fixture
def twilio(app, fake_twilio):
    app.config.update(TWILIO_API_BASE=fake_twilio.url, TWILIO_ACCOUNT_SID=fake_twilio.account_sid,
                      TWILIO_AUTH_TOKEN=fake_twilio.auth_token)
    return fake_twilio


def case_with_recording(url: str, status: str = "accepted"):
    case = case_in(status)
    case.attachments.append(Attachment(kind="recording", url=url, media_id=SID,
                                       filename=f"{SID}.wav", content_type="audio/wav"))
    db.session.commit()
    return case


def test_a_fetched_recording_plays_on_the_case_page_for_those_who_see_the_case(
        twilio, console_as):
    audio = wav()
    case = case_with_recording(twilio.add_recording(SID, audio))
    page = console_as("handler").get(f"/console/cases/{case.number}").get_data(as_text=True)
    assert "尚未保存到本系统" in page and "<audio" not in page  # not fetched yet

    assert fetch_pending() == {"stored": 1}
    assert fetch_pending() == {}  # kept: never fetched twice
    page = console_as("handler").get(f"/console/cases/{case.number}").get_data(as_text=True)
    src = re.search(r'<audio controls preload="none" src="([^"]+)"', page)
    assert src and "通话录音" in page
    played = console_as("handler").get(src.group(1))
    assert played.status_code == 200 and played.mimetype == "audio/wav"
    assert played.data == audio
    assert "attachment" not in played.headers.get("Content-Disposition", "")
    assert console_as("other_handler").get(src.group(1)).status_code == 404


def test_a_recording_twilio_no_longer_has_is_marked_and_not_asked_for_again(twilio, console_as):
    case = case_with_recording(
        f"https://api.twilio.com/2010-04-01/Accounts/{twilio.account_sid}/Recordings/{SID}")
    gone_once(fetch_pending)
    page = console_as("operator").get(f"/console/cases/{case.number}").get_data(as_text=True)
    assert "通话录音在电话平台已不存在" in page and "<audio" not in page


def test_a_twilio_outage_leaves_the_recording_for_the_next_run(twilio):
    audio = wav()
    case_with_recording(twilio.add_recording(SID, audio))
    stored_after_an_outage(fetch_pending, twilio, 503, "Recordings", audio)


def test_the_fetch_is_a_periodic_job_of_the_workers(app):
    is_a_periodic_job(app, "channels.phone.recordings.fetch_pending_recordings")
