"""The migrations: the schema they build is the one the models declare; a database the revision
chain before the baseline built is restamped to the baseline and keeps its data, one that chain
left part of the way is refused with what to do; a SQLite table rebuild keeps the cases."""

from __future__ import annotations

import os
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import func, select, text

from hotline import create_app
from hotline.baseline import BASELINE, LAST_WITH_CHAIN, REPLACED_HEADS
from hotline.cli import main, upgrade_database
from hotline.extensions import db
from hotline.models import Case, CaseEvent

# Server defaults the database has and the models leave out: the columns were added to tables
# with rows, and the models set the value in Python.
DEFAULTS_ONLY_IN_THE_DATABASE = {
    ("modify_default", "outbox", "maybe_sent"),
    ("modify_default", "users", "must_change_password"),
    ("modify_default", "users", "session_version"),
    ("modify_default", "users", "failed_sign_ins"),
}


def _described(difference: tuple) -> tuple:
    if difference[0].startswith("modify_"):
        return difference[0], difference[2], difference[3]
    return difference[0], str(difference[1])


def test_the_schema_the_migrations_build_is_the_one_the_models_declare(app):
    """A model changed without a migration (a column, a type, a nullability, an index, a
    constraint) shows up here."""
    context = MigrationContext.configure(db.session.connection(), opts={
        "compare_type": True, "compare_server_default": True})
    differences = set()
    for entry in compare_metadata(context, db.metadata):
        for difference in entry if isinstance(entry, list) else [entry]:
            differences.add(_described(difference))
    assert differences == DEFAULTS_ONLY_IN_THE_DATABASE


def _stamp(revisions: set[str]) -> None:
    db.session.execute(text("DELETE FROM alembic_version"))
    for revision in sorted(revisions):
        db.session.execute(text("INSERT INTO alembic_version (version_num) VALUES (:r)"),
                           {"r": revision})
    db.session.commit()


def _stamped() -> set[str]:
    return set(db.session.scalars(text("SELECT version_num FROM alembic_version")))


def _rows(leaving_out: tuple[str, ...] = ()) -> dict[str, int]:
    return {t.name: db.session.scalar(select(func.count()).select_from(t))
            for t in db.metadata.sorted_tables if t.name not in leaving_out}


def _head() -> str:
    from alembic.script import ScriptDirectory
    from flask import current_app

    config = current_app.extensions["migrate"].migrate.get_config()
    return ScriptDirectory.from_config(config).get_current_head()


# Tables the revisions after the baseline add: a database the old chain built has none of them.
AFTER_THE_BASELINE = ("change_stamps",)


def test_a_database_at_the_end_of_the_old_chain_is_restamped_and_keeps_its_data(app, new_case):
    number = new_case(citizen={"name": "王大妈", "phone": "13985012345"})["number"]
    for table in AFTER_THE_BASELINE:
        db.session.execute(text(f"DROP TABLE {table}"))
    _stamp(REPLACED_HEADS)
    before = _rows(AFTER_THE_BASELINE)

    upgrade_database(app)  # restamped to the baseline, then brought up to the head

    db.session.remove()
    assert _stamped() == {_head()}
    assert _rows(AFTER_THE_BASELINE) == before
    case = db.session.scalar(select(Case).where(Case.number == number))
    assert (case.citizen_name, case.citizen_phone) == ("王大妈", "+8613985012345")


def test_a_database_short_of_the_old_chain_is_refused_saying_what_to_do(app, _migrated):
    partway = {"0002_followup", "0101_wechat", "0961_phones_e164"}
    _stamp(partway)
    try:
        result = CliRunner().invoke(main, ["init-db"], env={
            "DATABASE_URL": _migrated["DATABASE_URL"],
            "HOTLINE_INSTANCE_PATH": _migrated["INSTANCE_PATH"]})
        db.session.remove()
        assert result.exit_code == 1
        assert "Traceback" not in result.output
        assert "数据库的迁移版本停在 0002_followup, 0101_wechat, 0961_phones_e164" in result.output
        assert "stands at revision 0002_followup, 0101_wechat, 0961_phones_e164" in result.output
        assert f"Hotline at commit {LAST_WITH_CHAIN[:12]}" in result.output
        assert "0963_sweep_marks_statistics" in result.output  # what it still lacks
        assert _stamped() == partway  # refused: nothing changed
    finally:
        _stamp({_head()})


REBUILD = '''
import sqlalchemy as sa
from alembic import op

revision = "9999_rebuild_cases"
down_revision = "1000_baseline"


def upgrade():
    with op.batch_alter_table("cases", recreate="always") as batch:
        batch.add_column(sa.Column("scratch", sa.Integer()))


def downgrade():
    with op.batch_alter_table("cases", recreate="always") as batch:
        batch.drop_column("scratch")
'''


def test_a_table_rebuild_keeps_the_cases_of_an_existing_sqlite_database(tmp_path: Path):
    """Alembic's batch mode rebuilds a SQLite table (copy, drop, rename). With foreign keys
    enforced, dropping `cases` while other rows refer to it failed ("FOREIGN KEY constraint
    failed") on every installation with cases; hotline/migrations/env.py turns them off while
    migrating and checks the references after."""
    from alembic import command
    from flask import current_app

    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path}/old.db",
                      "SECRET_KEY": "test", "REDIS_URL": None,
                      "INSTANCE_PATH": str(tmp_path / "instance")})
    upgrade_database(app)
    extra = tmp_path / "versions"
    extra.mkdir()
    (extra / "9999_rebuild_cases.py").write_text(REBUILD)
    with app.app_context():
        from hotline import services
        from hotline.domain.lifecycle import Actor
        from hotline.seed import seed_demo

        seed_demo()
        services.create_case({"line": "fupin", "channel": "phone", "kind": "handle",
                              "content": "我家低保申请交上去三个月了还没有结果，请帮忙问问。",
                              "citizen": {"name": "王大妈", "phone": "13985012345"}},
                             Actor("op1", "operator"))
        db.session.commit()
        config = current_app.extensions["migrate"].migrate.get_config()
        shipped = Path(config.get_main_option("script_location")) / "versions"
        config.set_main_option("path_separator", "os")
        config.set_main_option("version_locations", os.pathsep.join([str(shipped), str(extra)]))
        command.upgrade(config, "9999_rebuild_cases")
        command.downgrade(config, BASELINE)
        db.session.remove()
        assert db.session.scalar(select(func.count(Case.id))) == 1
        assert db.session.scalar(select(func.count(CaseEvent.id))) >= 1
        fk = db.session.connection().exec_driver_sql("PRAGMA foreign_keys").scalar()
        assert fk == 1

