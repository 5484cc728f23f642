"""Input contracts: the precondition each task's docstring puts on its arguments.

A hidden input that violates its task's contract is never used: a bug that shows
only on inputs the specification rules out is not a bug. Contracts come from two places:

- HumanEval's 164 tasks: small, trusted, hand-written predicates kept next to the task
  data (:mod:`tasks.contracts.humaneval`, one module per range of tasks);
- any other task: the contract spec its task file carries, as data
  (:mod:`tasks.contracts.spec`: argument types with ranges, lengths, character sets,
  sortedness, compiled to a host-side checker, a generator and boundary values; and/or a
  ``predicate`` in Python, which runs **in the sandbox**, never on the host).

:func:`contract_for` is the one lookup (the build, ``tasks check``, witness verification and
the ``exec`` protocol use it); :func:`check_inputs` / :func:`check_inputs_many` decide which
inputs a contract accepts, running sandbox predicates as one batched job per task.
"""

from __future__ import annotations

import functools
import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from harness import codec
from harness.jobs import CallJob, CallResult, Limits

#: Entry function of a sandbox predicate job (``bool(valid(*args))``).
PREDICATE_ENTRY = "__obench_valid__"
PREDICATE_LIMITS = Limits(timeout_s=5.0, memory_mb=256, max_timeouts=2)
HUMANEVAL_SOURCE = "openai/human-eval"

RunCalls = Callable[[list[CallJob]], list[list[CallResult]]]

#: What the harness can send to the sandbox unchanged (:mod:`harness.codec`, then JSON): an
#: integer of more than 4,300 digits breaks ``json.dumps`` (Python's int-string limit, on the host
#: and in the sandbox), and the codec cuts anything nested deeper than ``codec.MAX_DEPTH`` (100)
#: to a ``<too deep>`` marker. :func:`encoding_problem` checks these limits (and, to stay bounded,
#: stops after ``ENCODABLE_VALUES`` values); :meth:`Contract.accepts` rejects what breaks them.
ENCODABLE_INT_DIGITS = 4300
ENCODABLE_DEPTH = codec.MAX_DEPTH - 1  # the argument list is encoded at depth 0, its items at 1
ENCODABLE_VALUES = 1_000_000
_CONTAINERS = (list, tuple, set, frozenset, dict)


class ContractInfraError(RuntimeError):
    """A sandbox predicate could not be run (the sandbox itself failed): nothing is decided."""


@dataclass(frozen=True)
class Contract:
    """The input contract of one task.

    Attributes:
        pre: predicate over the call arguments (``pre(*args) -> bool``); must
            accept every seed input (docstring examples and the source's tests)
            and must never raise (return False instead). For a contract with a
            sandbox ``predicate`` this is only the host-side (typed) part.
        gen: optional generator of valid argument tuples, for tasks whose valid
            inputs are too structured for blind mutation to hit (``gen(rng)``).
        unordered: the docstring says the output's order does not matter.
        note: the docstring words the contract comes from.
        valid_output: for tasks whose specification admits several answers,
            ``valid_output(args, output) -> bool`` decides whether an output is
            right; otherwise outputs must equal the reference's.
        predicate: Python source defining ``valid(*args) -> bool``, run in the sandbox
            (never on the host); empty for host-only contracts.
        boundaries: boundary inputs the typed part proposes (ends of ranges, empty and
            single-element containers...); they still pass through the whole contract.
        why: for typed contracts, ``why(args)`` says what an input breaks (None if nothing).
    """

    pre: Callable[..., bool]
    gen: Callable[[random.Random], tuple[Any, ...]] | None = None
    unordered: bool = False
    note: str = ""
    valid_output: Callable[[tuple[Any, ...], Any], bool] | None = None
    predicate: str = ""
    boundaries: tuple[tuple[Any, ...], ...] = ()
    why: Callable[[tuple[Any, ...]], str | None] | None = None

    @property
    def needs_sandbox(self) -> bool:
        """Whether part of the contract (a ``predicate``) can only be checked in the sandbox."""
        return bool(self.predicate)

    def accepts(self, args: tuple[Any, ...] | list[Any]) -> bool:
        """``pre(*args)``, with any exception counted as a violation. With
        :attr:`needs_sandbox`, only the host part: use :func:`check_inputs` for the whole.
        Arguments the harness cannot encode (:func:`encoding_problem`) are rejected first."""
        if encoding_problem(args) is not None:
            return False
        try:
            return bool(self.pre(*args))
        except Exception:  # noqa: BLE001 - a predicate that cannot judge rejects
            return False

    def violation(self, args: tuple[Any, ...] | list[Any]) -> str | None:
        """What the host part says is wrong with ``args`` (None when it accepts them)."""
        problem = encoding_problem(args)
        if problem is not None:
            return f"the harness cannot encode it ({problem})"
        if self.accepts(args):
            return None
        if self.why is not None:
            try:
                reason = self.why(tuple(args))
            except Exception:  # noqa: BLE001
                reason = None
            if reason:
                return reason
        return self.note or "outside the input contract"


