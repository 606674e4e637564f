"""The repository's docs (`docs/`) stay true to the code: every `package.module.function` they
name exists, every file and page they link to is there, each arrow of the architecture's
diagrams names the function that takes that step, every area, handler and provider of
`hotline.wiring` is named on that page, the lifecycle page's tables say what
`hotline.domain.lifecycle.ACTIONS` and the status names say, and each action ends where the
page says."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from hotline.domain.lifecycle import ACTIONS, Role, Status, perform
from hotline.domain.names import CITIZEN_STATUS, STATUS_NAMES
from tests.unit.test_lifecycle import ADMIN, BODIES, ctx, prepared

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("*.md"))
PACKAGES = ("hotline", "channels", "routing", "workers")

# hotline.services.create_case, routing.router.Router.route, hotline.services:create_case
_ROOTS = "|".join(PACKAGES)
DOTTED = re.compile(rf"(?<![\w./-])((?:{_ROOTS})(?:\.[A-Za-z_]\w*)+)(?::([A-Za-z_][\w.]*))?")
FILE_PATH = re.compile(rf"`((?:{_ROOTS}|tests|bench)/[\w/.-]+\.py)`")
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
MERMAID = re.compile(r"```mermaid\n(.*?)```", re.DOTALL)
ARROW = re.compile(r"--+>|==+>|-\.+->")
EDGE_LABEL = re.compile(r"\|([^|]+)\|")


def resolve(name: str) -> object:
    """The object a dotted name stands for: the longest importable module, then attributes."""
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        module_name = ".".join(parts[:cut])
        try:
            found: object = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name is not None and module_name.startswith(exc.name) or \
                    exc.name == module_name:
                continue  # not a module: the rest are attributes of a shorter one
            raise
        for attribute in parts[cut:]:
            found = getattr(found, attribute)
        return found
    raise ImportError(name)


def names_in(text: str) -> list[str]:
    out = []
    for match in DOTTED.finditer(text):
        dotted, attribute = match.group(1), match.group(2)
        if dotted.endswith((".md", ".py")):
            continue  # a page or a file (`channels.md`), checked as a link
        out.append(f"{dotted}.{attribute}" if attribute else dotted)
    return out


def test_there_are_docs_to_check():
    assert {"README.md", "lifecycle.md", "deadlines.md", "roles.md", "channels.md", "outbox.md",
            "followup.md", "publication.md", "reports.md", "architecture.md"} <= \
        {p.name for p in PAGES}
    assert len(names_in((DOCS / "architecture.md").read_text(encoding="utf-8"))) > 50


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_name_in_the_docs_exists(page: Path):
    missing = []
    for name in sorted(set(names_in(page.read_text(encoding="utf-8")))):
        try:
            resolve(name)
        except (ImportError, AttributeError) as exc:
            missing.append(f"{name} ({type(exc).__name__}: {exc})")
    assert not missing, f"{page.name} names what the code does not have: {missing}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_file_and_page_the_docs_link_exists(page: Path):
    text = page.read_text(encoding="utf-8")
    missing = [p for p in FILE_PATH.findall(text) if not (ROOT / p).is_file()]
    missing += [link for link in LINK.findall(text)
                if "://" not in link and not (page.parent / link).exists()]
    assert not missing, f"{page.name} links to what is not there: {missing}"


def test_every_arrow_of_the_way_through_names_its_function():
    text = (DOCS / "architecture.md").read_text(encoding="utf-8")
    diagrams = MERMAID.findall(text)
    assert len(diagrams) >= 6
    unnamed = []
    for diagram in diagrams:
        for line in diagram.splitlines():
            if not ARROW.search(line):
                continue
            labels = EDGE_LABEL.findall(line)
            if not labels or not names_in(labels[0]):
                unnamed.append(line.strip())
    assert not unnamed, f"arrows that name no function: {unnamed}"


def test_the_way_through_names_every_row_of_the_wiring():
    from hotline import wiring

    text = (DOCS / "architecture.md").read_text(encoding="utf-8")
    rows = [row for table in (wiring.EVENT_HANDLERS, wiring.PROVIDERS) for rows in table.values()
            for row in rows] + list(wiring.INBOX_HANDLERS.values()) + list(wiring.COMMANDS)
    wired = [f"{module}.init_app" for _area, module in wiring.AREAS if module is not None] \
        + [path for _, path in rows] + [path for _area, _event, path in wiring.SESSION_LISTENERS]
    named = set(names_in(text))
    assert [path for path in wired if path not in named] == []


def _table(page: str, heading: str) -> list[list[str]]:
    """The rows (cells stripped) of the first table after `## heading` on a docs page."""
    text = (DOCS / page).read_text(encoding="utf-8")
    section = text.split(f"## {heading}\n", 1)[1]
    rows = []
    for line in section.splitlines():
        if line.startswith("## "):
            break
        if not line.startswith("|"):
            if rows:
                break
            continue
        if not set(line) <= set("|-: "):  # not the line under the header
            rows.append([cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]])
    return rows[1:]  # without the header


def _codes(cell: str) -> set[str]:
    return set(re.findall(r"`([a-z-]+)`", cell))


def _sources(cell: str) -> frozenset[str] | None:
    if cell == "any":
        return None
    if cell.startswith("all but"):
        return frozenset(s.value for s in Status) - _codes(cell)
    return frozenset(_codes(cell))


def test_the_lifecycle_page_has_the_actions_of_the_table():
    rows = _table("lifecycle.md", "Actions")
    assert [_codes(row[0]).pop() for row in rows] == list(ACTIONS)
    for action, _chinese, sources, to, who, _body in rows:
        rule = ACTIONS[_codes(action).pop()]
        # Where the action ends: taken by an admin from its first status, on the lifecycle
        # tests' plain case with their body.
        start = min(rule.sources) if rule.sources else Status.ACCEPTED
        case = prepared(rule.name, start)
        event = perform(rule.name, case, ADMIN, dict(BODIES[rule.name]), ctx())
        if event.to_status == event.from_status:
            assert to.startswith("no change"), f"{action}: to {to}"
        else:
            assert re.findall(r"`([a-z-]+)`", to)[:1] == [event.to_status], f"{action}: to {to}"
        expected = None if rule.sources is None else frozenset(s.value for s in rule.sources)
        assert _sources(sources) == expected, f"{action}: from {sources}"
        roles = {r.value for r in Role if re.search(rf"\b{r.value}\b", who)}
        assert roles == {r.value for r in rule.roles}, f"{action}: who {who}"
        assert ("lead department" in who) == bool(getattr(rule, "own_department", False)), \
            f"{action}: {who}"
        assert ("co-handling department" in who) == rule.cohandler, f"{action}: {who}"


def test_the_lifecycle_page_has_the_status_groups_of_the_code():
    from hotline.domain import lifecycle

    rows = _table("lifecycle.md", "Status groups")
    assert rows
    for group, statuses, _use in rows:
        name = re.fullmatch(r"`([A-Z_]+)`", group).group(1)
        assert _sources(statuses) == {s.value for s in getattr(lifecycle, name)}, group


def test_the_lifecycle_page_has_every_status_with_its_chinese_names():
    rows = _table("lifecycle.md", "Statuses")
    assert {_codes(row[0]).pop() for row in rows} == {s.value for s in Status}
    for code, staff, citizen in rows:
        status = Status(_codes(code).pop())
        assert (staff, citizen) == (STATUS_NAMES[status], CITIZEN_STATUS[status]), code
