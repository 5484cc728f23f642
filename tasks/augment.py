"""Hidden-test augmentation: type-aware mutation of seed inputs, grown by coverage.

Seeds are the visible inputs and the source tests' inputs. Each round mutates
inputs from the pool (one or two arguments, keeping each value's type), drops
anything the task's contract rejects, and runs the reference on the rest in the
sandbox with line-arc tracing. Inputs on which the reference raises or times out
are dropped; inputs that reached new arcs or produced a new output join the pool
that later rounds mutate ("proved new"). Expected outputs are the reference's.

Where inputs come from besides mutation: a contract's generator (typed contracts and
some HumanEval contracts), its boundary values (typed contracts, first round), and a task
file's ``input_generator`` (run in the sandbox, seeded per task and round). A contract's
sandbox predicate filters every proposed input in one batched job per task and round.
Tasks without a contract are not augmented (their hidden tests are their own tests and
examples); program tasks are augmented only from an input generator.

Growth scales with the number of tasks: each round is one batched job per task, all tasks'
jobs run together, and a task stops growing when it reaches its target, runs out of
rounds or new inputs, or spends its **time budget** (summed reference execution time;
a job stops after a few reference timeouts, and a round's batch shrinks to what the remaining
budget covers at the task's mean call time). A task that stops on its budget says so in its pool.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from harness import codec
from harness.jobs import CallJob, CallResult, Limits
from tasks.contracts import Contract, check_inputs_many
from tasks.kinds import FUNCTION, PROGRAM, normalise_stdout, opaque_part, traced_code

MAX_INT_ABS = 10**9
MAX_LEN = 60

TRACE_WRAPPER = '''

def __obench_traced__(*__args):
    import sys as __sys
    __arcs = set()
    __prev = [None]

    def __tracer(frame, event, arg):
        if frame.f_code.co_filename != "<candidate>":
            return None
        if event == "line":
            __arcs.add((frame.f_code.co_name, __prev[0], frame.f_lineno))
            __prev[0] = frame.f_lineno
        return __tracer

    __sys.settrace(__tracer)
    try:
        __out = {entry}(*__args)
    finally:
        __sys.settrace(None)
    return (__out, sorted(__arcs, key=repr))
'''


# ------------------------------------------------------------------ value mutation


def _alphabet(seeds: list[tuple[Any, ...]]) -> str:
    chars: set[str] = set()

    def walk(v: Any) -> None:
        if isinstance(v, str):
            chars.update(v)
        elif isinstance(v, (list, tuple, set, frozenset)):
            for x in v:
                walk(x)
        elif isinstance(v, dict):
            for k, x in v.items():
                walk(k)
                walk(x)

    for s in seeds:
        walk(s)
    return "".join(sorted(chars)) or string.ascii_lowercase


def mutate_value(v: Any, rng: random.Random, alphabet: str, pool: list[Any], depth: int = 0) -> Any:
    """A nearby value of the same type (lists/strings may change length)."""
    if isinstance(v, bool):
        return not v
    if isinstance(v, int):
        choice = rng.randrange(9)
        if choice == 0:
            return v + 1
        if choice == 1:
            return v - 1
        if choice == 2:
            return -v
        if choice == 3:
            return rng.choice([0, 1, -1, 2])
        if choice == 4:
            return v * 2 if abs(v) < MAX_INT_ABS // 2 else v // 2
        if choice == 5:
            return v // 2
        if choice == 6:
            same = [x for x in pool if type(x) is int]
            return rng.choice(same) if same else v + 1
        span = max(10, 2 * abs(v))
        return rng.randint(-span, span)
    if isinstance(v, float):
        choice = rng.randrange(7)
        if choice == 0:
            return v + rng.choice([0.5, 1.0, -0.5, -1.0, 0.1])
        if choice == 1:
            return -v
        if choice == 2:
            return 0.0
        if choice == 3:
            return round(v * rng.uniform(0.5, 2.0), rng.choice([1, 2, 3]))
        if choice == 4:
            return float(round(v))
        if choice == 5:
            return v + 1e-9
        return round(rng.uniform(-2 * abs(v) - 10, 2 * abs(v) + 10), 2)
    if isinstance(v, str):
        return _mutate_str(v, rng, alphabet, pool)
    if isinstance(v, list):
        return _mutate_list(v, rng, alphabet, pool, depth)
    if isinstance(v, tuple):
        if not v:
            return v
        i = rng.randrange(len(v))
        return v[:i] + (mutate_value(v[i], rng, alphabet, pool, depth + 1),) + v[i + 1 :]
    if isinstance(v, dict):
        if not v:
            return v
        items = list(v.items())
        i = rng.randrange(len(items))
        choice = rng.randrange(3)
        if choice == 0:
            del items[i]
        elif choice == 1:
            k, x = items[i]
            items[i] = (k, mutate_value(x, rng, alphabet, pool, depth + 1))
        else:
            k, x = items[i]
            items.append((mutate_value(k, rng, alphabet, pool, depth + 1), x))
        return dict(items)
    return v


def _mutate_str(v: str, rng: random.Random, alphabet: str, pool: list[Any]) -> str:
    choice = rng.randrange(10)
    i = rng.randrange(len(v) + 1)
    c = rng.choice(alphabet)
    if choice == 0 and v:
        return v[:i] + v[i + 1 :]
    if choice == 1:
        return v[:i] + c + v[i:]
    if choice == 2 and v:
        j = min(i, len(v) - 1)
        return v[:j] + c + v[j + 1 :]
    if choice == 3:
        return v.swapcase()
    if choice == 4:
        return v[::-1]
    if choice == 5:
        return ""
    if choice == 6 and v:
        a, b = sorted(rng.sample(range(len(v) + 1), 2))
        return v[a:b]
    if choice == 7:
        same = [x for x in pool if isinstance(x, str)]
        return (v + rng.choice(same))[:MAX_LEN] if same else v + c
    if choice == 8:
        return (v * 2)[:MAX_LEN]
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))


def _mutate_list(v: list[Any], rng: random.Random, alphabet: str, pool: list[Any], depth: int) -> list[Any]:
    out = list(v)
    choice = rng.randrange(11)
    if choice == 0 and out:
        del out[rng.randrange(len(out))]
    elif choice == 1 and out:
        out.insert(rng.randrange(len(out) + 1), mutate_value(rng.choice(out), rng, alphabet, pool, depth + 1))
    elif choice == 2 and len(out) >= 2:
        i, j = rng.sample(range(len(out)), 2)
        out[i], out[j] = out[j], out[i]
    elif choice == 3:
        out.reverse()
    elif choice == 4:
        try:
            out.sort()
        except TypeError:
            rng.shuffle(out)
    elif choice == 5:
        rng.shuffle(out)
    elif choice == 6 and out:
        i = rng.randrange(len(out))
        out[i] = mutate_value(out[i], rng, alphabet, pool, depth + 1)
    elif choice == 7:
        out = []
    elif choice == 8 and out:
        out = out[: rng.randrange(len(out))]
    elif choice == 9 and out:
        out.append(out[rng.randrange(len(out))])
    else:
        same = [x for x in pool if isinstance(x, list)]
        if same:
            out = (out + list(rng.choice(same)))[:MAX_LEN]
        elif out:
            out = out + [mutate_value(out[-1], rng, alphabet, pool, depth + 1)]
    return out


def mutate_args(args: tuple[Any, ...], rng: random.Random, alphabet: str, pool: list[Any]) -> tuple[Any, ...]:
    """Mutate one argument (sometimes two) of an argument tuple."""
    if not args:
        return args
    out = list(args)
    for _ in range(2 if len(out) > 1 and rng.random() < 0.3 else 1):
        i = rng.randrange(len(out))
        out[i] = mutate_value(out[i], rng, alphabet, pool)
    return tuple(out)


def _atoms(seeds: list[tuple[Any, ...]]) -> list[Any]:
    """Every value inside the seeds (arguments, items, dict values) for splicing."""
    out: list[Any] = []

    def walk(v: Any, depth: int) -> None:
        out.append(v)
        if depth < 3 and isinstance(v, (list, tuple)):
            for x in v:
                walk(x, depth + 1)

    for s in seeds:
        for a in s:
            walk(a, 0)
    return out


# ------------------------------------------------------------------ growth loop


def input_key(args: tuple[Any, ...]) -> str:
    return codec.dumps(list(args))


@dataclass
class HiddenPool:
    """The hidden inputs of one task and the reference's outputs on them.

    Attributes:
        stopped: why growth ended (``target reached``, ``rounds done``, ``no new inputs``,
            ``time budget ... spent``, ``not augmented: ...``).
        spent_s: reference execution time spent on this task (seconds).
        non_data: set when the reference returned a value with no data representation
            (``type: repr``); such inputs are not kept, and the build drops the task.
        notes: what a researcher should know (generator errors, budget stops).
    """

    inputs: list[tuple[Any, ...]] = field(default_factory=list)
    outputs: list[Any] = field(default_factory=list)
    origin: list[str] = field(default_factory=list)  # "source" | "augmented"
    arcs: set[Any] = field(default_factory=set)
    keys: set[str] = field(default_factory=set)
    rejected_by_contract: int = 0
    reference_failed: int = 0
    stopped: str = ""
    spent_s: float = 0.0
    non_data: str = ""
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class AugmentConfig:
    """Limits of the growth loop.

    Attributes:
        target: hidden inputs per task.
        rounds: augmentation rounds after the source inputs (round 0).
        batch: inputs proposed per task and round (one sandbox job).
        seed: seeds every random choice.
        task_budget_s: traced reference execution time a task may spend before it stops growing
            (a safety net against one task stalling the build; traced runs are several times
            slower than plain ones).
        max_timeouts: an augmentation job stops after this many reference timeouts (the rest of
            its inputs are skipped, and dropped like inputs the reference fails on).
    """

    target: int = 150
    rounds: int = 8
    batch: int = 120
    seed: int = 0
    task_budget_s: float = 300.0
    max_timeouts: int = 2


@dataclass
class AugmentTask:
    """One task to grow hidden inputs for.

    Attributes:
        contract: None: the task is not augmented (only its source inputs are run).
        generator: Python source defining ``generate(rng)`` (one input per call; for programs
            the stdin text), run in the sandbox; empty: none.
        extra: ``(input, origin)`` pairs proposed first in round 1, before any other input (suite
            v2: authored witnesses, careful-tester inputs); they pass through the contract like
            every other input and keep their origin in the pool.
    """

    task_id: str
    reference: str
    entry_point: str
    contract: Contract | None
    source_inputs: list[tuple[Any, ...]]
    visible: list[tuple[Any, ...]]
    kind: str = FUNCTION
    generator: str = ""
    extra: tuple[tuple[tuple[Any, ...], str], ...] = ()

    @property
    def mutate(self) -> bool:
        """Blind mutation of seeds is used only under a contract that filters it, and never for
        programs (mutated stdin text is almost never a valid input)."""
        return self.contract is not None and self.kind == FUNCTION

    @property
    def augmented(self) -> bool:
        return self.mutate or bool(self.generator) or (self.contract is not None and self.contract.gen is not None
                                                       and self.kind == FUNCTION)

    def why_not_augmented(self) -> str:
        if self.kind == PROGRAM:
            return "not augmented: a program task needs an input_generator in the task file"
        return "not augmented: no input contract (hidden tests are the task's own tests and examples)"


RunBatch = Callable[[list[CallJob]], list[list[CallResult]]]

GENERATE_ENTRY = "__obench_generate__"
_GENERATE = '''


def __obench_generate__(seed, n):
    import random as __random
    rng = __random.Random(seed)
    out, errors, first = [], 0, ""
    for _ in range(n):
        try:
            out.append(generate(rng))
        except Exception as exc:
            errors += 1
            first = first or type(exc).__name__ + ": " + str(exc)[:200]
    return out, errors, first
'''
GENERATE_LIMITS = Limits(timeout_s=20.0, memory_mb=256)


def traced_job(reference: str, entry_point: str, inputs: list[tuple[Any, ...]], limits: Limits,
               kind: str = FUNCTION) -> CallJob:
    """A reference run with line-arc tracing: each result is ``(output, arcs)``."""
    code = traced_code(kind, reference, entry_point, TRACE_WRAPPER)
    return CallJob.create(code, "__obench_traced__", inputs, limits=limits)


def generate_job(generator: str, seed: str, n: int) -> CallJob:
    """The sandbox job that draws ``n`` inputs from a task file's ``generate(rng)`` (seeded)."""
    return CallJob.create(generator + _GENERATE, GENERATE_ENTRY, [(seed, n)], limits=GENERATE_LIMITS)


