"""The console's navigation: which pages each role sees in the top bar, in one table."""

from __future__ import annotations

from dataclasses import dataclass

from ..domain.lifecycle import Role


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: str
    roles: frozenset[str]


ALL_STAFF = frozenset(Role)

DESK = frozenset({Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN})
# The supervisor's pages (督办台 and its lists): the roles of the API's supervisor lists.
SUPERVISION = frozenset({Role.SUPERVISOR, Role.ADMIN})

NAV: tuple[NavItem, ...] = (
    NavItem("console.desk", "接线台", frozenset({Role.OPERATOR})),
    NavItem("console.department", "承办工作台", frozenset({Role.HANDLER})),
    NavItem("console.supervision_home", "督办台", frozenset({Role.SUPERVISOR})),
    NavItem("console.cases", "工单查询", ALL_STAFF),
    NavItem("console.desk", "接线台", DESK - {Role.OPERATOR}),
    NavItem("console.queues", "待办队列", DESK),
    NavItem("console.supervision_home", "督办台", SUPERVISION - {Role.SUPERVISOR}),
    NavItem("console.publications", "网上公开", DESK),  # the API's publication editors
    NavItem("console.reports", "统计报表", ALL_STAFF),
    NavItem("console.admin_users", "账号管理", frozenset({Role.ADMIN})),
    NavItem("console.auth_events", "登录日志", frozenset({Role.ADMIN})),
    NavItem("console.settings_index", "系统设置", frozenset({Role.ADMIN})),
)


def items_for(role: str) -> list[NavItem]:
    return [item for item in NAV if role in item.roles]


def home_endpoint(role: str) -> str:
    """The page a role lands on after signing in: its first item."""
    items = items_for(role)
    return items[0].endpoint if items else "console.cases"
