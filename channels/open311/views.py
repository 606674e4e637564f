"""Open311 GeoReport v2 under /open311/v2: discovery, services, service definitions, posting a
service request with an API key, and reading requests — each as ``.json`` or ``.xml``.

How the hotline maps onto GeoReport:

- a *service* is a line's category: ``service_code`` ``zhitongche-situation`` is 省长直通车 ·
  情况反映; its definition asks for 是否愿意公开 (``attribute[public_consent]``), the enterprise
  (required on 省长直通车) and the region;
- a *service request* is a case; ``service_request_id`` is the case number. Intake is
  synchronous (the case is committed before the answer), so no tokens are handed out;
- ``status`` is ``closed`` for a closed or answered case and ``open`` otherwise, with the
  stage in ``status_notes``; ``agency_responsible`` is the department, ``expected_datetime``
  the deadline (``due_at``);
- reading is public, so it shows only what may be public: cases sent through Open311 (their
  status, never their text) and cases published on the board (with the approved, masked text).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, request
from marshmallow import ValidationError
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from channels.web import public
from channels.web.security import RateLimited, check_limit
from hotline import services
from hotline.api.schemas import REGION
from hotline.domain.deadlines import FIRST_DAY, LAST_DAY, PROVINCE_TZ, day_in_range
from hotline.domain.errors import DomainError
from hotline.domain.lifecycle import Actor, Status
from hotline.extensions import db
from hotline.models import Attachment, Case, Category, Department, Line, Publication
from hotline.models import PublicationState as PS
from hotline.models.types import utcnow
from hotline.publication import mask_case_text
from hotline.regions import prefectures

from .formats import error, respond
from .models import Open311ApiKey, Open311Request

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-11-23T00:00:00+08:00"
DESCRIPTION_MAX = 4000  # the spec's limit for description
DEFAULT_SPAN = dt.timedelta(days=90)
MAX_PAGE_SIZE = 1000
FMT = "<any(json, xml):fmt>"
CLOSED = frozenset({Status.CLOSED, Status.ANSWERED})


class Open311Error(Exception):
    """An error to answer in GeoReport's format."""

    def __init__(self, status: int, description: str):
        super().__init__(description)
        self.status = status
        self.description = description


def _fmt() -> str:
    return (request.view_args or {}).get("fmt", "json")


@bp.errorhandler(Open311Error)
def open311_error(exc: Open311Error) -> Response:
    db.session.rollback()
    return error(_fmt(), exc.status, exc.description)


@bp.errorhandler(RateLimited)
def rate_limited(exc: RateLimited) -> Response:
    db.session.rollback()
    resp = error(_fmt(), 429, "too many requests; try again later")
    resp.headers["Retry-After"] = str(exc.retry_after)
    return resp


@bp.errorhandler(DomainError)
def domain_error(exc: DomainError) -> Response:
    db.session.rollback()
    detail = "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in exc.fields.items())
    return error(_fmt(), 400 if exc.status == 422 else exc.status,
                 exc.message + (f" ({detail})" if detail else ""))


def _check_jurisdiction() -> None:
    given = request.values.get("jurisdiction_id")
    ours = current_app.config.get("OPEN311_JURISDICTION", "guizhou.gov.cn")
    if given and given != ours:
        raise Open311Error(404, f"jurisdiction_id {given!r} not found; this endpoint serves "
                                f"{ours!r}")


def _base_url() -> str:
    return (current_app.config.get("PUBLIC_BASE_URL") or request.host_url).rstrip("/")


# --- discovery and services ----------------------------------------------------------------

@bp.get(f"/discovery.{FMT}")
def discovery(fmt: str) -> Response:
    return respond(fmt, "discovery", {
        "changeset": CHANGESET,
        "contact": current_app.config.get(
            "OPEN311_CONTACT", "贵州省人民政府办公厅 政民互动平台（省长信箱 · 群众直通交流台）"),
        "key_service": current_app.config.get(
            "OPEN311_KEY_SERVICE", "API keys are issued by the hotline administrator "
            "(POST /api/v1/open311/keys); 向平台管理员申请。"),
        "endpoints": [{"specification": SPECIFICATION, "url": f"{_base_url()}/open311/v2",
                       "changeset": CHANGESET, "type": "production",
                       "formats": ["text/xml", "application/json"]}],
    })


