"""Input contracts: the precondition each task's docstring puts on its arguments.

A hidden input that violates its task's contract is never used: a bug that shows
only on inputs the specification rules out is not a bug. Contracts are small,
trusted predicates kept next to the task data (one module per source).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Contract:
    """The input contract of one task.

    Attributes:
        pre: predicate over the call arguments (``pre(*args) -> bool``); must
            accept every seed input (docstring examples and the source's tests)
            and must never raise (return False instead).
        gen: optional generator of valid argument tuples, for tasks whose valid
            inputs are too structured for blind mutation to hit (``gen(rng)``).
        unordered: the docstring says the output's order does not matter.
        note: the docstring words the contract comes from.
        valid_output: for tasks whose specification admits several answers,
            ``valid_output(args, output) -> bool`` decides whether an output is
            right; otherwise outputs must equal the reference's.
    """

    pre: Callable[..., bool]
    gen: Callable[[random.Random], tuple[Any, ...]] | None = None
    unordered: bool = False
    note: str = ""
    valid_output: Callable[[tuple[Any, ...], Any], bool] | None = None

    def accepts(self, args: tuple[Any, ...] | list[Any]) -> bool:
        """``pre(*args)``, with any exception counted as a violation."""
        try:
            return bool(self.pre(*args))
        except Exception:  # noqa: BLE001 - a predicate that cannot judge rejects
            return False


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
