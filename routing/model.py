"""The values the routing engine takes and gives: rules, departments, decisions.

Plain frozen dataclasses, so the core can build them from its database rows and store a
``Decision.as_dict()`` on the case without knowing anything else about routing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

REGION_PLACEHOLDER = "{region}"
REGION_LEVELS = ("province", "prefecture", "county")


@dataclass(frozen=True)
class Rule:
    """A dispatch rule (分类转办规则): when a case matches, suggest ``department``.

    Every condition that is set must hold; ``None`` (or an empty ``keywords``) means "any".

    - ``line``: line code (``fupin``...). ``category``: the suggested category code.
    - ``topic1``: the suggested level-1 topic (``劳动和社会保障``).
    - ``keywords``: at least one must occur in the text (plain substring, case-insensitive).
    - ``region_level``: ``"province"`` — the case has no region below the province (none
      found, only 贵州, or a place outside Guizhou); ``"prefecture"`` — a Guizhou prefecture
      or county is known; ``"county"`` — a Guizhou county is known.
    - ``department``: a department code, or ``"{region}"``: the government of the case's
      region — the county's ``gov-`` department if one exists, else its prefecture's. When
      no such department exists the rule does not apply and the next one is tried.
    - ``priority``: higher wins; among equals the rule with more conditions wins, then the
      earlier one in the list.
    """

    id: int | None
    line: str | None
    category: str | None
    topic1: str | None
    keywords: tuple[str, ...]
    region_level: str | None
    department: str
    priority: int = 0

    def __post_init__(self) -> None:
        if self.region_level is not None and self.region_level not in REGION_LEVELS:
            raise ValueError(f"region_level must be one of {REGION_LEVELS}: {self.region_level!r}")
        if isinstance(self.keywords, str | list):
            # A list from JSON or one string from a form: store the tuple the type promises.
            kws = [self.keywords] if isinstance(self.keywords, str) else self.keywords
            object.__setattr__(self, "keywords", tuple(k for k in kws if k))

    @property
    def conditions(self) -> int:
        """How many conditions the rule sets: the more, the more specific."""
        return sum(
            x is not None and x != ()
            for x in (self.line, self.category, self.topic1, self.keywords or None, self.region_level)
        )

    @property
    def uses_region(self) -> bool:
        return REGION_PLACEHOLDER in self.department


@dataclass(frozen=True)
class Department:
    """A handling unit (承办单位). ``region``: its 6-digit division code.

    A department whose code starts with ``gov-`` is a government: of the division its code
    names (``gov-520526``), or of its ``region`` (``gov-guian``, 520900). That is what a rule's
    ``{region}`` resolves to.
    """

    code: str
    name: str
    region: str

    @property
    def is_government(self) -> bool:
        return self.code.startswith("gov-")


@dataclass
class Decision:
    """What the router suggests for one message, with its confidences and reasons.

    Confidences are in 0..1. ``confidence`` is the overall one: the estimated probability
    that the suggested department is the one an experienced operator would choose (0 when
    no department is suggested). Compare it with a line's auto-dispatch threshold: 0.8
    means "at least about nine in ten right" (99% on the labelled set; see ``routing``).
    """

    topic: tuple[str, str | None, str | None]
    topic_confidence: float
    category: str | None
    category_confidence: float
    region: str | None
    region_name: str | None
    region_confidence: float
    region_source: str | None  # "text" | "caller" | None
    department: str | None
    department_confidence: float
    rule_id: int | None
    confidence: float
    reasons: list[str] = field(default_factory=list)

    @property
    def topic1(self) -> str:
        return self.topic[0]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: ``topic`` becomes a list, everything else stays as is."""
        out = asdict(self)
        out["topic"] = list(self.topic)
        return out
