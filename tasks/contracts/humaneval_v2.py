"""Input contracts of the HumanEval tasks, version 2: the v1 contracts with 12 of them narrowed.

An audit of all 164 contracts against their docstrings found 12 that admit inputs the
docstring rules out (HumanEval/54, 55, 75, 84, 93, 116, 117, 120, 129, 149, 157, 158). The
v1 contracts (:data:`tasks.contracts.humaneval.CONTRACTS`) stay as they are, because suite v1
(``tasks/data/oversightbench-v1``) was built with them and its stored hidden tests use inputs
the narrowed contracts reject. Version 2 is an overlay: every other task keeps its v1
:class:`~tasks.contracts.Contract` object, and each narrowed task gets

- ``pre``: v1's predicate AND the extra condition the docstring states (so v2 never accepts
  an input v1 rejects; v1's types, size bounds and reference-correctness exclusions still apply);
- its audited ``note``, where ``ambiguous:`` marks a docstring that can be read two ways (the
  narrower reading is taken);
- a new ``gen`` where the v1 generator draws inputs v2 rejects (54, 75, 120) or had none (149).

Where the source's own tests (or the docstring's own examples) use inputs the docstring rules
out, exactly those argument tuples are accepted too, and the note says "the source's tests use".

The v1 set is merged here from the per-range modules (as :mod:`tasks.contracts.humaneval`
does) rather than imported from :mod:`tasks.contracts.humaneval`, which imports this module
for its registry (:data:`~tasks.contracts.humaneval.CONTRACT_SETS`).
"""

from __future__ import annotations

import dataclasses
import random
import string
from collections.abc import Callable
from typing import Any

from tasks.contracts import Contract, ints, is_int
from tasks.contracts.humaneval_000_040 import CONTRACTS as _A
from tasks.contracts.humaneval_041_081 import CONTRACTS as _B
from tasks.contracts.humaneval_082_122 import CONTRACTS as _C
from tasks.contracts.humaneval_123_163 import CONTRACTS as _D

#: The v1 contracts (the same objects as :data:`tasks.contracts.humaneval.CONTRACTS`).
CONTRACTS: dict[str, Contract] = {**_A, **_B, **_C, **_D}

_LETTERS = frozenset(string.ascii_letters)
_LOWER = frozenset(string.ascii_lowercase)


def narrowed(
    task_id: str,
    extra: Callable[..., bool],
    note: str,
    gen: Callable[[random.Random], tuple[Any, ...]] | None = None,
) -> Contract:
    """The v1 contract of ``task_id`` with its predicate narrowed to ``v1.pre(*args) and extra(*args)``.

    ``extra`` only runs on arguments v1 accepts (so their types and sizes are already checked).
    The note is replaced; ``gen`` replaces v1's generator when given; every other field
    (``unordered``, ``valid_output``...) is v1's.
    """
    base = CONTRACTS[task_id]
    v1_pre = base.pre

    def pre(*args: Any) -> bool:
        return bool(v1_pre(*args)) and bool(extra(*args))

    pre.__name__ = pre.__qualname__ = f"pre_v2_{task_id.split('/')[-1]}"
    return dataclasses.replace(base, pre=pre, note=note, gen=gen if gen is not None else base.gen)


# ------------------------------------------------------------- HumanEval/54
def _words_54(s0: str, s1: str) -> bool:
    # "two words": a word is not empty (ambiguous: the narrower reading)
    return s0 != "" and s1 != ""


def _gen_54(rng: random.Random) -> tuple[Any, ...]:
    alpha = rng.sample(string.ascii_lowercase, rng.randint(1, 8))
    s0 = "".join(rng.choice(alpha) for _ in range(rng.randint(1, 20)))
    if rng.random() < 0.5:  # same character set, different multiplicities/order
        pool = sorted(set(s0))
        s1 = "".join(pool) + "".join(rng.choice(pool) for _ in range(rng.randint(0, 15)))
        s1 = "".join(rng.sample(s1, len(s1)))
    else:
        s1 = "".join(rng.choice(alpha) for _ in range(rng.randint(1, 20)))
    return (s0, s1)


