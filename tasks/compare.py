"""Comparing a candidate's outcome with the reference's, on the host.

Values arrive as decoded Python data (see :mod:`harness.codec`); untrusted code
never compares its own output. Floats compare with a tolerance; collections are
compared order-insensitively only when the task's contract says the docstring
leaves the order free.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from harness.jobs import CallResult

REL_TOL = 1e-6
ABS_TOL = 1e-9


def values_equal(a: Any, b: Any, *, rel_tol: float = REL_TOL, abs_tol: float = ABS_TOL, unordered: bool = False) -> bool:
    """Structural equality with float tolerance (ints and floats compare as numbers)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return bool(a == b) if isinstance(a, (int, float)) and isinstance(b, (int, float)) else False
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        if isinstance(a, int) or isinstance(b, int):
            return a == b  # an integer answer must be exact (no tolerance)
        fa, fb = float(a), float(b)
        if math.isnan(fa) or math.isnan(fb):
            return math.isnan(fa) and math.isnan(fb)
        return math.isclose(fa, fb, rel_tol=rel_tol, abs_tol=abs_tol)
    if isinstance(a, complex) and isinstance(b, complex):
        return values_equal(a.real, b.real, rel_tol=rel_tol, abs_tol=abs_tol) and values_equal(
            a.imag, b.imag, rel_tol=rel_tol, abs_tol=abs_tol)
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, tuple)):
        if len(a) != len(b):
            return False
        if unordered:
            return _multiset_equal(list(a), list(b), rel_tol, abs_tol)
        return all(values_equal(x, y, rel_tol=rel_tol, abs_tol=abs_tol) for x, y in zip(a, b))
    if isinstance(a, dict):
        if set(a) != set(b):
            return False
        return all(values_equal(a[k], b[k], rel_tol=rel_tol, abs_tol=abs_tol) for k in a)
    if isinstance(a, (set, frozenset)):
        return a == b
    return bool(a == b)


def _multiset_equal(a: list[Any], b: list[Any], rel_tol: float, abs_tol: float) -> bool:
    remaining = list(b)
    for x in a:
        for i, y in enumerate(remaining):
            if values_equal(x, y, rel_tol=rel_tol, abs_tol=abs_tol):
                del remaining[i]
                break
        else:
            return False
    return not remaining


def outcomes_differ(cand_status: str, cand_value: Any, cand_error: dict | None,
                    ref_value: Any, *, unordered: bool = False,
                    valid_output: Any = None, args: tuple[Any, ...] | None = None) -> bool:
    """Whether a candidate's call outcome differs from the reference's ``ok`` value.

    The reference is known to return normally on every hidden input, so any
    candidate exception, timeout or crash is a difference. Where the task admits
    several right answers, ``valid_output(args, value)`` decides instead.
    """
    if cand_status != "ok":
        return True
    if values_equal(cand_value, ref_value, unordered=unordered):
        return False
    if valid_output is not None and args is not None:
        try:
            return not valid_output(args, cand_value)
        except Exception:  # noqa: BLE001 - an output the checker cannot judge is wrong
            return True
    return True


def failing_indices(results: Sequence[CallResult], tests: Sequence[tuple[tuple[Any, ...], Any]], *,
                    unordered: bool = False, valid_output: Any = None) -> list[int]:
    """Indices of call results that differ from the expected output of their (args, expected) test."""
    return [k for k, (r, (args, expected)) in enumerate(zip(results, tests))
            if outcomes_differ(r.status, r.decoded if r.status == "ok" else None, r.error, expected,
                               unordered=unordered, valid_output=valid_output, args=args)]
