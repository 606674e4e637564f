"""Measure the router against labelled messages: accuracy per field, confusions, speed.

Records are dicts (one JSON object per line in a file)::

    {"text": "...", "line": "fupin", "topic": "农村农业", "category": "complaint",
     "region": "520526", "department": "gov-520500", "caller_region": "520500"}

Every field after ``line`` may be missing (then it is not scored); ``region`` or
``department`` set to null means "none is right". ``topic`` is the level-1 topic. Region is
scored at county level: a prefecture truth matches only that prefecture, a county truth only
that county. ``caller_region`` is passed to the router. Other keys (``set``...) are kept:
records with a ``set`` get a summary line per set.

``main(path, router)`` is what ``hotline routing-eval FILE.jsonl`` calls; it prints lines like
``topic accuracy: 0.873 (n=412)`` that scripts may parse.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from routing import places
from routing.model import Decision
from routing.router import Router

FIELDS = ("topic", "category", "region", "department")
THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9)


@dataclass
class FieldScore:
    """Accuracy of one field, with what it was confused with."""

    n: int = 0
    correct: int = 0
    confusions: Counter = field(default_factory=Counter)

    @property
    def accuracy(self) -> float:
        return self.correct / self.n if self.n else 0.0


@dataclass
class Report:
    """The outcome of an evaluation run."""

    fields: dict[str, FieldScore]
    messages: int
    seconds: float  # time spent in route() only
    latencies_ms: list[float]
    # (threshold, share of messages at or above it, department accuracy among those)
    calibration: list[tuple[float, float, float]]
    by_set: dict[str, dict[str, FieldScore]]

    @property
    def per_second(self) -> float:
        return self.messages / self.seconds if self.seconds else 0.0

    def accuracy(self, name: str) -> float:
        return self.fields[name].accuracy

    def lines(self) -> list[str]:
        """The report as printed."""
        out = [f"messages: {self.messages}"]
        for name in FIELDS:
            score = self.fields.get(name)
            if score is None or score.n == 0:
                continue
            out.append(f"{name} accuracy: {score.accuracy:.3f} (n={score.n})")
        for set_name, scores in sorted(self.by_set.items()):
            parts = [f"{n} {s.accuracy:.3f}" for n, s in scores.items() if s.n]
            count = max((s.n for s in scores.values()), default=0)
            out.append(f"set {set_name} (n={count}): " + ", ".join(parts))
        lat = sorted(self.latencies_ms)
        if lat:
            p99 = lat[min(len(lat) - 1, round(0.99 * (len(lat) - 1)))]
            out.append(
                f"throughput: {self.per_second:.0f} messages/s "
                f"(mean {sum(lat) / len(lat):.2f} ms, p99 {p99:.2f} ms)"
            )
        if self.calibration:
            out.append("auto-dispatch at confidence ≥ t: share of messages, department accuracy")
            for t, share, acc in self.calibration:
                out.append(f"  t={t:.1f}: {share:.3f} dispatched, {acc:.3f} right")
        for name in FIELDS:
            score = self.fields.get(name)
            if score is None or not score.confusions:
                continue
            top = score.confusions.most_common(5)
            out.append(f"top {name} confusions (truth → suggested ×n):")
            out.extend(f"  {truth} → {pred} ×{n}" for (truth, pred), n in top)
        return out

    def print(self, out: TextIO | None = None) -> None:
        stream = out or sys.stdout
        for line in self.lines():
            print(line, file=stream)


def _truth_and_guess(name: str, record: dict, decision: Decision) -> tuple[str | None, str | None]:
    truth = record.get(name)
    if name == "topic":
        return truth, decision.topic[0]
    if name == "category":
        return truth, decision.category
    if name == "region":
        truth = places.current_code(str(truth)) if truth else None
        return truth, decision.region
    return truth or None, decision.department


def evaluate(records: Iterable[dict], router: Router, out: TextIO | None = None,
             quiet: bool = False) -> Report:
    """Route every record, score the fields it labels, print the summary, return it."""
    fields = {name: FieldScore() for name in FIELDS}
    by_set: dict[str, dict[str, FieldScore]] = defaultdict(lambda: {n: FieldScore() for n in FIELDS})
    latencies: list[float] = []
    dispatch: list[tuple[float, bool]] = []
    router.route("预热", "board")  # load the dictionaries outside the timed part
    for record in records:
        started = time.perf_counter()
        decision = router.route(record["text"], record.get("line", ""), record.get("caller_region"))
        latencies.append((time.perf_counter() - started) * 1000.0)
        for name in FIELDS:
            if name not in record or (name in ("topic", "category") and record[name] is None):
                continue
            truth, guess = _truth_and_guess(name, record, decision)
            for score in (fields[name], by_set[record["set"]][name] if "set" in record else None):
                if score is None:
                    continue
                score.n += 1
                if truth == guess:
                    score.correct += 1
                elif score is fields[name]:
                    score.confusions[(truth, guess)] += 1
        if "department" in record:
            right = (record["department"] or None) == decision.department
            dispatch.append((decision.confidence, right))
    calibration = []
    for t in THRESHOLDS:
        chosen = [right for conf, right in dispatch if conf >= t]
        if dispatch:
            share = len(chosen) / len(dispatch)
            calibration.append((t, share, sum(chosen) / len(chosen) if chosen else 0.0))
    report = Report(
        fields=fields,
        messages=len(latencies),
        seconds=sum(latencies) / 1000.0,
        latencies_ms=latencies,
        calibration=calibration,
        by_set=dict(by_set),
    )
    if not quiet:
        report.print(out)
    return report


def load(path: str | Path) -> list[dict]:
    """Records of a JSON-lines file (blank lines and lines starting with # are skipped)."""
    records = []
    with Path(path).open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{lineno}: not JSON: {exc}") from exc
    return records


def main(path: str | Path, router: Router | None = None, out: TextIO | None = None) -> int:
    """Evaluate ``router`` (the demo rules and departments if None) on a JSONL file."""
    if router is None:
        from routing.rules import default_rules, demo_departments

        departments = demo_departments()
        router = Router(default_rules(departments), departments)
    evaluate(load(path), router, out=out)
    return 0


if __name__ == "__main__":  # python -m routing.evaluate FILE.jsonl
    if len(sys.argv) != 2:
        print("usage: python -m routing.evaluate FILE.jsonl", file=sys.stderr)
        raise SystemExit(2)
    raise SystemExit(main(sys.argv[1]))
