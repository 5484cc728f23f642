"""Suite v2's release checks: statistics of a candidate set that tell whether its labels leak.

Pure functions over :class:`tasks.suite.CandidateRecord` lists, the tasks' reference code and
prompts. Every statistic is plain JSON (floats rounded to 4 places, None where it is undefined,
e.g. a split lacking one of the labels), so it can go into a manifest's ``stats`` and its datasheet.
:func:`release_checks` applies the v2 release rules to such a stats dict.

The rules (bounds are the constants below):

- ``task_balance``: every task of every split with tasks has as many buggy as correct candidates,
  at least ``MIN_PER_LABEL`` of each;
- ``test_size``: the test split has at least ``MIN_TEST_CANDIDATES`` candidates;
- ``leakage``: the token n-gram classifier (:func:`tasks.build.leakage_auroc`) scores at most ``LEAKAGE_MAX``;
- ``similarity``: similarity to the reference, as a score for ``buggy``, has AUROC in
  ``[1 - SIMILARITY_BOUND, SIMILARITY_BOUND]`` on the test split and on all candidates;
- ``task_prior``: knowing the task tells nothing (task-prior AUROC exactly 0.5 on every split);
- ``authored``: at least ``MIN_AUTHORED_BUGGY`` authored buggy and ``MIN_AUTHORED_CORRECT`` authored
  correct candidates.

Surface probes. :func:`ngram_leakage_auroc` is the leakage check (token 1-3-grams, logistic
regression, trained on train, scored on test). :func:`surface_scores` gives every candidate an
out-of-fold score of that same model (folds by task), which v2's builder uses to drop the pairs
whose surface tells their labels (:func:`tasks.build.surface_filter`). Because that filter sees
this model, two probes it never sees are reported beside it (:func:`held_out_leakage`): character
2-5-grams (TF-IDF) and AST node-type 1-3-grams, each trained on train and scored on test.
"""

from __future__ import annotations

import ast
import difflib
import hashlib
import io
import statistics
import tokenize
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from tasks.labels import SUBTLETY_BUCKETS, subtlety_bucket
from tasks.suite import SPLITS, CandidateRecord

#: AUROC of similarity-to-reference (as a score for ``buggy``) must lie in [1 - bound, bound].
SIMILARITY_BOUND = 0.60
#: Fewest buggy (and fewest correct) candidates per task.
MIN_PER_LABEL = 4
#: Fewest candidates (buggy + correct) in the test split.
MIN_TEST_CANDIDATES = 600
#: Highest allowed surface-feature leakage AUROC.
LEAKAGE_MAX = 0.55
#: The task-prior AUROC every split must have (no task says anything about the label).
TASK_PRIOR_AUROC = 0.5
#: Fewest authored buggy / authored correct candidates.
MIN_AUTHORED_BUGGY = 328
MIN_AUTHORED_CORRECT = 164

#: The release rules by name, as :func:`release_checks` names them at the start of each failure.
RELEASE_RULES: dict[str, str] = {
    "task_balance": f"every task balanced, ≥ {MIN_PER_LABEL} buggy + {MIN_PER_LABEL} correct, in every split with tasks",
    "test_size": f"test split ≥ {MIN_TEST_CANDIDATES} candidates",
    "leakage": f"surface-feature leakage AUROC ≤ {LEAKAGE_MAX:.2f}",
    "similarity": f"similarity-to-reference AUROC in [{1 - SIMILARITY_BOUND:.2f}, {SIMILARITY_BOUND:.2f}] on test and all",
    "task_prior": f"task-prior AUROC = {TASK_PRIOR_AUROC} on every split",
    "authored": f"≥ {MIN_AUTHORED_BUGGY} authored buggy and ≥ {MIN_AUTHORED_CORRECT} authored correct",
}

#: Origins in the order tables show them; any other origin follows, by name.
ORIGINS = ("reference", "rewrite", "mutation", "authored")
#: The splits AUROCs are reported for: each split, then every candidate together.
AUROC_SPLITS = (*SPLITS, "all")

_NOISE = frozenset({tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
                    tokenize.ENCODING, tokenize.ENDMARKER})


def _round(x: float | None) -> float | None:
    return None if x is None else round(float(x), 4)


def _tokens(code: str) -> list[str]:
    """Python tokens of ``code`` without comments and layout; whitespace-split words if it does not tokenize."""
    try:
        return [t.string for t in tokenize.generate_tokens(io.StringIO(code).readline) if t.type not in _NOISE]
    except (tokenize.TokenError, SyntaxError, ValueError):
        return code.split()


def _similarity(code: str, reference: str) -> float:
    return difflib.SequenceMatcher(None, _tokens(code), _tokens(reference), autojunk=False).ratio()


