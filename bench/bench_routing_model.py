"""Benchmark: level-1 topic accuracy on real citizens' messages — the learned model against the
lexicon alone, 5-fold cross-validated on the shipped real data — and what routing with the
model costs per message.

    python bench/bench_routing_model.py            # 5 folds on all 8,593 real messages
    python bench/bench_routing_model.py --folds 3  # quicker

What is measured, all in one run on this machine:

- the lexicon alone (``Router`` without a model, line ``board``) on every real message;
- the learned model (``routing.learned``: character 1–3-grams, LinearSVC,
  temperature-calibrated) out of fold, alone and with the lexicon's scores mixed in: folds keep a message's re-postings together,
  so a fold never tests on a copy of what it trained on;
- routing as intake does it (the model, and the lexicon alone for a topic the model never
  learned when it is sure), out of fold;
- per topic, the commonest confusions, and the confidence table (share of messages at or above
  each threshold, accuracy among them) of the model's calibrated probability;
- the project's own labelled sets (tests/data/*.jsonl, written here) with a model trained on
  all the real data, against the lexicon alone;
- routing time per message with the model (median and p99 over the real messages, after
  warm-up), against the lexicon alone — a ratio in the same run — and the stored model's size.
  The CPU time the routing thread spent is printed beside the wall clock: on a loaded machine
  (many processes to two cores) a route that needs 2–3 ms of CPU is preempted and waits its
  turn, so its wall-clock median can be several times its CPU time while the lexicon's ~1 ms
  mostly fits in one time slice.
"""

from __future__ import annotations

