"""Build a suite: tasks with visible and hidden tests, labelled candidates, splits.

Every label comes from execution in the sandbox:

1. Source-test inputs are recorded by running each task's own ``check`` against the
   reference in the sandbox; visible tests are the docstring examples with the
   reference's outputs.
2. Hidden inputs grow from those seeds (:mod:`tasks.augment`); the gold self-check
   then runs every reference on all its hidden inputs, untraced, and the build
   stops if any differs.
3. Candidates: the reference and semantics-preserving rewrites of it (correct
   class), and single-site mutants of those same rewrites (buggy class), so both
   classes share one distribution of surface forms. A mutant is kept only if it
   passes every visible test and fails at least one hidden input; a rewrite only
   if it passes everything. Timeouts, memory errors and crashes that would decide
   a label are re-run alone in a fresh sandbox first.
"""

from __future__ import annotations

import ast
import hashlib
import json
import random
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness import codec
from harness.executor import confirm_calls
from harness.jobs import CallJob, CallResult, Limits, calibrated_timeout
from harness.sandbox import Sandbox
from tasks.augment import AugmentConfig, grow_hidden
from tasks.compare import outcomes_differ
from tasks.contracts import Contract
from tasks.labels import SUBTLETY_BUCKETS, Case, Judgement, Test, label_cases, subtlety_bucket, witness_records
from tasks.mutants import propose_mutants
from tasks.rewrites import normalise, rewrite
from tasks.sources import SourceTask
from tasks.visible import Example, parse_examples

COLLECT = '''

def __obench_collect__():
    import copy as __copy, random as __random
    __random.seed(0)
    __calls = []
    __ref = {entry}
    __depth = [0]

    def __rec(*a):
        if __depth[0] == 0:  # the test's own calls, not the reference's recursion
            __calls.append(__copy.deepcopy(a))
        __depth[0] += 1
        try:
            return __ref(*a)
        finally:
            __depth[0] -= 1

    globals()["{entry}"] = __rec
    check(__rec)
    return __calls
'''


@dataclass(frozen=True)
class BuildConfig:
    """Knobs of a suite build (all recorded in the manifest)."""

    seed: int = 0
    hidden_target: int = 150
    augment_rounds: int = 8
    mutants_per_task: int = 150
    rewrites_per_task: int = 16
    max_buggy_per_task: int = 7
    max_correct_per_task: int = 7
    min_time_limit_s: float = 2.0
    time_limit_k: float = 20.0
    split_fractions: tuple[float, float, float] = (0.6, 0.2, 0.2)
    witnesses: int = 3


@dataclass
class TaskSpec:
    """A task during the build."""

    source: SourceTask
    reference: str
    protected: set[str]
    contract: Contract
    visible_inputs: list[tuple[Any, ...]] = field(default_factory=list)
    visible_outputs: list[Any] = field(default_factory=list)
    docstring_disagrees: list[int] = field(default_factory=list)
    source_inputs: list[tuple[Any, ...]] = field(default_factory=list)
    hidden_inputs: list[tuple[Any, ...]] = field(default_factory=list)
    hidden_outputs: list[Any] = field(default_factory=list)
    hidden_origin: list[str] = field(default_factory=list)
    time_limit_s: float = 1.0
    split: str = "train"
    notes: list[str] = field(default_factory=list)
    examples: list[Example] = field(default_factory=list)

    @property
    def task_id(self) -> str:
        return self.source.task_id


@dataclass
class CandidateSpec:
    """A candidate during the build."""

    task_id: str
    code: str
    kind: str  # "reference" | "rewrite" | "mutation"
    rewrites: tuple[str, ...]
    family: str = ""
    operator: str = ""
    changed_lines: tuple[int, ...] = ()
    label: str = ""
    witnesses: list[dict[str, Any]] = field(default_factory=list)
    n_failed: int = 0
    n_hidden: int = 0
    original_failed: int = 0
    dropped: str = ""


class BuildError(RuntimeError):
    """The build cannot produce a trustworthy suite."""


class GoldCheckError(BuildError):
    """A reference solution failed its own hidden tests in the sandbox."""


