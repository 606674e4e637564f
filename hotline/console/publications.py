"""Publication on the public board (网上公开) in the console: the work list, and one case's
masked draft beside its original, editable, approved or withdrawn.

The rules are `hotline.publication`'s — the same work list, masking proposal, edits with
the version the editor saw, approval refused while masking still finds personal data (unless
the approver confirms it is not personal), withdrawal — and its roles: operators and
supervisors edit and withdraw, only a supervisor approves (admins may do anything).
"""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from sqlalchemy import func, select

from .. import services
from ..domain.errors import DomainError, Forbidden, IllegalTransition, StaleVersion
from ..domain.lifecycle import Role
from ..domain.names import PERSONAL_DATA_NAMES, PUBLICATION_STATE_NAMES
from ..extensions import db
from ..models import Department
from ..publication import (
    APPROVERS,
    EDITORS,
    STATES,
    TEXT_FIELDS,
    TITLE_MAX,
    PersonalDataLeft,
    approve,
    case_answer,
    commit,
    publication_json,
    publication_of,
    save_draft,
    withdraw,
    work_list,
)
from . import bp

PER_PAGE = 30
LIMITS = {"title": TITLE_MAX, "question": 20000, "answer": 20000}


def marked(text: str | None, findings: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    """The text in pieces, each with the kind of personal data masking found in it (or None),
    so the page can mark what the draft masks in the original."""
    text = text or ""
    out: list[tuple[str, str | None]] = []
    at = 0
    for f in sorted(findings, key=lambda f: f["start"]):
        if f["start"] < at:
            continue
        out.append((text[at:f["start"]], None))
        out.append((text[f["start"]:f["end"]], f["kind"]))
        at = f["end"]
    out.append((text[at:], None))
    return [piece for piece in out if piece[0]]


def _may(roles: tuple[str, ...]) -> bool:
    return g.actor.role == Role.ADMIN or g.actor.role in roles


def require_editor() -> None:
    if not _may(EDITORS):
        raise Forbidden("网上公开由坐席和督办人员审核。")


@bp.get("/publications")
def publications():
    require_editor()
    state = request.args.get("state", "candidate")
    if state not in STATES:
        state = "candidate"
    raw = request.args.get("page", "1")
    page = int(raw) if raw.isdigit() and 0 < int(raw) < 100_000 else 1
    query = work_list(state)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = db.session.execute(query.offset((page - 1) * PER_PAGE).limit(PER_PAGE)).all()
    return render_template("console/publications.html", rows=rows, state=state, states=STATES,
                           state_names=PUBLICATION_STATE_NAMES, total=total, page=page, per_page=PER_PAGE,
                           args={"state": state})


def render_publication(number: str, *, status: int = 200, error: str | None = None,
                       stale: str | None = None, form: dict[str, str] | None = None,
                       left: dict[str, Any] | None = None):
    case = services.get_case(number, g.actor)
    pub = publication_of(case)
    data = publication_json(case, pub)
    departments = {d.code: d.name for d in db.session.scalars(select(Department))}
    return render_template(
        "console/publication.html", c=case, pub=pub, data=data, form=form or {}, error=error,
        stale=stale, left=left if left is not None else data["remaining"],
        state_names=PUBLICATION_STATE_NAMES, finding_names=PERSONAL_DATA_NAMES, departments=departments,
        may_approve=_may(APPROVERS), limits=LIMITS,
        original_question=marked(case.content, data["findings"]["question"]),
        original_answer=marked(case_answer(case), data["findings"]["answer"])), status


@bp.get("/publications/<number>")
def publication(number: str):
    require_editor()
    return render_publication(number)


def _texts() -> dict[str, str]:
    """The edited title, question and answer from the form (cut to their limits)."""
    out = {}
    for name in TEXT_FIELDS:
        value = request.form.get(name)
        if value is not None:
            out[name] = value.replace("\r\n", "\n").strip()[:LIMITS[name]]
    return out


def _version() -> int | None:
    raw = (request.form.get("version") or "").strip()
    return int(raw) if raw.isdigit() else None


def _refused(exc: DomainError) -> str:
    if isinstance(exc, IllegalTransition):
        return "这件工单现在不能公开（须已办结、来信人同意公开且有答复），或已不在公开栏上。"
    if isinstance(exc, Forbidden):
        return "您的角色不能做这项操作。"
    return "未能完成。"


@bp.post("/publications/<number>/<any(save, approve, withdraw):what>")
def publication_act(number: str, what: str):
    """Save the edited draft; save and approve it (supervisor); or take it off the board."""
    require_editor()
    case = services.get_case(number, g.actor)
    if what == "approve" and not _may(APPROVERS):
        raise Forbidden("只有督办人员可以批准公开。")
    form = {k: v for k, v in request.form.items() if k != "csrf_token"}
    version = _version()
    if version is None:
        return render_publication(number, status=400, error="表单缺少版本号，请刷新页面。",
                                  form=form)
    texts = _texts()
    if what != "withdraw" and any(not texts.get(name) for name in TEXT_FIELDS):
        return render_publication(number, status=400, form=form,
                                  error="标题、留言内容和答复都不能为空。")
    note = (request.form.get("note") or "").strip()[:2000] or None
    try:
        if what == "withdraw":
            reason = (request.form.get("reason") or "").strip()[:2000]
            if not reason:
                return render_publication(number, status=400, form=form,
                                          error="请写明撤回公开的理由。")
            withdraw(case, g.actor, reason, version)
        else:
            save_draft(case, texts, g.actor, note, version)
            if what == "approve":
                db.session.flush()
                approve(case, g.actor, note,
                        confirm_remaining=request.form.get("confirm_remaining") == "true")
        commit()
    except StaleVersion:
        db.session.rollback()
        return render_publication(number, status=409, form=form,
                                  stale="此公开稿已被他人修改，您的修改没有保存。下面是现在的版本，"
                                        "您的文字保留在编辑框中。")
    except PersonalDataLeft as exc:
        db.session.rollback()
        return render_publication(number, status=422, form=form, left=exc.fields,
                                  error="公开稿中仍有疑似个人信息（见下方标出的内容），未批准公开。"
                                        "请修改后再批准；如确认不是个人信息，勾选确认后批准。")
    except DomainError as exc:
        db.session.rollback()
        return render_publication(number, status=exc.status, form=form, error=_refused(exc))
    done = {"save": "公开稿已保存（尚未公开）", "approve": "已批准公开，公开栏上可以看到了",
            "withdraw": "已从公开栏撤回"}[what]
    flash(f"{number}：{done}。", "ok")
    return redirect(url_for("console.publication", number=number))