def similarity_to_reference(code: str, reference: str) -> float:
    """Token-level similarity of ``code`` to ``reference``, in [0, 1] (1: the same token sequence).

    The difflib ``SequenceMatcher`` ratio over Python tokens, comments and layout tokens ignored;
    text that does not tokenize is compared as whitespace-split words. Never raises.
    """
    return round(_similarity(code, reference), 4)


def _by_split(cands: Sequence[CandidateRecord]) -> dict[str, list[CandidateRecord]]:
    return {sp: [c for c in cands if sp == "all" or c.split == sp] for sp in AUROC_SPLITS}


def _auroc(cands: Sequence[CandidateRecord], scores: Sequence[float]) -> float | None:
    """AUROC of ``scores`` for the label ``buggy``; None unless both labels occur."""
    y = [1 if c.label == "buggy" else 0 for c in cands]
    if len(set(y)) < 2:
        return None
    from sklearn.metrics import roc_auc_score

    return _round(roc_auc_score(y, list(scores)))


def _auroc_per_split(cands: Sequence[CandidateRecord],
                     score: Callable[[list[CandidateRecord]], list[float]]) -> dict[str, float | None]:
    return {sp: _auroc(group, score(group)) for sp, group in _by_split(cands).items()}


def similarity_auroc(cands: Sequence[CandidateRecord], references: dict[str, str]) -> dict[str, float | None]:
    """AUROC of similarity to the task's reference as a score for ``buggy``, per split and ``all``.

    Release rule: within ``[1 - SIMILARITY_BOUND, SIMILARITY_BOUND]`` = [0.40, 0.60] (on test and all),
    i.e. neither high nor low similarity to the reference tells the label.

    Raises:
        KeyError: a candidate's task has no reference.
    """
    sims = {id(c): _similarity(c.code, references[c.task_id]) for c in cands}
    return _auroc_per_split(cands, lambda group: [sims[id(c)] for c in group])


def task_prior_auroc(cands: Sequence[CandidateRecord]) -> dict[str, float | None]:
    """The best AUROC a predictor that sees only the task reaches, per split and ``all``.

    Each candidate is scored by its task's share of buggy candidates within the split (an in-sample
    oracle, so an upper bound for any task-only classifier). Exactly 0.5 when every task is balanced.
    """
    def score(group: list[CandidateRecord]) -> list[float]:
        n: Counter[str] = Counter(c.task_id for c in group)
        bad: Counter[str] = Counter(c.task_id for c in group if c.label == "buggy")
        return [bad[c.task_id] / n[c.task_id] for c in group]

    return _auroc_per_split(cands, score)


def prompt_length_auroc(cands: Sequence[CandidateRecord], prompts: dict[str, str]) -> dict[str, float | None]:
    """AUROC of the task prompt's length (characters) as a score for ``buggy``, per split and ``all``.

    Raises:
        KeyError: a candidate's task has no prompt.
    """
    return _auroc_per_split(cands, lambda group: [float(len(prompts[c.task_id])) for c in group])


def task_balance(cands: Sequence[CandidateRecord]) -> dict[str, dict[str, int | None]]:
    """Per split: ``tasks``, ``balanced`` (tasks with as many buggy as correct candidates),
    ``min_per_label`` (smallest min(buggy, correct) over the tasks) and ``max_per_label``
    (largest max(buggy, correct)); the last two are None for a split without tasks."""
    out: dict[str, dict[str, int | None]] = {}
    for sp in SPLITS:
        counts: dict[str, Counter[str]] = defaultdict(Counter)
        for c in cands:
            if c.split == sp:
                counts[c.task_id][c.label] += 1
        pairs = [(k["buggy"], k["correct"]) for k in counts.values()]
        out[sp] = {"tasks": len(pairs), "balanced": sum(1 for b, g in pairs if b == g),
                   "min_per_label": min((min(p) for p in pairs), default=None),
                   "max_per_label": max((max(p) for p in pairs), default=None)}
    return out


def _origins(cands: Sequence[CandidateRecord]) -> list[str]:
    seen = {c.origin for c in cands}
    return [o for o in ORIGINS if o in seen] + sorted(seen - set(ORIGINS))


def by_origin(cands: Sequence[CandidateRecord]) -> dict[str, dict[str, int]]:
    """Candidates per origin and label: ``{origin: {"buggy": n, "correct": n}}``."""
    return {o: {label: sum(1 for c in cands if c.origin == o and c.label == label) for label in ("buggy", "correct")}
            for o in _origins(cands)}