def split_of(task_id: str, seed: int, fractions: tuple[float, float, float]) -> str:
    """Deterministic split of a task (by task, never by candidate)."""
    h = int(hashlib.sha256(f"{seed}:{task_id}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    if h < fractions[0]:
        return "train"
    if h < fractions[0] + fractions[1]:
        return "dev"
    return "test"


def _protected(prompt: str, entry_point: str) -> set[str]:
    try:
        return {n.name for n in ast.parse(prompt).body if isinstance(n, ast.FunctionDef) and n.name != entry_point}
    except SyntaxError:
        return set()


class SuiteBuilder:
    """Runs the build steps against a sandbox; each step reports progress by name."""

    def __init__(self, sandbox: Sandbox, config: BuildConfig, progress: Callable[[str, int, int], None] | None = None) -> None:
        self.sandbox = sandbox
        self.config = config
        self.progress = progress or (lambda step, done, total: None)
        self.stats: dict[str, Any] = {}

    # -------------------------------------------------------------- execution helpers
    def _run(self, jobs: list[CallJob], step: str = "") -> list[list[CallResult]]:
        """Run reference jobs; infrastructure failures are re-run with backoff
        (:func:`harness.executor.confirm_calls`), and the build stops if one remains
        (an infra outcome must never shape the suite)."""
        out: list[list[CallResult]] = []
        chunk = 64
        for i in range(0, len(jobs), chunk):
            part, _ = confirm_calls(self.sandbox, jobs[i: i + chunk], self.sandbox.run_calls(jobs[i: i + chunk]),
                                    select=None)
            for res in part:
                if any(r.infra for r in res):
                    raise BuildError(f"sandbox infrastructure failed on one job after retries: {res[0].error}")
            out.extend(part)
            if step:
                self.progress(step, min(i + chunk, len(jobs)), len(jobs))
        return out

    @staticmethod
    def _tests(s: TaskSpec, visible_only: bool = False) -> list[Test]:
        tests = list(zip(s.visible_inputs, s.visible_outputs))
        return tests if visible_only else tests + list(zip(s.hidden_inputs, s.hidden_outputs))

    def _case(self, s: TaskSpec, code: str, limits: Limits, visible_only: bool = False) -> Case:
        tests = self._tests(s, visible_only)
        return Case(CallJob.create(code, s.source.entry_point, [a for a, _ in tests], limits=limits), tests,
                    len(s.visible_inputs), s.contract.unordered, s.contract.valid_output)

    def _label(self, cases: list[Case], step: str, confirm: bool = True) -> list[tuple[Judgement, list[CallResult]]]:
        """:func:`tasks.labels.label_cases`; a remaining infra outcome stops the build."""
        judged = label_cases(self.sandbox, cases, confirm=confirm,
                             progress=lambda done, total: self.progress(step, done, total))
        for j, _ in judged:
            if j.label == "infra":
                raise BuildError(f"sandbox infrastructure failed on one job after retries: {j.reason}")
        return judged

    # -------------------------------------------------------------- steps
    def prepare(self, sources: Sequence[SourceTask], contracts: dict[str, Contract]) -> list[TaskSpec]:
        specs = []
        missing = [s.task_id for s in sources if s.task_id not in contracts]
        if missing:
            raise ValueError(f"no input contract for {len(missing)} tasks, e.g. {missing[:5]}")
        for s in sources:
            spec = TaskSpec(source=s, reference=normalise(s.reference), protected=_protected(s.prompt, s.entry_point),
                            contract=contracts[s.task_id])
            spec.split = split_of(s.task_id, self.config.seed, self.config.split_fractions)
            spec.examples = parse_examples(s.prompt, s.entry_point)
            spec.visible_inputs = [e.args for e in spec.examples if spec.contract.accepts(e.args)]
            specs.append(spec)
        # Source-test inputs, recorded in the sandbox.
        limits = Limits(timeout_s=30.0, memory_mb=512)
        jobs = [CallJob.create(s.source.reference + "\n" + s.source.test + COLLECT.replace("{entry}", s.source.entry_point),
                               "__obench_collect__", [()], limits=limits) for s in specs]
        for spec, res in zip(specs, self._run(jobs, "source tests")):
            r = res[0]
            if r.status != "ok":
                raise GoldCheckError(f"{spec.task_id}: the reference fails its own tests in the sandbox: "
                                     f"{r.status} {r.error}")
            seen: set[str] = set()
            for args in r.decoded:
                key = codec.dumps(list(args))
                if key not in seen and spec.contract.accepts(tuple(args)):
                    seen.add(key)
                    spec.source_inputs.append(tuple(args))
        # Visible outputs from the reference.
        jobs = [CallJob.create(s.reference, s.source.entry_point, s.visible_inputs, limits=limits) for s in specs]
        for spec, res in zip(specs, self._run(jobs, "visible tests")):
            keep_in: list[tuple[Any, ...]] = []
            keep_out: list[Any] = []
            by_key = {codec.dumps(list(e.args)): e for e in spec.examples}
            for args, r in zip(spec.visible_inputs, res):
                if r.status != "ok":
                    spec.notes.append(f"docstring example {args!r} makes the reference fail ({r.status}); dropped")
                    continue
                e = by_key.get(codec.dumps(list(args)))
                if e is not None and e.has_expected and outcomes_differ("ok", e.expected, None, r.decoded,
                                                                          unordered=spec.contract.unordered):
                    spec.docstring_disagrees.append(len(keep_in))
                keep_in.append(args)
                keep_out.append(r.decoded)
            spec.visible_inputs, spec.visible_outputs = keep_in, keep_out
        return specs

    def hidden(self, specs: list[TaskSpec]) -> None:
        cfg = AugmentConfig(target=self.config.hidden_target, rounds=self.config.augment_rounds, seed=self.config.seed)
        limits = Limits(timeout_s=10.0, memory_mb=512)
        pools = grow_hidden(
            [(s.task_id, s.reference, s.source.entry_point, s.contract, s.source_inputs, s.visible_inputs) for s in specs],
            lambda jobs: self._run(jobs), cfg, limits,
            progress=lambda rnd: self.progress("hidden tests", rnd + 1, cfg.rounds + 1),
        )
        for s in specs:
            p = pools[s.task_id]
            s.hidden_inputs, s.hidden_outputs, s.hidden_origin = p.inputs, p.outputs, p.origin
        self.stats["contract_rejected_inputs"] = sum(p.rejected_by_contract for p in pools.values())
        self.stats["reference_failed_inputs"] = sum(p.reference_failed for p in pools.values())

    def gold_check(self, specs: list[TaskSpec]) -> None:
        """Every reference passes all its visible and hidden tests, untraced; sets time limits."""
        cases = [self._case(s, s.reference, Limits(timeout_s=10.0, memory_mb=512)) for s in specs]
        failures = []
        for s, (j, res) in zip(specs, self._label(cases, "gold self-check")):
            if j.label != "correct":
                failures.append(f"{s.task_id}: reference is {j.shown} against its recorded outputs "
                                f"({len(j.failing)} inputs differ)")
            slowest = max((r.duration_s for r in res), default=0.0)
            limit = calibrated_timeout(slowest, self.config.time_limit_k, self.config.min_time_limit_s)
            s.time_limit_s = float(-(-limit // 0.5) * 0.5)  # round up to 0.5 s so the hash is stable
        if failures:
            raise GoldCheckError("gold self-check failed:\n" + "\n".join(failures[:20]))

    def candidates(self, specs: list[TaskSpec]) -> list[CandidateSpec]:
        cfg = self.config
        cands: list[CandidateSpec] = []
        for s in specs:
            rng = random.Random(f"{cfg.seed}:{s.task_id}:candidates")
            variants: dict[str, tuple[str, ...]] = {s.reference: ()}
            for _ in range(cfg.rewrites_per_task):
                code, applied = rewrite(s.reference, s.protected, rng)
                variants.setdefault(code, applied)
            for code, applied in variants.items():
                cands.append(CandidateSpec(s.task_id, code, "rewrite" if applied else "reference", applied))
            bases = list(variants.items())
            muts_seen: set[str] = set(variants)
            for m_i in range(cfg.mutants_per_task):
                base_code, applied = bases[m_i % len(bases)]
                for m in propose_mutants(base_code, s.source.entry_point, s.protected,
                                         random.Random(f"{cfg.seed}:{s.task_id}:{m_i}"), limit=3):
                    if m.code not in muts_seen:
                        muts_seen.add(m.code)
                        cands.append(CandidateSpec(s.task_id, m.code, "mutation", applied, m.family, m.operator,
                                                   m.changed_lines))
                        break
        return cands

    def label(self, specs: list[TaskSpec], cands: list[CandidateSpec]) -> None:
        """Execute every candidate; phase 1 on visible inputs, phase 2 on all inputs for survivors."""
        by_id = {s.task_id: s for s in specs}

        def limits(s: TaskSpec) -> Limits:
            return Limits(timeout_s=s.time_limit_s, memory_mb=256, max_timeouts=2)

        phase1 = [k for k, c in enumerate(cands) if by_id[c.task_id].visible_inputs]
        cases1 = [self._case(by_id[cands[k].task_id], cands[k].code, limits(by_id[cands[k].task_id]), visible_only=True)
                  for k in phase1]
        failed_visible: set[int] = set()
        # A filter, not a label: anything but a clean pass on the visible tests is dropped.
        for k, (j, _) in zip(phase1, self._label(cases1, "visible tests of candidates", confirm=False)):
            if j.label != "correct":
                failed_visible.add(k)
        for k in failed_visible:
            cands[k].dropped = "rewrite changed behaviour" if cands[k].kind != "mutation" else "fails visible tests"
        todo = [k for k in range(len(cands)) if k not in failed_visible]
        cases = [self._case(by_id[cands[k].task_id], cands[k].code, limits(by_id[cands[k].task_id])) for k in todo]
        # The label is tasks.labels' rule: candidates whose only failures are timeouts, memory
        # errors or crashes (after confirmation alone) are undecided and dropped.
        for k, (j, res) in zip(todo, self._label(cases, "labelling candidates")):
            self._judge(by_id[cands[k].task_id], cands[k], j, res)

    def _judge(self, s: TaskSpec, c: CandidateSpec, j: Judgement, res: list[CallResult]) -> None:
        hid = j.hidden_failing
        c.n_hidden = len(s.hidden_inputs)
        c.n_failed = len(hid)
        c.original_failed = sum(1 for k in hid if s.hidden_origin[k] == "source")
        if c.kind != "mutation":
            c.label = "correct"
            if j.label != "correct":
                c.dropped = "rewrite changed behaviour (or hit a resource limit)"
            return
        if j.visible_failing:
            c.dropped = "fails visible tests"
            return
        if j.label == "correct":
            c.dropped = "no hidden failure (equivalent or undetected)"
            return
        if j.label == "undecided":
            c.dropped = "only resource failures (timeout / memory / crash)"
            return
        c.label = "buggy"
        c.witnesses.extend(witness_records(j, res, self._tests(s), self.config.witnesses))


def select_and_balance(specs: list[TaskSpec], cands: list[CandidateSpec], config: BuildConfig) -> list[CandidateSpec]:
    """Dedupe, cap per task, and balance labels within each split (seeded)."""
    split = {s.task_id: s.split for s in specs}
    rng = random.Random(f"{config.seed}:select")
    kept: list[CandidateSpec] = []
    by_task: dict[str, list[CandidateSpec]] = defaultdict(list)
    seen: set[str] = set()
    for c in cands:
        if c.dropped or c.code in seen:
            continue
        seen.add(c.code)
        by_task[c.task_id].append(c)
    for tid in sorted(by_task, key=lambda t: (len(t), t)):
        group = by_task[tid]
        buggy = [c for c in group if c.label == "buggy"]
        correct = [c for c in group if c.label == "correct"]
        rng.shuffle(buggy)
        buggy = _round_robin(buggy)  # prefer operator variety among a task's bugs
        ref = [c for c in correct if c.kind == "reference"]
        others = [c for c in correct if c.kind != "reference"]
        rng.shuffle(others)
        kept.extend(buggy[: config.max_buggy_per_task])
        kept.extend((ref + others)[: config.max_correct_per_task])
    out: list[CandidateSpec] = []
    for name in ("train", "dev", "test"):
        part = [c for c in kept if split[c.task_id] == name]
        b = [c for c in part if c.label == "buggy"]
        k = [c for c in part if c.label == "correct"]
        n = min(len(b), len(k))
        rng.shuffle(b)
        rng.shuffle(k)
        out.extend(b[:n] + k[:n])
    return out


def _round_robin(cands: list[CandidateSpec]) -> list[CandidateSpec]:
    """Interleave candidates by operator family (first of each family, then second...)."""
    groups: dict[str, list[CandidateSpec]] = defaultdict(list)
    for c in cands:
        groups[c.family].append(c)
    out: list[CandidateSpec] = []
    while any(groups.values()):
        for fam in list(groups):
            if groups[fam]:
                out.append(groups[fam].pop(0))
    return out


def leakage_auroc(train: list[tuple[str, str]], test: list[tuple[str, str]], seed: int = 0) -> float | None:
    """AUROC on ``test`` of a bag-of-token-n-grams logistic regression trained on ``train``.

    Items are (code, label). Near 0.5 means surface features do not give the label away.
    None when either split lacks one of the labels.
    """
    if len({label for _, label in train}) < 2 or len({label for _, label in test}) < 2:
        return None
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    vec = CountVectorizer(token_pattern=r"[A-Za-z_]+|\d+|[^\sA-Za-z_\d]", ngram_range=(1, 3), min_df=2, lowercase=False)
    x_train = vec.fit_transform([c for c, _ in train])
    y_train = [1 if label == "buggy" else 0 for _, label in train]
    clf = LogisticRegression(max_iter=2000, C=1.0, random_state=seed)
    clf.fit(x_train, y_train)
    scores = clf.predict_proba(vec.transform([c for c, _ in test]))[:, 1]
    return float(roc_auc_score([1 if label == "buggy" else 0 for _, label in test], scores))


def candidate_id(task_id: str, code: str) -> str:
    return task_id.replace("/", "-") + "-" + hashlib.sha256(code.encode()).hexdigest()[:10]


def kill_rates(cands: list[CandidateSpec]) -> dict[str, float]:
    """Among generated mutants that pass the visible tests, the share the hidden tests detect,
    and the share the source's original tests alone detect (what augmentation adds)."""
    muts = [c for c in cands if c.kind == "mutation" and c.dropped not in ("infra", "fails visible tests")]
    if not muts:
        return {"hidden_test_kill_rate": 0.0, "original_test_kill_rate": 0.0, "n_mutants": 0}
    return {
        "hidden_test_kill_rate": sum(1 for c in muts if c.n_failed > 0) / len(muts),
        "original_test_kill_rate": sum(1 for c in muts if c.original_failed > 0) / len(muts),
        "n_mutants": len(muts),
    }


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def build_suite(sandbox: Sandbox, sources: Sequence[SourceTask], contracts: dict[str, Contract], out: Any,
                config: BuildConfig | None = None, name: str = "oversightbench-v1", version: str = "1.0.0",
                progress: Callable[[str, int, int], None] | None = None) -> Any:
    """Run every step and write the suite to ``out``; returns the manifest."""
    import platform
    import statistics
    from importlib import metadata
    from pathlib import Path

    from jinja2 import Environment, FileSystemLoader

    from tasks.suite import CandidateRecord, TaskRecord, write_suite

    config = config or BuildConfig()
    b = SuiteBuilder(sandbox, config, progress)
    specs = b.prepare(sources, contracts)
    b.hidden(specs)
    b.gold_check(specs)
    cands = b.candidates(specs)
    b.label(specs, cands)
    chosen = select_and_balance(specs, cands, config)
    by_id = {s.task_id: s for s in specs}
    task_records = [
        TaskRecord(
            task_id=s.task_id, split=s.split, source=s.source.source, license=s.source.license, prompt=s.source.prompt,
            entry_point=s.source.entry_point, reference=s.reference, contract_note=s.contract.note,
            unordered_output=s.contract.unordered, time_limit_s=s.time_limit_s,
            visible_tests=codec.dumps([[list(a), e] for a, e in zip(s.visible_inputs, s.visible_outputs)]),
            hidden_tests=codec.dumps([[list(a), e] for a, e in zip(s.hidden_inputs, s.hidden_outputs)]),
            hidden_origin=s.hidden_origin, docstring_disagrees=s.docstring_disagrees, notes=s.notes,
        )
        for s in specs
    ]
    cand_records = [
        CandidateRecord(
            candidate_id=candidate_id(c.task_id, c.code), task_id=c.task_id, split=by_id[c.task_id].split, code=c.code,
            label=c.label, origin=c.kind, rewrites=list(c.rewrites), operator=c.operator, family=c.family,
            changed_lines=list(c.changed_lines), witnesses=json.dumps(c.witnesses, sort_keys=True),
            subtlety=round(c.n_failed / c.n_hidden, 6) if c.label == "buggy" and c.n_hidden else 0.0,
            n_failed=c.n_failed if c.label == "buggy" else 0, n_hidden=c.n_hidden,
        )
        for c in chosen
    ]
    train = [(c.code, c.label) for c in cand_records if c.split == "train"]
    test = [(c.code, c.label) for c in cand_records if c.split == "test"]
    hidden_sizes = sorted(len(s.hidden_inputs) for s in specs)
    by_split = {sp: {"buggy": sum(1 for c in cand_records if c.split == sp and c.label == "buggy"),
                     "correct": sum(1 for c in cand_records if c.split == sp and c.label == "correct")}
                for sp in ("train", "dev", "test")}
    kr = kill_rates(cands)
    stats = {
        "n_tasks": len(specs),
        "n_candidates": len(cand_records),
        "n_buggy": sum(1 for c in cand_records if c.label == "buggy"),
        "n_correct": sum(1 for c in cand_records if c.label == "correct"),
        "by_split": by_split,
        "tasks_by_split": {sp: sum(1 for s in specs if s.split == sp) for sp in ("train", "dev", "test")},
        "hidden_inputs_per_task": {"min": hidden_sizes[0], "median": statistics.median(hidden_sizes),
                                   "max": hidden_sizes[-1], "mean": round(statistics.mean(hidden_sizes), 1)},
        "leakage_auroc": _round(leakage_auroc(train, test, config.seed)),
        "hidden_test_kill_rate": round(kr["hidden_test_kill_rate"], 4),
        "original_test_kill_rate": round(kr["original_test_kill_rate"], 4),
        "n_mutants_passing_visible": kr["n_mutants"],
        "n_mutants_generated": sum(1 for c in cands if c.kind == "mutation"),
        "families": dict(Counter(c.family for c in cand_records if c.label == "buggy").most_common()),
        "n_families": len({c.family for c in cand_records if c.label == "buggy"}),
        "subtlety_buckets": {name: sum(1 for c in cand_records if c.label == "buggy" and subtlety_bucket(c.subtlety) == name)
                             for _, name in SUBTLETY_BUCKETS},
        "dropped": dict(Counter(c.dropped for c in cands if c.dropped)),
        "docstring_disagreements": sum(len(s.docstring_disagrees) for s in specs),
        "tasks_without_visible": sum(1 for s in specs if not s.visible_inputs),
        "contract_rejected_inputs": b.stats.get("contract_rejected_inputs", 0),
        "reference_unstable_inputs": b.stats.get("reference_failed_inputs", 0),
    }
    info = sandbox.info()
    try:
        obench_version = metadata.version("oversightbench")
    except metadata.PackageNotFoundError:
        obench_version = "unknown"
    build = {"config": {k: (list(v) if isinstance(v, tuple) else v) for k, v in config.__dict__.items()},
             "image_tag": info.image_tag, "image_digest": info.image_digest, "sandbox": info.backend,
             "obench_version": obench_version, "python": platform.python_version()}
    env = Environment(loader=FileSystemLoader(str(Path(__file__).parent / "templates")), keep_trailing_newline=True)
    datasheet = env.get_template("datasheet.md.j2").render(name=name, version=version, stats=stats, build=build)
    return write_suite(Path(out), task_records, cand_records, name, version, build, stats, datasheet)
