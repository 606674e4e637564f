"""Marshmallow schemas: they own input validation and the shape of every response."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import g, has_request_context
from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates,
    validates_schema,
)

from ..domain import phones
from ..domain.deadlines import DAY_RANGE_TEXT, PROVINCE_TZ, day_in_range
from ..domain.errors import ValidationFailed
from ..domain.lifecycle import (
    MAX_EXTENSION_DAYS,
    MAX_FEEDBACK_DAYS,
    Kind,
    Priority,
    Role,
    Status,
    instruction_overdue,
    is_overdue,
)
from ..domain.staff import EVENT_NAMES, check_role_department, is_locked, token_state

# The kinds of thing the audit list records (hotline.audit.KIND_NAMES, which names them).
AUDIT_KINDS = ("user", "department", "contact", "line", "category", "rule", "calendar",
               "wechat_account", "open311_key", "routing_model")

CHANNELS = ("phone", "wechat", "web", "sms", "open311")
REGION = validate.Regexp(r"^\d{6}(\d{3}|\d{6})?$", error="Must be an administrative division code "
                         "of 6, 9 or 12 digits.")
# Pages beyond this hold nothing anyone reads, and (page - 1) * per_page must stay a number
# the database takes as an OFFSET.
MAX_PAGE = 100_000
PHONE = validate.Regexp(phones.WRITTEN, error="Not a valid phone number.")


class StrictSchema(Schema):
    class Meta:
        unknown = RAISE  # an unknown field is a mistake the caller must hear about


class LocalDateTime(fields.DateTime):
    """An instant as ISO 8601 with the province's offset; naive input is read as local time."""

    def _serialize(self, value: dt.datetime | None, attr: Any, obj: Any, **kwargs: Any):
        if value is None:
            return None
        return value.astimezone(PROVINCE_TZ).isoformat()

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> dt.datetime:
        result = super()._deserialize(value, attr, data, **kwargs)
        if not day_in_range(result.date()):
            raise ValidationError(DAY_RANGE_TEXT)
        if result.tzinfo is None:
            result = result.replace(tzinfo=PROVINCE_TZ)
        return result


class Day(fields.Date):
    """A local date given as input, within the days the system reasons about."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> dt.date:
        result = super()._deserialize(value, attr, data, **kwargs)
        if not day_in_range(result):
            raise ValidationError(DAY_RANGE_TEXT)
        return result


def _text(max_len: int, required: bool = False, nonempty: bool = False,
          **kw: Any) -> fields.String:
    """A text field of at most `max_len` characters; a required one (or, in a partial update, a
    `nonempty` one such as a name) must not be empty."""
    validators = [validate.Length(max=max_len)]
    if required or nonempty:
        validators.insert(0, validate.Length(min=1, error="Must not be empty."))
    return fields.String(required=required, validate=validators, **kw)


class CitizenSchema(StrictSchema):
    name = _text(100, allow_none=True)
    phone = fields.String(allow_none=True, validate=PHONE)
    openid = _text(64, allow_none=True)
    enterprise = _text(200, allow_none=True)


class CaseCreateSchema(StrictSchema):
    line = _text(32, required=True)
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    content = _text(20000, required=True)
    category = _text(32, allow_none=True)
    kind = fields.String(load_default=Kind.HANDLE.value,
                         validate=validate.OneOf([k.value for k in Kind]))
    citizen = fields.Nested(CitizenSchema, load_default=dict)
    region = fields.String(allow_none=True, validate=REGION)
    public_consent = fields.Boolean(load_default=False)
    received_at = LocalDateTime(allow_none=True)
    note = _text(2000, allow_none=True)
    # Dispatch at once to this department (the `dispatch` action's rules apply).
    department = _text(32, allow_none=True)
    priority = fields.String(load_default=Priority.NORMAL.value,
                             validate=validate.OneOf([p.value for p in Priority]))

    @post_load
    def strip_content(self, data: dict, **kwargs: Any) -> dict:
        data["content"] = data["content"].strip()
        if not data["content"]:
            raise ValidationError({"content": ["Must not be empty."]})
        return data


class EventSchema(Schema):
    action = fields.String()
    actor = fields.String()
    actor_role = fields.String()
    at = LocalDateTime()
    note = fields.String(allow_none=True)
    from_status = fields.String(allow_none=True)
    to_status = fields.String(allow_none=True)
    data = fields.Dict(allow_none=True)


class AttachmentSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    url = fields.String(allow_none=True)
    media_id = fields.String(allow_none=True)
    filename = fields.String(allow_none=True)
    content_type = fields.String(allow_none=True)
    size = fields.Integer(allow_none=True)
    created_at = LocalDateTime()


def _reader() -> Any:
    """Who the response is for: the signed-in staff member of the request (None outside one,
    e.g. a command printing a case)."""
    return g.get("actor") if has_request_context() else None


class DuplicateOf(fields.String):
    """The number of the earlier case this one seems to repeat, if the reader may see it."""

    def get_value(self, obj: Any, attr: str, accessor: Any = None, default: Any = None) -> Any:
        from ..services import duplicate_seen_by

        other = duplicate_seen_by(obj, _reader())
        return other.number if other is not None else None


class Timeline(fields.List):
    """The case's events, oldest first, as the reader may see them."""

    def get_value(self, obj: Any, attr: str, accessor: Any = None, default: Any = None) -> Any:
        from ..services import timeline_seen_by

        return timeline_seen_by(obj, _reader())