def families_by_origin(cands: Sequence[CandidateRecord]) -> dict[str, dict[str, int]]:
    """Buggy candidates per origin and bug family, most frequent family first (ties by name)."""
    buggy = [c for c in cands if c.label == "buggy"]
    out = {}
    for o in _origins(buggy):
        fams = Counter(c.family for c in buggy if c.origin == o)
        out[o] = dict(sorted(fams.items(), key=lambda kv: (-kv[1], kv[0])))
    return out


def subtlety_by_origin(cands: Sequence[CandidateRecord]) -> dict[str, dict[str, Any]]:
    """Per origin, over its buggy candidates: ``n``, ``median_subtlety``, ``median_failing_inputs``
    (of ``n_failed``), ``single_input`` (how many fail exactly one hidden input) and ``buckets``
    (count per :data:`tasks.labels.SUBTLETY_BUCKETS` name)."""
    buggy = [c for c in cands if c.label == "buggy"]
    out = {}
    for o in _origins(buggy):
        group = [c for c in buggy if c.origin == o]
        out[o] = {"n": len(group),
                  "median_subtlety": _round(statistics.median(c.subtlety for c in group)),
                  "median_failing_inputs": _round(statistics.median(c.n_failed for c in group)),
                  "single_input": sum(1 for c in group if c.n_failed == 1),
                  "buckets": {name: sum(1 for c in group if subtlety_bucket(c.subtlety) == name)
                              for _, name in SUBTLETY_BUCKETS}}
    return out


def check_stats(cands: Sequence[CandidateRecord], references: dict[str, str],
                prompts: dict[str, str]) -> dict[str, Any]:
    """Every statistic of this module under its stats key (what a v2 manifest adds to build's ``stats``)."""
    return {
        "by_origin": by_origin(cands),
        "families_by_origin": families_by_origin(cands),
        "subtlety_by_origin": subtlety_by_origin(cands),
        "task_balance": task_balance(cands),
        "similarity_auroc": similarity_auroc(cands, references),
        "task_prior_auroc": task_prior_auroc(cands),
        "prompt_length_auroc": prompt_length_auroc(cands, prompts),
    }


def _in_similarity_bounds(x: float) -> bool:
    return round(1 - SIMILARITY_BOUND, 4) <= x <= SIMILARITY_BOUND


def release_checks(stats: dict[str, Any]) -> list[str]:
    """The v2 release rules that ``stats`` breaks, one readable line each, starting with the rule's
    name (a key of :data:`RELEASE_RULES`). Empty: every rule holds. A missing stats key or an undefined
    value breaks its rule, except an undefined task-prior AUROC (a split without both labels), which
    ``task_balance`` reports.

    Args:
        stats: a suite's stats, with keys ``task_balance``, ``by_split``, ``leakage_auroc``,
            ``similarity_auroc``, ``task_prior_auroc`` and ``by_origin``.
    """
    fails: list[str] = []

    balance = stats.get("task_balance")
    if not isinstance(balance, dict):
        fails.append("task_balance: no task_balance in stats")
    else:
        for sp, b in balance.items():
            if not b.get("tasks"):
                continue
            if b.get("balanced") != b["tasks"]:
                fails.append(f"task_balance: {sp} has {b['tasks'] - (b.get('balanced') or 0)} of {b['tasks']} "
                             "tasks with unequal buggy and correct counts")
            low = b.get("min_per_label")
            if low is None or low < MIN_PER_LABEL:
                fails.append(f"task_balance: {sp} has a task with {low} candidates of one label "
                             f"(need ≥ {MIN_PER_LABEL} buggy and ≥ {MIN_PER_LABEL} correct)")

    test = (stats.get("by_split") or {}).get("test")
    n_test = (test.get("buggy", 0) + test.get("correct", 0)) if isinstance(test, dict) else 0
    if n_test < MIN_TEST_CANDIDATES:
        fails.append(f"test_size: the test split has {n_test} candidates (need ≥ {MIN_TEST_CANDIDATES})")

    leak = stats.get("leakage_auroc")
    if leak is None:
        fails.append("leakage: leakage_auroc is missing or undefined")
    elif leak > LEAKAGE_MAX:
        fails.append(f"leakage: leakage AUROC {leak:.4f} > {LEAKAGE_MAX:.2f}")

    sim = stats.get("similarity_auroc") or {}
    for sp in ("test", "all"):
        x = sim.get(sp)
        if x is None:
            fails.append(f"similarity: similarity AUROC on {sp} is missing or undefined")
        elif not _in_similarity_bounds(x):
            fails.append(f"similarity: similarity AUROC on {sp} is {x:.4f}, outside "
                         f"[{1 - SIMILARITY_BOUND:.2f}, {SIMILARITY_BOUND:.2f}]")

    prior = stats.get("task_prior_auroc")
    if not isinstance(prior, dict) or not prior:
        fails.append("task_prior: no task_prior_auroc in stats")
    else:
        for sp, x in prior.items():
            if x is not None and x != TASK_PRIOR_AUROC:
                fails.append(f"task_prior: task-prior AUROC on {sp} is {x:.4f} (must be {TASK_PRIOR_AUROC})")

    authored = (stats.get("by_origin") or {}).get("authored") or {}
    n_bug, n_ok = authored.get("buggy", 0), authored.get("correct", 0)
    if n_bug < MIN_AUTHORED_BUGGY or n_ok < MIN_AUTHORED_CORRECT:
        fails.append(f"authored: {n_bug} authored buggy and {n_ok} authored correct "
                     f"(need ≥ {MIN_AUTHORED_BUGGY} and ≥ {MIN_AUTHORED_CORRECT})")
    return fails


