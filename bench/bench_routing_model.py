"""Benchmark: level-1 topic accuracy on real citizens' messages — the learned model against the
lexicon alone and a plain model, 5-fold cross-validated on the shipped real data, on random
folds and on folds of unseen matters — and what routing with the model costs per message.

    python bench/bench_routing_model.py            # 5 folds on all 8,593 real messages
    python bench/bench_routing_model.py --folds 3  # quicker
    python bench/bench_routing_model.py --no-confirm  # without the two confirming clusterings

What is measured, all in one run on this machine:

- the lexicon alone (``Router`` without a model, line ``board``) on every real message;
- the learned model (``routing.learned``: character 1–3-grams, words and word pairs, the
  lexicon's topic scores; LinearSVC, temperature-calibrated) out of fold: folds keep a
  message's re-postings together, so a fold never tests on a copy of what it trained on;
- the same on *matter folds* (``matter_groups``): the messages are clustered by their words
  into MATTERS groups (elevators, bus lines, express-delivery fees, medical-insurance refunds…)
  and a fold holds whole matters, so every test message is about a matter the model never saw.
  Random folds overstate what real traffic gets: the held-out real posts the project is judged
  on (495, kept elsewhere) gave a plain TF-IDF + linear SVM about 0.83 against 0.925 on random
  folds, and the lexicon 0.798. Matter folds reproduce that gap — the plain model (``plain``:
  character 1–3-grams, LinearSVC with defaults) scores 0.928 on random folds and 0.857 on
  matter folds, 0.833 on the posts written as raw text (title and details, as the held-out
  posts are) — so they are the figure to improve; both are printed, so that a change that only
  fits one of them shows. A change chosen on these matter folds is confirmed on two other
  clusterings (k-means seed 1; 150 smaller matters), printed after them;
- routing as intake does it (the model, and the lexicon alone for a topic the model never
  learned when it is sure), out of fold;
- per topic, the commonest confusions, and the confidence table (share of messages at or above
  each threshold, accuracy among them) of the model's calibrated probability;
- the project's own labelled sets (tests/data/*.jsonl, written here) with a model trained on
  all the real data, against the lexicon alone;
- routing time per message with the model as intake loads it (its stored, compact form;
  median and p99 over the real messages, after warm-up), against the lexicon alone — a ratio in the same run — and the stored model's size.
  The CPU time the routing thread spent is printed beside the wall clock: on a loaded machine
  (many processes to two cores) a route that needs 2–3 ms of CPU is preempted and waits its
  turn, so its wall-clock median can be several times its CPU time while the lexicon's ~1 ms
  mostly fits in one time slice.
"""

from __future__ import annotations

import argparse
import glob
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from routing import Router, default_rules, demo_departments
from routing.learned import (
    MATTERS,
    TopicModel,
    calibrate,
    duplicate_groups,
    matter_groups,
    out_of_fold_scores,
    prepare,
    shipped_examples,
    softmax,
)
from routing.router import LEXICON_ONLY_CONFIDENCE