class CaseSchema(Schema):
    number = fields.String()
    line = fields.Function(lambda c: c.line.code)
    channel = fields.String()
    category = fields.Function(lambda c: c.category.code if c.category else None)
    topic = fields.String(allow_none=True)
    kind = fields.String()
    status = fields.String()
    department = fields.String(attribute="department_code", allow_none=True)
    region = fields.String(allow_none=True)
    citizen = fields.Function(lambda c: {"name": c.citizen_name, "phone": c.citizen_phone,
                                         "openid": c.citizen_openid,
                                         "enterprise": c.citizen_enterprise})
    content = fields.String()
    public_consent = fields.Boolean()
    supervised = fields.Boolean()
    priority = fields.String()
    assignee = fields.String(allow_none=True)
    # The earliest feedback deadline of the leadership instructions waiting for feedback.
    instruction_due_date = fields.Date(allow_none=True)
    instruction_overdue = fields.Method("get_instruction_overdue")
    received_at = LocalDateTime()
    created_at = LocalDateTime()
    updated_at = LocalDateTime()
    accept_due_date = fields.Date(allow_none=True)
    due_date = fields.Date(allow_none=True)
    due_at = LocalDateTime(allow_none=True)
    deadline_provisional = fields.Boolean()
    overdue = fields.Method("get_overdue")
    extension_days = fields.Integer()
    pending_extension = fields.Method("get_pending_extension")
    accepted_at = LocalDateTime(allow_none=True)
    replied_at = LocalDateTime(allow_none=True)
    closed_at = LocalDateTime(allow_none=True)
    reply_text = fields.String(allow_none=True)
    answer_text = fields.String(allow_none=True)
    routing = fields.Dict(allow_none=True)
    duplicate_of = DuplicateOf(allow_none=True)
    version = fields.Integer()

    def get_overdue(self, case: Any) -> bool:
        return is_overdue(case, dt.datetime.now(dt.UTC))

    def get_instruction_overdue(self, case: Any) -> bool:
        return instruction_overdue(case, dt.datetime.now(dt.UTC))

    def get_pending_extension(self, case: Any) -> dict | None:
        if not case.pending_extension_days:
            return None
        return {"working_days": case.pending_extension_days,
                "reason": case.pending_extension_reason}