def compile_contract(spec: Any) -> Contract:
    """A :class:`Contract` from a contract spec (a :class:`~tasks.contracts.spec.ContractSpec`, or its
    JSON data). Typed parts are checked on the host; a predicate is kept for the sandbox.

    Raises:
        tasks.contracts.spec.ContractSpecError: the spec cannot be used.
    """
    from tasks.contracts.spec import ContractSpec, parse_contract

    cs = spec if isinstance(spec, ContractSpec) else parse_contract(spec)

    def pre(*args: Any) -> bool:
        return cs.violation(args) is None

    def why(args: tuple[Any, ...]) -> str | None:
        return cs.violation(args)

    gen = cs.generate if cs.args is not None else None
    note = cs.note or cs.describe()
    return Contract(pre=pre, gen=gen, unordered=cs.unordered, note=note, predicate=cs.predicate,
                    boundaries=tuple(cs.boundaries()), why=why)


@functools.lru_cache(maxsize=4096)
def _compiled(spec_text: str) -> Contract:
    return compile_contract(json.loads(spec_text))


def contract_for(task: Any) -> Contract | None:
    """The input contract of a suite task (a :class:`tasks.suite.TaskRecord`), or None when it has none.

    A task that carries a contract spec gets it compiled; HumanEval tasks get their hand-written
    contract by task id; any other task has no contract (its hidden tests are then only its own
    tests and examples, and witness inputs are not restricted).
    """
    spec = getattr(task, "contract_spec", "")
    if spec:
        return _compiled(spec)
    if getattr(task, "source", "") == HUMANEVAL_SOURCE:
        from tasks.contracts.humaneval import CONTRACT_SETS

        return CONTRACT_SETS.get(getattr(task, "contract_set", "") or "humaneval-v1", {}).get(task.task_id)
    return None


def predicate_job(contract: Contract, inputs: Sequence[Sequence[Any]], limits: Limits = PREDICATE_LIMITS) -> CallJob:
    """The sandbox job that runs a contract's predicate on ``inputs`` (one result per input)."""
    code = contract.predicate + f"\n\n\ndef {PREDICATE_ENTRY}(*args):\n    return bool(valid(*args))\n"
    return CallJob.create(code, PREDICATE_ENTRY, inputs, limits=limits)


def check_inputs_many(requests: Sequence[tuple[Contract | None, Sequence[tuple[Any, ...]]]],
                      run: RunCalls | None) -> list[list[bool]]:
    """Which inputs each contract accepts: the host part first, then a sandbox predicate on the
    survivors (one job per request, all jobs in one ``run``). ``None`` accepts everything.

    An input the predicate does not answer ``True`` for (it returns something false, raises,
    times out...) is rejected.

    Raises:
        ValueError: a predicate must run but ``run`` is None.
        ContractInfraError: the sandbox failed on a predicate job (an infrastructure outcome).
    """
    out: list[list[bool]] = []
    jobs: list[CallJob] = []
    owners: list[tuple[int, list[int]]] = []
    for n, (contract, inputs) in enumerate(requests):
        if contract is None:
            out.append([True] * len(inputs))
            continue
        mask = [contract.accepts(a) for a in inputs]
        out.append(mask)
        todo = [i for i, ok in enumerate(mask) if ok]
        if contract.needs_sandbox and todo:
            if run is None:
                raise ValueError("this contract has a predicate that runs only in the sandbox; pass a sandbox")
            jobs.append(predicate_job(contract, [inputs[i] for i in todo]))
            owners.append((n, todo))
    if jobs and run is not None:
        for (n, todo), res in zip(owners, run(jobs)):
            for i, r in zip(todo, res):
                if r.infra:
                    raise ContractInfraError(f"the sandbox failed running a contract predicate: {r.error}")
                out[n][i] = r.status == "ok" and r.decoded is True
    return out