def _as_task(t: Any) -> AugmentTask:
    if isinstance(t, AugmentTask):
        return t
    tid, ref, entry, contract, source_inputs, visible = t
    return AugmentTask(tid, ref, entry, contract, list(source_inputs), list(visible))


def grow_hidden(
    tasks: list[Any],
    run: RunBatch,
    config: AugmentConfig,
    limits: Limits,
    progress: Callable[[int], None] | None = None,
    on_task: Callable[[str, HiddenPool], None] | None = None,
) -> dict[str, HiddenPool]:
    """Grow hidden inputs for many tasks at once (one sandbox job per task per round).

    Args:
        tasks: :class:`AugmentTask` objects, or ``(task_id, reference program, entry point,
            contract, source-test inputs, visible inputs)`` tuples (function tasks).
        run: executes jobs in the sandbox.
        config: sizes, seed and time budget.
        limits: limits for reference runs (later rounds calibrate their time limit under it).
        progress: called with the round number after each round.
        on_task: called with ``(task_id, pool)`` once a task has stopped growing (``pool.stopped``).

    Returns:
        task_id -> pool; source-test inputs come first, then augmented ones.
    """
    items = [_as_task(t) for t in tasks]
    pools = {t.task_id: HiddenPool() for t in items}
    state: dict[str, dict[str, Any]] = {}
    for t in items:
        seeds = [tuple(s) for s in t.source_inputs + t.visible]
        rng = random.Random(f"{config.seed}:{t.task_id}")
        state[t.task_id] = {"rng": rng, "alphabet": _alphabet(seeds), "atoms": _atoms(seeds), "corpus": list(seeds),
                            "outputs": set(), "pending_source": [tuple(s) for s in t.source_inputs],
                            "visible_keys": {input_key(tuple(v)) for v in t.visible}, "generated": None}
    active = {t.task_id for t in items}

    def stop(t: AugmentTask, why: str) -> None:
        if t.task_id in active:
            active.discard(t.task_id)
            pools[t.task_id].stopped = why
            if on_task:
                on_task(t.task_id, pools[t.task_id])

    for rnd in range(config.rounds + 1):
        todo = [t for t in items if t.task_id in active]
        if rnd > 0:
            for t in todo:
                pool = pools[t.task_id]
                if not t.augmented:
                    stop(t, t.why_not_augmented())
                elif len(pool.inputs) >= config.target:
                    stop(t, "target reached")
                elif pool.spent_s >= config.task_budget_s:
                    pool.notes.append(f"augmentation stopped after {len(pool.inputs)} hidden inputs: its time budget "
                                      f"({config.task_budget_s:g} s of reference execution) was spent")
                    stop(t, f"time budget ({config.task_budget_s:g} s) spent")
            todo = [t for t in todo if t.task_id in active]
            _draw_generated(todo, state, pools, run, config, rnd)
        jobs, owners, batches = [], [], []
        for t in todo:
            state[t.task_id]["batch"] = _batch_size(pools[t.task_id], state[t.task_id], config)
            batch = _next_batch(rnd, state[t.task_id], pools[t.task_id], t, config)
            if batch:  # a task with nothing new this round may still find inputs in a later one
                owners.append(t)
                batches.append(batch)
        if not owners:
            break
        if any(t.contract is not None and t.contract.needs_sandbox for t in owners):
            masks = check_inputs_many([(t.contract if t.contract is not None and t.contract.needs_sandbox else None, b)
                                       for t, b in zip(owners, batches)], run)
            kept = []
            for t, b, mask in zip(owners, batches, masks):
                pools[t.task_id].rejected_by_contract += sum(1 for ok in mask if not ok)
                kept.append([a for a, ok in zip(b, mask) if ok])
            batches = kept
        job_limits = replace(limits, max_timeouts=config.max_timeouts) if rnd > 0 else limits
        for t, batch in zip(owners, batches):
            if batch:
                jobs.append(traced_job(t.reference, t.entry_point, batch, job_limits, t.kind))
        live = [(t, b) for t, b in zip(owners, batches) if b]
        for (t, batch), results in zip(live, run(jobs) if jobs else []):
            _absorb(pools[t.task_id], state[t.task_id], batch, results, source=(rnd == 0), kind=t.kind,
                    timeout_s=job_limits.timeout_s)
        if progress:
            progress(rnd)
    for t in items:
        if not t.augmented:
            stop(t, t.why_not_augmented())
        elif len(pools[t.task_id].inputs) >= config.target:
            stop(t, "target reached")
        else:
            stop(t, "rounds done (or no new inputs)")
    for pool in pools.values():
        if len(pool.inputs) > config.target:
            n_src = sum(1 for o in pool.origin if o == "source")
            keep = max(config.target, n_src)
            pool.inputs, pool.outputs, pool.origin = pool.inputs[:keep], pool.outputs[:keep], pool.origin[:keep]
    return pools