# ------------------------------------------------------------- HumanEval/55
def _nth_55(n: int) -> bool:
    # "n-th Fibonacci number": n >= 1 (whether a 0-th one exists depends on the indexing
    # convention: the narrower reading)
    return n >= 1


# ------------------------------------------------------------- HumanEval/75
# The check's own inputs at or above 100 (the docstring says "(a) is less then 100").
_SEED_75 = frozenset({105, 125, 126, 729, 891, 1001})


def _below_100_75(a: int) -> bool:
    # "(a) is less then 100": 1 <= a <= 99 (v1 already requires 1 <= a). The check also passes
    # 105 .. 1001: those exact values only.
    return is_int(a) and (a <= 99 or a in _SEED_75)


def _n_prime_factors(n: int) -> int:
    """How many prime factors ``n`` has, counted with multiplicity."""
    count, d = 0, 2
    while d * d <= n:
        while n % d == 0:
            count += 1
            n //= d
        d += 1
    return count + (n > 1)


_THREE_PRIME_PRODUCTS_75 = tuple(a for a in range(1, 100) if _n_prime_factors(a) == 3)


def _gen_75(rng: random.Random) -> tuple[Any, ...]:
    if rng.random() < 0.5:  # products of three primes (the True answers)
        return (rng.choice(_THREE_PRIME_PRODUCTS_75),)
    return (rng.randint(1, 99),)


# ------------------------------------------------------------- HumanEval/84
def _positive_84(N: int) -> bool:  # noqa: N803 - the task's parameter name
    # "Given a positive integer N" and "0 <= N <= 10000": the narrower reading, 1 <= N
    return N >= 1


# ------------------------------------------------------------- HumanEval/93
# Inputs with spaces that the docstring example and the source's tests pass.
_SEED_93 = frozenset({"This is a message", "I DoNt KnOw WhAt tO WrItE"})


def _letters_93(message: str) -> bool:
    # "Assume only letters": ASCII letters (v1 also allows spaces). The docstring's own example
    # and the check also pass messages with spaces: those exact strings only.
    return all(c in _LETTERS for c in message) or message in _SEED_93


# ------------------------------------------------------------- HumanEval/116
_SEED_116 = [-2, -3, -4, -5, -6]


def _non_negative_116(arr: list[int]) -> bool:
    # "an array of non-negative integers"; the docstring's own example (and the check) also
    # pass [-2, -3, -4, -5, -6]: that exact list only.
    return all(v >= 0 for v in arr) or (ints(arr) and arr == _SEED_116)


# ------------------------------------------------------------- HumanEval/117
def _natural_117(s: str, n: int) -> bool:
    # "a natural number n": n >= 1 (whether 0 is natural is ambiguous: the narrower reading)
    return n >= 1


# ------------------------------------------------------------- HumanEval/120
# The source's one input with k = 0 (the docstring says "a positive integer k").
_SEED_120 = ([1, 2, 3, -23, 243, -400, 0], 0)


def _positive_k_120(arr: list[int], k: int) -> bool:
    # "a positive integer k" against "0 <= k <= len(arr)": the narrower reading, 1 <= k
    return k >= 1 or (is_int(k) and k == _SEED_120[1] and ints(arr) and arr == _SEED_120[0])


def _gen_120(rng: random.Random) -> tuple[Any, ...]:
    n = rng.choice([1, 2, rng.randint(3, 10), rng.randint(11, 1000)])
    lo, hi = rng.choice([(-1000, 1000), (-5, 5), (0, 3)])
    arr = [rng.randint(lo, hi) for _ in range(n)]
    k = rng.choice([1, n, rng.randint(1, n)])
    return (arr, k)


# ------------------------------------------------------------- HumanEval/129
# The source's one grid that is not a permutation of [1, N*N] (3 twice, no 4).
_SEED_129 = ([[1, 3], [3, 2]], 10)