import argparse
import glob
import json
import math
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from routing import Router, default_rules, demo_departments, segment, topics
from routing.learned import (
    LEXICON_MIX,
    TopicModel,
    calibrate,
    out_of_fold_scores,
    prepare,
    shipped_examples,
    softmax,
)
from routing.router import LEXICON_ONLY_CONFIDENCE


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()
    departments = demo_departments()
    lexicon_router = Router(default_rules(departments), departments)

    examples = shipped_examples()
    t0 = time.perf_counter()
    prepared = [prepare(e.text) for e in examples]
    print(f"real messages: {len(examples)} (prepared in {time.perf_counter() - t0:.0f} s)")

    t0 = time.perf_counter()
    decisions = [lexicon_router.route(e.text, "board") for e in examples]
    lexicon = [d.topic for d in decisions]
    lexicon_conf = [d.topic_confidence for d in decisions]
    lexicon_scores = []
    for norm in prepared:
        bounds = segment.boundaries(segment.cut(norm))
        lexicon_scores.append(topics.level1_scores(norm, bounds))
    print(f"lexicon read every message in {time.perf_counter() - t0:.0f} s")
    truth = [e.topic for e in examples]
    lex_acc = np.mean([p[0] == t for p, t in zip(lexicon, truth, strict=True)])
    print(f"lexicon alone: topic accuracy {lex_acc:.4f} (n={len(truth)})")

    t0 = time.perf_counter()
    temperature = calibrate(examples, prepared)
    scores, labels, classes = out_of_fold_scores(
        examples, prepared, args.folds, temperature,
        progress=lambda m: print(f"  {m}", flush=True))
    probs = np.apply_along_axis(softmax, 1, scores, temperature)
    predicted = [classes[i] for i in probs.argmax(axis=1)]
    confidence = probs.max(axis=1)
    right = np.array([p == t for p, t in zip(predicted, labels, strict=True)])
    print(f"learned model, {args.folds}-fold cross-validated: topic accuracy {right.mean():.4f} "
          f"(temperature {temperature}; {time.perf_counter() - t0:.0f} s)")

    mix = np.array([[math.log1p(s.get(c, 0.0)) for c in classes] for s in lexicon_scores])
    for weight in (0.05, 0.1, 0.2, 0.3):
        mixed = [classes[i] for i in (scores + weight * mix).argmax(axis=1)]
        acc = np.mean([p == t for p, t in zip(mixed, labels, strict=True)])
        print(f"  model + lexicon mixed at {weight}: topic accuracy {acc:.4f}")
    mixed = [classes[i] for i in (scores + LEXICON_MIX * mix).argmax(axis=1)]
    combined = []
    for i, (lex, conf) in enumerate(zip(lexicon, lexicon_conf, strict=True)):
        own = lex[0] not in classes and conf >= LEXICON_ONLY_CONFIDENCE
        combined.append(lex[0] if own else mixed[i])
    comb_acc = np.mean([p == t for p, t in zip(combined, labels, strict=True)])
    taken = sum(1 for i, lex in enumerate(lexicon)
                if lex[0] not in classes and lexicon_conf[i] >= LEXICON_ONLY_CONFIDENCE)
    print(f"routing as intake does (model + lexicon mixed at {LEXICON_MIX}, lexicon alone for "
          f"topics the model lacks): topic accuracy {comb_acc:.4f}"
          f" (lexicon kept for {taken} messages)")

    print("per topic (n, model, lexicon):")
    for cls in classes:
        idx = [i for i, t in enumerate(labels) if t == cls]
        lex_right = np.mean([lexicon[i][0] == cls for i in idx])
        print(f"  {cls:8s} {len(idx):5d}  {right[idx].mean():.3f}  {lex_right:.3f}")
    from collections import Counter

    confusions = Counter((t, p) for t, p in zip(labels, predicted, strict=True) if t != p)
    print("commonest confusions (truth → model):")
    for (t, p), n in confusions.most_common(8):
        print(f"  {t} → {p} ×{n}")
    print("confidence table (threshold: share at or above, accuracy among them):")
    for threshold in (0.5, 0.6, 0.7, 0.8, 0.9, 0.95):
        mask = confidence >= threshold
        acc = right[mask].mean() if mask.any() else 0.0
        print(f"  {threshold:.2f}: {mask.mean():.3f}  {acc:.3f}")
    for form in ("raw", "raw_concat", "segmented"):
        idx = [i for i, e in enumerate(examples) if e.form == form]
        print(f"  text form {form:10s} n={len(idx):5d} model {right[idx].mean():.3f}")

    t0 = time.perf_counter()
    model = TopicModel.train(examples, prepared=prepared, temperature=temperature)
    print(f"final model trained in {time.perf_counter() - t0:.0f} s; "
          f"stored size {len(model.dumps()) / 1e6:.1f} MB")
    model_router = Router(default_rules(departments), departments, model=model)

    for path in sorted(glob.glob(str(Path(__file__).resolve().parents[1] /
                                     "tests/data/routing_*.jsonl"))):
        lines = Path(path).read_text(encoding="utf-8").splitlines()
        records = [json.loads(line) for line in lines if line.strip()]
        records = [r for r in records if r.get("topic")]
        lex_ok = sum(lexicon_router.route(r["text"], r["line"]).topic[0] == r["topic"]
                     for r in records)
        mod_ok = sum(model_router.route(r["text"], r["line"]).topic[0] == r["topic"]
                     for r in records)
        print(f"own set {Path(path).name}: n={len(records)} lexicon {lex_ok / len(records):.3f}"
              f" with model {mod_ok / len(records):.3f}")

    sample = [e.text for e in examples[:600]]
    for router in (lexicon_router, model_router):
        for text in sample[:50]:
            router.route(text, "board")
    timings = {}
    for name, router in (("lexicon", lexicon_router), ("model", model_router)):
        times, cpu = [], []
        for text in sample:
            t0, c0 = time.perf_counter(), time.thread_time()
            router.route(text, "board")
            times.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.thread_time() - c0) * 1000)
        times.sort()
        timings[name] = (statistics.median(times), times[int(len(times) * 0.99)],
                         statistics.median(cpu))
        print(f"route() with {name}: median {timings[name][0]:.2f} ms, "
              f"p99 {timings[name][1]:.2f} ms; CPU time median {timings[name][2]:.2f} ms")
    print(f"ratio model/lexicon (median): {timings['model'][0] / timings['lexicon'][0]:.2f}× "
          f"wall clock, {timings['model'][2] / timings['lexicon'][2]:.2f}× CPU time")


if __name__ == "__main__":
    main()