def _batch_size(pool: HiddenPool, st: dict[str, Any], config: AugmentConfig) -> int:
    """Inputs to propose this round: the configured batch, fewer when the task's remaining time
    budget would not cover it at the reference's mean call time so far (a slow task is not
    allowed to stall a round for much longer than its budget)."""
    n_ok = st.get("n_ok", 0)
    mean = (st.get("ok_s", 0.0) / n_ok) if n_ok else 0.0
    remaining = config.task_budget_s - pool.spent_s
    if mean <= 0:
        return config.batch
    return max(8, min(config.batch, int(remaining / mean)))


def _draw_generated(todo: list[AugmentTask], state: dict[str, dict[str, Any]], pools: dict[str, HiddenPool],
                    run: RunBatch, config: AugmentConfig, rnd: int) -> None:
    """Run the task files' input generators for this round (one sandbox job per task)."""
    gens = [t for t in todo if t.generator]
    if not gens:
        return
    results = run([generate_job(t.generator, f"{config.seed}:{t.task_id}:{rnd}", config.batch) for t in gens])
    for t, res in zip(gens, results):
        pool, r = pools[t.task_id], res[0]
        drawn: list[tuple[Any, ...]] = []
        if r.status != "ok":
            err = r.error or {}
            pool.notes.append(f"input_generator failed in round {rnd}: {r.status} {err.get('type', '')}: "
                              f"{str(err.get('message', ''))[:200]}")
        else:
            values, errors, first = r.decoded
            if errors:
                pool.notes.append(f"input_generator raised on {errors} of {config.batch} draws in round {rnd} ({first})")
            bad = 0
            for v in values:
                if t.kind == PROGRAM:
                    ok = isinstance(v, str)
                    args: tuple[Any, ...] = (v,)
                else:
                    ok = isinstance(v, (tuple, list))
                    args = tuple(v) if ok else ()
                if not ok or opaque_part(args) is not None:
                    bad += 1
                    continue
                drawn.append(args)
            if bad:
                want = "stdin text (a str)" if t.kind == PROGRAM else "a tuple of arguments"
                pool.notes.append(f"input_generator returned {bad} value(s) that are not {want}; they were ignored")
        state[t.task_id]["generated"] = drawn