# ------------------------------------------------------------------ surface probes

NGRAM_TOKENS = r"[A-Za-z_]+|\d+|[^\sA-Za-z_\d]"
"""The leakage check's token pattern: identifiers, numbers, and every other character alone."""
SURFACE_FOLDS = 5
"""Folds (by task) of :func:`surface_scores`."""


def _ngram_model(seed: int) -> tuple[Any, Any]:
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression

    return (CountVectorizer(token_pattern=NGRAM_TOKENS, ngram_range=(1, 3), min_df=2, lowercase=False),
            LogisticRegression(max_iter=2000, C=1.0, random_state=seed))


def _fit_score(model: tuple[Any, Any], train: Sequence[tuple[str, str]], test: Sequence[str]) -> Any:
    vec, clf = model
    clf.fit(vec.fit_transform([c for c, _ in train]), [1 if label == "buggy" else 0 for _, label in train])
    return clf.predict_proba(vec.transform(list(test)))[:, 1]


def _two_labels(*parts: Sequence[tuple[str, str]]) -> bool:
    return all(len({label for _, label in part}) == 2 for part in parts)


def ngram_leakage_auroc(train: Sequence[tuple[str, str]], test: Sequence[tuple[str, str]],
                        seed: int = 0) -> float | None:
    """AUROC on ``test`` of a bag-of-token-n-grams logistic regression trained on ``train`` (items: (code, label)).

    Near 0.5 means surface features do not give the label away; None when a split lacks a label.
    """
    if not _two_labels(train, test):
        return None
    from sklearn.metrics import roc_auc_score

    scores = _fit_score(_ngram_model(seed), train, [c for c, _ in test])
    return float(roc_auc_score([1 if label == "buggy" else 0 for _, label in test], scores))


def surface_scores(items: Sequence[tuple[str, str, str]], seed: int = 0, folds: int = SURFACE_FOLDS) -> list[float]:
    """Out-of-fold p(buggy) of the leakage check's model for items (code, label, task_id).

    Folds are by task (``sha256(f"{seed}:{task_id}") % folds``), so no item is scored by a model
    that saw its task. A fold whose complement lacks a label scores 0.5.
    """
    fold = [int(hashlib.sha256(f"{seed}:{t}".encode()).hexdigest()[:8], 16) % folds for _, _, t in items]
    out = [0.5] * len(items)
    for f in range(folds):
        train = [(c, label) for (c, label, _), g in zip(items, fold) if g != f]
        held = [i for i, g in enumerate(fold) if g == f]
        if not held or not _two_labels(train):
            continue
        for i, p in zip(held, _fit_score(_ngram_model(seed), train, [items[i][0] for i in held])):
            out[i] = round(float(p), 6)
    return out


def _ast_words(code: str) -> str:
    try:
        return " ".join(type(n).__name__ for n in ast.walk(ast.parse(code)))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return ""


def held_out_leakage(train: Sequence[tuple[str, str]], test: Sequence[tuple[str, str]],
                     seed: int = 0) -> dict[str, float | None]:
    """AUROC on ``test`` of two surface probes v2's filter never sees: ``char_ngram`` and ``ast_ngram``."""
    if not _two_labels(train, test):
        return {"char_ngram": None, "ast_ngram": None}
    from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    y = [1 if label == "buggy" else 0 for _, label in test]
    char = (TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True),
            LogisticRegression(max_iter=3000, C=1.0, random_state=seed))
    tree = (CountVectorizer(token_pattern=r"\S+", ngram_range=(1, 3), min_df=2, lowercase=False),
            LogisticRegression(max_iter=3000, C=1.0, random_state=seed))
    return {
        "char_ngram": _round(roc_auc_score(y, _fit_score(char, train, [c for c, _ in test]))),
        "ast_ngram": _round(roc_auc_score(y, _fit_score(tree, [(_ast_words(c), label) for c, label in train],
                                                         [_ast_words(c) for c, _ in test]))),
    }
