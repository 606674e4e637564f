"""Migrations on a SQLite database that already holds cases: a revision that rebuilds the
`cases` table (Alembic's batch mode: copy, drop, rename — here 0911_cohandling, which adds a
foreign key to cases) goes down and up again, and the cases and their timelines are kept.
With foreign keys enforced during the rebuild, dropping `cases` failed ("FOREIGN KEY
constraint failed") on every existing installation."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from hotline import create_app
from hotline.cli import upgrade_database
from hotline.extensions import db
from hotline.models import Case, CaseEvent


def test_a_table_rebuild_keeps_the_cases_of_an_existing_sqlite_database(tmp_path: Path):
    from alembic import command
    from flask import current_app

    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path}/old.db",
                      "SECRET_KEY": "test", "REDIS_URL": None,
                      "INSTANCE_PATH": str(tmp_path / "instance")})
    upgrade_database(app)
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
        command.downgrade(config, "0911_cohandling-1")
        command.upgrade(config, "heads")
        db.session.remove()
        assert db.session.scalar(select(func.count(Case.id))) == 1
        assert db.session.scalar(select(func.count(CaseEvent.id))) >= 1
        assert db.session.execute(select(Case.merged_into_id)).scalar() is None
        fk = db.session.connection().exec_driver_sql("PRAGMA foreign_keys").scalar()
        assert fk == 1