def check_inputs(contract: Contract | None, inputs: Sequence[tuple[Any, ...]], run: RunCalls | None) -> list[bool]:
    """:func:`check_inputs_many` for one contract."""
    return check_inputs_many([(contract, inputs)], run)[0]


def encoding_problem(args: Any, max_int_digits: int = ENCODABLE_INT_DIGITS, max_depth: int = ENCODABLE_DEPTH,
                     max_values: int = ENCODABLE_VALUES) -> str | None:
    """Why the harness cannot send call arguments ``args`` to the sandbox unchanged; None when it can.

    Args:
        args: the argument tuple (depth 0; its items are at depth 1).
        max_int_digits: integers must satisfy ``abs(x) < 10**max_int_digits``.
        max_depth: containers may be nested at most this deep (the argument tuple not counted).
        max_values: more values than this are rejected (keeps the walk bounded).

    Never raises; iterative, and stops at the first problem.
    """
    limit = _int_limit(max_int_digits)
    stack: list[tuple[Any, int]] = [(args, 0)]
    seen = 0
    while stack:
        value, depth = stack.pop()
        seen += 1
        if seen > max_values:
            return f"more than {max_values:,} values"
        if isinstance(value, int) and not isinstance(value, bool):
            if not -limit < value < limit:
                return f"an integer with more than {max_int_digits:,} digits"
        elif isinstance(value, _CONTAINERS):
            if depth > max_depth:
                return f"containers nested more than {max_depth} deep"
            items = [x for kv in value.items() for x in kv] if isinstance(value, dict) else list(value)
            stack.extend((x, depth + 1) for x in items)
    return None


@functools.lru_cache(maxsize=8)
def _int_limit(digits: int) -> int:
    return 10**digits


# ------------------------------------------------------------------ helpers
def is_int(x: Any) -> bool:
    """An int that is not a bool."""
    return isinstance(x, int) and not isinstance(x, bool)


def is_num(x: Any) -> bool:
    """An int (not bool) or a finite float."""
    return is_int(x) or (isinstance(x, float) and x == x and abs(x) != float("inf"))


def is_str(x: Any) -> bool:
    return isinstance(x, str)


def list_of(x: Any, pred: Callable[[Any], bool]) -> bool:
    """A list whose items all satisfy ``pred``."""
    return isinstance(x, list) and all(pred(v) for v in x)


def ints(x: Any) -> bool:
    return list_of(x, is_int)


def nums(x: Any) -> bool:
    return list_of(x, is_num)


def strs(x: Any) -> bool:
    return list_of(x, is_str)


def ascii_letters_spaces(s: Any) -> bool:
    return isinstance(s, str) and all(c.isascii() and (c.isalpha() or c == " ") for c in s)


def in_range(x: Any, lo: float | None = None, hi: float | None = None) -> bool:
    """``lo <= x <= hi`` for a number (either bound may be None)."""
    return is_num(x) and (lo is None or x >= lo) and (hi is None or x <= hi)


def bounded_size(x: Any, n: int = 1000) -> bool:
    """Keeps inputs small enough that the reference answers quickly."""
    try:
        return len(x) <= n
    except TypeError:
        return True


def is_prime(k: int) -> bool:
    """Trial-division primality (inputs are bounded by their contracts)."""
    if k < 2:
        return False
    i = 2
    while i * i <= k:
        if k % i == 0:
            return False
        i += 1
    return True
