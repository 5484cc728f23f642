"""One weak-to-strong experiment: weak labels -> students (per method, per seed) -> test metrics -> PGR.

For every seed ``s``:

- the **ceiling**: the student trained on the ground-truth labels of the train split;
- per method, the **w2s** student trained on the weak labels (see :mod:`bench.w2s.train`).

The **floor** is the weak supervisor's own p_buggy on the test split. Everything is
scored on the test split with :func:`bench.metrics.scoring.score` (95% CIs by task) and combined
into PGR by :func:`bench.w2s.pgr.pgr_stats`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bench.metrics.scoring import Item, score
from bench.w2s.data import W2SData, W2SError, check_data
from bench.w2s.pgr import PGR_METRICS, Interval, pgr_stats
from bench.w2s.records import (
    Est,
    MeanResult,
    MethodResult,
    PGREst,
    SeedResult,
    W2SManifest,
    W2SPrediction,
    W2SResults,
)
from bench.w2s.students import Encoder, HFEncoder, embed
from bench.w2s.train import TrainConfig, bootstrap_labels, check_methods, finetune, fit_probe
from bench.w2s.weak import WeakLabels

Progress = Callable[[str], None]


@dataclass(frozen=True)
class W2SConfig:
    """An experiment's settings.

    Attributes:
        methods: training methods (``naive``, ``aux-conf``, ``bootstrap``).
        seeds: student seeds (initialisation and batch order); the weak supervisor is fixed.
        probe: True: a linear probe on frozen embeddings; False: fine-tune the encoder.
        train: training hyperparameters.
        n_boot: bootstrap draws for every CI.
        boot_seed: seed of the bootstrap draws.
    """

    methods: tuple[str, ...] = ("naive",)
    seeds: tuple[int, ...] = (0, 1, 2)
    probe: bool = True
    train: TrainConfig = field(default_factory=TrainConfig)
    n_boot: int = 1000
    boot_seed: int = 0

    @property
    def mode(self) -> str:
        return "probe" if self.probe else "finetune"


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def _est(e: Any) -> Est:
    return Est(value=e.value, ci=list(e.ci))


def _interval(i: Interval) -> Est:
    return Est(value=i.value, ci=list(i.ci))


def _pgr(i: Interval) -> PGREst:
    return PGREst(value=i.value, ci=list(i.ci), undefined=i.undefined)


class _Scorer:
    """Metrics of p_buggy vectors on the test items, with :func:`bench.metrics.scoring.score` CIs by task."""

    def __init__(self, task_ids: Sequence[str], y: np.ndarray, n_boot: int, seed: int) -> None:
        self.task_ids, self.y, self.n_boot, self.seed = list(task_ids), y, n_boot, seed

    def __call__(self, p: np.ndarray) -> dict[str, Est]:
        items = [Item(task_id=t, buggy=bool(b), verdict="buggy" if v >= 0.5 else "correct", p_buggy=float(v))
                 for t, b, v in zip(self.task_ids, self.y, p)]
        est = score(items, n_boot=self.n_boot, seed=self.seed)
        return {m: _est(est[m]) for m in PGR_METRICS}


def score_w2s(y_test: np.ndarray, test_tasks: Sequence[str], weak: np.ndarray, ceilings: dict[int, np.ndarray],
              w2s: dict[str, dict[int, np.ndarray]], inter: dict[int, np.ndarray], *, methods: Sequence[str],
              seeds: Sequence[int], n_boot: int, boot_seed: int) -> tuple[dict[str, Est], list[MethodResult]]:
    """The floor's metrics and every method's results from test-split p_buggy vectors (one home of the scoring:
    :func:`run_w2s` and :func:`recompute_results` both call it).

    Args:
        y_test: 1 for buggy, per test item; ``test_tasks`` their task ids (the bootstrap resamples tasks).
        weak: the weak supervisor's p_buggy; ``ceilings[seed]`` the ground-truth student's;
            ``w2s[method][seed]`` each weak-trained student's; ``inter[seed]`` the bootstrap method's
            intermediate predictions.
    """
    scorer = _Scorer(test_tasks, y_test, n_boot, boot_seed)
    weak_est = scorer(weak)
    ceil_est = {s: scorer(ceilings[s]) for s in seeds}
    results: list[MethodResult] = []
    for m in methods:
        stats = {k: pgr_stats(k, y_test, test_tasks, weak, [w2s[m][s] for s in seeds],
                              [ceilings[s] for s in seeds], n_boot=n_boot, seed=boot_seed)
                 for k in PGR_METRICS}
        seeds_out = []
        for j, s in enumerate(seeds):
            seeds_out.append(SeedResult(
                seed=s, w2s=scorer(w2s[m][s]), ceiling=ceil_est[s],
                gap={k: _interval(stats[k].per_seed_gap[j]) for k in PGR_METRICS},
                pgr={k: _pgr(stats[k].per_seed_pgr[j]) for k in PGR_METRICS},
                intermediate=scorer(inter[s]) if m == "bootstrap" else None))
        mean = {k: MeanResult(weak=weak_est[k], w2s=_interval(stats[k].w2s_mean),
                              ceiling=_interval(stats[k].ceiling_mean), gap=_interval(stats[k].gap),
                              pgr=_pgr(stats[k].pgr), pgr_seed_sd=stats[k].pgr_seed_sd) for k in PGR_METRICS}
        results.append(MethodResult(method=m, seeds=seeds_out, mean=mean))
    return weak_est, results


def _rows(data: W2SData, split: str, p: np.ndarray, role: str, method: str | None = None,
          seed: int | None = None) -> list[W2SPrediction]:
    xs = data.train if split == "train" else data.test
    return [W2SPrediction(split=split, role=role, method=method, seed=seed, candidate_id=e.candidate_id,
                          task_id=e.task_id, label="buggy" if e.buggy else "correct", p_buggy=float(v))
            for e, v in zip(xs, p)]


def _jsonl(rows: Sequence[W2SPrediction]) -> str:
    return "".join(json.dumps(r.model_dump(), sort_keys=True) + "\n" for r in rows)


def run_w2s(cfg: W2SConfig, data: W2SData, weak: WeakLabels, student: Encoder, out: Path, *,
            suite_info: dict[str, Any] | None = None, command: Sequence[str] = ("obench", "w2s"),
            progress: Progress | None = None, cache_dir: Path | None = None) -> W2SResults:
    """Run the experiment and write its output directory (see :mod:`bench.w2s.records`); returns the results.

    Args:
        cfg: methods, seeds, mode, hyperparameters, bootstrap.
        data: train / test candidates (restricted here to those the weak supervisor labelled).
        weak: weak labels on train and the floor's predictions on test.
        student: the encoder (any :class:`~bench.w2s.students.Encoder` for a probe; an
            :class:`~bench.w2s.students.HFEncoder` to fine-tune).
        out: output directory (created; earlier results in it are replaced, the cache is kept).
        suite_info: name, version, content hash of the suite (for the manifest).
        command: the command line (for the manifest).
        progress: called with a short message at each step.
        cache_dir: the embedding cache (default ``out/cache``).

    Raises:
        W2SError: nothing to train or test on, or fine-tuning a student that is not a transformers model.
    """
    from bench.runs.evaluate import host_info, package_versions
    from bench.runs.rundir import utc_now

    say = progress or (lambda _msg: None)
    methods = check_methods(cfg.methods)
    if not cfg.seeds:
        raise W2SError("no seeds: pass --seeds N with N >= 1")
    if len(set(cfg.seeds)) != len(cfg.seeds):
        raise W2SError(f"seeds must be distinct, got {list(cfg.seeds)}")
    if not cfg.probe and not isinstance(student, HFEncoder):
        raise W2SError(f"fine-tuning needs a transformers student (minilm or hf:<path>), not {student.spec}")
    full = data
    data = data.restrict(weak.train.keys(), weak.test.keys())
    check_data(data)
    notes = []
    if len(data.train) < len(full.train):
        notes.append(f"the weak supervisor labelled {len(data.train)} of the {len(full.train)} selected train "
                     "candidates; the students train on those")
    if len(data.test) < len(full.test):
        notes.append(f"the weak supervisor's test predictions cover {len(data.test)} of the {len(full.test)} "
                     "selected test candidates; everything is scored on those")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    started = utc_now()
    identity = student.identity()
    hyper = {**cfg.train.to_json(), "mode": cfg.mode}
    manifest = W2SManifest(
        status="running", command=list(command), suite=suite_info or {}, weak=weak.describe(), student=identity,
        mode=cfg.mode, methods=list(methods), seeds=list(cfg.seeds), hyperparameters=hyper,
        data={**data.describe(), "notes": notes},
        bootstrap={"n": cfg.n_boot, "seed": cfg.boot_seed, "level": 0.95, "metric_ci": "percentile, test tasks",
                   "pgr_ci": "percentile, test tasks and seeds resampled together (per seed: test tasks)"},
        packages=package_versions(), host=host_info(), started_at=started)
    _atomic_write(out / "manifest.json", json.dumps(manifest.model_dump(), indent=2, sort_keys=True) + "\n")

    y_train = np.array([e.buggy for e in data.train], dtype=float)
    y_test = np.array([e.buggy for e in data.test], dtype=int)
    w_train = np.array([weak.train[e.candidate_id] for e in data.train], dtype=float)
    w_test = np.array([weak.test[e.candidate_id] for e in data.test], dtype=float)
    train_tasks = [e.task_id for e in data.train]

    need_embeddings = cfg.probe or "bootstrap" in methods
    x_train = x_test = np.zeros((0, 0))
    n_new = 0
    if need_embeddings:
        say(f"embedding {len(data.train) + len(data.test)} candidates with {student.spec}")
        x_all, n_new = embed(student, [e.text for e in data.train + data.test], cache_dir or out / "cache")
        x_train, x_test = x_all[: len(data.train)], x_all[len(data.train) :]
    t_embed = time.monotonic()
    tok_train: list[list[int]] = []
    tok_test: list[list[int]] = []
    if not cfg.probe:
        assert isinstance(student, HFEncoder)
        tok_train = student.tokenize([e.text for e in data.train])
        tok_test = student.tokenize([e.text for e in data.test])

    def train(targets: np.ndarray, method: str, seed: int) -> np.ndarray:
        if cfg.probe:
            return fit_probe(x_train, targets, method, cfg.train, seed).predict(x_test)
        return finetune(student, tok_train, targets, tok_test, method, cfg.train, seed)

    ceilings: dict[int, np.ndarray] = {}
    w2s: dict[str, dict[int, np.ndarray]] = {m: {} for m in methods}
    inter: dict[int, np.ndarray] = {}
    for seed in cfg.seeds:
        say(f"seed {seed}: ceiling (ground truth)")
        ceilings[seed] = train(y_train, "naive", seed)
        for m in methods:
            say(f"seed {seed}: {m}")
            if m == "bootstrap":
                labels, inter[seed] = bootstrap_labels(x_train, w_train, train_tasks, x_test, cfg.train, seed)
                w2s[m][seed] = train(labels, "naive", seed)
            else:
                w2s[m][seed] = train(w_train, m, seed)
    t_train = time.monotonic()

    say("scoring")
    test_tasks = [e.task_id for e in data.test]
    weak_est, results = score_w2s(y_test, test_tasks, w_test, ceilings, w2s, inter, methods=methods, seeds=cfg.seeds,
                                  n_boot=cfg.n_boot, boot_seed=cfg.boot_seed)
    res = W2SResults(metrics=list(PGR_METRICS), weak_spec=weak.spec, student=student.spec,
                     student_input=data.student_input, mode=cfg.mode,
                     seeds=list(cfg.seeds), n_train=len(data.train), n_test=len(data.test),
                     n_test_tasks=len(set(test_tasks)), weak=weak_est, methods=results,
                     ci={"level": 0.95, "n_boot": cfg.n_boot, "seed": cfg.boot_seed,
                         "P": "percentile bootstrap by test task (bench.metrics.scoring.score); mean over seeds: tasks and "
                              "seeds resampled together",
                         "PGR": "ratio of seed means; percentile bootstrap resampling test tasks and seeds together; "
                                "per seed: test tasks; undefined when the gap P_ceiling - P_weak is <= 0 or its CI "
                                "includes 0"})
    t_score = time.monotonic()

    rows = _rows(data, "test", w_test, "weak")
    for s in cfg.seeds:
        rows += _rows(data, "test", ceilings[s], "ceiling", seed=s)
        for m in methods:
            rows += _rows(data, "test", w2s[m][s], "w2s", method=m, seed=s)
        if s in inter:
            rows += _rows(data, "test", inter[s], "intermediate", method="bootstrap", seed=s)
    _atomic_write(out / "predictions.jsonl", _jsonl(rows))
    _atomic_write(out / "weak_labels.jsonl", _jsonl(_rows(data, "train", w_train, "weak")))
    _atomic_write(out / "results.json", json.dumps(res.model_dump(), indent=2, sort_keys=True) + "\n")
    from bench.w2s.report import write_plot, write_report

    final = manifest.model_copy(update={
        "status": "complete", "ended_at": utc_now(),
        "timings": {"embed_s": round(t_embed - t0, 3), "embedded_now": float(n_new),
                    "train_s": round(t_train - t_embed, 3), "score_s": round(t_score - t_train, 3)}})
    write_plot(out / "w2s.png", res)
    final = final.model_copy(update={"timings": {**final.timings, "total_s": round(time.monotonic() - t0, 3)}})
    _atomic_write(out / "manifest.json", json.dumps(final.model_dump(), indent=2, sort_keys=True) + "\n")
    write_report(out / "report.md", res, final)
    return res


def load_results(out: Path) -> tuple[W2SResults, W2SManifest]:
    """``results.json`` and ``manifest.json`` of an experiment directory.

    Raises:
        W2SError: missing or unreadable files.
    """
    out = Path(out)
    try:
        res = W2SResults.model_validate_json((out / "results.json").read_text(encoding="utf-8"))
        man = W2SManifest.model_validate_json((out / "manifest.json").read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise W2SError(f"{out} is not a w2s experiment directory (no {Path(exc.filename).name})") from exc
    except ValueError as exc:
        raise W2SError(f"{out}: unreadable w2s results: {str(exc).splitlines()[0]}") from exc
    return res, man


def recompute_results(out: Path) -> W2SResults:
    """An experiment's results recomputed from its ``predictions.jsonl`` (the test-split p_buggy of the floor,
    every ceiling and every student), never from the numbers in ``results.json``: the leaderboard's w2s view.

    The descriptive fields (supervisor, student, train size) and the bootstrap settings are taken from
    ``results.json``; every number is computed again by :func:`score_w2s`, on the test items in the order of the
    weak rows (the order the experiment scored them in).

    Raises:
        W2SError: a missing or unreadable file, a line that is not a prediction, or predictions that do not
            cover every (role, method, seed) of the results on the same candidates.
    """
    claimed, _ = load_results(out)
    path = Path(out) / "predictions.jsonl"
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise W2SError(f"{out}: no predictions.jsonl, so its numbers cannot be recomputed; publish the experiment "
                       "directory's predictions.jsonl with results.json") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise W2SError(f"{path}: unreadable ({type(exc).__name__}: {exc})") from None
    by_key: dict[tuple[str, str | None, int | None], dict[str, float]] = {}
    weak_order: list[tuple[str, str, bool]] = []
    for n, line in enumerate(lines, 1):
        try:
            row = W2SPrediction.model_validate_json(line)
        except ValueError as exc:
            raise W2SError(f"{path}:{n}: not a w2s prediction ({str(exc).splitlines()[0]})") from None
        if row.split != "test" or row.label not in ("buggy", "correct") or not np.isfinite(row.p_buggy):
            raise W2SError(f"{path}:{n}: split {row.split!r}, label {row.label!r}, p_buggy {row.p_buggy!r}: "
                           "expected a test-split row, label buggy or correct, a finite p_buggy")
        seen = by_key.setdefault((row.role, row.method, row.seed), {})
        if row.candidate_id in seen:
            raise W2SError(f"{path}:{n}: {row.candidate_id} appears twice for role {row.role}, method {row.method}, "
                           f"seed {row.seed}")
        seen[row.candidate_id] = row.p_buggy
        if row.role == "weak":
            weak_order.append((row.candidate_id, row.task_id, row.label == "buggy"))
    ids = [c for c, _, _ in weak_order]
    if not ids:
        raise W2SError(f"{path}: no weak rows (role weak): the floor cannot be recomputed")

    def vec(role: str, method: str | None, seed: int | None) -> np.ndarray:
        got = by_key.get((role, method, seed))
        if got is None or set(got) != set(ids):
            raise W2SError(f"{path}: the {role} predictions" + (f" of method {method}" if method else "")
                           + (f", seed {seed}" if seed is not None else "") + " do not cover exactly the "
                           f"{len(ids)} test candidates of the weak rows")
        return np.array([got[c] for c in ids], dtype=float)

    methods = [m.method for m in claimed.methods]
    seeds = list(claimed.seeds)
    ceilings = {s: vec("ceiling", None, s) for s in seeds}
    w2s = {m: {s: vec("w2s", m, s) for s in seeds} for m in methods}
    inter = {s: vec("intermediate", "bootstrap", s) for s in seeds} if "bootstrap" in methods else {}
    y = np.array([b for _, _, b in weak_order], dtype=int)
    tasks = [t for _, t, _ in weak_order]
    n_boot, boot_seed = int(claimed.ci.get("n_boot", 1000)), int(claimed.ci.get("seed", 0))
    weak_est, results = score_w2s(y, tasks, vec("weak", None, None), ceilings, w2s, inter, methods=methods,
                                  seeds=seeds, n_boot=n_boot, boot_seed=boot_seed)
    return claimed.model_copy(update={"weak": weak_est, "methods": results, "n_test": len(ids),
                                      "n_test_tasks": len(set(tasks))})