def plain_out_of_fold(prepared: list, labels: list[str], groups: list[int],
                      folds: int) -> np.ndarray:
    """Predictions of the plain model (character 1–3-grams, LinearSVC with defaults) from
    models that did not see them."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.model_selection import StratifiedGroupKFold
    from sklearn.svm import LinearSVC

    y = np.array(labels)
    out = np.empty(len(y), dtype=object)
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=2020)
    for train, test in splitter.split(np.zeros(len(y)), y, groups):
        vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True,
                                     min_df=2, dtype=np.float32)
        features = vectorizer.fit_transform([prepared[i].text for i in train])
        classifier = LinearSVC().fit(features, y[train])
        out[test] = classifier.predict(vectorizer.transform([prepared[i].text for i in test]))
    return out


def accuracy_line(right: np.ndarray, forms: np.ndarray) -> str:
    return f"{right.mean():.4f} (raw posts {right[forms == 'raw'].mean():.4f})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--no-confirm", dest="confirm", action="store_false",
                        help="skip the confirming matter folds (two other clusterings)")
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
    print(f"lexicon read every message in {time.perf_counter() - t0:.0f} s")
    truth = [e.topic for e in examples]
    forms = np.array([e.form for e in examples])
    lex_right = np.array([p[0] == t for p, t in zip(lexicon, truth, strict=True)])
    print(f"lexicon alone: topic accuracy {accuracy_line(lex_right, forms)} (n={len(truth)})")

    t0 = time.perf_counter()
    matters = matter_groups(prepared, args.folds)
    print(f"{MATTERS} matters found in {time.perf_counter() - t0:.0f} s")
    t0 = time.perf_counter()
    for name, groups in (("random", duplicate_groups(prepared)), ("matter", matters)):
        plain = plain_out_of_fold(prepared, truth, groups, args.folds)
        print(f"plain model (char 1-3-grams, LinearSVC), {args.folds} {name} folds: "
              f"{accuracy_line(plain == np.array(truth), forms)}")
    print(f"  ({time.perf_counter() - t0:.0f} s)")

    t0 = time.perf_counter()
    temperature = calibrate(examples, prepared)
    scores, labels, classes = out_of_fold_scores(
        examples, prepared, args.folds, temperature,
        progress=lambda m: print(f"  {m}", flush=True))
    probs = np.apply_along_axis(softmax, 1, scores, temperature)
    predicted = [classes[i] for i in probs.argmax(axis=1)]
    confidence = probs.max(axis=1)
    right = np.array([p == t for p, t in zip(predicted, labels, strict=True)])
    print(f"learned model, {args.folds} random folds: topic accuracy "
          f"{accuracy_line(right, forms)} (temperature {temperature}; "
          f"{time.perf_counter() - t0:.0f} s)")
    def grouped(groups: list[int]) -> tuple[np.ndarray, np.ndarray, str]:
        """Out-of-fold scores with whole groups held out, which of them are right, and how
        long it took."""
        t0 = time.perf_counter()
        fold_scores, _, _ = out_of_fold_scores(examples, prepared, args.folds, temperature,
                                               groups=groups)
        right = np.array([classes[i] == t for i, t in
                          zip(fold_scores.argmax(axis=1), labels, strict=True)])
        return fold_scores, right, f"{time.perf_counter() - t0:.0f} s"

    matter_scores, matter_right, took = grouped(matters)
    print(f"learned model, {args.folds} matter folds: topic accuracy "
          f"{accuracy_line(matter_right, forms)} ({took})")
    print("  per topic on matter folds: " + ", ".join(
        f"{c} {matter_right[np.array(labels) == c].mean():.3f}" for c in classes))
    if args.confirm:
        # Choices were made on the matter folds above: other clusterings of the messages
        # (another k-means seed; three times as many, smaller matters) confirm them.
        for name, groups in (
                (f"{MATTERS} matters (k-means seed 1)",
                 matter_groups(prepared, args.folds, seed=1)),
                (f"{3 * MATTERS} matters", matter_groups(prepared, args.folds, 3 * MATTERS))):
            _, other_right, took = grouped(groups)
            print(f"learned model, {args.folds} folds of {name}, to confirm: topic accuracy "
                  f"{accuracy_line(other_right, forms)} ({took})")

    for name, fold_scores in (("random", scores), ("matter", matter_scores)):
        combined = []
        for i, (lex, conf) in enumerate(zip(lexicon, lexicon_conf, strict=True)):
            own = lex[0] not in classes and conf >= LEXICON_ONLY_CONFIDENCE
            combined.append(lex[0] if own else classes[fold_scores[i].argmax()])
        comb = np.array([p == t for p, t in zip(combined, labels, strict=True)])
        taken = sum(1 for i, lex in enumerate(lexicon)
                    if lex[0] not in classes and lexicon_conf[i] >= LEXICON_ONLY_CONFIDENCE)
        print(f"routing as intake does (the model; the lexicon alone for a topic the model "
              f"lacks), {name} folds: topic accuracy {accuracy_line(comb, forms)}"
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
    matter_probs = np.apply_along_axis(softmax, 1, matter_scores, temperature)
    matter_conf = matter_probs.max(axis=1)
    print("  threshold  random folds (share, accuracy)  matter folds (share, accuracy)")
    for threshold in (0.5, 0.6, 0.7, 0.8, 0.9, 0.95):
        cells = []
        for conf, ok in ((confidence, right), (matter_conf, matter_right)):
            mask = conf >= threshold
            cells.append(f"{mask.mean():.3f}  {ok[mask].mean() if mask.any() else 0.0:.3f}")
        print(f"  {threshold:.2f}:      {cells[0]}                    {cells[1]}")
    for form in ("raw", "raw_concat", "segmented"):
        idx = [i for i, e in enumerate(examples) if e.form == form]
        print(f"  text form {form:10s} n={len(idx):5d} model {right[idx].mean():.3f}, "
              f"matter folds {matter_right[idx].mean():.3f}")

    t0 = time.perf_counter()
    model = TopicModel.train(examples, prepared=prepared, temperature=temperature)
    print(f"final model trained in {time.perf_counter() - t0:.0f} s (after reading); "
          f"stored size {len(model.dumps()) / 1e6:.1f} MB")
    # Routed with the stored (compact) form, as intake does: the freshly trained scikit-learn
    # pipeline decides the same but costs about 2 ms more per message.
    model_router = Router(default_rules(departments), departments,
                          model=TopicModel.loads(model.dumps()))

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