def _next_batch(rnd: int, st: dict[str, Any], pool: HiddenPool, task: AugmentTask,
                config: AugmentConfig) -> list[tuple[Any, ...]]:
    rng: random.Random = st["rng"]
    contract = task.contract
    if rnd == 0:
        cands = st["pending_source"]
    else:
        cands = []

        def propose(cand: tuple[Any, ...]) -> None:
            key = input_key(cand)
            if key in pool.keys or key in st["visible_keys"]:
                return
            if contract is not None and not contract.accepts(cand):
                pool.rejected_by_contract += 1
                return
            pool.keys.add(key)
            cands.append(cand)

        if rnd == 1:
            for args, origin in task.extra:
                before = len(cands)
                propose(tuple(args))
                if len(cands) > before:
                    st.setdefault("origin_of", {})[input_key(tuple(args))] = origin
        if rnd == 1 and contract is not None and task.kind == FUNCTION:
            for b in contract.boundaries:
                if len(cands) < st.get("batch", config.batch):
                    propose(tuple(b))
        generated: list[tuple[Any, ...]] | None = st["generated"]
        host_gen = contract.gen if contract is not None and task.kind == FUNCTION else None
        can_mutate = task.mutate and bool(st["corpus"])
        tries = 0
        size = st.get("batch", config.batch)
        while len(cands) < size and tries < config.batch * 20:
            tries += 1
            if generated is not None:
                if generated and (not can_mutate or rng.random() < 0.5):
                    cand = generated.pop(0)
                elif can_mutate:
                    cand = mutate_args(rng.choice(st["corpus"]), rng, st["alphabet"], st["atoms"])
                else:
                    break
            elif host_gen is not None and (not can_mutate or rng.random() < 0.5):
                try:
                    cand = tuple(host_gen(rng))
                except Exception:  # noqa: BLE001 - a generator bug only costs this draw
                    continue
            elif can_mutate:
                base = rng.choice(st["corpus"])
                cand = mutate_args(base, rng, st["alphabet"], st["atoms"])
            else:
                break
            propose(cand)
    out, seen = [], set()
    for c in cands:
        k = input_key(c)
        if rnd == 0 and (k in seen or (contract is not None and not contract.accepts(c))):
            continue
        seen.add(k)
        out.append(c)
    return out


