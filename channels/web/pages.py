"""The public pages in Chinese: the board (/board), a published case (/board/<number>), the
form to write (/write), the status look-up (/status) and the survey (/survey/<token>).

Server-rendered, usable without JavaScript (a little script only narrows the category list),
readable on a phone — most citizens arrive from WeChat's built-in browser. Every form carries a
CSRF token; writing, looking up and answering are rate-limited per client; Jinja escapes every
text; redirects go only to our own fixed pages.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import unicodedata
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from hotline import attachments
from hotline.domain import case_numbers, phones
from hotline.domain.errors import Conflict, DomainError, UnknownReference, ValidationFailed
from hotline.extensions import db
from hotline.publication import case_answer, mask_case_text
from hotline.regions import counties, prefectures
from hotline.surveys import RATINGS, closed_survey_text, record_answer, survey_from_token

from . import intake, public
from .public import PHONE_TAIL, BoardFilters
from .security import CsrfFailed, RateLimited, check_csrf, check_limit, csrf_token, no_store

bp = Blueprint("web", __name__, template_folder="templates", static_folder="static",
               static_url_path="/web-static")

PERIODS = {"30": "近一个月", "90": "近三个月", "365": "近一年"}
COMMENT_MAX = 500


# +8685186833668 → 0851-86833668, the way the number is printed on posters.
bp.add_app_template_filter(phones.display, "phone_display")


@bp.context_processor
def page_globals() -> dict[str, Any]:
    return {"csrf_token": csrf_token, "site_lines": public.lines_with_categories()}


@bp.after_request
def headers(response: Response) -> Response:
    from .security import secure_headers

    return secure_headers(response)


# --- the board -----------------------------------------------------------------------------

def _board_filters(args: Any, per_page: int = 10) -> BoardFilters:
    """Filters from the query string; a value that makes no sense is dropped, not an error:
    a citizen following an old or mangled link still sees the board."""
    f = BoardFilters(per_page=per_page)
    f.q = (args.get("q") or "").strip()[:100] or None
    line_codes = {line["code"]: line for line in public.lines_with_categories()}
    if args.get("line") in line_codes:
        f.line = args["line"]
    chosen = [line_codes[f.line]] if f.line else list(line_codes.values())
    if args.get("category") in {c["code"] for line in chosen for c in line["categories"]}:
        f.category = args["category"]
    f.topic = (args.get("topic") or "").strip()[:64] or None
    if args.get("region") in dict(prefectures()):
        f.region = args["region"]
    if args.get("period") in PERIODS:
        f.date_from = dt.date.today() - dt.timedelta(days=int(args["period"]))
    try:
        f.page = max(1, min(int(args.get("page", 1)), 10_000))
    except ValueError:
        f.page = 1
    return f


@bp.get("/board")
def board():
    check_limit("board")
    f = _board_filters(request.args)
    page = public.board_page(f)
    current = {k: v for k, v in request.args.items()
               if k in ("q", "line", "category", "topic", "region", "period") and v}
    return render_template("web/board.html", page=page, filters=f, current=current,
                           topics=public.board_topics(), prefectures=prefectures(),
                           periods=PERIODS)


@bp.get("/board/<number>")
def board_case(number: str):
    check_limit("board")
    pub = public.published(number)
    if pub is None:
        abort(404)
    return render_template("web/case.html", item=public.published_view(pub))


# --- writing -------------------------------------------------------------------------------

FORM_FIELDS = ("line", "category", "title", "content", "name", "phone", "enterprise", "region")


def _render_write(values: dict[str, Any], errors: dict[str, list[str]] | None = None,
                  status: int = 200):
    body = render_template("web/write.html", values=values, errors=errors or {},
                           prefectures=prefectures(), counties=counties(),
                           submission=values.get("submission") or _new_submission(),
                           limits={"files": attachments.MAX_FILES,
                                   "file_mb": attachments.MAX_FILE_BYTES // (1024 * 1024),
                                   "content_max": intake.CONTENT_MAX,
                                   "title_max": intake.TITLE_MAX})
    return body, status


def _new_submission() -> str:
    import secrets

    return secrets.token_urlsafe(16)


@bp.get("/write")
@no_store
def write():
    lines = {line["code"] for line in public.lines_with_categories()}
    line = request.args.get("line") if request.args.get("line") in lines else "board"
    return _render_write({"line": line})


@bp.post("/write")
@no_store
def write_post():
    # The form may carry photos: this view alone accepts a body of that size.
    request.max_content_length = attachments.MAX_UPLOAD_BYTES
    check_csrf()
    check_limit("write_attempt")
    form = request.form
    values = {k: form.get(k, "") for k in FORM_FIELDS}
    values["public_consent"] = form.get("public_consent") == "yes"
    values["submission"] = form.get("submission", "")[:64]
    if form.get("website"):  # a field people never see: only a robot fills it in
        raise ValidationFailed("the form was filled in by a program")
    payload = {k: v for k, v in values.items() if k in FORM_FIELDS and v != ""}
    payload["public_consent"] = values["public_consent"]
    try:
        message = intake.WebFormSchema().load(payload)
        uploads = attachments.read_uploads(request.files.getlist("attachments"))
        check_limit("write")
        key = None
        if values["submission"]:
            # A double click or a reload sends the same form twice: one case for both.
            key = "web-form:" + hashlib.sha256(values["submission"].encode()).hexdigest()
        case, _ = intake.submit(message, uploads, idempotency_key=key)
    except ValidationError as exc:
        return _render_write(values, _field_errors(exc.messages), 400)
    except UnknownReference as exc:
        return _render_write(values, _unknown_reference_errors(exc), 400)
    except ValidationFailed as exc:
        return _render_write(values, exc.fields or {"_form": [exc.message]}, 400)
    except Conflict:
        # The same form was sent again with other content: ask for a fresh form.
        return _render_write({**values, "submission": _new_submission()},
                             {"_form": ["该表单已提交过。如需再写一封，请确认内容后重新提交。"]},
                             409)
    session["written"] = case.number
    return redirect(url_for("web.written"), code=303)


def _field_errors(messages: Any) -> dict[str, list[str]]:
    if not isinstance(messages, dict):
        return {"_form": [str(messages)]}
    out: dict[str, list[str]] = {}
    for key, value in messages.items():
        texts = value if isinstance(value, list) else [str(value)]
        out[key] = [_chinese(t) for t in texts]
    return out


def _chinese(text: str) -> str:
    # marshmallow's own messages for the few checks the schema leaves to it.
    if text == "Missing data for required field.":
        return "此项必填。"
    if text.startswith("Longer than maximum length"):
        return "内容太长了。"
    if "administrative division" in text:
        return "请选择所在地区。"
    return text


def _unknown_reference_errors(exc: UnknownReference) -> dict[str, list[str]]:
    if "category" in exc.fields:
        return {"category": ["所选类别不属于所选栏目，请重新选择。"]}
    return {"line": ["请选择留言栏目。"]}


@bp.get("/write/done")
@no_store
def written():
    number = session.get("written")
    if not number:
        return redirect(url_for("web.write"), code=303)
    return render_template("web/written.html", number=number)


# --- status --------------------------------------------------------------------------------

@bp.get("/status")
@no_store
def status():
    number = public.normalize_number(request.args.get("number", ""))
    return render_template("web/status.html", number=number if case_numbers.NUMBER.match(number) else "",
                           errors={}, result=None, not_found=False, need_phone=False)


@bp.post("/status")
@no_store
def status_post():
    check_csrf()
    check_limit("status")
    number = public.normalize_number(request.form.get("number", ""))[:40]
    tail = public.normalize_tail(request.form.get("phone_tail", ""))[:10]
    phone = unicodedata.normalize("NFKC", request.form.get("phone", "")).strip()[:40]
    errors = {}
    if not case_numbers.NUMBER.match(number):
        errors["number"] = ["请填写完整的工单编号，例如 BD20261123-0001。"]
    if phone and not public.WHOLE_PHONE.match(phone):
        errors["phone"] = ["请填写完整的电话号码，例如 13985012345。"]
    elif not phone and not PHONE_TAIL.match(tail):
        errors["phone_tail"] = ["请填写留言时所留电话号码的后四位数字。"]
    page = {"number": number, "need_phone": bool(phone), "result": None, "not_found": False}
    if errors:
        return render_template("web/status.html", errors=errors, **page), 400
    try:
        case = public.find_own_case(number, tail, phone or None)
    except public.PhoneRequired as exc:
        return render_template("web/status.html", errors={"phone": [exc.message]},
                               **{**page, "need_phone": True}), 403
    if case is None:
        return render_template("web/status.html", errors={},
                               **{**page, "not_found": True}), 404
    return render_template("web/status.html", errors={},
                           **{**page, "result": public.citizen_view(case)})


# --- survey --------------------------------------------------------------------------------

def _survey_or_404(token: str):
    survey = survey_from_token(token)
    if survey is None:
        abort(404)
    return survey


def _survey_page(survey: Any, token: str, errors: dict | None = None, status: int = 200,
                 just_answered: bool = False):
    case = survey.case
    view = {"number": case.number, "line_name": case.line.name,
            "received_date": public.local_day(case.received_at),
            "closed_date": public.local_day(case.closed_at),
            "question": mask_case_text(case, case.content),
            "answer": mask_case_text(case, case_answer(case))}
    closed = closed_survey_text(survey) if survey.superseded_at and not survey.answered_at \
        else None
    return render_template("web/survey.html", survey=survey, case=view, token=token,
                           ratings=RATINGS, errors=errors or {}, closed=closed,
                           just_answered=just_answered), status


@bp.get("/survey/<token>")
@no_store
def survey(token: str):
    return _survey_page(_survey_or_404(token), token)


@bp.post("/survey/<token>")
@no_store
def survey_post(token: str):
    check_csrf()
    check_limit("survey")
    item = _survey_or_404(token)
    rating = request.form.get("rating", "")
    comment = (request.form.get("comment") or "").strip() or None
    if rating not in RATINGS:
        return _survey_page(item, token, {"rating": ["请选择满意、基本满意或不满意。"]}, 400)
    if comment and len(comment) > COMMENT_MAX:
        return _survey_page(item, token, {"comment": [f"意见请在 {COMMENT_MAX} 字以内。"]}, 400)
    if item.answered_at is not None:
        return _survey_page(item, token, {"_form": ["您已评价过，谢谢！"]}, 409)
    if item.superseded_at is not None:
        return _survey_page(item, token, status=409)
    record_answer(item, rating, comment, "web")
    db.session.commit()
    return _survey_page(item, token, just_answered=True)


# --- errors, as pages ----------------------------------------------------------------------

@bp.errorhandler(RateLimited)
def rate_limited(exc: RateLimited):
    db.session.rollback()
    body = render_template("web/error.html", title="操作太频繁",
                           message=f"您的操作太频繁了，请 {_wait_text(exc.retry_after)}后再试。"
                           "如有急事，请拨打热线电话。")
    return body, 429, {"Retry-After": str(exc.retry_after)}


def _wait_text(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} 秒"
    if seconds < 5400:
        return f"{round(seconds / 60)} 分钟"
    return f"{round(seconds / 3600)} 小时"


@bp.errorhandler(CsrfFailed)
def csrf_failed(exc: CsrfFailed):
    db.session.rollback()
    message = "页面已过期或不是从本站提交的。请返回上一页，刷新后重新提交。"
    return render_template("web/error.html", title="页面已过期", message=message), 400


@bp.errorhandler(RequestEntityTooLarge)
def too_large(exc: RequestEntityTooLarge):
    db.session.rollback()
    mb = attachments.MAX_FILE_BYTES // (1024 * 1024)
    return render_template("web/error.html", title="附件太大",
                           message=f"上传的内容太大了：最多 {attachments.MAX_FILES} 个附件，"
                           f"每个不超过 {mb} MB。请返回重新选择。"), 413


@bp.errorhandler(DomainError)
def domain_error(exc: DomainError):
    db.session.rollback()
    return render_template("web/error.html", title="无法处理您的请求",
                           message="请求有误，请返回上一页检查后重试。"), exc.status


@bp.errorhandler(HTTPException)
def http_error(exc: HTTPException):
    db.session.rollback()
    if exc.code == 404:
        return render_template("web/error.html", title="没有找到",
                               message="没有找到这个页面，或该留言尚未公开。"), 404
    return render_template("web/error.html", title="无法处理您的请求",
                           message="请求有误，请返回上一页后重试。"), exc.code or 400

