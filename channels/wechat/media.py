"""Pictures, voice and video that citizens sent: WeChat keeps them for 3 days only, so a
periodic job fetches each one (`media/get`) into the instance folder, and staff download it
from `GET /channels/wechat/media/<attachment id>`.

The webhook only records the media id (and the picture's URL); nothing here runs in it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, g, send_file
from sqlalchemy import select
from wechatpy.exceptions import WeChatClientException

from hotline.api.auth import login_required
from hotline.attachments import fetch_each, inside
from hotline.domain.errors import NotFound
from hotline.domain.lifecycle import STAFF, SYSTEM, may_see
from hotline.extensions import db
from hotline.models import Attachment, Case
from hotline.models.types import utcnow
from hotline.services import record_event

from .accounts import DEFAULT_CODE, api_client, find_account, setting
from .outbound import account_for_openid

bp = Blueprint("wechat_media", __name__, url_prefix="/channels/wechat")

KINDS = ("image", "voice", "video")
#: WeChat's temporary media live 3 days; after that there is nothing left to fetch.
KEEP = dt.timedelta(days=3)
_TOKEN_ERRORS = {40001, 40014, 42001}
#: The media id is unknown or expired: trying again will not help.
_GONE = {40007}
_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "audio/amr": "amr",
               "audio/speex": "speex", "audio/mpeg": "mp3", "video/mp4": "mp4"}


def media_folder() -> Path:
    return Path(setting("WECHAT_MEDIA_FOLDER")
                or Path(current_app.instance_path) / "wechat-media")


def pending(now: dt.datetime | None = None, limit: int = 200) -> list[int]:
    """Attachments of WeChat cases whose file has not been fetched yet (size 0 marks media
    WeChat no longer has)."""
    now = now or utcnow()
    return list(db.session.scalars(
        select(Attachment.id).join(Case, Case.id == Attachment.case_id)
        .where(Case.channel == "wechat", Attachment.kind.in_(KINDS),
               Attachment.media_id.is_not(None), Attachment.filename.is_(None),
               Attachment.size.is_(None), Attachment.created_at >= now - KEEP)
        .order_by(Attachment.id).limit(limit)))


def fetch(attachment_id: int, redis: Any | None = None) -> str:
    """Download one attachment's media from WeChat and store it; say what happened."""
    item = db.session.get(Attachment, attachment_id)
    if item is None or item.filename or item.size is not None or not item.media_id:
        return "skipped"
    case = item.case
    account = (account_for_openid(case.citizen_openid) if case.citizen_openid else None) \
        or find_account(DEFAULT_CODE)
    if account is None or not account.appid or not account.secret:
        return "no account credentials"
    client = api_client(account, redis)
    try:
        response = _download(client, item.media_id)
    except WeChatClientException as exc:
        if exc.errcode in _GONE:
            item.size = 0
            record_event(case, "media", SYSTEM, "微信媒体文件已失效，未能保存",
                         {"attachment": item.id, "errcode": exc.errcode})
            db.session.commit()
            return "gone"
        db.session.rollback()
        return f"failed: {exc.errcode} {exc.errmsg}"
    content_type = (response.headers.get("Content-Type") or item.content_type or
                    "application/octet-stream").split(";")[0].strip()
    extension = _EXTENSIONS.get(content_type, "bin")
    key = f"{case.number[:10]}/{case.number}-{item.id}.{extension}"
    path = media_folder() / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(response.content)
    item.filename = key
    item.size = len(response.content)
    item.content_type = content_type
    # The stored copy from now on: WeChat's picture URL (kept in the message log) expires.
    item.url = f"/channels/wechat/media/{item.id}"
    db.session.commit()
    return "stored"


def stored_file(item: Attachment) -> Path | None:
    """The fetched copy of a WeChat case's media, or None (not WeChat's, or not fetched)."""
    if item.case is None or item.case.channel != "wechat" or not item.filename:
        return None
    return inside(media_folder(), item.filename)


def _download(client: Any, media_id: str) -> Any:
    token = client.access_token
    try:
        return client.media.download(media_id)
    except WeChatClientException as exc:
        if exc.errcode not in _TOKEN_ERRORS:
            raise
    client.refresh_access_token(rejected=token)
    return client.media.download(media_id)


def fetch_pending(limit: int = 200, redis: Any | None = None) -> dict[str, int]:
    """Fetch every attachment still waiting; a summary of the outcomes. Any fault (network,
    WeChat, disk) leaves that one for the next run."""
    return fetch_each(pending(limit=limit), lambda attachment_id: fetch(attachment_id, redis),
                      "WeChat media", failures=(Exception,))


def fetch_pending_media() -> dict[str, int]:
    """The periodic job (declared in `workers.schedule.periodic_jobs`)."""
    from workers.jobs import app_context

    with app_context() as app:
        redis = None
        if app.config.get("REDIS_URL"):
            from hotline.queue import redis_connection

            redis = redis_connection(app)  # the access token shared with the senders
        return fetch_pending(redis=redis)


@bp.get("/media/<int:attachment_id>")
@login_required(*STAFF)
def download(attachment_id: int):
    item = db.session.get(Attachment, attachment_id)
    if item is None or item.case.channel != "wechat" or not item.filename \
            or not may_see(g.actor, item.case):
        raise NotFound("no such file")
    path = stored_file(item)
    if path is None:
        raise NotFound("the file of this attachment is missing")
    return send_file(path, mimetype=item.content_type or "application/octet-stream",
                     as_attachment=True, download_name=path.name, max_age=0)