def service_code(line: Line, category: Category) -> str:
    return f"{line.code}-{category.code}"


def _services() -> list[tuple[Line, Category]]:
    lines = db.session.scalars(select(Line).where(Line.active.is_(True)).order_by(Line.id))
    return [(line, cat) for line in lines for cat in line.categories]


def _service(code: str) -> tuple[Line, Category]:
    for line, cat in _services():
        if service_code(line, cat) == code:
            return line, cat
    raise Open311Error(404, f"service_code {code!r} not found")


@bp.get(f"/services.{FMT}")
def services_list(fmt: str) -> Response:
    _check_jurisdiction()
    return respond(fmt, "services", [
        {"service_code": service_code(line, cat), "service_name": cat.name,
         "description": f"{line.name}：{cat.name}", "metadata": True, "type": "realtime",
         "keywords": f"{line.name},{cat.name}", "group": line.name}
        for line, cat in _services()])


@bp.get(f"/services/<code>.{FMT}")
def service_definition(code: str, fmt: str) -> Response:
    _check_jurisdiction()
    line, cat = _service(code)
    attributes = [
        {"variable": True, "code": "public_consent", "datatype": "singlevaluelist",
         "required": False, "datatype_description": "true 或 false",
         "order": 1, "description": "是否愿意公开：办结后在留言板公开留言和答复（个人信息隐去）",
         "values": [{"key": "true", "name": "愿意公开"}, {"key": "false", "name": "不公开"}]},
        {"variable": True, "code": "enterprise", "datatype": "string",
         "required": line.code == "zhitongche", "datatype_description": "企业全称",
         "order": 2, "description": "企业名称（省长直通车必填）"},
        {"variable": True, "code": "region", "datatype": "singlevaluelist", "required": False,
         "datatype_description": "行政区划代码", "order": 3, "description": "所在地区",
         "values": [{"key": c, "name": n} for c, n in prefectures()]},
    ]
    return respond(fmt, "service_definition",
                   {"service_code": service_code(line, cat), "attributes": attributes})


# --- posting a request ---------------------------------------------------------------------

def _api_key() -> Open311ApiKey:
    key = (request.values.get("api_key") or "").strip()
    found = db.session.scalar(select(Open311ApiKey).where(
        Open311ApiKey.key_hash == Open311ApiKey.hash_key(key))) if key else None
    if found is None or not found.active:
        raise Open311Error(403, "api_key was not provided or is not valid")
    return found


