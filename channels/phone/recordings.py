"""Call recordings kept on this machine, for the case page's player.

Twilio keeps a recording on its side, behind the account's credentials, and the browser of a
staff member cannot fetch it from there (nor should it: the console's pages load media only
from the app). A periodic job downloads each recording that belongs to a case into the
recordings folder (``PHONE_RECORDINGS_FOLDER``, else ``<instance>/recordings``) as WAV; the
core then serves it like any file of the case (`hotline.attachments`), to whoever may see the
case. A recording Twilio no longer has is marked so and not asked for again.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import requests
from flask import current_app
from sqlalchemy import select

from hotline.attachments import fetch_each, inside
from hotline.domain.errors import DomainError, NotFound
from hotline.domain.lifecycle import SYSTEM
from hotline.extensions import db
from hotline.models import Attachment
from hotline.services import record_event

TIMEOUT = 30
# A message of PHONE_RECORD_MAX_SECONDS (180 s) is about 3 MB of WAV; an hour-long conversation
# about 60 MB. Anything bigger is not a recording of ours.
MAX_BYTES = 200 * 1024 * 1024
RECORDING_SID = re.compile(r"^RE[0-9a-zA-Z]{8,62}$")


def recordings_folder() -> Path:
    return Path(current_app.config.get("PHONE_RECORDINGS_FOLDER")
                or Path(current_app.instance_path) / "recordings")


def stored_recording(item: Attachment) -> Path | None:
    """The downloaded copy of a call recording, or None (not a recording, not fetched yet)."""
    if item.kind != "recording" or not item.size or not RECORDING_SID.match(item.media_id or ""):
        return None
    return inside(recordings_folder(), f"{item.media_id}.wav")


def pending(limit: int = 100) -> list[int]:
    """Recordings on cases that have not been downloaded (size unknown) yet."""
    return list(db.session.scalars(
        select(Attachment.id).where(Attachment.kind == "recording", Attachment.size.is_(None),
                                    Attachment.url.is_not(None), Attachment.media_id.is_not(None))
        .order_by(Attachment.id).limit(limit)))


def _media_url(url: str) -> str:
    # Twilio serves a recording's audio at its URL plus an extension; tests and staging send
    # every Twilio request to TWILIO_API_BASE instead of api.twilio.com.
    url = url.removesuffix(".json")
    if not url.endswith((".wav", ".mp3")):
        url += ".wav"
    base = current_app.config.get("TWILIO_API_BASE")
    if base:
        parts, to = urlsplit(url), urlsplit(base)
        url = urlunsplit(parts._replace(scheme=to.scheme, netloc=to.netloc,
                                        path=to.path.rstrip("/") + parts.path))
    return url


def fetch(attachment_id: int) -> str:
    """Download one recording and keep it; say what happened."""
    item = db.session.get(Attachment, attachment_id)
    if item is None or item.kind != "recording" or item.size is not None or not item.url:
        return "skipped"
    if not RECORDING_SID.match(item.media_id or ""):
        item.size = 0  # not a Twilio recording: nothing to fetch, ever
        db.session.commit()
        return "skipped: not a recording sid"
    sid = current_app.config.get("TWILIO_ACCOUNT_SID")
    token = current_app.config.get("TWILIO_AUTH_TOKEN")
    if not sid or not token:
        return "skipped: no Twilio credentials"
    response = requests.get(_media_url(item.url), auth=(sid, token), timeout=TIMEOUT,
                            stream=True)
    if response.status_code == 404:
        item.size = 0  # gone from Twilio: nothing to fetch, ever
        if item.case is not None:
            record_event(item.case, "media", SYSTEM, "通话录音在电话平台已不存在，未能保存",
                         {"attachment": item.id})
        db.session.commit()
        return "gone"
    if response.status_code != 200:
        return f"failed: HTTP {response.status_code}"
    data = response.raw.read(MAX_BYTES + 1, decode_content=True)
    if len(data) > MAX_BYTES:
        return "failed: too large"
    path = recordings_folder() / f"{item.media_id}.wav"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    item.size = len(data)
    item.content_type = "audio/wav"
    db.session.commit()
    return "stored"


def fetch_pending(limit: int = 100) -> dict[str, int]:
    """Fetch every recording still waiting; a summary of the outcomes."""
    return fetch_each(pending(limit), fetch, "recording",
                      failures=(requests.RequestException, OSError))


def fetch_pending_recordings() -> dict[str, int]:
    """The periodic job (declared in `workers.schedule.periodic_jobs`)."""
    from workers.jobs import app_context

    with app_context():
        return fetch_pending()


class RecordingUnavailable(DomainError):
    status = 502
    code = "recording_unavailable"


def fetch_recording(url: str) -> tuple[bytes, str]:
    """A call's recording straight from Twilio, for the operator filing the call it belongs to
    (before it is a case's and the periodic job keeps a copy); listed in ``hotline.wiring.PROVIDERS``
    ("recording"). Only Twilio's own recording URLs: the credentials go nowhere else."""
    parts = urlsplit(url)
    if parts.scheme != "https" or parts.hostname != "api.twilio.com" \
            or "/Recordings/" not in parts.path:
        raise NotFound("not a Twilio recording")
    sid = current_app.config.get("TWILIO_ACCOUNT_SID")
    token = current_app.config.get("TWILIO_AUTH_TOKEN")
    if not sid or not token:
        raise RecordingUnavailable("录音保存在电话平台，本系统未配置 TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN。")
    try:
        response = requests.get(_media_url(url), auth=(sid, token), timeout=TIMEOUT, stream=True)
        if response.status_code != 200:
            raise RecordingUnavailable(
                f"电话平台未给出录音（HTTP {response.status_code}），请稍后再试。")
        data = response.raw.read(MAX_BYTES + 1, decode_content=True)
    except requests.RequestException:
        raise RecordingUnavailable("暂时连不上电话平台，录音稍后再听。") from None
    if len(data) > MAX_BYTES:
        raise RecordingUnavailable("录音文件过大。")
    return data, response.headers.get("Content-Type", "audio/wav").split(";")[0]
