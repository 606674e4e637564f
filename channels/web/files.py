"""Files citizens attached to web messages, for staff: ``GET /channels/web/attachments/<id>``
with the staff API's bearer token. A handler gets only its own department's files."""

from __future__ import annotations

from flask import Blueprint, g, send_file

from hotline.api.auth import login_required
from hotline.attachments import inside, upload_folder
from hotline.domain.errors import NotFound
from hotline.domain.lifecycle import STAFF, may_see
from hotline.extensions import db
from hotline.models import Attachment

bp = Blueprint("web_files", __name__, url_prefix="/channels/web")


@bp.get("/attachments/<int:attachment_id>")
@login_required(*STAFF)
def attachment(attachment_id: int):
    item = db.session.get(Attachment, attachment_id)
    if item is None or not item.media_id or not may_see(g.actor, item.case):
        raise NotFound("no such attachment")
    path = inside(upload_folder(), item.media_id)
    if path is None:
        raise NotFound("the file of this attachment is missing")
    # Always a download, never rendered in the browser: a file from the public stays inert.
    return send_file(path, mimetype=item.content_type or "application/octet-stream",
                     as_attachment=True, download_name=item.filename or path.name,
                     max_age=0)
