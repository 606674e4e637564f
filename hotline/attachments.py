"""Files that belong to a case: checking uploads, storing them, and finding a case's files again.

Citizens attach photos and scans on the public board; department clerks attach documents to
their replies in the console. Both go through `read_uploads` (at most MAX_FILES, each at most
MAX_FILE_BYTES, and each a JPEG, PNG or PDF by its first bytes — a name or a declared type
proves nothing) and `store` (a file of our own name under the upload folder, an `Attachment`
row and a timeline step with the file's SHA-256), in the caller's transaction.

`local_file` finds the stored copy of any attachment: the upload folder's, or one a channel
keeps elsewhere (WeChat media) through the finders channels register at start-up. The files a
channel fetches later (WeChat media, call recordings) are fetched one by one by `fetch_each`.
"""

from __future__ import annotations

import hashlib
import unicodedata
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from flask import Response, current_app, send_file
from werkzeug.datastructures import FileStorage

from .domain.errors import NotFound, ValidationFailed
from .domain.lifecycle import Actor
from .extensions import db
from .models import Attachment, Case
from .wiring import providers

MAX_FILES = 3
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_UPLOAD_BYTES = MAX_FILES * MAX_FILE_BYTES + 256 * 1024  # the files plus the form fields
FILE_TYPES = (
    (b"\xff\xd8\xff", "jpg", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "png", "image/png"),
    (b"%PDF-", "pdf", "application/pdf"),
)

@dataclass
class Upload:
    filename: str
    extension: str
    content_type: str
    data: bytes


def read_uploads(files: list[FileStorage]) -> list[Upload]:
    """The attached files, checked: at most MAX_FILES, each at most MAX_FILE_BYTES, and each a
    JPEG, PNG or PDF by its content. Refused with a message a person can act on."""
    chosen = [f for f in files if f and f.filename]
    if len(chosen) > MAX_FILES:
        raise ValidationFailed("too many attachments",
                               {"attachments": [f"最多上传 {MAX_FILES} 个附件。"]})
    out = []
    for f in chosen:
        data = f.stream.read(MAX_FILE_BYTES + 1)
        name = safe_name(f.filename or "附件")
        if len(data) > MAX_FILE_BYTES:
            raise ValidationFailed("attachment too large", {"attachments": [
                f"“{name}”超过 {MAX_FILE_BYTES // (1024 * 1024)} MB。"]})
        kind = next(((ext, ctype) for magic, ext, ctype in FILE_TYPES if data.startswith(magic)),
                    None)
        if kind is None:
            raise ValidationFailed("attachment type not accepted", {"attachments": [
                f"“{name}”不是 JPG、PNG 图片或 PDF 文件。"]})
        out.append(Upload(name, kind[0], kind[1], data))
    return out


def safe_name(name: str) -> str:
    """A file name for showing to staff (the stored file gets a name of our own)."""
    name = unicodedata.normalize("NFKC", name).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable())
    return name[:100] or "附件"


def upload_folder() -> Path:
    folder = current_app.config.get("WEB_UPLOAD_FOLDER") or str(
        Path(current_app.instance_path) / "uploads")
    return Path(folder)


def store(case: Case, uploads: list[Upload], actor: Actor,
          url: Callable[[Attachment], str | None] = lambda item: None,
          data: dict | None = None) -> list[Path]:
    """Write the files and add them to the case with a timeline step each, in the caller's
    transaction (no commit). Returns the files written, for the caller to remove when its
    transaction fails. `url` names where the API serves an attachment; `data` goes on each
    step (e.g. which reply the file belongs to)."""
    written: list[Path] = []
    try:
        for upload in uploads:
            key = f"{case.number[:10]}/{case.number}-{uuid.uuid4().hex[:12]}.{upload.extension}"
            path = upload_folder() / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(upload.data)
            written.append(path)
            item = Attachment(case=case, kind="image" if upload.content_type.startswith(
                "image/") else "document", media_id=key, filename=upload.filename,
                content_type=upload.content_type, size=len(upload.data))
            db.session.add(item)
            db.session.flush()
            item.url = url(item)
            from .services import record_event  # here: services imports this module

            record_event(case, "attachment", actor, upload.filename,
                         {"attachment": item.id, **(data or {}),
                          "sha256": hashlib.sha256(upload.data).hexdigest()})
    except Exception:
        remove(written)
        raise
    return written


def remove(paths: list[Path]) -> None:
    """Delete files whose transaction did not commit."""
    for path in paths:
        path.unlink(missing_ok=True)


def fetch_each(attachment_ids: Iterable[int], fetch: Callable[[int], str], what: str,
               failures: tuple[type[Exception], ...]) -> dict[str, int]:
    """Fetch a channel's files one at a time (`fetch` says what became of one: "stored",
    "gone: why", ...). One that fails with one of `failures` is rolled back, logged and left
    for the next run ("failed"). How many came out each way, by the word before a colon."""
    outcomes: dict[str, int] = {}
    for attachment_id in attachment_ids:
        try:
            outcome = fetch(attachment_id)
        except failures as exc:
            db.session.rollback()
            current_app.logger.warning("%s %s not fetched: %s", what, attachment_id, exc)
            outcome = "failed"
        outcome = outcome.split(":")[0]
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


def local_file(item: Attachment) -> Path | None:
    """The stored copy of an attachment on this machine, or None (not fetched, not ours)."""
    for finder in providers("file"):  # the channels' fetched files: hotline.wiring.PROVIDERS
        found = finder(item)
        if found is not None:
            return found
    if not item.media_id:
        return None
    return inside(upload_folder(), item.media_id)


def inside(folder: Path, name: str) -> Path | None:
    """folder/name when that is a file inside the folder (never a way out of it), else None."""
    root = folder.resolve()
    path = (root / name).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return None
    return path


# Shown in the page itself (<img>, <audio>); every other file is only ever a download, so a
# document from the public stays inert.
INLINE_TYPES = frozenset({"image/jpeg", "image/png", "audio/wav", "audio/x-wav", "audio/mpeg",
                          "audio/mp4", "audio/ogg"})


def file_of(case: Case, attachment_id: int) -> tuple[Attachment, Path]:
    """One attachment of a case the caller may see, and its stored copy; NotFound otherwise."""
    item = next((a for a in case.attachments if a.id == attachment_id), None)
    path = local_file(item) if item is not None else None
    if item is None or path is None:
        raise NotFound("no such file")
    return item, path


def send(item: Attachment, path: Path, inline: bool = False) -> Response:
    """The file as a response: inline only for pictures and recordings we can show."""
    ctype = item.content_type or "application/octet-stream"
    show = inline and ctype in INLINE_TYPES
    return send_file(path, mimetype=ctype,
                     as_attachment=not show, download_name=Path(item.filename or path.name).name,
                     max_age=0, conditional=True)
