"""Hidden-test augmentation: type-aware mutation of seed inputs, grown by coverage.

Seeds are the visible inputs and the source tests' inputs. Each round mutates
inputs from the pool (one or two arguments, keeping each value's type), drops
anything the task's contract rejects, and runs the reference on the rest in the
sandbox with line-arc tracing. Inputs on which the reference raises or times out
are dropped; inputs that reached new arcs or produced a new output join the pool
that later rounds mutate ("proved new"). Expected outputs are the reference's.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from harness import codec
from harness.jobs import CallJob, CallResult, Limits
from tasks.contracts import Contract

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
    """The hidden inputs of one task and the reference's outputs on them."""

    inputs: list[tuple[Any, ...]] = field(default_factory=list)
    outputs: list[Any] = field(default_factory=list)
    origin: list[str] = field(default_factory=list)  # "source" | "augmented"
    arcs: set[Any] = field(default_factory=set)
    keys: set[str] = field(default_factory=set)
    rejected_by_contract: int = 0
    reference_failed: int = 0


@dataclass(frozen=True)
class AugmentConfig:
    """Limits of the growth loop."""

    target: int = 150
    rounds: int = 8
    batch: int = 120
    seed: int = 0


RunBatch = Callable[[list[CallJob]], list[list[CallResult]]]


def traced_job(reference: str, entry_point: str, inputs: list[tuple[Any, ...]], limits: Limits) -> CallJob:
    code = reference + TRACE_WRAPPER.replace("{entry}", entry_point)
    return CallJob.create(code, "__obench_traced__", inputs, limits=limits)


def grow_hidden(
    tasks: list[tuple[str, str, str, Contract, list[tuple[Any, ...]], list[tuple[Any, ...]]]],
    run: RunBatch,
    config: AugmentConfig,
    limits: Limits,
    progress: Callable[[int], None] | None = None,
) -> dict[str, HiddenPool]:
    """Grow hidden inputs for many tasks at once (one sandbox job per task per round).

    Args:
        tasks: (task_id, reference program, entry point, contract, source-test inputs, visible inputs).
        run: executes jobs in the sandbox.
        config: sizes and seed.
        limits: limits for reference runs.
        progress: called with the round number after each round.

    Returns:
        task_id -> pool; source-test inputs come first, then augmented ones.
    """
    pools = {tid: HiddenPool() for tid, *_ in tasks}
    state: dict[str, dict[str, Any]] = {}
    for tid, _ref, _entry, _contract, source_inputs, visible in tasks:
        seeds = [tuple(s) for s in source_inputs + visible]
        rng = random.Random(f"{config.seed}:{tid}")
        state[tid] = {"rng": rng, "alphabet": _alphabet(seeds), "atoms": _atoms(seeds), "corpus": list(seeds),
                      "outputs": set(), "pending_source": [tuple(s) for s in source_inputs],
                      "visible_keys": {input_key(tuple(v)) for v in visible}}
    for rnd in range(config.rounds + 1):
        jobs, owners, batches = [], [], []
        for tid, ref, entry, contract, _src, _vis in tasks:
            pool, st = pools[tid], state[tid]
            if rnd > 0 and len(pool.inputs) >= config.target:
                continue
            batch = _next_batch(rnd, st, pool, contract, config)
            if not batch:
                continue
            jobs.append(traced_job(ref, entry, batch, limits))
            owners.append(tid)
            batches.append(batch)
        if not jobs:
            break
        for tid, batch, results in zip(owners, batches, run(jobs)):
            _absorb(pools[tid], state[tid], batch, results, source=(rnd == 0))
        if progress:
            progress(rnd)
    for pool in pools.values():
        if len(pool.inputs) > config.target:
            n_src = sum(1 for o in pool.origin if o == "source")
            keep = max(config.target, n_src)
            pool.inputs, pool.outputs, pool.origin = pool.inputs[:keep], pool.outputs[:keep], pool.origin[:keep]
    return pools


def _next_batch(rnd: int, st: dict[str, Any], pool: HiddenPool, contract: Contract, config: AugmentConfig) -> list[tuple[Any, ...]]:
    rng: random.Random = st["rng"]
    if rnd == 0:
        cands = st["pending_source"]
    else:
        cands = []
        tries = 0
        while len(cands) < config.batch and tries < config.batch * 20:
            tries += 1
            if contract.gen is not None and rng.random() < 0.5:
                try:
                    cand = tuple(contract.gen(rng))
                except Exception:  # noqa: BLE001 - a generator bug only costs this draw
                    continue
            else:
                base = rng.choice(st["corpus"])
                cand = mutate_args(base, rng, st["alphabet"], st["atoms"])
            key = input_key(cand)
            if key in pool.keys or key in st["visible_keys"]:
                continue
            if not contract.accepts(cand):
                pool.rejected_by_contract += 1
                continue
            pool.keys.add(key)
            cands.append(cand)
    out, seen = [], set()
    for c in cands:
        k = input_key(c)
        if rnd == 0 and (k in seen or not contract.accepts(c)):
            continue
        seen.add(k)
        out.append(c)
    return out


def _absorb(pool: HiddenPool, st: dict[str, Any], batch: list[tuple[Any, ...]], results: list[CallResult], source: bool) -> None:
    for args, res in zip(batch, results):
        if res.status != "ok":
            pool.reference_failed += 1
            continue
        out, arcs = res.decoded
        new_arcs = {repr(a) for a in arcs} - pool.arcs
        out_key = codec.dumps(out)
        is_new = bool(new_arcs) or out_key not in st["outputs"]
        pool.arcs |= new_arcs
        st["outputs"].add(out_key)
        pool.keys.add(input_key(args))
        pool.inputs.append(args)
        pool.outputs.append(out)
        pool.origin.append("source" if source else "augmented")
        if is_new and not source:
            st["corpus"].append(args)
            st["atoms"].extend(args)