def _absorb(pool: HiddenPool, st: dict[str, Any], batch: list[tuple[Any, ...]], results: list[CallResult],
            source: bool, kind: str = FUNCTION, timeout_s: float = 0.0) -> None:
    for args, res in zip(batch, results):
        pool.spent_s += res.duration_s if res.status != "timeout" else max(res.duration_s, timeout_s)
        if res.status == "ok":
            st["n_ok"] = st.get("n_ok", 0) + 1
            st["ok_s"] = st.get("ok_s", 0.0) + res.duration_s
        if res.status != "ok":
            pool.reference_failed += 1
            continue
        out, arcs = res.decoded
        bad = opaque_part(out)
        if bad is not None:
            pool.reference_failed += 1
            if not pool.non_data:
                pool.non_data = f"{bad.type_name}: {bad.text[:120]}"
            continue
        if kind == PROGRAM:
            out = normalise_stdout(out)
        new_arcs = {repr(a) for a in arcs} - pool.arcs
        out_key = codec.dumps(out)
        is_new = bool(new_arcs) or out_key not in st["outputs"]
        pool.arcs |= new_arcs
        st["outputs"].add(out_key)
        pool.keys.add(input_key(args))
        pool.inputs.append(args)
        pool.outputs.append(out)
        pool.origin.append("source" if source else st.get("origin_of", {}).get(input_key(args), "augmented"))
        if is_new and not source:
            st["corpus"].append(args)
            st["atoms"].extend(args)


