"""The audit list of admin changes (`hotline.audit`): whatever made the change — the API, the
console, the `hotline` command — it is on the list with who, when, through what and old → new,
in the change's own transaction; secrets never are."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from click.testing import CliRunner
from sqlalchemy import select

from hotline import audit
from hotline.api.schemas import AUDIT_KINDS
from hotline.cli import main
from hotline.extensions import db
from hotline.models import AdminAudit, Department


def _entries(**where: str) -> list[AdminAudit]:
    db.session.expire_all()
    query = select(AdminAudit).order_by(AdminAudit.id)
    for key, value in where.items():
        query = query.where(getattr(AdminAudit, key) == value)
    return list(db.session.scalars(query))


def test_every_tracked_kind_has_a_chinese_name_and_is_a_filter() -> None:
    kinds = {spec.kind for spec in audit.TRACKED.values()}
    assert kinds == set(audit.KIND_NAMES) == set(AUDIT_KINDS)


def test_a_change_the_database_refuses_leaves_no_entry(api: Any, tokens: Any) -> None:
    before = len(_entries(kind="line"))
    # Another line's phone number under another spelling: refused before anything is written.
    resp = api.patch("/lines/zhitongche", tokens.admin, {"phone_number": "0851-86833668"})
    assert resp.status_code == 409
    assert len(_entries(kind="line")) == before


def test_a_rule_changed_through_the_api_is_on_the_list_with_old_and_new(api: Any,
                                                                        tokens: Any) -> None:
    rule = api.post("/rules", tokens.admin, {"keywords": ["自来水"], "department": "gz-housing",
                                             "priority": 300}).get_json()
    api.patch(f"/rules/{rule['id']}", tokens.admin, {"keywords": ["自来水", "停水"]})
    api.call("DELETE", f"/rules/{rule['id']}", tokens.admin)
    entries = _entries(kind="rule", target=f"#{rule['id']}")
    assert [(e.action, e.actor, e.via) for e in entries] == [
        ("create", "admin1", "api"), ("update", "admin1", "api"), ("delete", "admin1", "api")]
    assert entries[1].changes == {"keywords": {"old": ["自来水"], "new": ["自来水", "停水"]}}


def _model_blob() -> bytes:
    """A stored model as `routing.training` writes one (an empty model: activation only
    loads it to check its version)."""
    import gzip
    import io
    import pickle

    import sklearn

    from routing.learned import FEATURE_VERSION, TopicModel

    model = TopicModel.__new__(TopicModel)
    model.meta = {"feature_version": FEATURE_VERSION}
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb") as fh:
        pickle.dump({"sklearn": sklearn.__version__, "model": model}, fh)
    return out.getvalue()


def test_a_routing_model_activation_is_on_the_list(app: Any, api: Any, tokens: Any) -> None:
    from hotline.models import RoutingModel

    older = RoutingModel(examples=1, figures={}, blob=_model_blob(), active=False,
                         note="旧模型")
    db.session.add(older)
    db.session.commit()
    assert api.post(f"/routing/models/{older.id}/activate", tokens.admin).status_code == 200
    entry = _entries(kind="routing_model", action="update")[-1]
    assert (entry.target, entry.actor, entry.via) == (f"#{older.id}", "admin1", "api")
    assert entry.changes == {"active": {"old": False, "new": True}}


def test_the_command_line_is_on_the_list_as_such(app: Any, tmp_path: Path) -> None:
    env = {"DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "HOTLINE_INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "test-secret"}
    result = CliRunner().invoke(main, ["create-user", "值班坐席", "--role", "operator"], env=env)
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    entry = _entries(kind="user", target="值班坐席")[0]
    assert entry.via == "cli" and entry.action == "create" and entry.actor != "system"
    assert entry.changes["role"] == {"old": None, "new": "operator"}
    assert entry.changes["token_hash"] == {"old": None, "new": audit.SECRET_SET}
    assert token not in str(entry.changes)


def test_unlock_and_ending_sessions_are_on_the_list(api: Any, tokens: Any) -> None:
    from hotline.models import User

    user = db.session.scalar(select(User).where(User.name == "op1"))
    user.failed_sign_ins = 3
    db.session.commit()
    assert api.post("/users/op1/unlock", tokens.admin).status_code == 200
    assert api.post("/users/op1/sign-out", tokens.admin).status_code == 200
    actions = [e.action for e in _entries(kind="user", target="op1", actor="admin1")]
    assert actions == ["unlock", "sign-out"]


def test_seeding_in_code_is_recorded_as_the_system(app: Any) -> None:
    entry = _entries(kind="department", target="gz-hrss")[0]
    assert (entry.actor, entry.via, entry.action) == ("system", "system", "create")
    assert db.session.scalar(select(Department).where(Department.code == "gz-hrss")) is not None