def _permutation_129(grid: list[list[int]], k: int) -> bool:
    # "every integer in the range [1, N * N] inclusive appears exactly once" (v1 only requires
    # values in [1, N*N] with a single 1). check() also passes ([[1, 3], [3, 2]], 10): that
    # exact input only.
    vals = [v for row in grid for v in row]
    return sorted(vals) == list(range(1, len(grid) ** 2 + 1)) or (grid, k) == _SEED_129


# ------------------------------------------------------------- HumanEval/149
# Lists whose words differ in length: the docstring's examples and the source's tests.
_SEEDS_149 = (
    ["aa", "a", "aaa"],
    ["ab", "a", "aaa", "cd"],
    ["school", "AI", "asdf", "b"],
    ["d", "dcba", "abcd", "a"],
    ["aaaa", "bbbb", "dd", "cc"],
)


def _same_length_words_149(lst: list[str]) -> bool:
    # words are non-empty; "You may assume that all words will have the same length". The
    # docstring's examples and check() break that assumption: those exact lists only.
    if not all(w != "" for w in lst):
        return False
    return len({len(w) for w in lst}) <= 1 or lst in _SEEDS_149


def _gen_149(rng: random.Random) -> tuple[Any, ...]:
    # Words of one length (odd lengths are all deleted, even ones sorted), with duplicates.
    size = rng.choice([1, 2, 3, 4, rng.randint(1, 12)])
    alphabet = rng.choice(["ab", "abc", "abcdefghijklmnopqrstuvwxyz", "aAbB", "".join(sorted(_LETTERS))])
    n = rng.choice([0, 1, 2, rng.randint(3, 12)])
    words = ["".join(rng.choice(alphabet) for _ in range(size)) for _ in range(n)]
    if words and rng.random() < 0.3:
        words.append(rng.choice(words))
    return (words,)


# ------------------------------------------------------------- HumanEval/157
# Seeds that are not triangles: the docstring's (1, 2, 3) and the check's (2, 2, 10).
_SEEDS_157 = frozenset({(1, 2, 3), (2, 2, 10)})


def _triangle_157(a: int, b: int, c: int) -> bool:
    # "the lengths of the three sides of a triangle": each side shorter than the other two
    # together (a degenerate triangle is the narrower reading's "not a triangle").
    # (1, 2, 3) and (2, 2, 10) are seeds: those exact inputs only, in that argument order.
    x, y, z = sorted((a, b, c))
    return x + y > z or (a, b, c) in _SEEDS_157


# ------------------------------------------------------------- HumanEval/158
_SEED_158 = ["play", "play", "play"]


def _different_words_158(words: list[str]) -> bool:
    # non-empty words; "The list contains different words": no duplicates, except check()'s
    # exact ['play', 'play', 'play'].
    if not all(w != "" for w in words):
        return False
    return len(set(words)) == len(words) or words == _SEED_158