class MergedInto(fields.String):
    """The number of the lead case this one was merged into (并单), if the reader may see it."""

    def get_value(self, obj: Any, attr: str, accessor: Any = None, default: Any = None) -> Any:
        from ..services import merged_into_seen_by

        lead = merged_into_seen_by(obj, _reader())
        return lead.number if lead is not None else None


class CohandlerSchema(Schema):
    """A co-handling department (协办单位) of a case and the part of the answer it gave."""

    department = fields.String(attribute="department_code")
    added_at = LocalDateTime()
    added_by = fields.String()
    due_date = fields.Date(allow_none=True)
    part_text = fields.String(allow_none=True)
    part_at = LocalDateTime(allow_none=True)
    part_by = fields.String(allow_none=True)


class CaseDetailSchema(CaseSchema):
    events = Timeline(fields.Nested(EventSchema))
    attachments = fields.List(fields.Nested(AttachmentSchema))
    cohandlers = fields.List(fields.Nested(CohandlerSchema))
    merged_into = MergedInto(allow_none=True)


class CaseListQuerySchema(StrictSchema):
    status = fields.String(validate=validate.OneOf([s.value for s in Status]))
    line = _text(32)
    category = _text(32)
    department = _text(32)
    channel = fields.String(validate=validate.OneOf(CHANNELS))
    kind = fields.String(validate=validate.OneOf([k.value for k in Kind]))
    region = fields.String(validate=REGION)
    topic = _text(64)
    supervised = fields.Boolean()
    overdue = fields.Boolean()
    priority = fields.String(validate=validate.OneOf([p.value for p in Priority]))
    assignee = _text(64)
    # Leadership instructions waiting for feedback: any (`open`) or past their day (`overdue`).
    instruction = fields.String(validate=validate.OneOf(["open", "overdue"]))
    due_before = Day()
    received_from = Day()
    received_to = Day()
    q = _text(200)
    # The citizen's phone however it is written (139-8501-2345, +8613985012345); part of a name.
    phone = fields.String(validate=[PHONE, validate.Length(max=32)])
    name = _text(100)
    # A department's queue is worked soonest deadline first (`due`); newest first by default.
    sort = fields.String(load_default="-received",
                         validate=validate.OneOf(["-received", "received", "due", "-due"]))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))
    # Deep pages by keyset (hotline.listing): the `next_cursor` of the page before.
    cursor = _text(500, nonempty=True, metadata={"description": (
        "The page after the one that answered with this `next_cursor` (same `sort`): as fast "
        "for page 5,000 as for page 1. Not together with `page`.")})

    @validates_schema
    def one_way_to_say_the_page(self, data: dict, **kwargs: Any) -> None:
        if "cursor" in data and data.get("page", 1) != 1:
            raise ValidationError({"cursor": ["Give 'cursor' or 'page', not both."]})


class PageQuery(StrictSchema):
    """A list's page arguments."""

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


def page_schema(item: type[Schema], name: str | None = None,
                **extra: fields.Field) -> type[Schema]:
    """A page of `item`s; `extra` fields the list answers with besides (named `name`)."""
    return Schema.from_dict({
        "items": fields.List(fields.Nested(item)),
        "page": fields.Integer(), "per_page": fields.Integer(), "total": fields.Integer(),
        **extra,
    }, name=name or f"{item.__name__.removesuffix('Schema')}PageSchema")


# The case list's page: `page` is null for a page asked by `cursor`; past
# `listing.COUNT_EXACT_UP_TO` cases PostgreSQL's `total` is the planner's estimate.
CASE_PAGE = page_schema(
    CaseSchema, "CasePageSchema",
    page=fields.Integer(allow_none=True),
    total_exact=fields.Boolean(metadata={"description": (
        "false when `total` is an estimate (PostgreSQL, past 10,000 matching cases)")}),
    next_cursor=fields.String(allow_none=True, metadata={"description": (
        "Pass as `cursor` for the next page; null on the last page")}))


# --- bodies of the lifecycle actions -------------------------------------------------------

