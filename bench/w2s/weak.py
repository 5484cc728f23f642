"""Weak supervisors: where the weak labels (train) and the floor (test) come from.

Three sources, one result (:class:`WeakLabels`: p_buggy per candidate on train and test):

- ``ngram[:N]``: built in. A bag-of-token-n-grams (1-3) logistic regression (scikit-learn)
  fitted on N candidates of the **dev** split (default 60, drawn with a seeded permutation),
  reading the candidate's code only; it then scores the train split (the weak labels, soft)
  and the test split (the floor). The suite is built so that such a classifier stays near
  chance, so this is a deliberately weak supervisor.
- a stored run directory (``obench eval --split train``) for the labels, plus a test-split
  run of the same reviewer (same reviewer fingerprint) for the floor.
- a reviewer spec (``lint``, ``hf:<path>``, ``openai:<model>``...): run with
  :func:`bench.runs.evaluate.evaluate` on train and on test (needs a sandbox), into
  ``<out>/weak/train`` and ``<out>/weak/test`` (resumable run directories).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bench.w2s.data import Example, W2SData, W2SError
from tasks.suite import Suite

NGRAM_DEFAULT = 60
NGRAM_TOKEN_PATTERN = r"[A-Za-z_]+|\d+|[^\sA-Za-z_\d]"


@dataclass(frozen=True)
class WeakLabels:
    """The weak supervisor's p_buggy by candidate id on train (labels) and test (floor).

    Attributes:
        source: what the supervisor is (kind, spec, run directories, fingerprints...).
        train: candidate_id -> p_buggy on the train split.
        test: candidate_id -> p_buggy on the test split.
    """

    source: dict[str, Any]
    train: Mapping[str, float] = field(repr=False)
    test: Mapping[str, float] = field(repr=False)

    @property
    def spec(self) -> str:
        """A short name (``ngram:60``, ``lint``, ``labels``...)."""
        return str(self.source.get("spec") or self.source.get("kind") or "weak")

    def digest(self) -> str:
        """sha256 of the labels and the floor predictions (ids and values, sorted by id)."""
        body = {"train": sorted((k, round(float(v), 10)) for k, v in self.train.items()),
                "test": sorted((k, round(float(v), 10)) for k, v in self.test.items())}
        return "sha256:" + hashlib.sha256(json.dumps(body, separators=(",", ":")).encode()).hexdigest()

    def describe(self) -> dict[str, Any]:
        """``source`` plus the digest and counts, for the manifest."""
        return {**self.source, "sha256": self.digest(), "n_train_labels": len(self.train),
                "n_test_predictions": len(self.test)}


def parse_ngram(spec: str) -> int | None:
    """N of an ``ngram[:N]`` spec; None when ``spec`` is not an ngram spec.

    Raises:
        W2SError: ``ngram:<not a positive integer>``.
    """
    if spec == "ngram":
        return NGRAM_DEFAULT
    if not spec.startswith("ngram:"):
        return None
    arg = spec.split(":", 1)[1]
    if not arg.isdigit() or int(arg) < 4:
        raise W2SError(f"--weak {spec}: N must be an integer >= 4 (the number of labelled dev candidates), "
                       f"e.g. ngram:{NGRAM_DEFAULT}")
    return int(arg)


def ngram_weak(suite: Suite, data: W2SData, n: int = NGRAM_DEFAULT, seed: int = 0) -> WeakLabels:
    """The built-in n-gram supervisor, fitted on ``n`` dev candidates, scoring ``data``'s train and test.

    Raises:
        W2SError: ``n`` larger than the dev split, or a draw with a single label.
    """
    from sklearn import __version__ as sklearn_version
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression

    dev = sorted(suite.split("dev"), key=lambda c: c.candidate_id)
    if n > len(dev):
        raise W2SError(f"--weak ngram:{n}: the dev split has only {len(dev)} candidates")
    order = np.random.default_rng(seed).permutation(len(dev))[:n]
    picked = [dev[i] for i in sorted(order)]
    y = np.array([c.label == "buggy" for c in picked], dtype=int)
    if y.sum() in (0, len(y)):
        raise W2SError(f"--weak ngram:{n} with seed {seed} drew dev candidates of one label only; use a larger N")
    vec = CountVectorizer(token_pattern=NGRAM_TOKEN_PATTERN, ngram_range=(1, 3), min_df=1, lowercase=False)
    clf = LogisticRegression(C=1.0, max_iter=5000, random_state=seed)
    clf.fit(vec.fit_transform([c.code for c in picked]), y)

    def scores(xs: Sequence[Example]) -> dict[str, float]:
        if not xs:
            return {}
        p = clf.predict_proba(vec.transform([e.code for e in xs]))[:, 1]
        return {e.candidate_id: float(v) for e, v in zip(xs, p)}

    source = {"kind": "ngram", "spec": f"ngram:{n}", "n_labelled": n, "seed": seed, "labelled_split": "dev",
              "labelled_ids_sha256": "sha256:" + hashlib.sha256(
                  "\n".join(c.candidate_id for c in picked).encode()).hexdigest(),
              "n_labelled_buggy": int(y.sum()), "input": "candidate code only",
              "vectorizer": {"model": "CountVectorizer", "token_pattern": NGRAM_TOKEN_PATTERN, "ngram_range": [1, 3],
                             "min_df": 1, "lowercase": False, "vocabulary": len(vec.vocabulary_)},
              "classifier": {"model": "LogisticRegression", "C": 1.0, "max_iter": 5000}, "sklearn": sklearn_version}
    return WeakLabels(source, scores(data.train), scores(data.test))


def _check_run(suite: Suite, run_dir: Path, split: str, option: str) -> tuple[Any, dict[str, float]]:
    """The manifest and p_buggy by candidate id of a stored run of ``suite`` on ``split``."""
    from bench.runs.rundir import RunDirError, load_manifest, load_predictions

    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise W2SError(f"{option} {run_dir}: no such run directory")
    try:
        manifest = load_manifest(run_dir)
        preds = load_predictions(run_dir)
    except RunDirError as exc:
        raise W2SError(f"{option} {run_dir}: {exc}") from exc
    want = suite.manifest.content_hash
    got = manifest.suite.get("content_hash")
    if got != want:
        raise W2SError(f"{option} {run_dir} is a run of suite {manifest.suite.get('name')} "
                       f"{manifest.suite.get('version')} ({got}), not of {suite.manifest.name} "
                       f"{suite.manifest.version} ({want}); re-run the reviewer on this suite")
    if manifest.split != split:
        raise W2SError(f"{option} {run_dir} is a run on the {manifest.split!r} split; {option} needs a run on the "
                       f"{split!r} split (obench eval --reviewer {manifest.reviewer.get('spec', 'SPEC')} "
                       f"--split {split})")
    if manifest.status == "running":
        raise W2SError(f"{option} {run_dir} is unfinished (status 'running'); run its `obench eval` command again "
                       "to complete it")
    truth = {c.candidate_id: c.label for c in suite.split(split)}
    out: dict[str, float] = {}
    for p in preds:
        if p.candidate_id not in truth:
            raise W2SError(f"{option} {run_dir}: candidate {p.candidate_id} is not in the {split} split of the suite")
        if p.label != truth[p.candidate_id]:
            raise W2SError(f"{option} {run_dir}: candidate {p.candidate_id} is labelled {p.label!r} in the run but "
                           f"{truth[p.candidate_id]!r} in the suite")
        out[p.candidate_id] = min(1.0, max(0.0, float(p.p_buggy)))
    if not out:
        raise W2SError(f"{option} {run_dir} holds no predictions")
    return manifest, out


def _run_source(manifest: Any, run_dir: Path, n_errors: int) -> dict[str, Any]:
    return {"dir": str(run_dir), "split": manifest.split, "limit": manifest.limit, "n_items": manifest.n_items,
            "items_sha256": manifest.items_sha256, "reviewer_fingerprint": manifest.reviewer_fingerprint,
            "status": manifest.status, "n_errors": n_errors}


def weak_from_runs(suite: Suite, train_run: Path, test_run: Path) -> WeakLabels:
    """Weak labels from a stored train-split run and the floor from a test-split run of the same reviewer.

    Raises:
        W2SError: not a run directory, another suite, the wrong split, an unfinished run, or two
            runs of different reviewers (fingerprints differ).
    """
    from bench.runs.rundir import load_predictions

    m_train, train = _check_run(suite, train_run, "train", "--weak")
    m_test, test = _check_run(suite, test_run, "test", "--weak-test")
    if (m_train.reviewer_fingerprint, m_train.protocol) != (m_test.reviewer_fingerprint, m_test.protocol):
        raise W2SError(f"--weak {train_run} ({m_train.reviewer.get('spec')}, {m_train.protocol}) and --weak-test "
                       f"{test_run} ({m_test.reviewer.get('spec')}, {m_test.protocol}) are runs of different reviewers "
                       "(reviewer fingerprints differ); the floor must be the same weak supervisor on the test split")
    errors = [sum(p.error is not None for p in load_predictions(d)) for d in (train_run, test_run)]
    source = {"kind": "run", "spec": str(m_train.reviewer.get("spec", "?")), "protocol": m_train.protocol,
              "reviewer": m_train.reviewer, "train_run": _run_source(m_train, Path(train_run), errors[0]),
              "test_run": _run_source(m_test, Path(test_run), errors[1])}
    return WeakLabels(source, train, test)


SandboxFactory = Callable[[], Any]


def _run_eval(cfg: Any, suite: Suite, sandbox: Any, out: Path, command: Sequence[str]) -> None:
    from bench.reviewing.verify import GoldCheckFailed
    from bench.runs.evaluate import EvalError, evaluate

    try:
        evaluate(cfg, suite, sandbox, out, command=list(command))
    except (EvalError, GoldCheckFailed) as exc:
        raise W2SError(f"running the weak reviewer {cfg.reviewer!r} on {cfg.split}: {exc}") from exc


def weak_from_spec(suite: Suite, spec: str, out: Path, sandbox: Any, *, limit_train: int = 0, limit_test: int = 0,
                   seed: int = 0, model_options: Any = None, command: Sequence[str] = ("obench", "w2s")) -> WeakLabels:
    """Run reviewer ``spec`` on train and test with :func:`bench.runs.evaluate.evaluate` (resumable), then read both runs.

    Raises:
        W2SError: an unknown spec, or a run that fails (gold check, reviewer errors).
    """
    from bench.models import ModelOptions
    from bench.runs.evaluate import EvalConfig

    opts = model_options or ModelOptions()
    for split, limit in (("train", limit_train), ("test", limit_test)):
        cfg = EvalConfig(reviewer=spec, split=split, limit=limit, seed=seed, model_options=opts)
        _run_eval(cfg, suite, sandbox, out / split, command)
    weak = weak_from_runs(suite, out / "train", out / "test")
    return WeakLabels({**weak.source, "kind": "spec", "spec": spec, "ran_by": "obench w2s"}, weak.train, weak.test)


def weak_test_from_train_run(suite: Suite, train_run: Path, out: Path, sandbox: Any, *, limit_test: int = 0,
                             model_options: Any = None, command: Sequence[str] = ("obench", "w2s")) -> WeakLabels:
    """Given a stored train run only, run its reviewer on the test split (into ``out``) for the floor.

    The reviewer is rebuilt from the run's manifest (spec, protocol, seed, decoding, prompt);
    the new run must have the same reviewer fingerprint.

    Raises:
        W2SError: the reviewer cannot be rebuilt identically (pass ``--weak-test RUN_DIR`` instead).
    """
    from bench.models import GenerateConfig, ModelOptions
    from bench.runs.evaluate import EvalConfig

    m, _ = _check_run(suite, train_run, "train", "--weak")
    spec = m.reviewer.get("spec")
    if not spec:
        raise W2SError(f"--weak {train_run}: its manifest names no reviewer spec; pass --weak-test RUN_DIR")
    strong = m.reviewer.get("strong", {}).get("spec") if isinstance(m.reviewer.get("strong"), dict) else None
    kw: dict[str, Any] = {}
    if m.decoding:
        kw["generate"] = GenerateConfig(**{k: v for k, v in m.decoding.items()
                                           if k in ("max_new_tokens", "temperature", "top_p", "seed")})
    if m.protocol == "direct" and isinstance(m.prompt, dict) and m.prompt.get("name"):
        kw["prompt"] = m.prompt["name"]
    cfg = EvalConfig(reviewer=str(spec), protocol=m.protocol, split="test", limit=limit_test,
                     seed=int(m.seeds.get("seed", 0)), strong=strong, model_options=model_options or ModelOptions(),
                     **kw)
    _run_eval(cfg, suite, sandbox, out, command)
    try:
        return weak_from_runs(suite, train_run, out)
    except W2SError as exc:
        raise W2SError(f"{exc}. The test run was rebuilt from {train_run}/manifest.json; pass --weak-test RUN_DIR "
                       "with a test-split run of the same reviewer instead") from exc


def resolve_weak(suite: Suite, data: W2SData, weak: str, weak_test: Path | None, out: Path,
                 sandbox: SandboxFactory, *, limit_train: int = 0, limit_test: int = 0, seed: int = 0,
                 model_options: Any = None, command: Sequence[str] = ("obench", "w2s")) -> WeakLabels:
    """The weak supervisor named on the command line.

    Args:
        suite: the suite.
        data: the train / test candidates (for ``ngram``).
        weak: ``ngram[:N]``, a run directory (train split), or a reviewer spec.
        weak_test: a test-split run directory of the same reviewer (only with a run directory).
        out: the experiment's output directory (reviewer runs go to ``out/weak/{train,test}``).
        sandbox: opens the sandbox, called only when a reviewer has to run.
        limit_train: ``--limit`` of a reviewer run on train.
        limit_test: ``--limit`` of a reviewer run on test.
        seed: the ngram draw / classifier seed, and the reviewer runs' seed.
        model_options: how to reach a model reviewer.
        command: recorded in reviewer run manifests.

    Raises:
        W2SError: with what to change.
    """
    n = parse_ngram(weak)
    if n is not None:
        if weak_test is not None:
            raise W2SError("--weak-test goes with --weak RUN_DIR; the ngram supervisor scores the test split itself")
        return ngram_weak(suite, data, n, seed)
    path = Path(weak).expanduser()
    if path.is_dir():
        if weak_test is not None:
            return weak_from_runs(suite, path, Path(weak_test))
        return weak_test_from_train_run(suite, path, out / "weak" / "test", sandbox(), limit_test=limit_test,
                                        model_options=model_options, command=command)
    if weak_test is not None:
        raise W2SError(f"--weak-test goes with --weak RUN_DIR, and {weak!r} is not a directory")
    if weak.startswith(("/", ".", "~")) or (("/" in weak or "\\" in weak) and ":" not in weak):
        raise W2SError(f"--weak {weak}: no such run directory (or give a reviewer spec like lint, or ngram[:N])")
    from bench.models import is_model_spec
    from bench.reviewing.reviewers import UnknownReviewer, create_reviewer

    if not is_model_spec(weak):
        try:  # fail before opening a sandbox on a spec no reviewer understands (models load in evaluate)
            create_reviewer(weak)
        except UnknownReviewer as exc:
            if "sandbox" not in str(exc):
                raise W2SError(f"--weak {weak}: {exc}; or give a run directory, or ngram[:N]") from exc
    return weak_from_spec(suite, weak, out / "weak", sandbox(), limit_train=limit_train, limit_test=limit_test,
                          seed=seed, model_options=model_options, command=command)