def search_inputs(task_id: str, corpus: list[tuple[Any, ...]], contract: Contract | None, n: int, seed: int,
                  exclude: set[str]) -> list[tuple[Any, ...]]:
    """Fresh inputs the contract's host part accepts, for the mutation-guided search of suite v2.

    Drawn, seeded, from the contract's generator (if any), careful-tester variants of the corpus and
    blind mutations of it; none of ``exclude`` (input keys). A sandbox predicate, if the contract has
    one, is the caller's to apply. At most ``n`` inputs; fewer when the space is small.
    """
    from tasks.careful import careful_inputs

    if contract is None or not corpus or n <= 0:
        return []
    rng = random.Random(f"{seed}:{task_id}:guided")
    alphabet, atoms = _alphabet(corpus), _atoms(corpus)
    out: list[tuple[Any, ...]] = []
    keys = set(exclude)

    def take(cand: Any) -> None:
        try:
            cand = tuple(cand)
            key = input_key(cand)
        except Exception:  # noqa: BLE001 - a draw that is not an argument tuple is skipped
            return
        if key in keys or not contract.accepts(cand):
            return
        keys.add(key)
        out.append(cand)

    for cand in careful_inputs(corpus, rng, max(1, n // 3)):
        take(cand)
    tries = 0
    while len(out) < n and tries < n * 20:
        tries += 1
        if contract.gen is not None and rng.random() < 0.5:
            try:
                take(contract.gen(rng))
            except Exception:  # noqa: BLE001 - a generator bug only costs this draw
                continue
        else:
            base = rng.choice(corpus)
            for _ in range(rng.randint(1, 3)):  # several steps away, to leave the seeds' neighbourhood
                base = mutate_args(base, rng, alphabet, atoms)
            take(base)
    return out[:n]