class ActionSchema(StrictSchema):
    note = _text(2000, allow_none=True)
    version = fields.Integer(validate=validate.Range(min=1))


class DispatchSchema(ActionSchema):
    department = _text(32, required=True)
    kind = fields.String(validate=validate.OneOf([Kind.HANDLE.value, Kind.INFORM.value]))
    # 协办: co-handling departments besides the lead one.
    cohandlers = fields.List(_text(32, required=True), validate=validate.Length(min=1, max=10))


class CohandleSchema(ActionSchema):
    """协办: add co-handling departments to a dispatched case."""

    departments = fields.List(_text(32, required=True), required=True,
                              validate=validate.Length(min=1, max=10))


class ReasonSchema(ActionSchema):
    reason = _text(2000, required=True)


class RecallSchema(ReasonSchema):
    """改派: the department the case goes to now, and why it leaves the one that has it."""

    department = _text(32, required=True)


class ExtensionSchema(ReasonSchema):
    working_days = fields.Integer(required=True, strict=True,
                                  validate=validate.Range(min=1, max=MAX_EXTENSION_DAYS))


class DecisionSchema(ActionSchema):
    approve = fields.Boolean(required=True, truthy={True}, falsy={False})


class TextSchema(ActionSchema):
    text = _text(20000, required=True)


class CohandlePartSchema(TextSchema):
    """协办意见: a co-handling department's part of the answer; `department` only for a caller
    without one (an admin)."""

    department = _text(32)


class MergeSchema(ActionSchema):
    """并单: merge this case into the lead case `into`."""

    into = _text(40, required=True)
class InstructSchema(TextSchema):
    """领导批示: the words, the leader, and when feedback is due (`feedback_days` working days
    from today, or the date `feedback_by`; 5 working days when neither is given)."""

    leader = _text(64, allow_none=True)
    feedback_days = fields.Integer(strict=True,
                                   validate=validate.Range(min=1, max=MAX_FEEDBACK_DAYS))
    feedback_by = Day()


class PrioritySchema(ActionSchema):
    priority = fields.String(required=True, validate=validate.OneOf([p.value for p in Priority]))


class AssignSchema(ActionSchema):
    handler = _text(64, required=True)  # the user name of a handler of the same department


class InterimReplySchema(ActionSchema):
    text = _text(500, required=True)  # goes to the citizen by SMS or WeChat


ACTION_SCHEMAS: dict[str, type[Schema]] = {
    "dispatch": DispatchSchema,
    "recall": RecallSchema,
    "accept": ActionSchema,
    "return": ReasonSchema,
    "extension": ExtensionSchema,
    "extension-decision": DecisionSchema,
    "reply": TextSchema,
    "review": DecisionSchema,
    "answer": TextSchema,
    "instruct": InstructSchema,
    "close": ActionSchema,
    "reopen": ReasonSchema,
    "cohandle": CohandleSchema,
    "cohandle-part": CohandlePartSchema,
    "merge": MergeSchema,
    "priority": PrioritySchema,
    "assign": AssignSchema,
    "interim-reply": InterimReplySchema,
    "instruction-feedback": TextSchema,
    "internal-note": TextSchema,
}


class CitizenCorrectionSchema(StrictSchema):
    name = _text(100, allow_none=True)
    phone = fields.String(allow_none=True, validate=PHONE)
    enterprise = _text(200, allow_none=True)


