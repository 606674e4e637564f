"""The schema's baseline: the one revision a database starts from (1000_baseline), and the
revision chain it replaced (0001_core … 0963_*, one branch an area).

A database that chain brought to its end has exactly the baseline's schema, so it is restamped
(its alembic_version rows become the baseline's) and nothing else changes. A database the chain
left part of the way is refused, with what to do: upgrade it first with a Hotline that still has
the chain (docs/upgrading.md)."""

from __future__ import annotations

from sqlalchemy import Connection, inspect, text

BASELINE = "1000_baseline"

#: What alembic_version held once the replaced chain had run to its end (`upgrade heads`):
#: one row a branch; 0003_supervision, 0101_wechat, 0621_phone_key and
#: 0963_sweep_marks_on_cases are behind revisions that depend on them.
REPLACED_HEADS = frozenset({
    "0005_routing", "0201_phone", "0301_web", "0401_reports", "0601_identity", "0611_accounts",
    "0641_department_contacts", "0651_routing_models", "0811_survey_superseded",
    "0901_workflow", "0911_cohandling", "0931_admin_audit", "0951_report_figures",
    "0952_due_sort_key", "0961_phones_e164", "0962_inbox", "0963_sweep_marks_statistics",
})

#: Every revision of the replaced chain.
REPLACED = REPLACED_HEADS | {"0001_core", "0002_followup", "0003_supervision", "0101_wechat",
                             "0621_phone_key", "0963_sweep_marks_on_cases"}

#: The last commit of main with the replaced chain: a Hotline from it upgrades any database
#: the chain built to the chain's end.
LAST_WITH_CHAIN = "bf90b300a50f7065e80b32dcf41640388dd9e701"


class RevisionBeforeBaseline(RuntimeError):
    """The database stands at a revision of the replaced chain short of its end."""

    def __init__(self, stamped: set[str]) -> None:
        at = ", ".join(sorted(stamped))
        missing = ", ".join(sorted(REPLACED_HEADS - stamped))
        commit = LAST_WITH_CHAIN[:12]
        super().__init__(
            f"数据库的迁移版本停在 {at}，缺少 {missing}：本版本只能从旧修订链的终点升级。"
            f"请先用提交 {commit} 的 Hotline（基线之前的最后一版）运行 `hotline init-db`，"
            f"再用本版本运行 `hotline init-db`。\n"
            f"The database stands at revision {at}, without {missing}: this version upgrades "
            f"only from the end of the old revision chain. First run `hotline init-db` with "
            f"Hotline at commit {commit} (the last one before the baseline), then run "
            f"`hotline init-db` with this version. See docs/upgrading.md.")
        self.stamped = stamped


def restamp_replaced_chain(connection: Connection) -> bool:
    """Restamp a database the replaced chain brought to its end to the baseline (True), leave any
    other database as it is (False); raise RevisionBeforeBaseline for one the chain left part
    of the way. Its tables and rows are not touched."""
    if not inspect(connection).has_table("alembic_version"):
        return False
    stamped = set(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())
    if not stamped & REPLACED:
        return False
    if stamped != REPLACED_HEADS:
        raise RevisionBeforeBaseline(stamped)
    connection.execute(text("DELETE FROM alembic_version"))
    connection.execute(text("INSERT INTO alembic_version (version_num) VALUES (:revision)"),
                       {"revision": BASELINE})
    return True
