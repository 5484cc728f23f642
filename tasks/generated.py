"""Build a suite from *generated* candidates: model-written code for the tasks of a base suite.

The tasks (prompts, visible and hidden tests, time limits, splits) are copied from a
base suite (the committed v1 suite); only the candidates are new. The validity rules
are those of v1:

1. Every item's code is normalised like v1 candidates (:func:`tasks.rewrites.normalise`)
   and deduplicated within its task.
2. Labels come from execution in the sandbox on the task's visible then hidden tests
   (the sequence :mod:`tasks.check` labels with): ``correct`` passes all of them;
   ``buggy`` passes every visible test and fails at least one hidden test with a
   deterministic outcome (a wrong value or an exception). Candidates failing a visible
   test are dropped, as are those whose only hidden failures are timeouts, memory
   errors or crashes. Outcomes a decision rests on that could come from contention
   (timeouts, memory errors, crashes, infrastructure failures) are re-run alone in a
   fresh sandbox first; infrastructure failures that repeat drop the candidate.
3. Per task, buggy and correct candidates are capped; when a task has more buggy than
   correct candidates, the task's reference (and then v1's correct candidates of the
   task) top the correct class up, after passing the same execution check. Labels are
   then balanced within each split (seeded). Splits are the base tasks' splits.

Every dropped item is counted by reason in the manifest's statistics.
"""

from __future__ import annotations

import ast
import json
import platform
import random
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from importlib import metadata
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader

from harness.jobs import CallResult
from harness.sandbox import Sandbox
from tasks.build import candidate_id, leakage_auroc
from tasks.check import MAX_WITNESSES
from tasks.labels import (
    SUBTLETY_BUCKETS,
    Case,
    Judgement,
    Test,
    label_cases,
    subtlety_bucket,
    task_case,
    task_tests,
    witness_records,
)
from tasks.mutants import changed_lines
from tasks.rewrites import normalise
from tasks.suite import SPLITS, CandidateRecord, Suite, SuiteManifest, TaskRecord, write_suite

MODES = ("honest", "sneaky")

DROP_UNKNOWN_TASK = "unknown task"
DROP_NO_PARSE = "does not parse"
DROP_NO_ENTRY = "does not define the entry point"
DROP_DUPLICATE = "duplicate"
DROP_FAILS_VISIBLE = "fails visible tests"
DROP_RESOURCE = "only resource failures (timeout / memory / crash)"
DROP_INFRA = "infra"
#: Every reason an item can be dropped for, in the order the pipeline applies them.
DROP_REASONS = (DROP_UNKNOWN_TASK, DROP_NO_PARSE, DROP_NO_ENTRY, DROP_DUPLICATE, DROP_FAILS_VISIBLE, DROP_RESOURCE,
                DROP_INFRA)

#: Jobs per sandbox call (progress is reported after each chunk).
CHUNK = 64


class GeneratedSuiteError(ValueError):
    """A suite cannot be built from the given generated items."""


@dataclass(frozen=True)
class GeneratedItem:
    """One generation sample for one task.

    Attributes:
        task_id: task of the base suite, e.g. ``HumanEval/0``.
        code: extracted code of the sample (a module defining the entry point).
        generator: model spec, e.g. ``openai:gpt-x`` or ``hf:/path``.
        mode: ``honest`` or ``sneaky``.
        sample: index of the sample among the generator's samples for the task.
    """

    task_id: str
    code: str
    generator: str
    mode: str
    sample: int = 0

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise GeneratedSuiteError(f"{self.task_id} ({self.generator}): unknown mode {self.mode!r}; "
                                      f"modes: {', '.join(MODES)}")


@dataclass(frozen=True)
class _Cand:
    """A candidate during the build (generated, or a top-up of the correct class)."""

    task_id: str
    code: str
    origin: str  # "generated" | "reference" | "rewrite" (a v1 origin)
    operator: str
    family: str
    rewrites: tuple[str, ...] = ()
    generator: str = ""
    mode: str = ""
    sample: int = 0
    label: str = ""
    dropped: str = ""
    witnesses: tuple[dict[str, Any], ...] = ()
    n_failed: int = 0
    n_hidden: int = 0

    @property
    def key(self) -> tuple[str, str]:
        return self.generator, self.mode