class CaseCorrectionSchema(StrictSchema):
    """A correction of what intake recorded; only the fields given change. `version` is the one
    the corrector read: a case changed since is refused (409), never overwritten."""

    version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    category = _text(32, allow_none=True)
    region = fields.String(allow_none=True, validate=REGION)
    citizen = fields.Nested(CitizenCorrectionSchema)  # the openid is WeChat's, never typed
    content = _text(20000)
    # The matter's topic in the taxonomy, level 1 to 3 joined by "/" (城乡建设/住房保障): an
    # operator's correction of the topic is a label the next routing model learns from.
    topic = _text(64, allow_none=True)
    note = _text(2000, allow_none=True)

    @validates("topic")
    def topic_in_taxonomy(self, value: str | None, **kwargs: Any) -> None:
        from routing.topics import taxonomy_path

        if value is not None and taxonomy_path(value) is None:
            raise ValidationError("Not a topic of the taxonomy (level 1 to 3, joined by '/').")

    @post_load
    def strip_content(self, data: dict, **kwargs: Any) -> dict:
        if "content" in data:
            data["content"] = (data["content"] or "").strip()
            if not data["content"]:
                raise ValidationError({"content": ["Must not be empty."]})
        return data


# --- administration ------------------------------------------------------------------------

class DepartmentSchema(StrictSchema):
    code = fields.String(required=True, validate=validate.Regexp(
        r"^[a-z0-9][a-z0-9\-_]{1,31}$", error="Lower-case letters, digits, - and _ (2-32)."))
    name = _text(200, required=True)
    region = fields.String(required=True, validate=REGION)
    active = fields.Boolean(load_default=True)


class DepartmentUpdateSchema(StrictSchema):
    name = _text(200, nonempty=True)
    region = fields.String(validate=REGION)
    active = fields.Boolean()


def _role_department_rule(role: str, department: str | None) -> None:
    try:
        check_role_department(role, department)
    except ValidationFailed as exc:
        raise ValidationError(exc.fields) from None


class UserCreateSchema(StrictSchema):
    name = fields.String(required=True, validate=validate.Regexp(
        r"^[\w.\-]{2,64}$",
        error="2–64 个汉字、字母、数字或 . - _（2-64 letters, digits, '.', '-' or '_'）。"))
    role = fields.String(required=True, validate=validate.OneOf([r.value for r in Role]))
    department = _text(32, allow_none=True)
    # An initial console password, to be changed by the person at the first sign-in.
    password = fields.String(validate=validate.Length(max=200))
    token_days = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=3650))

    @validates_schema
    def handler_has_department(self, data: dict, **kwargs: Any) -> None:
        _role_department_rule(data["role"], data.get("department"))


class UserUpdateSchema(StrictSchema):
    """A new role and/or department (a handler changed to another role leaves its department),
    or `active` false/true to deactivate or reactivate."""

    role = fields.String(validate=validate.OneOf([r.value for r in Role]))
    department = _text(32, allow_none=True)
    active = fields.Boolean()


class PasswordResetSchema(StrictSchema):
    password = fields.String(required=True, validate=validate.Length(min=1, max=200))


class TokenIssueSchema(StrictSchema):
    days = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=3650))


class TokenStateSchema(Schema):
    state = fields.Function(lambda user: token_state(user, dt.datetime.now(dt.UTC)))
    issued_at = LocalDateTime(attribute="token_issued_at", allow_none=True)
    expires_at = LocalDateTime(attribute="token_expires_at", allow_none=True)
    revoked_at = LocalDateTime(attribute="token_revoked_at", allow_none=True)


class UserSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    role = fields.String()
    department = fields.String(attribute="department_code", allow_none=True)
    active = fields.Boolean()
    created_at = LocalDateTime()
    has_password = fields.Function(lambda user: user.password_hash is not None)
    must_change_password = fields.Boolean()
    locked_until = fields.Method("get_locked_until", allow_none=True)
    failed_sign_ins = fields.Integer()
    last_sign_in_at = LocalDateTime(allow_none=True)  # null until the first sign-in
    # The API token's state (the token itself is shown once, as `token`, when issued).
    api_token = fields.Function(lambda user: TokenStateSchema().dump(user))

    def get_locked_until(self, user: Any) -> str | None:
        if not is_locked(user, dt.datetime.now(dt.UTC)):
            return None
        return user.locked_until.astimezone(PROVINCE_TZ).isoformat()