def _float(name: str, low: float, high: float) -> float | None:
    raw = (request.values.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise Open311Error(400, f"{name} must be a number") from None
    if not (low <= value <= high) or math.isnan(value):
        raise Open311Error(400, f"{name} must be between {low} and {high}")
    return value


def _field(name: str, max_len: int) -> str | None:
    value = (request.values.get(name) or "").strip()
    if len(value) > max_len:
        raise Open311Error(400, f"{name} is longer than {max_len} characters")
    return value or None


@bp.post(f"/requests.{FMT}")
def post_request(fmt: str) -> Response:
    _check_jurisdiction()
    key = _api_key()
    check_limit("open311_write", key=f"key:{key.id}")
    code = _field("service_code", 80)
    if not code:
        raise Open311Error(400, "service_code was not provided")
    line, cat = _service(code)
    lat, long = _float("lat", -90, 90), _float("long", -180, 180)
    address = _field("address_string", 500)
    address_id = _field("address_id", 100)
    if (lat is None) != (long is None):
        raise Open311Error(400, "lat and long must be sent together")
    if lat is None and not address and not address_id:
        raise Open311Error(400, "a location is required: lat and long, address_string or "
                                "address_id")
    description = _field("description", DESCRIPTION_MAX)
    if not description:
        raise Open311Error(400, "description was not provided")
    consent = (request.values.get("attribute[public_consent]") or "false").strip().lower()
    if consent not in ("true", "false"):
        raise Open311Error(400, "attribute[public_consent] must be true or false")
    enterprise = _field("attribute[enterprise]", 200)
    if line.code == "zhitongche" and not enterprise:
        raise Open311Error(400, "attribute[enterprise] is required for this service")
    region = _field("attribute[region]", 12)
    if region:
        try:
            REGION(region)
        except ValidationError:
            raise Open311Error(400, "attribute[region] must be a division code such as "
                                    "520100") from None
    media_url = _field("media_url", 2000)
    if media_url and urlsplit(media_url).scheme not in ("http", "https"):
        raise Open311Error(400, "media_url must be an http or https URL")
    name = "".join(p for p in (_field("last_name", 50), _field("first_name", 50)) if p) or None
    phone = _field("phone", 32)
    content = description
    if address:
        content += f"\n\n地点：{address}"
    data = {"line": line.code, "channel": "open311", "category": cat.code, "kind": "handle",
            "content": content, "region": region,
            "citizen": {"name": name, "phone": phone, "enterprise": enterprise},
            "public_consent": consent == "true"}
    actor = Actor(name=f"open311:{key.name}", role="client")
    idempotency = request.headers.get("Idempotency-Key", "").strip()[:100]
    case, created = services.create_case(
        data, actor, idempotency_key=f"open311:{key.id}:{idempotency}" if idempotency else None,
        commit=False)
    if created:
        db.session.add(Open311Request(
            case=case, api_key=key, service_code=code, lat=lat, long=long,
            address_string=address, address_id=address_id, email=_field("email", 200),
            device_id=_field("device_id", 100), account_id=_field("account_id", 100),
            media_url=media_url))
        if media_url:
            db.session.add(Attachment(case=case, kind="image", url=media_url,
                                      filename=urlsplit(media_url).path.rsplit("/", 1)[-1][:200]
                                      or None))
    key.last_used_at = utcnow()
    db.session.commit()
    return respond(fmt, "service_requests", [{
        "service_request_id": case.number,
        "service_notice": f"已受理，工单编号 {case.number}，一般在 10 个工作日内答复。",
        "account_id": _field("account_id", 100),
    }], 201 if created else 200)


# --- reading requests ----------------------------------------------------------------------

def _visible() -> Any:
    """Cases the public may read about: sent through Open311, or published on the board."""
    return (select(Case)
            .outerjoin(Publication, Publication.case_id == Case.id)
            .outerjoin(Open311Request, Open311Request.case_id == Case.id)
            .where(or_(Publication.state == PS.APPROVED, Open311Request.id.is_not(None)))
            .options(joinedload(Case.line), joinedload(Case.category)))


def _instant(value: dt.datetime | None) -> str | None:
    return value.astimezone(PROVINCE_TZ).isoformat(timespec="seconds") if value else None


def _views(cases: list[Case]) -> list[dict[str, Any]]:
    """The GeoReport view of each case, with the publications and Open311 details of all of
    them read in two queries."""
    ids = [c.id for c in cases]
    pubs = {p.case_id: p for p in db.session.scalars(
        select(Publication).where(Publication.case_id.in_(ids)))} if ids else {}
    extras = {e.case_id: e for e in db.session.scalars(
        select(Open311Request).where(Open311Request.case_id.in_(ids)))} if ids else {}
    departments = _departments()
    return [request_view(c, departments, pubs.get(c.id), extras.get(c.id)) for c in cases]


def request_view(case: Case, departments: dict[str, str], pub: Publication | None,
                 extra: Open311Request | None) -> dict[str, Any]:
    published = pub is not None and pub.state == PS.APPROVED
    closed = case.status in CLOSED
    agency = departments.get(case.department_code) if case.department_code else None
    if closed:
        notes = "已办结"
        if published:
            notes += f"；答复已公开：{_base_url()}/board/{case.number}"
    else:
        notes = public.status_label(case.status)
        if agency:
            notes += f"；承办单位：{agency}"
        if case.due_date:
            notes += f"；办理期限：{case.due_date.isoformat()}"
    view: dict[str, Any] = {
        "service_request_id": case.number,
        "status": "closed" if closed else "open",
        "status_notes": notes,
        "service_name": case.category.name if case.category else case.line.name,
        "service_code": (extra.service_code if extra else
                         f"{case.line.code}-{case.category.code}" if case.category else None),
        "description": pub.question if published else None,
        "agency_responsible": agency,
        "service_notice": None,
        "requested_datetime": _instant(case.received_at),
        "updated_datetime": _instant(case.updated_at),
        "expected_datetime": _instant(case.due_at),
        "address": None,
        "address_id": None,
        "zipcode": None,
        "lat": None,
        "long": None,
        "media_url": None,
    }
    if published and extra is not None:
        # Published with consent: the place, masked below village level and rounded to ~1 km.
        if extra.address_string:
            view["address"] = mask_case_text(case, extra.address_string)
        if extra.lat is not None and extra.long is not None:
            view["lat"], view["long"] = round(extra.lat, 2), round(extra.long, 2)
    return view


def _parse_instant(name: str) -> dt.datetime | None:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise Open311Error(400, f"{name} must be a W3C date-time like 2026-11-01T00:00:00Z"
                           ) from None
    if not day_in_range(value.date()):
        raise Open311Error(400, f"{name} must be a date-time from {FIRST_DAY} to {LAST_DAY}")
    return value if value.tzinfo else value.replace(tzinfo=PROVINCE_TZ)


def _departments() -> dict[str, str]:
    return dict(db.session.execute(select(Department.code, Department.name)).all())


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw in (None, ""):
        return default
    if not re.fullmatch(r"\d{1,7}", raw) or not low <= int(raw) <= high:
        raise Open311Error(400, f"{name} must be a whole number from {low} to {high}")
    return int(raw)


@bp.get(f"/requests.{FMT}")
def list_requests(fmt: str) -> Response:
    _check_jurisdiction()
    query = _visible()
    ids = [i.strip() for i in (request.args.get("service_request_id") or "").split(",")
           if i.strip()]
    if ids:
        # The spec: service_request_id overrides every other filter.
        query = query.where(Case.number.in_([public.normalize_number(i) for i in ids[:100]]))
    else:
        codes = [c.strip() for c in (request.args.get("service_code") or "").split(",")
                 if c.strip()]
        if codes:
            pairs = [c.split("-", 1) for c in codes if "-" in c]
            if not pairs:
                return respond(fmt, "service_requests", [])
            query = query.join(Line, Case.line_id == Line.id).join(
                Category, Case.category_id == Category.id).where(or_(*[
                    (Line.code == line) & (Category.code == cat) for line, cat in pairs]))
        statuses = {s.strip() for s in (request.args.get("status") or "").split(",")
                    if s.strip()}
        if statuses - {"open", "closed"}:
            raise Open311Error(400, "status must be open, closed or both")
        if statuses == {"open"}:
            query = query.where(Case.status.not_in(list(CLOSED)))
        elif statuses == {"closed"}:
            query = query.where(Case.status.in_(list(CLOSED)))
        start, end = _parse_instant("start_date"), _parse_instant("end_date")
        end = end or (start + DEFAULT_SPAN if start else utcnow())
        start = start or end - DEFAULT_SPAN
        if end < start:
            raise Open311Error(400, "end_date is before start_date")
        if end - start > DEFAULT_SPAN:
            raise Open311Error(400, "start_date and end_date may not span more than 90 days")
        query = query.where(Case.received_at >= start, Case.received_at <= end)
    page = _int_arg("page", 1, 1, 100_000)
    size = _int_arg("page_size", MAX_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    rows = db.session.scalars(query.order_by(Case.received_at.desc(), Case.id.desc())
                              .offset((page - 1) * size).limit(size)).unique().all()
    return respond(fmt, "service_requests", _views(list(rows)))


@bp.get(f"/requests/<number>.{FMT}")
def get_request(number: str, fmt: str) -> Response:
    _check_jurisdiction()
    case = db.session.scalars(_visible().where(
        Case.number == public.normalize_number(number))).unique().first()
    if case is None:
        raise Open311Error(404, f"service_request_id {number!r} not found")
    return respond(fmt, "service_requests", _views([case]))


@bp.route("/<path:rest>", methods=["GET", "POST"])
def unknown(rest: str) -> Response:
    fmt = "xml" if rest.endswith(".xml") else "json"
    if rest.startswith("tokens/"):
        return error(fmt, 404, "this endpoint creates service requests synchronously and "
                               "issues no tokens")
    return error(fmt, 404, f"no resource /open311/v2/{rest}; use a .json or .xml suffix")