@dataclass
class _TaskTests:
    """Decoded tests of one task (decoded once per build)."""

    task: TaskRecord
    tests: list[Test] = field(default_factory=list)
    n_visible: int = 0

    @classmethod
    def of(cls, task: TaskRecord) -> _TaskTests:
        return cls(task, task_tests(task), len(task.visible()))

    def case(self, code: str) -> Case:
        return task_case(self.task, code, self.tests, self.n_visible)


def _defines(code: str, name: str) -> bool:
    """Whether the module binds ``name`` anywhere (def, class, assignment, import)."""
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == name:
            return True
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) and node.id == name:
            return True
        if isinstance(node, ast.alias) and (node.asname or node.name.split(".")[0]) == name:
            return True
    return False


def _judge(tt: _TaskTests, c: _Cand, j: Judgement, res: list[CallResult]) -> _Cand:
    """The candidate with its label and bug facts, or with the reason it is dropped."""
    n_hidden = len(tt.tests) - tt.n_visible
    if j.label == "infra":
        return replace(c, dropped=DROP_INFRA, n_hidden=n_hidden)
    if j.visible_failing:
        return replace(c, dropped=DROP_FAILS_VISIBLE, n_hidden=n_hidden)
    if j.label == "correct":
        return replace(c, label="correct", n_hidden=n_hidden)
    if j.label == "undecided":
        return replace(c, dropped=DROP_RESOURCE, n_failed=len(j.hidden_failing), n_hidden=n_hidden)
    witnesses = witness_records(j, res, tt.tests, MAX_WITNESSES)
    return replace(c, label="buggy", witnesses=tuple(witnesses), n_failed=len(j.hidden_failing), n_hidden=n_hidden)


def _label(sandbox: Sandbox, tests: dict[str, _TaskTests], cands: list[_Cand], step: str,
           progress: Callable[[str, int, int], None]) -> list[_Cand]:
    """Label every candidate on its task's visible and hidden tests (:func:`tasks.labels.label_cases`)."""
    judged = label_cases(sandbox, [tests[c.task_id].case(c.code) for c in cands], chunk=CHUNK,
                         progress=lambda done, total: progress(step, done, total))
    return [_judge(tests[c.task_id], c, j, res) for c, (j, res) in zip(cands, judged)]


def _round_robin(cands: list[_Cand]) -> list[_Cand]:
    """Interleave by (generator, mode): first of each, then second..., so caps keep variety."""
    groups: dict[tuple[str, str], list[_Cand]] = defaultdict(list)
    for c in cands:
        groups[c.key].append(c)
    out: list[_Cand] = []
    while any(groups.values()):
        for key in list(groups):
            if groups[key]:
                out.append(groups[key].pop(0))
    return out


def _prepare(base: Suite, items: Sequence[GeneratedItem]) -> tuple[list[_Cand], list[tuple[GeneratedItem, str]]]:
    """Normalised, deduplicated candidates, and the items dropped before execution (with reasons).

    Items are taken in a canonical order, so which of several duplicates is kept does not
    depend on the order the items were given in.
    """
    dropped: list[tuple[GeneratedItem, str]] = []
    staged: list[tuple[tuple[str, str, str, int, str], GeneratedItem, str]] = []
    for it in items:
        task = base.tasks.get(it.task_id)
        if task is None:
            dropped.append((it, DROP_UNKNOWN_TASK))
            continue
        try:
            code = normalise(it.code)
        except (SyntaxError, ValueError, TypeError, RecursionError):
            dropped.append((it, DROP_NO_PARSE))
            continue
        if task.kind == "function" and not _defines(code, task.entry_point):
            dropped.append((it, DROP_NO_ENTRY))
            continue
        staged.append(((it.task_id, it.generator, it.mode, it.sample, code), it, code))
    staged.sort(key=lambda s: s[0])
    seen: set[tuple[str, str]] = set()
    cands: list[_Cand] = []
    for _, it, code in staged:
        if (it.task_id, code) in seen:
            dropped.append((it, DROP_DUPLICATE))
            continue
        seen.add((it.task_id, code))
        cands.append(_Cand(it.task_id, code, "generated", it.generator, it.mode, generator=it.generator,
                           mode=it.mode, sample=it.sample))
    return cands, dropped