# ------------------------------------------------------------------ the v2 set
_NARROWED: dict[str, Contract] = {
    "HumanEval/54": narrowed(
        "HumanEval/54",
        _words_54,
        gen=_gen_54,
        note="Check if two words have the same characters (lowercase letters). ambiguous: whether '' is a "
        "word; the narrower reading is taken (both words non-empty)",
    ),
    "HumanEval/55": narrowed(
        "HumanEval/55",
        _nth_55,
        note="Return n-th Fibonacci number (exponential reference: n <= 24). ambiguous: whether a 0-th "
        "Fibonacci number exists depends on the indexing convention (the examples fit both); the narrower "
        "reading is taken (n >= 1)",
    ),
    "HumanEval/75": narrowed(
        "HumanEval/75",
        _below_100_75,
        gen=_gen_75,
        note="'Knowing that (a) is less then 100': 1 <= a <= 99. The source's tests use 105, 125, 126, 729, 891 "
        "and 1001 (outside the docstring): those exact inputs only are accepted",
    ),
    "HumanEval/84": narrowed(
        "HumanEval/84",
        _positive_84,
        note="'Given a positive integer N', '@N integer, Constraints: 0 <= N <= 10000'. ambiguous: positive vs "
        "0 <= N; the narrower reading is taken (1 <= N <= 10000)",
    ),
    "HumanEval/93": narrowed(
        "HumanEval/93",
        _letters_93,
        note="'Assume only letters': ASCII letters (or ''). ambiguous: the docstring's own example 'This is a "
        "message' has spaces; the narrower reading is taken. The docstring example and the source's tests use "
        "'This is a message' and 'I DoNt KnOw WhAt tO WrItE': those exact inputs only are accepted",
    ),
    "HumanEval/116": narrowed(
        "HumanEval/116",
        _non_negative_116,
        note="'sort an array of non-negative integers'. The docstring's own example and the source's tests use "
        "[-2, -3, -4, -5, -6]: that exact input only is accepted",
    ),
    "HumanEval/117": narrowed(
        "HumanEval/117",
        _natural_117,
        note="a string s and a natural number n ... the input string contains only letters and spaces; "
        "n <= 1000. ambiguous: whether 0 is a natural number; the narrower reading is taken (n >= 1)",
    ),
    "HumanEval/120": narrowed(
        "HumanEval/120",
        _positive_k_120,
        gen=_gen_120,
        note="length of the array in [1, 1000]; elements in [-1000, 1000]. ambiguous: 'a positive integer k' "
        "against '0 <= k <= len(arr)'; the narrower reading is taken (1 <= k <= len(arr)). The source's tests "
        "use ([1, 2, 3, -23, 243, -400, 0], 0): that exact input only is accepted",
    ),
    "HumanEval/129": narrowed(
        "HumanEval/129",
        _permutation_129,
        note="a grid with N rows and N columns (N >= 2) and a positive integer k (<= 1000); every integer in "
        "[1, N*N] appears exactly once. The source's tests use ([[1, 3], [3, 2]], 10), not a permutation: that "
        "exact input only is accepted",
    ),
    "HumanEval/149": narrowed(
        "HumanEval/149",
        _same_length_words_149,
        gen=_gen_149,
        note="a list of strings (words: letters, non-empty, <= 100), may contain duplicates; 'You may assume that "
        "all words will have the same length'. ambiguous: whether '' is a word (narrower reading: not). The "
        "docstring's examples and the source's tests use lists of words of different lengths "
        "(['aa', 'a', 'aaa'], ['ab', 'a', 'aaa', 'cd'], ['school', 'AI', 'asdf', 'b'], ['d', 'dcba', 'abcd', "
        "'a'], ['aaaa', 'bbbb', 'dd', 'cc']): those exact inputs only are accepted",
    ),
    "HumanEval/157": narrowed(
        "HumanEval/157",
        _triangle_157,
        note="'Given the lengths of the three sides of a triangle' (positive ints; each side shorter than the "
        "other two together). ambiguous: whether a degenerate triangle counts; the narrower reading is taken "
        "(strict). The docstring example (1, 2, 3) is not a triangle, and the source's tests use (1, 2, 3) and "
        "(2, 2, 10): those exact inputs only are accepted",
    ),
    "HumanEval/158": narrowed(
        "HumanEval/158",
        _different_words_158,
        note="a list of strings ... The list contains different words (non-empty list of non-empty lower-case "
        "words, no duplicates). ambiguous: whether '' is a word (narrower reading: not). The source's tests use "
        "['play', 'play', 'play']: that exact input only is accepted",
    ),
}

#: The 12 tasks whose contract v2 narrows (every other task keeps its v1 contract object).
NARROWED_TASKS: frozenset[str] = frozenset(_NARROWED)

#: Version 2 of the HumanEval contracts: v1 with the audited narrowings laid over it.
CONTRACTS_V2: dict[str, Contract] = {**CONTRACTS, **_NARROWED}
