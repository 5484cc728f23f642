"""Build a suite: tasks with visible and hidden tests, labelled candidates, splits.

The builder is source-agnostic: HumanEval (with its hand-written contracts) is one source,
a task file or hub rows (:mod:`tasks.sources`) are others. Every label comes from
execution in the sandbox:

1. Source-test inputs are recorded by running each task's own ``check`` against the
   reference in the sandbox (program tasks: their ``(stdin, stdout)`` tests, which the
   reference must reproduce); visible tests are the docstring examples (programs: the
   tests marked visible) with the reference's outputs. Every seed input passes through
   the task's contract (a sandbox predicate runs in the sandbox).
2. Hidden inputs grow from those seeds (:mod:`tasks.augment`) when the task has a
   contract (or an input generator); a task without one keeps its own tests and examples
   only, and says so. The gold self-check then runs every reference on all its tests a
   second time, untraced: a task whose reference gives another result is dropped as
   nondeterministic.
3. Candidates: the reference and semantics-preserving rewrites of it (correct
   class), and single-site mutants of those same rewrites (buggy class), so both
   classes share one distribution of surface forms. A mutant is kept only if it
   passes every visible test and fails at least one hidden input; a rewrite only
   if it passes everything. Timeouts, memory errors and crashes that would decide
   a label are re-run alone in a fresh sandbox first.

One bad task never aborts the build: a reference that fails its own tests, returns values
with no data representation (objects shown only by a ``repr``), is nondeterministic, or
leaves no usable test drops that task, with the reason, in the manifest's
``dropped_tasks``. Only a sandbox that keeps failing (infrastructure) stops the build.
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
from tasks.augment import AugmentConfig, AugmentTask, HiddenPool, grow_hidden
from tasks.authored import Authored, load_authored
from tasks.compare import outcomes_differ
from tasks.contracts import HUMANEVAL_SOURCE, Contract, check_inputs_many, compile_contract
from tasks.contracts.spec import ContractSpecError
from tasks.kinds import FUNCTION, PROGRAM, call_job, cpu_timed_job, normalise_stdout, opaque_part, output_canon
from tasks.labels import SUBTLETY_BUCKETS, Case, Judgement, Test, label_cases, subtlety_bucket, witness_records
from tasks.mutants import propose_mutants
from tasks.rewrites import normalise, rewrite
from tasks.sources import SourceTask
from tasks.visible import Example, parse_examples, with_examples_block

COLLECT = '''

def __obench_collect__():
    import copy as __copy, inspect as __inspect, random as __random
    __random.seed(0)
    __calls = []
    __ref = {entry}
    __depth = [0]

    def __rec(*a, **kw):
        if kw:  # keyword arguments of the test: bound to positions, since inputs are argument tuples
            __b = __inspect.signature(__ref).bind(*a, **kw)
            __b.apply_defaults()
            a, kw = tuple(__b.args), {}
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
NO_HIDDEN_FAILURE = "no hidden failure (equivalent or undetected)"
#: Cases per labelling chunk (progress is reported after each).
LABEL_CHUNK = 256
#: At most this many of a task's slowest reference calls are timed a second time (by CPU time) before
#: its time limit is set: those whose wall time would lift the limit above its floor.
RETIME = 64
NO_CONTRACT_NOTE = ("no input contract: the hidden tests are the task's own tests and examples only "
                    "(no augmentation, so no label rests on an input the specification may rule out)")
NO_GENERATOR_NOTE = ("not augmented: a program task needs an input_generator in the task file; its hidden tests "
                     "are its own tests")
GENERATOR_ONLY_NOTE = ("no input contract: hidden inputs are the task's own tests and what its input_generator "
                       "draws (trusted to give valid inputs)")


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
    augment_budget_s: float = 300.0
    # Suite v2 (each off by default, so a v1 build is unchanged):
    authored: bool = False  # add the authored bugs and alternatives (tasks/data/authored) as candidates
    semantic_mutants: bool = False  # multi-site and semantic mutation operators
    alternative_rewrites: int = 0  # rewrites of each authored alternative (mutants are made from them too)
    careful_inputs: int = 0  # careful-tester inputs per task (tasks.careful), proposed first in round 1
    guided_search: int = 0  # inputs searched per task for each mutant the hidden tests miss
    guided_mutants: int = 40  # surviving mutants per task the search tries to kill
    guided_keep: int = 16  # killing inputs added per task
    min_examples: int = 0  # visible examples every task shows (added to the prompt in a marked block)
    balance: str = "split"  # "split": labels balanced per split (v1); "task": per task
    reference_candidate: bool = True  # the unmodified reference is a candidate (v1); v2: only its rewrites are
    topup_rounds: int = 0  # rounds of extra mutants for tasks short of hidden bugs
    topup_mutants: int = 150  # mutants proposed per short task and round
    match_origins: bool = False  # balance "task": pair authored bugs with authored alternatives, mutants with their bases
    min_per_label: int = 0  # balance "task": a task needs at least this many of each label
    surface_filter_rounds: int = 0  # balance "task": rounds of surface_filter (0: off)
    surface_filter_margin: float = 0.6  # surface_filter: the score gap a dropped pair must exceed


#: Suite v2's build: authored candidates, semantic mutants, careful and mutation-guided hidden tests,
#: two visible examples per task, per-task balance (at least 4 + 4), and a test split of 40% of the tasks
#: that keeps every task of v1's test split (the split hash is unchanged: v1's test tasks are h >= 0.8).
V2_CONFIG_FIELDS: dict[str, Any] = {
    "hidden_target": 200, "authored": True, "semantic_mutants": True, "alternative_rewrites": 3, "careful_inputs": 60,
    "guided_search": 200, "min_examples": 2, "balance": "task", "min_per_label": 4, "max_buggy_per_task": 6,
    "max_correct_per_task": 6, "mutants_per_task": 80, "rewrites_per_task": 12, "split_fractions": (0.45, 0.15, 0.40),
    "reference_candidate": False, "topup_rounds": 2, "topup_mutants": 200, "match_origins": True,
    "surface_filter_rounds": 1, "surface_filter_margin": 0.6,
}


@dataclass
class TaskSpec:
    """A task during the build."""

    source: SourceTask
    reference: str
    protected: set[str]
    contract: Contract | None
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
    augmentation: str = ""
    prompt: str = ""  # the prompt as released (v2: with the added examples block); empty: the source's
    added_examples: set[str] = field(default_factory=set)  # codec keys of the examples added to the prompt
    authored: list[Authored] = field(default_factory=list)

    @property
    def task_id(self) -> str:
        return self.source.task_id

    @property
    def kind(self) -> str:
        return self.source.kind

    @property
    def unordered(self) -> bool:
        return self.contract.unordered if self.contract is not None else False

    @property
    def checker(self) -> Any:
        return self.contract.valid_output if self.contract is not None else None


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
    base: str = "reference"  # "reference" | "alternative": what the candidate was made from
    expected: str = ""  # authored candidates: the label their author claims (execution decides)
    note: str = ""
    found_by_search: bool = False
    failing_origin: str = ""  # origin of the first hidden input it fails
    base_code: str = ""  # a mutant: the program it was made from


class BuildError(RuntimeError):
    """The build cannot produce a trustworthy suite."""


class GoldCheckError(BuildError):
    """A reference solution failed its own hidden tests in the sandbox (every task was dropped)."""


@dataclass(frozen=True)
class Profile:
    """A named build recipe: its config overrides, HumanEval contract set, suite name and version."""

    name: str
    version: str
    contract_set: str
    overrides: tuple[tuple[str, Any], ...] = ()

    def config(self, **kw: Any) -> BuildConfig:
        return BuildConfig(**{**dict(self.overrides), **kw})


#: The build recipes by name (``obench tasks build --profile``).
PROFILES: dict[str, Profile] = {
    "v1": Profile("oversightbench-v1", "1.0.0", "humaneval-v1"),
    "v2": Profile("oversightbench-v2", "2.0.0", "humaneval-v2", tuple(V2_CONFIG_FIELDS.items())),
}


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


def _shown(value: Any, n: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= n else text[: n - 3] + "..."


def _where_text(code: str, r: CallResult) -> str:
    """`` at: <line>`` for the innermost line of ``code`` a failure points at (e.g. the failing assert)."""
    lines = code.splitlines()
    for where in reversed((r.error or {}).get("where") or []):
        name, _, num = str(where).rpartition(":")
        if name == "<candidate>" and num.isdigit() and 0 < int(num) <= len(lines):
            return f" at: {lines[int(num) - 1].strip()[:160]}"
    return ""


def _failure(r: CallResult) -> str:
    err = r.error or {}
    return f"{r.status} ({err.get('type', '')}: {str(err.get('message', ''))[:200]})" if err else r.status


class SuiteBuilder:
    """Runs the build steps against a sandbox; each step reports progress by name.

    Tasks that cannot be built are removed from the list each step returns, with the reason in
    :attr:`dropped` (``task_id -> reason``); ``log`` receives one line per drop and per note a
    researcher should see (no contract, augmentation stopped by its time budget...).
    """

    def __init__(self, sandbox: Sandbox, config: BuildConfig, progress: Callable[[str, int, int], None] | None = None,
                 log: Callable[[str], None] | None = None) -> None:
        self.sandbox = sandbox
        self.config = config
        self.progress = progress or (lambda step, done, total: None)
        self.log = log or (lambda line: None)
        self.stats: dict[str, Any] = {}
        self._bases: dict[str, list[tuple[str, tuple[str, ...], str]]] = {}
        self._seen: dict[str, set[str]] = {}
        self.dropped: dict[str, str] = {}

    def drop(self, task_id: str, reason: str) -> None:
        if task_id not in self.dropped:
            self.dropped[task_id] = reason
            self.log(f"{task_id}: dropped: {reason}")

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
        return Case(call_job(s.kind, code, s.source.entry_point, [a for a, _ in tests], limits=limits), tests,
                    len(s.visible_inputs), s.unordered, s.checker, output_canon(s.kind))

    def _label(self, cases: list[Case], step: str, confirm: bool = True) -> list[tuple[Judgement, list[CallResult]]]:
        """:func:`tasks.labels.label_cases`; a remaining infra outcome stops the build. Chunks are large so
        that a chunk's slowest job (a candidate that runs into its time limit) holds few others up."""
        judged = label_cases(self.sandbox, cases, confirm=confirm, chunk=LABEL_CHUNK,
                             progress=lambda done, total: self.progress(step, done, total))
        for j, _ in judged:
            if j.label == "infra":
                raise BuildError(f"sandbox infrastructure failed on one job after retries: {j.reason}")
        return judged

    def attach_authored(self, specs: list[TaskSpec]) -> None:
        """Attach each task's authored candidates (:mod:`tasks.authored`); bad rows are logged."""
        rows, problems = load_authored()
        for p in problems:
            self.log(f"authored data: {p}")
        by_task: dict[str, list[Authored]] = defaultdict(list)
        for a in rows:
            by_task[a.task_id].append(a)
        for s in specs:
            s.authored = by_task.get(s.task_id, [])

    def _keep(self, specs: list[TaskSpec]) -> list[TaskSpec]:
        return [s for s in specs if s.task_id not in self.dropped]

    # -------------------------------------------------------------- steps
    def prepare(self, sources: Sequence[SourceTask], contracts: dict[str, Contract] | None = None) -> list[TaskSpec]:
        """Tasks with their contracts, seed inputs and visible tests.

        ``contracts`` (by task id) wins over a task's own contract spec (HumanEval's hand-written
        contracts); a task with neither has no contract and is not augmented.
        """
        specs = []
        for s in sources:
            contract = (contracts or {}).get(s.task_id)
            if contract is None and s.contract is not None:
                try:
                    contract = compile_contract(s.contract)
                except ContractSpecError as exc:
                    self.drop(s.task_id, f"its contract cannot be used: {exc}")
                    continue
            program = s.kind == PROGRAM
            try:
                reference = normalise(s.reference)
            except (SyntaxError, ValueError, RecursionError) as exc:
                self.drop(s.task_id, f"the reference does not parse: {exc}")
                continue
            spec = TaskSpec(source=s, reference=reference, protected=set() if program else _protected(s.prompt, s.entry_point),
                            contract=contract)
            spec.split = split_of(s.task_id, self.config.seed, self.config.split_fractions)
            if contract is None and not s.generator:
                note = NO_GENERATOR_NOTE if program else NO_CONTRACT_NOTE
                spec.notes.append(note)
                self.log(f"{s.task_id}: {note}")
            if program:
                spec.visible_inputs = [(stdin,) for stdin, _out, vis in s.io_tests if vis]
            else:
                spec.examples = parse_examples(s.prompt, s.entry_point)
                spec.visible_inputs = [e.args for e in spec.examples]
            specs.append(spec)
        limits = Limits(timeout_s=30.0, memory_mb=512)
        # Source-test inputs: recorded in the sandbox (functions), or the task's (stdin, stdout) tests (programs).
        raw_source: dict[str, list[tuple[Any, ...]]] = {}
        funcs = [s for s in specs if s.kind == FUNCTION]
        jobs = [CallJob.create(s.source.reference + "\n" + s.source.test + COLLECT.replace("{entry}", s.source.entry_point),
                               "__obench_collect__", [()], limits=limits) for s in funcs]
        for spec, job, res in zip(funcs, jobs, self._run(jobs, "source tests")):
            r = res[0]
            if r.status != "ok":
                self.drop(spec.task_id, f"the reference fails its own tests in the sandbox: {_failure(r)}"
                                        + _where_text(job.code, r))
                continue
            found, opaque = [], 0
            for args in r.decoded:
                if opaque_part(args) is not None:
                    opaque += 1
                    continue
                found.append(tuple(args))
            if opaque:
                spec.notes.append(f"{opaque} call(s) of the task's own tests pass arguments with no data representation "
                                  "(functions, objects); they are not used")
            raw_source[spec.task_id] = found
        for spec in specs:
            if spec.kind == PROGRAM:
                raw_source[spec.task_id] = [(stdin,) for stdin, _out, _vis in spec.source.io_tests]
        specs = self._keep(specs)
        # Every seed input through the contract (host part here, a sandbox predicate in one batched job per task).
        requests = [(s.contract, s.visible_inputs + raw_source[s.task_id]) for s in specs]
        masks = check_inputs_many(requests, lambda js: self._run(js, "contracts of seed inputs"))
        for sp, mask in zip(specs, masks):
            n_vis = len(sp.visible_inputs)
            vis_mask, src_mask = mask[:n_vis], mask[n_vis:]
            sp.visible_inputs = [a for a, ok in zip(sp.visible_inputs, vis_mask) if ok]
            seen: set[str] = set()
            for args, ok in zip(raw_source[sp.task_id], src_mask):
                key = codec.dumps(list(args))
                if key not in seen and ok:
                    seen.add(key)
                    sp.source_inputs.append(args)
            rejected = mask.count(False)
            if rejected and sp.source.contract is not None:
                sp.notes.append(f"the contract rejects {rejected} of the task's own inputs (tests / examples); "
                               "they are not used")
            need = self.config.min_examples - len(sp.visible_inputs)
            if need > 0 and sp.kind == FUNCTION:
                # Too few examples in the docstring: the first inputs of the task's own tests become
                # visible examples (shown in a marked block of the prompt) and leave the hidden seeds.
                shown = {codec.dumps(list(a)) for a in sp.visible_inputs}
                added = [a for a in sp.source_inputs if codec.dumps(list(a)) not in shown][:need]
                sp.visible_inputs = sp.visible_inputs + added
                sp.added_examples = {codec.dumps(list(a)) for a in added}
                sp.source_inputs = [a for a in sp.source_inputs if a not in added]
        # Programs: the reference must reproduce its own tests' stdout (after whitespace normalisation).
        progs = [s for s in specs if s.kind == PROGRAM]
        jobs = [call_job(PROGRAM, s.reference, s.source.entry_point, [(t[0],) for t in s.source.io_tests], limits)
                for s in progs]
        for spec, res in zip(progs, self._run(jobs, "program tests")):
            for k, ((stdin, want, _vis), r) in enumerate(zip(spec.source.io_tests, res)):
                if r.status != "ok":
                    self.drop(spec.task_id, f"the reference fails its own test {k} (stdin {_shown(stdin, 60)}): "
                                            f"{_failure(r)}")
                    break
                if normalise_stdout(r.decoded) != normalise_stdout(want):
                    self.drop(spec.task_id, f"the reference disagrees with its own test {k} (stdin {_shown(stdin, 60)}): "
                                            f"expected {_shown(normalise_stdout(want), 80)}, "
                                            f"got {_shown(normalise_stdout(r.decoded), 80)}")
                    break
        specs = self._keep(specs)
        # Visible outputs from the reference.
        jobs = [call_job(s.kind, s.reference, s.source.entry_point, s.visible_inputs, limits=limits) for s in specs]
        for spec, res in zip(specs, self._run(jobs, "visible tests")):
            keep_in: list[tuple[Any, ...]] = []
            keep_out: list[Any] = []
            by_key = {codec.dumps(list(e.args)): e for e in spec.examples}
            for args, r in zip(spec.visible_inputs, res):
                if r.status != "ok":
                    spec.notes.append(f"docstring example {args!r} makes the reference fail ({r.status}); dropped")
                    continue
                value = r.decoded
                bad = opaque_part(value)
                if bad is not None:
                    self.drop(spec.task_id, _non_data(f"{bad.type_name}: {bad.text[:120]}"))
                    break
                if spec.kind == PROGRAM:
                    value = normalise_stdout(value)
                e = by_key.get(codec.dumps(list(args)))
                if e is not None and e.has_expected and outcomes_differ("ok", e.expected, None, value,
                                                                          unordered=spec.unordered):
                    spec.docstring_disagrees.append(len(keep_in))
                keep_in.append(args)
                keep_out.append(value)
            spec.visible_inputs, spec.visible_outputs = keep_in, keep_out
            if spec.added_examples:
                block = [(a, o) for a, o in zip(keep_in, keep_out) if codec.dumps(list(a)) in spec.added_examples]
                spec.prompt = with_examples_block(spec.source.prompt, spec.source.entry_point, block, spec.kind)
                spec.notes.append(f"{len(block)} visible example(s) added to the prompt in a marked block (computed by "
                                  "the reference on inputs from the task's own tests): the docstring has fewer than "
                                  f"{self.config.min_examples}")
        return self._keep(specs)

    def hidden(self, specs: list[TaskSpec]) -> list[TaskSpec]:
        """Grow hidden tests (a task without a contract or generator keeps its own tests only)."""
        cfg = AugmentConfig(target=self.config.hidden_target, rounds=self.config.augment_rounds, seed=self.config.seed,
                            task_budget_s=self.config.augment_budget_s)
        limits = Limits(timeout_s=10.0, memory_mb=512)
        done = [0]

        def on_task(task_id: str, pool: HiddenPool) -> None:
            done[0] += 1
            self.progress("hidden tests (tasks done)", done[0], len(specs))
            if "budget" in pool.stopped:
                self.log(f"{task_id}: augmentation stopped at {len(pool.inputs)} hidden inputs: {pool.stopped}")

        self.progress("hidden tests (tasks done)", 0, len(specs))
        pools = grow_hidden(
            [AugmentTask(s.task_id, s.reference, s.source.entry_point, s.contract, s.source_inputs, s.visible_inputs,
                         kind=s.kind, generator=s.source.generator, extra=self._extra_inputs(s)) for s in specs],
            lambda jobs: self._run(jobs), cfg, limits, on_task=on_task,
            progress=lambda rnd: self.progress("augmentation rounds", rnd + 1, cfg.rounds + 1),
        )
        self.progress("augmentation rounds", cfg.rounds + 1, cfg.rounds + 1)
        for s in specs:
            p = pools[s.task_id]
            s.hidden_inputs, s.hidden_outputs, s.hidden_origin = p.inputs, p.outputs, p.origin
            s.augmentation = p.stopped
            s.notes.extend(p.notes)
            if p.non_data:
                self.drop(s.task_id, _non_data(p.non_data))
            elif not s.hidden_inputs and not s.visible_inputs:
                self.drop(s.task_id, "no usable test: its tests give no input the contract accepts and the reference "
                                     "answers (and the docstring has no usable example)")
        self.stats["contract_rejected_inputs"] = sum(p.rejected_by_contract for p in pools.values())
        self.stats["reference_failed_inputs"] = sum(p.reference_failed for p in pools.values())
        self.stats["augmentation"] = dict(Counter(p.stopped for p in pools.values()).most_common())
        slow = sorted(pools.items(), key=lambda kv: -kv[1].spent_s)
        self.stats["augmentation_seconds"] = {"total": round(sum(p.spent_s for p in pools.values()), 1),
                                              "slowest": {t: round(p.spent_s, 1) for t, p in slow[:5]}}
        return self._keep(specs)

    def _extra_inputs(self, s: TaskSpec) -> tuple[tuple[tuple[Any, ...], str], ...]:
        """Suite v2's first augmentation inputs: the authored bugs' witnesses, then careful-tester inputs
        derived from the task's seeds (both still pass through the contract)."""
        out: list[tuple[tuple[Any, ...], str]] = [(a.witness, "authored witness") for a in s.authored
                                                  if a.witness is not None]
        if self.config.careful_inputs and s.kind == FUNCTION:
            from tasks.careful import careful_inputs

            rng = random.Random(f"{self.config.seed}:{s.task_id}:careful")
            out.extend((a, "careful") for a in careful_inputs(s.source_inputs + s.visible_inputs, rng,
                                                              self.config.careful_inputs))
        return tuple(out)

    def gold_check(self, specs: list[TaskSpec]) -> list[TaskSpec]:
        """Every reference passes all its visible and hidden tests on a second, untraced run; sets time
        limits. A task whose reference gives another result is dropped as nondeterministic."""
        limits = Limits(timeout_s=10.0, memory_mb=512)
        cases = [self._case(s, s.reference, limits) for s in specs]
        durations: dict[str, list[float]] = {}
        for s, (j, res) in zip(specs, self._label(cases, "gold self-check")):
            if j.label != "correct":
                tests = self._tests(s)
                k = j.failing[0]
                r = res[k]
                now = _shown(r.decoded) if r.status == "ok" else _failure(r)
                self.drop(s.task_id, f"the reference is nondeterministic: a second run differs on {len(j.failing)} of "
                                     f"{len(tests)} tests (input {_shown(tests[k][0], 80)}: first {_shown(tests[k][1], 80)}, "
                                     f"then {now})")
                continue
            durations[s.task_id] = [r.duration_s for r in res]
        specs = self._keep(specs)
        # The time limit rests on the slowest call, and the machine's load must not set it: the slowest
        # inputs are timed once more by the CPU time they take (which other processes hardly change, and
        # which is never above the wall time), and each keeps the smaller of its two times.
        floor = self.config.min_time_limit_s

        def lifting(d: list[float]) -> list[int]:  # the calls that would lift the limit above its floor
            over = [i for i, x in enumerate(d) if calibrated_timeout(x, self.config.time_limit_k, floor) > floor]
            return sorted(over, key=lambda i: -d[i])[:RETIME]

        timed = [(s, lifting(durations[s.task_id])) for s in specs]
        timed = [(s, idx) for s, idx in timed if idx]
        tests_of = {s.task_id: self._tests(s) for s, _ in timed}
        jobs = [cpu_timed_job(s.kind, s.reference, s.source.entry_point, [tests_of[s.task_id][i][0] for i in idx],
                              limits) for s, idx in timed]
        for (s, idx), res in zip(timed, self._run(jobs, "timing the slowest calls")):
            for i, r in zip(idx, res):
                if r.status == "ok" and isinstance(r.decoded, float):
                    durations[s.task_id][i] = min(durations[s.task_id][i], r.decoded)
        for s in specs:
            slowest = max(durations[s.task_id], default=0.0)
            limit = calibrated_timeout(slowest, self.config.time_limit_k, self.config.min_time_limit_s)
            s.time_limit_s = float(-(-limit // 0.5) * 0.5)  # round up to 0.5 s so the hash is stable
        return specs

    def candidates(self, specs: list[TaskSpec]) -> list[CandidateSpec]:
        cfg = self.config
        cands: list[CandidateSpec] = []
        for s in specs:
            module = s.kind == PROGRAM
            rng = random.Random(f"{cfg.seed}:{s.task_id}:candidates")
            variants: dict[str, tuple[str, ...]] = {s.reference: ()}
            for _ in range(cfg.rewrites_per_task):
                code, applied = rewrite(s.reference, s.protected, rng, module=module)
                variants.setdefault(code, applied)
            for code, applied in variants.items():
                if applied or cfg.reference_candidate:
                    cands.append(CandidateSpec(s.task_id, code, "rewrite" if applied else "reference", applied))
            bases: list[tuple[str, tuple[str, ...], str]] = [(c, a, "reference") for c, a in variants.items()]
            seen: set[str] = set(variants)
            for a in s.authored:
                try:
                    code = normalise(a.code)
                except (SyntaxError, ValueError, RecursionError):
                    self.log(f"{s.task_id}: authored candidate {a.where} does not parse; skipped")
                    continue
                if code in seen:
                    continue
                seen.add(code)
                cands.append(CandidateSpec(s.task_id, code, "authored", (), a.family, base=a.base, expected=a.expected,
                                           note=f"authored ({a.where}): {a.rationale}"))
                if a.expected != "correct":
                    continue
                alt: dict[str, tuple[str, ...]] = {code: ()}
                for _ in range(cfg.alternative_rewrites):
                    rw, applied = rewrite(code, s.protected, rng, module=module)
                    alt.setdefault(rw, applied)
                for rw, applied in alt.items():
                    if applied and rw not in seen:
                        seen.add(rw)
                        cands.append(CandidateSpec(s.task_id, rw, "rewrite", applied, base="alternative"))
                bases.extend((c, ap, "alternative") for c, ap in alt.items())
            self._bases[s.task_id], self._seen[s.task_id] = bases, seen
            cands.extend(self._mutants(s, cfg.mutants_per_task))
        return cands

    def _mutants(self, s: TaskSpec, n: int, tag: str = "") -> list[CandidateSpec]:
        """``n`` mutant proposals for ``s``, from its bases in turn (seeded by ``tag`` and the index)."""
        cfg, bases, seen = self.config, self._bases[s.task_id], self._seen[s.task_id]
        out: list[CandidateSpec] = []
        for m_i in range(n):
            base_code, applied, base = bases[m_i % len(bases)]
            mrng = random.Random(f"{cfg.seed}:{s.task_id}:{tag}{m_i}")
            for m in propose_mutants(base_code, s.source.entry_point, s.protected, mrng, limit=3,
                                     whole_module=s.kind == PROGRAM, **({"semantic": True} if cfg.semantic_mutants else {})):
                if m.code not in seen:
                    seen.add(m.code)
                    out.append(CandidateSpec(s.task_id, m.code, "mutation", applied, m.family, m.operator,
                                             m.changed_lines, base=base, base_code=base_code))
                    break
        return out

    def top_up(self, specs: list[TaskSpec], cands: list[CandidateSpec]) -> int:
        """Suite v2: tasks with fewer hidden bugs than a balanced task takes get more mutants (up to
        ``topup_rounds`` rounds of ``topup_mutants``), labelled like the first ones; returns how many
        tasks got some."""
        cfg = self.config
        want = min(cfg.max_buggy_per_task, cfg.max_correct_per_task)
        topped: set[str] = set()
        for rnd in range(cfg.topup_rounds):
            have: Counter[str] = Counter(c.task_id for c in cands if c.label == "buggy" and not c.dropped)
            short = [s for s in specs if s.task_id not in self.dropped and have[s.task_id] < want]
            if not short:
                break
            more = [c for s in short for c in self._mutants(s, cfg.topup_mutants, f"top{rnd}:")]
            if not more:
                break
            self.label(short, more)
            cands.extend(more)
            topped.update(s.task_id for s in short)
        return len(topped)

    def label(self, specs: list[TaskSpec], cands: list[CandidateSpec]) -> None:
        """Execute every candidate; phase 1 on visible inputs, phase 2 on all inputs for survivors."""
        by_id = {s.task_id: s for s in specs}

        def limits(s: TaskSpec, max_timeouts: int = 2) -> Limits:
            return Limits(timeout_s=s.time_limit_s, memory_mb=256, max_timeouts=max_timeouts)

        # Phase 1 is a filter: one timeout already drops a candidate, so its job stops at the first one
        # (a mutant that loops forever costs one time limit, not one per visible test).
        phase1 = [k for k, c in enumerate(cands) if by_id[c.task_id].visible_inputs]
        cases1 = [self._case(by_id[cands[k].task_id], cands[k].code, limits(by_id[cands[k].task_id], 1), visible_only=True)
                  for k in phase1]
        failed_visible: set[int] = set()
        # A filter, not a label: anything but a clean pass on the visible tests is dropped.
        for k, (j, _) in zip(phase1, self._label(cases1, "visible tests of candidates", confirm=False)):
            if j.label != "correct":
                failed_visible.add(k)
        for k in failed_visible:
            c = cands[k]
            if c.kind == "authored":
                c.dropped = "authored alternative fails visible tests" if c.expected == "correct" else "fails visible tests"
                self.log(f"{c.task_id}: {c.note.split(': ')[0]} fails the visible tests; dropped")
            else:
                c.dropped = "rewrite changed behaviour" if c.kind != "mutation" else "fails visible tests"
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
        if c.kind == "authored" and c.expected == "correct":
            c.label = "correct"
            if j.label != "correct":
                c.dropped = f"authored alternative is not correct ({j.shown})"
                self.log(f"{s.task_id}: {c.note.split(':')[0]}: alternative labelled {j.shown} by execution; dropped")
            return
        if c.kind not in ("mutation", "authored"):
            c.label = "correct"
            if j.label != "correct":
                c.dropped = "rewrite changed behaviour (or hit a resource limit)"
            return
        if j.visible_failing:
            c.dropped = "fails visible tests"
            return
        if j.label == "correct":
            c.dropped = NO_HIDDEN_FAILURE
            if c.kind == "authored":
                self.log(f"{s.task_id}: {c.note.split(': ')[0]}: bug not detected by the hidden tests; dropped")
            return
        if j.label == "undecided":
            c.dropped = "only resource failures (timeout / memory / crash)"
            return
        c.label = "buggy"
        c.witnesses.extend(witness_records(j, res, self._tests(s), self.config.witnesses))
        c.failing_origin = s.hidden_origin[hid[0]] if hid else ""


    def guided(self, specs: list[TaskSpec], cands: list[CandidateSpec]) -> dict[str, int]:
        """Mutation-guided augmentation (suite v2): for every mutant the hidden tests miss, search the
        contract's input space for an input that kills it before accepting it as equivalent; killing
        inputs join the hidden tests (the reference's outputs), and the tasks that gained some are
        gold-checked and relabelled from scratch under the one labelling rule.

        Returns:
            ``survivors`` (mutants searched), ``found`` (those some input killed), ``added`` (inputs
            added) and ``tasks`` (tasks relabelled).
        """
        from tasks.augment import search_inputs
        from tasks.labels import fails

        cfg = self.config
        by_id = {s.task_id: s for s in specs}
        survivors: dict[str, list[CandidateSpec]] = defaultdict(list)
        for c in cands:
            s = by_id.get(c.task_id)
            if (s is not None and c.kind == "mutation" and c.dropped == NO_HIDDEN_FAILURE and s.kind == FUNCTION
                    and s.contract is not None and len(survivors[c.task_id]) < cfg.guided_mutants):
                survivors[c.task_id].append(c)
        work = []
        for tid, ms in sorted(survivors.items()):
            s = by_id[tid]
            exclude = {codec.dumps(list(a)) for a in s.visible_inputs + s.hidden_inputs}
            found = search_inputs(tid, s.hidden_inputs + s.visible_inputs, s.contract, cfg.guided_search, cfg.seed, exclude)
            if found:
                work.append((s, ms, found))
        masks = check_inputs_many([(s.contract if s.contract is not None and s.contract.needs_sandbox else None, inp)
                                   for s, _, inp in work], lambda js: self._run(js, "contracts of search inputs"))
        work = [(s, ms, [a for a, ok in zip(inp, m) if ok]) for (s, ms, inp), m in zip(work, masks)]
        work = [w for w in work if w[2]]

        def limits(s: TaskSpec) -> Limits:
            return Limits(timeout_s=s.time_limit_s, memory_mb=256, max_timeouts=2)

        refs = self._run([call_job(s.kind, s.reference, s.source.entry_point, inp, limits(s)) for s, _, inp in work],
                         "mutation-guided search: reference")
        usable = []
        for (s, ms, inp), res in zip(work, refs):
            tests = [(a, r.decoded) for a, r in zip(inp, res) if r.status == "ok" and opaque_part(r.decoded) is None]
            if tests:
                usable.append((s, ms, tests))
        jobs = [call_job(s.kind, m.code, s.source.entry_point, [a for a, _ in tests], limits(s))
                for s, ms, tests in usable for m in ms]
        results = iter(self._run(jobs, "mutation-guided search: mutants"))
        n_found = n_added = 0
        affected = []
        for s, ms, tests in usable:
            killers: list[int] = []
            for m in ms:
                res = next(results)
                kill = next((k for k, (r, t) in enumerate(zip(res, tests)) if r.status in ("ok", "error")
                             and fails(r, t, unordered=s.unordered, checker=s.checker, canon=output_canon(s.kind))), None)
                if kill is not None:
                    m.found_by_search = True
                    n_found += 1
                    if kill not in killers and len(killers) < cfg.guided_keep:
                        killers.append(kill)
            if killers:
                for k in sorted(killers):
                    s.hidden_inputs.append(tests[k][0])
                    s.hidden_outputs.append(tests[k][1])
                    s.hidden_origin.append("mutation-guided")
                n_added += len(killers)
                affected.append(s)
        n_survivors = sum(len(ms) for ms in survivors.values())
        if affected:
            kept = {s.task_id for s in self.gold_check(affected)}
            redo = [c for c in cands if c.task_id in kept]
            for c in redo:
                c.label, c.dropped, c.failing_origin = "", "", ""
                c.witnesses, c.n_failed, c.n_hidden, c.original_failed = [], 0, 0, 0
            self.label([s for s in affected if s.task_id in kept], redo)
        return {"survivors": n_survivors, "found": n_found, "added": n_added, "tasks": len(affected)}


def _candidate_note(c: CandidateSpec) -> str:
    notes = [c.note] if c.note else []
    if c.label == "buggy" and c.n_failed == 1:
        notes.append(f"fails only 1 of {c.n_hidden} hidden inputs (a {c.failing_origin or 'hidden'} input): a subtle "
                     "bug that one test decides")
    return "; ".join(notes)


def _release_stats(specs: list[TaskSpec], cands: list[CandidateSpec], records: list[Any],
                   guided: dict[str, int] | None) -> dict[str, Any]:
    """Suite v2's release statistics (:mod:`tasks.checks`): balance, origins, subtlety, the
    task-prior, prompt-length and similarity checks, the mutation score and the hidden tests' origins."""
    from tasks import checks

    references = {s.task_id: s.reference for s in specs}
    prompts = {s.task_id: (s.prompt or s.source.prompt) for s in specs}
    muts = [c for c in cands if c.kind == "mutation" and c.dropped != "fails visible tests" and c.task_id in references]
    killed = sum(1 for c in muts if c.label == "buggy")
    killable = sum(1 for c in muts if c.label == "buggy" or c.found_by_search)
    per_task_min: dict[str, int] = {}
    for r in records:
        if r.label == "buggy":
            per_task_min[r.task_id] = min(per_task_min.get(r.task_id, r.n_failed), r.n_failed)
    mins = sorted(per_task_min.values())
    out: dict[str, Any] = {
        "task_balance": checks.task_balance(records),
        "by_origin": checks.by_origin(records),
        "families_by_origin": checks.families_by_origin(records),
        "subtlety_by_origin": checks.subtlety_by_origin(records),
        "similarity_auroc": checks.similarity_auroc(records, references),
        "task_prior_auroc": checks.task_prior_auroc(records),
        "prompt_length_auroc": checks.prompt_length_auroc(records, prompts),
        "mutation_score": {"killed": killed, "killable": killable,
                           "score": round(killed / killable, 4) if killable else None,
                           "found_by_search": (guided or {}).get("found", 0),
                           "searched": (guided or {}).get("survivors", 0),
                           "inputs_added": (guided or {}).get("added", 0)},
        "min_failing_inputs_per_task": {"min": mins[0] if mins else None,
                                        "median": mins[len(mins) // 2] if mins else None,
                                        "tasks_at_1": sum(1 for m in mins if m == 1)},
        "single_input_bugs": sum(1 for r in records if r.label == "buggy" and r.n_failed == 1),
        "hidden_origins": dict(Counter(o for s in specs for o in s.hidden_origin).most_common()),
        "tasks_with_added_examples": sum(1 for s in specs if s.added_examples),
        "authored": {"buggy": sum(1 for r in records if r.origin == "authored" and r.label == "buggy"),
                     "correct": sum(1 for r in records if r.origin == "authored" and r.label == "correct")},
        "authored_dropped": dict(Counter(c.dropped for c in cands if c.kind == "authored" and c.dropped).most_common()),
    }
    return out


def _contract_note(s: TaskSpec) -> str:
    if s.contract is not None:
        return s.contract.note
    if s.source.generator:
        return GENERATOR_ONLY_NOTE
    return NO_GENERATOR_NOTE if s.kind == PROGRAM else NO_CONTRACT_NOTE


def _non_data(what: str) -> str:
    return (f"the reference returns a value with no data representation ({what}); results are compared as data "
            "(numbers, strings, lists, tuples, dicts, sets; iterators are materialised as lists), never by repr: "
            "return plain data")


def _kept_by_task(cands: list[CandidateSpec]) -> dict[str, list[CandidateSpec]]:
    """The candidates not dropped, the first of each distinct program only, grouped by task (in order)."""
    by_task: dict[str, list[CandidateSpec]] = defaultdict(list)
    seen: set[str] = set()
    for c in cands:
        if c.dropped or c.code in seen:
            continue
        seen.add(c.code)
        by_task[c.task_id].append(c)
    return by_task


def select_and_balance(specs: list[TaskSpec], cands: list[CandidateSpec], config: BuildConfig) -> list[CandidateSpec]:
    """Dedupe, cap per task, and balance labels within each split (seeded)."""
    split = {s.task_id: s.split for s in specs}
    rng = random.Random(f"{config.seed}:select")
    kept: list[CandidateSpec] = []
    by_task = _kept_by_task(cands)
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


def balance_per_task(specs: list[TaskSpec], cands: list[CandidateSpec], config: BuildConfig
                     ) -> tuple[list[CandidateSpec], dict[str, str]]:
    """Suite v2's selection: every task gets the same number of buggy and correct candidates
    (at most ``max_buggy_per_task``), so that nothing about the task tells the label.

    Authored candidates come first, then the others by family (round robin); within the buggy and
    the correct side the same number is made from authored alternatives as from the reference (as
    far as both sides allow), so that resembling the reference does not tell the label either.

    Returns:
        The chosen candidates, and the tasks that cannot reach ``min_per_label`` of each label
        (task id -> reason; the build drops them).
    """
    rng = random.Random(f"{config.seed}:select")
    by_task = _kept_by_task(cands)
    chosen: list[CandidateSpec] = []
    short: dict[str, str] = {}
    for s in sorted(specs, key=lambda s: s.task_id):
        group = by_task.get(s.task_id, [])
        sides = {}
        for label in ("buggy", "correct"):
            side = [c for c in group if c.label == label]
            rng.shuffle(side)
            first = [c for c in side if c.kind in ("reference", "authored")]
            rest = [c for c in side if c.kind not in ("reference", "authored")]
            sides[label] = {b: [c for c in first if c.base == b] + _round_robin([c for c in rest if c.base == b])
                            for b in ("reference", "alternative")}
        n_b = sum(len(v) for v in sides["buggy"].values())
        n_c = sum(len(v) for v in sides["correct"].values())
        k = min(n_b, n_c, config.max_buggy_per_task, config.max_correct_per_task)
        if k < config.min_per_label:
            short[s.task_id] = (f"too few candidates to balance: {n_b} buggy and {n_c} correct after labelling "
                                f"(at least {config.min_per_label} of each are needed)")
            continue
        if config.match_origins:
            chosen.extend(_matched(group, k, rng))
            continue
        n_alt = min(len(sides["buggy"]["alternative"]), len(sides["correct"]["alternative"]), (k + 1) // 2)
        for label in ("buggy", "correct"):
            ref, alt = sides[label]["reference"], sides[label]["alternative"]
            pick = alt[:n_alt] + ref[: k - n_alt]
            if len(pick) < k:  # one base ran short: the other fills in
                rest = [c for c in ref + alt if c not in pick]
                pick += rest[: k - len(pick)]
            chosen.extend(pick)
    return chosen, short


def _matched(group: list[CandidateSpec], k: int, rng: random.Random) -> list[CandidateSpec]:
    """``k`` buggy and ``k`` correct candidates of one task, chosen in pairs of the same origin so that
    how a candidate was made does not tell its label: an authored bug with an authored alternative, a
    mutant with the very program it was made from (or, if that one is taken, another rewrite of the same
    base); only what pairs cannot fill is chosen unpaired."""
    buggy = [c for c in group if c.label == "buggy"]
    correct = [c for c in group if c.label == "correct"]
    rng.shuffle(buggy)
    rng.shuffle(correct)
    auth_b = [c for c in buggy if c.kind == "authored"]
    auth_c = [c for c in correct if c.kind == "authored"]
    muts = _round_robin([c for c in buggy if c.kind == "mutation"])
    by_code = {c.code: c for c in correct}
    pb: list[CandidateSpec] = []
    pc: list[CandidateSpec] = []
    used: set[int] = set()

    def pair(b: CandidateSpec, c: CandidateSpec) -> None:
        pb.append(b)
        pc.append(c)
        used.add(id(b))
        used.add(id(c))

    for b, c in list(zip(auth_b, auth_c))[:k]:
        pair(b, c)
    for m in muts:  # the mutant's own base
        partner = by_code.get(m.base_code)
        if len(pb) < k and partner is not None and id(partner) not in used:
            pair(m, partner)
    for m in muts:  # another rewrite of the same base kind
        if len(pb) >= k:
            break
        if id(m) in used:
            continue
        partner = next((c for c in correct if id(c) not in used and c.kind == "rewrite" and c.base == m.base), None)
        if partner is not None:
            pair(m, partner)
    rest_b = [c for c in auth_b + muts if id(c) not in used]
    rest_c = [c for c in correct if id(c) not in used]
    n = min(k - len(pb), len(rest_b), len(rest_c))
    return pb + rest_b[:n] + pc + rest_c[:n]


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
    """The leakage check (:func:`tasks.checks.ngram_leakage_auroc`): items are (code, label)."""
    from tasks.checks import ngram_leakage_auroc

    return ngram_leakage_auroc(train, test, seed)


def surface_filter(chosen: list[CandidateSpec], config: BuildConfig) -> tuple[list[CandidateSpec], int]:
    """Drop, per task, the buggy/correct pairs whose surface tells their labels (v2; AFLite-style).

    Every chosen candidate gets the leakage model's out-of-fold score
    (:func:`tasks.checks.surface_scores`, folds by task). For ``surface_filter_rounds`` rounds, each
    task with more than ``min_per_label`` of each label drops its most buggy-looking buggy
    candidate together with its most correct-looking correct one, when their scores differ by more
    than ``surface_filter_margin``: one pair per task and round, so balance is kept. Returns the
    kept candidates (in their order) and the number of pairs dropped.
    """
    from tasks.checks import surface_scores

    kept, dropped = list(chosen), 0
    for _ in range(config.surface_filter_rounds):
        scores = surface_scores([(c.code, c.label, c.task_id) for c in kept], config.seed)
        by_task: dict[str, dict[str, list[tuple[float, str, int]]]] = defaultdict(lambda: {"buggy": [], "correct": []})
        for i, (c, p) in enumerate(zip(kept, scores)):
            by_task[c.task_id][c.label].append((p, candidate_id(c.task_id, c.code), i))
        out: set[int] = set()
        for groups in by_task.values():
            buggy = sorted(groups["buggy"], key=lambda x: (-x[0], x[1]))
            correct = sorted(groups["correct"], key=lambda x: (x[0], x[1]))
            if (min(len(buggy), len(correct)) > config.min_per_label
                    and buggy[0][0] - correct[0][0] > config.surface_filter_margin):
                out |= {buggy[0][2], correct[0][2]}
        if not out:
            break
        dropped += len(out) // 2
        kept = [c for i, c in enumerate(kept) if i not in out]
    return kept, dropped


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


def build_suite(sandbox: Sandbox, sources: Sequence[SourceTask], contracts: dict[str, Contract] | None, out: Any,
                config: BuildConfig | None = None, name: str = "oversightbench-v1", version: str = "1.0.0",
                contract_set: str = "",
                progress: Callable[[str, int, int], None] | None = None,
                log: Callable[[str], None] | None = None) -> Any:
    """Run every step and write the suite to ``out``; returns the manifest.

    Args:
        contracts: hand-written contracts by task id (HumanEval's), overriding the tasks' own
            contract specs; None: only the tasks' own specs.
        contract_set: the name of ``contracts`` in :data:`tasks.contracts.humaneval.CONTRACT_SETS`,
            recorded per task so that checks and verification use the same contracts (empty: v1).
        log: receives a line per dropped task and per note worth a researcher's attention.

    Raises:
        GoldCheckError: no task could be built (each one's reason is in the message).
        BuildError: the sandbox kept failing (infrastructure).
    """
    import platform
    import statistics
    from importlib import metadata
    from pathlib import Path

    from tasks.suite import CandidateRecord, TaskRecord, write_suite

    config = config or BuildConfig()
    b = SuiteBuilder(sandbox, config, progress, log)
    specs = b.prepare(sources, contracts)
    if config.authored:
        b.attach_authored(specs)
    specs = b.hidden(specs)
    specs = b.gold_check(specs)
    if not specs:
        raise GoldCheckError("no task could be built:\n" + "\n".join(f"{t}: {r}" for t, r in list(b.dropped.items())[:20]))
    cands = b.candidates(specs)
    b.label(specs, cands)
    topped = b.top_up(specs, cands) if config.topup_rounds else 0
    guided = b.guided(specs, cands) if config.guided_search else None
    specs = b._keep(specs)
    if config.balance == "task":
        chosen, short = balance_per_task(specs, cands, config)
        for tid, why in short.items():
            b.drop(tid, why)
        specs = b._keep(specs)
        if config.surface_filter_rounds:
            chosen, b.stats["surface_filter_pairs"] = surface_filter(chosen, config)
    else:
        chosen = select_and_balance(specs, cands, config)
    by_id = {s.task_id: s for s in specs}
    task_records = [
        TaskRecord(
            task_id=s.task_id, split=s.split, source=s.source.source, license=s.source.license,
            prompt=s.prompt or s.source.prompt,
            entry_point=s.source.entry_point, reference=s.reference,
            contract_note=_contract_note(s),
            unordered_output=s.unordered, time_limit_s=s.time_limit_s, kind=s.kind,
            contract_spec=canonical_json(s.source.contract) if s.source.contract is not None else "",
            contract_set=(contract_set if contracts is not None and s.source.source == HUMANEVAL_SOURCE
                          and contract_set != "humaneval-v1" else ""),
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
            base=c.base if config.authored else "", note=_candidate_note(c) if config.balance == "task" else "",
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
        "tasks_by_kind": dict(Counter(s.kind for s in specs).most_common()),
        "tasks_without_contract": sorted(s.task_id for s in specs if s.contract is None and not s.source.generator),
        "augmentation_stopped": b.stats.get("augmentation", {}),
        "augmentation_seconds": b.stats.get("augmentation_seconds", {}),
        "dropped_tasks": dict(sorted(b.dropped.items())),
        "n_source_tasks": len(sources),
    }
    if config.balance == "task" or config.authored:
        from tasks.checks import release_checks

        stats.update(_release_stats(specs, cands, cand_records, guided))
        stats["tasks_topped_up"] = topped
        if config.surface_filter_rounds:
            from tasks.checks import held_out_leakage

            stats["surface_filter"] = {"pairs_dropped": b.stats.get("surface_filter_pairs", 0),
                                       "rounds": config.surface_filter_rounds, "margin": config.surface_filter_margin}
            stats["held_out_leakage_auroc"] = held_out_leakage(train, test, config.seed)
        stats["release_problems"] = release_checks(stats)
    info = sandbox.info()
    try:
        obench_version = metadata.version("oversightbench")
    except metadata.PackageNotFoundError:
        obench_version = "unknown"
    build = {"config": {k: (list(v) if isinstance(v, tuple) else v) for k, v in config.__dict__.items()},
             "image_tag": info.image_tag, "image_digest": info.image_digest, "sandbox": info.backend,
             "obench_version": obench_version, "python": platform.python_version()}
    humaneval = contracts is not None and all(s.source.source == HUMANEVAL_SOURCE for s in specs)
    datasheet = render_datasheet(name, version, stats, build, humaneval, sorted({s.source for s in sources}))
    return write_suite(Path(out), task_records, cand_records, name, version, build, stats, datasheet)


def ordered_stats(stats: dict[str, Any]) -> dict[str, Any]:
    """``stats`` with every table-like dict in its display order, whatever order it was stored in.

    Manifests store JSON with sorted keys, so a datasheet rendered again from a manifest would
    otherwise list families alphabetically. Order: families by count (ties by name), subtlety
    buckets as :data:`tasks.labels.SUBTLETY_BUCKETS`, origins as :data:`tasks.checks.ORIGINS`,
    splits as :data:`tasks.suite.SPLITS` (then ``all``).
    """
    from tasks.checks import AUROC_SPLITS, ORIGINS

    def by_count(d: Any) -> Any:
        return dict(sorted(d.items(), key=lambda kv: (-kv[1], kv[0]))) if isinstance(d, dict) else d

    def by_order(d: Any, order: Sequence[str]) -> Any:
        if not isinstance(d, dict):
            return d
        rank = {k: i for i, k in enumerate(order)}
        return dict(sorted(d.items(), key=lambda kv: (rank.get(kv[0], len(rank)), kv[0])))

    buckets = [name for _, name in SUBTLETY_BUCKETS]
    out = dict(stats)
    out["families"] = by_count(stats.get("families"))
    out["subtlety_buckets"] = by_order(stats.get("subtlety_buckets"), buckets)
    for key in ("by_origin", "subtlety_by_origin", "families_by_origin"):
        if isinstance(stats.get(key), dict):
            out[key] = by_order(stats[key], ORIGINS)
    if isinstance(out.get("families_by_origin"), dict):
        out["families_by_origin"] = {o: by_count(f) for o, f in out["families_by_origin"].items()}
    if isinstance(out.get("subtlety_by_origin"), dict):
        out["subtlety_by_origin"] = {o: ({**v, "buckets": by_order(v.get("buckets"), buckets)} if isinstance(v, dict)
                                         else v) for o, v in out["subtlety_by_origin"].items()}
    for key in ("by_split", "tasks_by_split", "task_balance", "similarity_auroc", "task_prior_auroc",
                "prompt_length_auroc"):
        if isinstance(stats.get(key), dict):
            out[key] = by_order(stats[key], AUROC_SPLITS)
    return {k: v for k, v in out.items() if k in stats}


def render_datasheet(name: str, version: str, stats: dict[str, Any], build: dict[str, Any], humaneval: bool,
                     sources: Sequence[str] = ()) -> str:
    """A suite's datasheet (``README.md``) from its build's stats and config (``templates/datasheet.md.j2``).

    The datasheet is not hashed into the content hash, so :func:`rerender_datasheet` can render it
    again from a committed manifest when the template improves; the data stay as built.
    """
    from pathlib import Path

    from jinja2 import Environment, FileSystemLoader

    env = Environment(loader=FileSystemLoader(str(Path(__file__).parent / "templates")), keep_trailing_newline=True)
    return env.get_template("datasheet.md.j2").render(name=name, version=version, stats=ordered_stats(stats), build=build,
                                                      humaneval=humaneval, source_name=", ".join(sources) or "a task file")


def rerender_datasheet(path: Any) -> Any:
    """Render a built suite's datasheet again from its manifest (stats, build config) and task sources.

    ``path`` is a suite directory or a committed suite's name; returns the datasheet's path.
    """
    from tasks.suite import load_suite

    suite = load_suite(path)
    m = suite.manifest
    sources = sorted({t.source for t in suite.tasks.values()})
    text = render_datasheet(m.name, m.version, m.stats, m.build, sources == [HUMANEVAL_SOURCE], sources)
    out = suite.path / "README.md"
    out.write_text(text.replace("{content_hash}", m.content_hash))
    return out