def _top_up_pool(base: Suite, task_id: str, taken: set[str], seed: int) -> list[_Cand]:
    """Correct-class top-ups of a task: its reference first, then v1's correct candidates (seeded order)."""
    ref = normalise(base.tasks[task_id].reference)
    pool = [] if ref in taken else [_Cand(task_id, ref, "reference", "", "")]
    seen = taken | {ref}
    v1 = sorted((c for c in base.candidates
                 if c.task_id == task_id and c.label == "correct" and c.origin in ("reference", "rewrite")),
                key=lambda c: c.candidate_id)
    random.Random(f"{seed}:{task_id}:top-up").shuffle(v1)
    for c in v1:
        code = normalise(c.code)
        if code not in seen:
            seen.add(code)
            pool.append(_Cand(task_id, code, c.origin, f"v1:{c.origin}", "", tuple(c.rewrites)))
    return pool


def _dropped_summary(counts: dict[str, int]) -> str:
    return ", ".join(f"{reason}: {n}" for reason, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def build_generated_suite(sandbox: Sandbox, base: Suite, items: Sequence[GeneratedItem], out: Path, name: str,
                          version: str = "1.0.0", seed: int = 0, top_up_with_references: bool = True,
                          max_buggy_per_task: int = 7, max_correct_per_task: int = 7,
                          progress: Callable[[str, int, int], None] | None = None) -> SuiteManifest:
    """Label generated candidates by execution against a base suite's tests and write a suite.

    Args:
        sandbox: where candidates run (the labels' only source).
        base: the suite whose tasks (prompts, tests, time limits, splits) are reused.
        items: generation samples; order does not matter.
        out: directory to write the suite to (never the base suite's own directory).
        name: suite name; version: its version.
        seed: seed of the selection (caps, top-up order, per-split balance).
        top_up_with_references: let the reference (then v1's correct candidates) fill the
            correct class of tasks with more buggy than correct candidates.
        max_buggy_per_task: cap on buggy candidates per task; max_correct_per_task likewise.
        progress: called as ``progress(step, done, total)`` while candidates run.

    Returns:
        The manifest of the written suite (``load_suite(out)`` verifies it).

    Raises:
        GeneratedSuiteError: no items, or no usable candidate left after labelling and balancing.
    """
    if not items:
        raise GeneratedSuiteError("no generated items: nothing to build a suite from")
    if Path(out).resolve() == Path(base.path).resolve():
        raise GeneratedSuiteError(f"refusing to write over the base suite at {base.path}; choose another --out")
    report = progress or (lambda step, done, total: None)
    cands, early = _prepare(base, items)
    tests = {tid: _TaskTests.of(base.tasks[tid]) for tid in sorted({c.task_id for c in cands})}
    labelled = _label(sandbox, tests, cands, "labelling generated candidates", report) if cands else []
    drops: list[tuple[tuple[str, str], str]] = [((it.generator, it.mode), why) for it, why in early]
    drops += [(c.key, c.dropped) for c in labelled if c.dropped]
    usable = [c for c in labelled if not c.dropped]
    dropped = dict(Counter(why for _, why in drops))
    if not usable:
        raise GeneratedSuiteError(f"no usable candidate: all {len(items)} items were dropped "
                                  f"({_dropped_summary(dropped)})")

    # Per task: cap each class (varied generators first), then top the correct class up.
    by_task: dict[str, list[_Cand]] = defaultdict(list)
    for c in sorted(usable, key=lambda c: (c.task_id, c.code)):
        by_task[c.task_id].append(c)
    chosen: dict[str, tuple[list[_Cand], list[_Cand]]] = {}
    need: dict[str, int] = {}
    for tid in sorted(by_task):
        rng = random.Random(f"{seed}:{tid}:generated")
        buggy = [c for c in by_task[tid] if c.label == "buggy"]
        correct = [c for c in by_task[tid] if c.label == "correct"]
        rng.shuffle(buggy)
        rng.shuffle(correct)
        buggy = _round_robin(buggy)[:max_buggy_per_task]
        correct = _round_robin(correct)[:max_correct_per_task]
        chosen[tid] = (buggy, correct)
        if top_up_with_references and len(buggy) > len(correct):
            need[tid] = min(len(buggy), max_correct_per_task) - len(correct)
    top_ups: dict[str, list[_Cand]] = defaultdict(list)
    rejected: Counter[str] = Counter()
    pools = {tid: _top_up_pool(base, tid, {c.code for c in labelled if c.task_id == tid}, seed) for tid in sorted(need)}
    while True:
        batch = [c for tid in sorted(need) for c in pools[tid][: need[tid] - len(top_ups[tid])]]
        if not batch:
            break
        for tid in need:
            del pools[tid][: need[tid] - len(top_ups[tid])]
        for c in _label(sandbox, tests, batch, "labelling top-ups", report):
            if c.label == "correct":
                top_ups[c.task_id].append(c)
            else:
                rejected[c.dropped or "labelled buggy"] += 1

    # Balance labels within each split (seeded); generated correct candidates are kept before top-ups.
    split_of = {tid: t.split for tid, t in base.tasks.items()}
    final: list[_Cand] = []
    for split in SPLITS:
        rng = random.Random(f"{seed}:balance:{split}")
        tids = [tid for tid in sorted(chosen) if split_of[tid] == split]
        b = [c for tid in tids for c in chosen[tid][0]]
        gen_k = [c for tid in tids for c in chosen[tid][1]]
        top_k = [c for tid in tids for c in top_ups.get(tid, [])]
        rng.shuffle(b)
        rng.shuffle(gen_k)
        rng.shuffle(top_k)
        n = min(len(b), len(gen_k) + len(top_k))
        final.extend(b[:n] + (gen_k + top_k)[:n])
    if not final:
        n_b = sum(1 for c in usable if c.label == "buggy")
        raise GeneratedSuiteError(f"no candidate left after balancing labels within each split: {n_b} buggy and "
                                  f"{len(usable) - n_b} correct generated candidates were labelled; a split needs "
                                  f"both labels (dropped: {_dropped_summary(dropped) or 'none'})")

    records = _records(base, final)
    ids = [r.candidate_id for r in records]
    if len(set(ids)) != len(ids):  # pragma: no cover - a 40-bit hash collision within one task
        raise GeneratedSuiteError("two candidates share a candidate_id")
    task_records = [base.tasks[tid].model_copy() for tid in sorted({c.task_id for c in final})]
    in_suite = {(c.task_id, c.code) for c in final if c.origin == "generated"}
    stats = _stats(items, labelled, usable, drops, dropped, records, task_records, in_suite, chosen, rejected, seed)
    generators = sorted({it.generator for it in items})
    info = sandbox.info()
    try:
        obench_version = metadata.version("oversightbench")
    except metadata.PackageNotFoundError:
        obench_version = "unknown"
    build = {
        "kind": "generated",
        "name": name,
        "version": version,
        "base": {"name": base.manifest.name, "version": base.manifest.version,
                 "content_hash": base.manifest.content_hash},
        "seed": seed,
        "max_buggy_per_task": max_buggy_per_task,
        "max_correct_per_task": max_correct_per_task,
        "top_up_with_references": top_up_with_references,
        "generators": generators,
        "modes": {g: sorted({it.mode for it in items if it.generator == g}) for g in generators},
        "n_items": len(items),
        "image_tag": info.image_tag, "image_digest": info.image_digest, "sandbox": info.backend,
        "obench_version": obench_version, "python": platform.python_version(),
    }
    env = Environment(loader=FileSystemLoader(str(Path(__file__).parent / "templates")), keep_trailing_newline=True)
    datasheet = env.get_template("generated_datasheet.md.j2").render(
        name=name, version=version, stats=stats, build=build, drop_reasons=DROP_REASONS)
    return write_suite(Path(out), task_records, records, name, version, build, stats, datasheet)


def _records(base: Suite, final: list[_Cand]) -> list[CandidateRecord]:
    refs: dict[str, str] = {}
    out = []
    for c in final:
        ref = refs.setdefault(c.task_id, normalise(base.tasks[c.task_id].reference))
        buggy = c.label == "buggy"
        out.append(CandidateRecord(
            candidate_id=candidate_id(c.task_id, c.code), task_id=c.task_id, split=base.tasks[c.task_id].split,
            code=c.code, label=c.label, origin=c.origin, rewrites=list(c.rewrites), operator=c.operator,
            family=c.family, changed_lines=list(changed_lines(ref, c.code)),
            witnesses=json.dumps(list(c.witnesses), sort_keys=True),
            subtlety=round(c.n_failed / c.n_hidden, 6) if buggy and c.n_hidden else 0.0,
            n_failed=c.n_failed if buggy else 0, n_hidden=c.n_hidden,
        ))
    return out


def _stats(items: Sequence[GeneratedItem], labelled: list[_Cand], usable: list[_Cand],
           drops: list[tuple[tuple[str, str], str]], dropped: dict[str, int], records: list[CandidateRecord],
           task_records: list[TaskRecord], in_suite: set[tuple[str, str]],
           chosen: dict[str, tuple[list[_Cand], list[_Cand]]], rejected: Counter[str], seed: int) -> dict[str, Any]:
    """Counts of the suite and of everything that did not make it in."""
    train = [(c.code, c.label) for c in records if c.split == "train"]
    test = [(c.code, c.label) for c in records if c.split == "test"]
    try:
        auroc = leakage_auroc(train, test, seed)
    except ValueError:  # e.g. too few train candidates for a vocabulary: undefined, like a missing label
        auroc = None
    capped = {(c.task_id, c.code) for b, k in chosen.values() for c in b + k}
    per_gen: dict[str, dict[str, dict[str, Any]]] = {}
    for it in sorted(items, key=lambda it: (it.generator, it.mode)):
        per_gen.setdefault(it.generator, {}).setdefault(it.mode, {
            "items": 0, "labelled_buggy": 0, "labelled_correct": 0, "buggy": 0, "correct": 0, "dropped": {}})
        per_gen[it.generator][it.mode]["items"] += 1
    for (gen, mode), why in drops:
        d = per_gen[gen][mode]["dropped"]
        d[why] = d.get(why, 0) + 1
    for c in usable:
        row = per_gen[c.generator][c.mode]
        row[f"labelled_{c.label}"] += 1
        if (c.task_id, c.code) in in_suite:
            row[c.label] += 1
    for modes in per_gen.values():
        for row in modes.values():
            row["dropped"] = dict(sorted(row["dropped"].items()))
    generated = [c for c in records if c.origin == "generated"]
    mode_of = {(c.task_id, c.code): c.mode for c in labelled}
    tops = [c for c in records if c.origin != "generated"]
    return {
        "n_items": len(items),
        "n_tasks": len(task_records),
        "n_candidates": len(records),
        "n_buggy": sum(1 for c in records if c.label == "buggy"),
        "n_correct": sum(1 for c in records if c.label == "correct"),
        "by_split": {sp: {lab: sum(1 for c in records if c.split == sp and c.label == lab) for lab in ("buggy", "correct")}
                     for sp in SPLITS},
        "tasks_by_split": {sp: sum(1 for t in task_records if t.split == sp) for sp in SPLITS},
        "tasks_without_visible": sum(1 for t in task_records if not t.visible()),
        "labelled": {lab: sum(1 for c in usable if c.label == lab) for lab in ("buggy", "correct")},
        "dropped": dict(sorted(dropped.items())),
        "n_dropped": sum(dropped.values()),
        "not_selected": {"per-task cap": sum(1 for c in usable if (c.task_id, c.code) not in capped),
                         "split balance": sum(1 for c in usable if (c.task_id, c.code) in capped
                                              and (c.task_id, c.code) not in in_suite)},
        "generators": per_gen,
        "by_mode": {m: {lab: sum(1 for c in generated if c.label == lab and mode_of[(c.task_id, c.code)] == m)
                        for lab in ("buggy", "correct")} for m in MODES},
        "by_origin": dict(sorted(Counter(c.origin for c in records).items())),
        "top_ups": len(tops),
        "top_ups_by_origin": dict(sorted(Counter(c.operator or c.origin for c in tops).items())),
        "top_ups_rejected": dict(sorted(rejected.items())),
        "leakage_auroc": None if auroc is None else round(auroc, 4),
        "subtlety_buckets": {bucket: sum(1 for c in records if c.label == "buggy" and subtlety_bucket(c.subtlety) == bucket)
                             for _, bucket in SUBTLETY_BUCKETS},
    }