class AuthEventQuerySchema(StrictSchema):
    user = _text(64)
    kind = fields.String(validate=validate.OneOf(list(EVENT_NAMES)))
    address = _text(64)
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class AuthEventSchema(Schema):
    at = LocalDateTime()
    kind = fields.String()
    user = fields.String(attribute="user_name")
    by = fields.String(attribute="by_name", allow_none=True)
    address = fields.String(allow_none=True)
    detail = fields.String(allow_none=True)


class AuditQuerySchema(StrictSchema):
    """Filters of the audit list of admin changes (`hotline.audit`)."""

    kind = fields.String(validate=validate.OneOf(list(AUDIT_KINDS)))
    target = _text(200)
    actor = _text(100)
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class AuditEntrySchema(Schema):
    """One admin change: who, when, through what (api, console, cli, system), which thing, and
    each field's old and new value (a secret only as set or not)."""

    id = fields.Integer()
    at = LocalDateTime()
    actor = fields.String()
    via = fields.String()
    kind = fields.String()
    target = fields.String()
    action = fields.String()
    changes = fields.Dict()


class UserWithTokenSchema(UserSchema):
    """A user as created or given a new token: the token is in this answer only."""

    token = fields.String()


class CategorySchema(StrictSchema):
    code = fields.String(required=True, validate=validate.Regexp(r"^[a-z0-9_]{2,32}$"))
    name = _text(100, required=True)
    accept_days = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=60))
    reply_days = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=120))
    remind_days = fields.Integer(allow_none=True, validate=validate.Range(min=0, max=30))


class CategoryUpdateSchema(StrictSchema):
    name = _text(100, nonempty=True)
    accept_days = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=60))
    reply_days = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=120))
    remind_days = fields.Integer(allow_none=True, validate=validate.Range(min=0, max=30))


class LineSchema(StrictSchema):
    code = fields.String(required=True, validate=validate.Regexp(r"^[a-z0-9_]{2,32}$"))
    name = _text(100, required=True)
    number_prefix = fields.String(required=True, validate=validate.Regexp(
        r"^[A-Z]{2}$", error="Two capital letters."))
    phone_number = fields.String(allow_none=True, validate=PHONE)
    hours = fields.String(load_default="00:00-24:00", validate=validate.Regexp(
        r"^\d{2}:\d{2}-\d{2}:\d{2}$", error="Like 08:30-17:30."))
    accept_days = fields.Integer(load_default=1, validate=validate.Range(min=1, max=60))
    reply_days = fields.Integer(load_default=10, validate=validate.Range(min=1, max=120))
    remind_days = fields.Integer(load_default=2, validate=validate.Range(min=0, max=30))
    auto_dispatch_threshold = fields.Float(load_default=0.8, validate=validate.Range(0, 1))
    categories = fields.List(fields.Nested(CategorySchema), load_default=list)


class LineUpdateSchema(StrictSchema):
    name = _text(100, nonempty=True)
    phone_number = fields.String(allow_none=True, validate=PHONE)
    hours = fields.String(validate=validate.Regexp(r"^\d{2}:\d{2}-\d{2}:\d{2}$"))
    accept_days = fields.Integer(validate=validate.Range(min=1, max=60))
    reply_days = fields.Integer(validate=validate.Range(min=1, max=120))
    remind_days = fields.Integer(validate=validate.Range(min=0, max=30))
    auto_dispatch_threshold = fields.Float(validate=validate.Range(0, 1))
    active = fields.Boolean()


class CalendarSchema(StrictSchema):
    holidays = fields.List(Day(), required=True)
    workdays = fields.List(Day(), required=True)


class CalendarOutSchema(Schema):
    year = fields.Integer()
    source = fields.String(allow_none=True)
    published = fields.Boolean()
    holidays = fields.List(fields.Date())
    workdays = fields.List(fields.Date())
    updated_at = LocalDateTime(allow_none=True)
    updated_by = fields.String(allow_none=True)
