"""The account's custom menu (自定义菜单), built from the lines a citizen can write to.

Click keys are read by `conversation._click`: LINE_<line code> chooses the line of the next
case, MY_CASES, QUERY, BIND, NEW_CASE and HELP answer like the matching text commands.
WeChat's limits: 3 top buttons of at most 16 bytes, 5 sub-buttons of at most 60 bytes.
"""

from __future__ import annotations

from typing import Any

TOP_NAME_BYTES = 16
SUB_NAME_BYTES = 60
MAX_SUB = 5


def _name(text: str, limit: int) -> str:
    return text.encode()[:limit].decode(errors="ignore")


def build_menu(lines: list[tuple[str, str]], board_url: str | None = None) -> dict[str, Any]:
    """The menu for these (code, name) lines; `board_url` adds a link to the web board."""
    report = [{"type": "click", "name": _name(name, SUB_NAME_BYTES), "key": f"LINE_{code}"}
              for code, name in lines[:MAX_SUB]]
    query = [
        {"type": "click", "name": "我的工单", "key": "MY_CASES"},
        {"type": "click", "name": "按工单号查询", "key": "QUERY"},
        {"type": "click", "name": "绑定手机号", "key": "BIND"},
    ]
    more: list[dict[str, str]] = [
        {"type": "click", "name": "怎么反映问题", "key": "HELP"},
        {"type": "click", "name": "另起一件诉求", "key": "NEW_CASE"},
    ]
    if board_url:
        more.append({"type": "view", "name": "网上留言板", "url": board_url})
    buttons = []
    if report:
        buttons.append({"name": _name("我要反映", TOP_NAME_BYTES), "sub_button": report})
    buttons.append({"name": "查询进度", "sub_button": query})
    buttons.append({"name": "使用说明", "sub_button": more})
    return {"button": buttons}
