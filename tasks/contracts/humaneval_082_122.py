"""Input contracts for HumanEval/82 .. HumanEval/122.

Each predicate encodes what the task's docstring allows (and never less than
what the task's own ``check`` passes).  Where the reference solution is wrong
on inputs the docstring allows, those inputs are excluded and the ``note`` says
so (HumanEval/91, 94, 95, 97, 122).
"""

from __future__ import annotations

import random
import re
import string
from typing import Any

from tasks.contracts import (
    Contract,
    bounded_size,
    in_range,
    ints,
    is_int,
    is_num,
    is_prime,
    is_str,
)

_BIG = 10**9
_PRINTABLE = frozenset(chr(c) for c in range(32, 127))
_LOWER = frozenset(string.ascii_lowercase)
_LETTERS = frozenset(string.ascii_letters)
_DIGITS = frozenset(string.digits)


def _int_in(x: Any, lo: int, hi: int) -> bool:
    return is_int(x) and lo <= x <= hi


def _ints_in(x: Any, lo: int = -_BIG, hi: int = _BIG, n: int = 1000) -> bool:
    return ints(x) and bounded_size(x, n) and all(lo <= v <= hi for v in x)


def _chars_in(s: Any, allowed: frozenset[str], n: int = 1000) -> bool:
    return is_str(s) and len(s) <= n and all(c in allowed for c in s)



_is_prime = is_prime


# ---------------------------------------------------------------- 82 .. 90
def _he_82(string: Any) -> bool:
    return is_str(string) and bounded_size(string)


def _he_83(n: Any) -> bool:
    return _int_in(n, 1, 1000)


def _he_84(N: Any) -> bool:  # noqa: N803 - the task's parameter name
    return _int_in(N, 0, 10000)


def _he_85(lst: Any) -> bool:
    return _ints_in(lst) and len(lst) >= 1


def _he_86(s: Any) -> bool:
    return _chars_in(s, _PRINTABLE)


def _he_87(lst: Any, x: Any) -> bool:
    return (
        isinstance(lst, list)
        and len(lst) <= 1000
        and all(_ints_in(row) for row in lst)
        and sum(len(row) for row in lst) <= 1000
        and _int_in(x, -_BIG, _BIG)
    )


def _he_88(array: Any) -> bool:
    return _ints_in(array, 0, _BIG)


def _he_89(s: Any) -> bool:
    return _chars_in(s, _LOWER)


def _he_90(lst: Any) -> bool:
    return _ints_in(lst)


# ---------------------------------------------------------------- 91
_SENT_91 = frozenset(string.ascii_letters + " .?!")
_WORDS_91 = ["I", "I", "Is", "It", "bIt", "the", "sky", "is", "blue", "love", "You",
             "and", "am", "going", "Hello", "world", "will", "be", "a", "walk"]


def _he_91(S: Any) -> bool:  # noqa: N803 - the task's parameter name
    if not _chars_in(S, _SENT_91) or S.startswith(" "):
        return False
    # A sentence that is just the word "I" is counted 0 by the reference
    # (it looks for "I " at the start): the reference is wrong there.
    return all(seg.strip() != "I" for seg in re.split(r"[.?!]", S))


def _gen_91(rng: random.Random) -> tuple[Any, ...]:
    parts: list[str] = []
    for k in range(rng.randint(0, 5)):
        words = [rng.choice(_WORDS_91) for _ in range(rng.randint(1, 6))]
        if rng.random() < 0.35:
            words[0] = "I"
        if words == ["I"]:
            words.append(rng.choice(["am", "love", "feel"]))
        sent = " ".join(words)
        if k:
            sent = rng.choice(["", " ", " ", "  "]) + sent
        parts.append(sent + rng.choice([".", "?", "!", " !", ""]))
        if parts[-1][-1] not in ".?!":  # an undelimited sentence ends the text
            break
    return ("".join(parts),)


# ---------------------------------------------------------------- 92 .. 94
def _he_92(x: Any, y: Any, z: Any) -> bool:
    return all(is_num(v) and in_range(v, -_BIG, _BIG) for v in (x, y, z))


def _he_93(message: Any) -> bool:
    return _chars_in(message, frozenset(string.ascii_letters + " "))


def _he_94(lst: Any) -> bool:
    # The task assumes a prime is present; with none the answer is unspecified
    # (and the reference treats 1 as prime).
    return (
        _ints_in(lst, -(10**6), 10**6, 500)
        and len(lst) >= 1
        and any(_is_prime(v) for v in lst)
    )


def _gen_94(rng: random.Random) -> tuple[Any, ...]:
    hi = rng.choice([10, 100, 10**4, 10**6])
    lst = [rng.randint(-10 if rng.random() < 0.2 else 0, hi) for _ in range(rng.randint(0, 30))]
    while True:
        p = rng.randint(2, hi)
        if _is_prime(p):
            break
    lst.insert(rng.randint(0, len(lst)), p)
    return (lst,)


# ---------------------------------------------------------------- 95
def _key_95(k: Any) -> bool:
    if is_int(k):
        return abs(k) <= _BIG
    # a string key must hold a letter: "is '123' lower case?" is not answerable
    return _chars_in(k, _PRINTABLE, 100) and any(c in _LETTERS for c in k)


def _he_95(d: Any) -> bool:  # the task calls it `dict`
    if not (isinstance(d, dict) and len(d) <= 1000):
        return False
    if not all(_key_95(k) and _chars_in(v, _PRINTABLE, 100) for k, v in d.items()):
        return False
    keys = list(d)
    # The reference stops after the second key once two keys agree, so it
    # answers True for e.g. {"a": .., "b": .., "C": ..}: exclude those inputs.
    if len(keys) >= 3 and all(is_str(k) for k in keys[:2]):
        for case in (str.islower, str.isupper):
            if case(keys[0]) and case(keys[1]):
                return all(is_str(k) and case(k) for k in keys)
    return True


def _gen_95(rng: random.Random) -> tuple[Any, ...]:
    def word() -> str:
        w = "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(1, 6)))
        r = rng.random()
        if r < 0.4:
            return w
        if r < 0.8:
            return w.upper()
        return w.capitalize() + rng.choice(["", "1", " x"])

    n = rng.randint(0, 6)
    style = rng.choice(["lower", "upper", "mixed"])
    d: dict[Any, str] = {}
    for _ in range(n):
        if style == "mixed" and rng.random() < 0.15:
            d[rng.randint(-9, 99)] = word()
            continue
        k = word()
        if style == "lower":
            k = k.lower()
        elif style == "upper":
            k = k.upper()
        d[k] = word()
    if style != "mixed" and d and rng.random() < 0.3:
        # one odd key, placed first or second (where the reference sees it)
        items = list(d.items())
        bad = rng.choice([word().capitalize(), rng.randint(0, 9),
                          word().upper() if style == "lower" else word().lower()])
        if bad not in d:
            items.insert(rng.randint(0, min(1, len(items))), (bad, "x"))
        d = dict(items)
    if not _he_95(d):
        d = dict(list(d.items())[:2])
    return (d,)


# ---------------------------------------------------------------- 96 .. 98
def _he_96(n: Any) -> bool:
    return _int_in(n, 0, 2000)


def _he_97(a: Any, b: Any) -> bool:
    # The reference takes abs(a % 10), which is the unit digit of a negative
    # number only when that digit is 0 or 5 (e.g. -15, as in the docstring).
    return all(_int_in(v, -_BIG, _BIG) and (v >= 0 or (-v) % 10 in (0, 5)) for v in (a, b))


def _he_98(s: Any) -> bool:
    return _chars_in(s, _PRINTABLE)


# ---------------------------------------------------------------- 99
_NUM_99 = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def _he_99(value: Any) -> bool:
    return (
        is_str(value)
        and _NUM_99.fullmatch(value) is not None
        and sum(c in _DIGITS for c in value) <= 15  # exact in a float
    )


def _gen_99(rng: random.Random) -> tuple[Any, ...]:
    sign = "-" if rng.random() < 0.4 else ""
    whole = str(rng.choice([0, rng.randint(0, 9), rng.randint(0, 999), rng.randint(0, 10**8)]))
    r = rng.random()
    if r < 0.25:
        frac = ""
    elif r < 0.55:
        frac = "." + "5" + "0" * rng.randint(0, 3)
    elif r < 0.7:
        frac = "." + "0" * rng.randint(1, 3)
    else:
        frac = "." + "".join(rng.choice(string.digits) for _ in range(rng.randint(1, 5)))
    return (sign + whole + frac,)


# ---------------------------------------------------------------- 100 .. 108
def _he_100(n: Any) -> bool:
    return _int_in(n, 1, 1000)


def _he_101(s: Any) -> bool:
    return _chars_in(s, frozenset(string.ascii_letters + " ,"))


def _he_102(x: Any, y: Any) -> bool:
    return _int_in(x, 1, _BIG) and _int_in(y, 1, _BIG)


def _he_103(n: Any, m: Any) -> bool:
    lim = 10**6
    return _int_in(n, 1, lim) and _int_in(m, 1, lim) and m - n <= 10**5


def _he_104(x: Any) -> bool:
    return _ints_in(x, 1, _BIG)


def _he_105(arr: Any) -> bool:
    return _ints_in(arr)


def _he_106(n: Any) -> bool:
    return _int_in(n, 0, 300)


def _he_107(n: Any) -> bool:
    return _int_in(n, 1, 1000)


def _he_108(arr: Any) -> bool:
    return _ints_in(arr)


# ---------------------------------------------------------------- 109
def _he_109(arr: Any) -> bool:
    return _ints_in(arr) and len(set(arr)) == len(arr)


def _gen_109(rng: random.Random) -> tuple[Any, ...]:
    n = rng.choice([0, 1, 2, 3, rng.randint(4, 12), rng.randint(13, 60)])
    hi = rng.choice([n + 5, 100, 10**6])
    arr = rng.sample(range(-hi // 4, hi), n)
    if rng.random() < 0.6:
        arr.sort()
        k = rng.randint(0, max(0, n - 1))
        arr = arr[k:] + arr[:k]
        if n >= 3 and rng.random() < 0.3:  # near miss: swap two neighbours
            i = rng.randint(0, n - 2)
            arr[i], arr[i + 1] = arr[i + 1], arr[i]
    return (arr,)


# ---------------------------------------------------------------- 110
def _he_110(lst1: Any, lst2: Any) -> bool:
    return _ints_in(lst1) and _ints_in(lst2) and len(lst1) >= 1 and len(lst2) >= 1


# ---------------------------------------------------------------- 111
_HIST_111 = re.compile(r"([a-z]( [a-z])*)?")


def _he_111(test: Any) -> bool:
    return is_str(test) and len(test) <= 1000 and _HIST_111.fullmatch(test) is not None


def _gen_111(rng: random.Random) -> tuple[Any, ...]:
    alphabet = string.ascii_lowercase[: rng.choice([1, 2, 3, 5, 26])]
    n = rng.choice([0, 1, rng.randint(2, 8), rng.randint(9, 40)])
    return (" ".join(rng.choice(alphabet) for _ in range(n)),)


# ---------------------------------------------------------------- 112 .. 114
def _he_112(s: Any, c: Any) -> bool:
    return is_str(s) and is_str(c) and len(s) <= 1000 and len(c) <= 1000


def _he_113(lst: Any) -> bool:
    return (
        isinstance(lst, list)
        and len(lst) <= 1000
        and all(_chars_in(x, _DIGITS) and len(x) >= 1 for x in lst)
    )


def _gen_113(rng: random.Random) -> tuple[Any, ...]:
    def digits() -> str:
        pool = rng.choice([string.digits, "13579", "02468", "0123"])
        return "".join(rng.choice(pool) for _ in range(rng.randint(1, rng.choice([3, 12, 40]))))

    return ([digits() for _ in range(rng.choice([0, 1, 2, rng.randint(3, 10)]))],)


def _he_114(nums: Any) -> bool:
    return _ints_in(nums, -(10**18), 10**18) and len(nums) >= 1


# ---------------------------------------------------------------- 115
def _he_115(grid: Any, capacity: Any) -> bool:
    if not (isinstance(grid, list) and 1 <= len(grid) <= 100):
        return False
    if not all(isinstance(row, list) for row in grid):
        return False
    width = len(grid[0])
    return (
        1 <= width <= 100
        and all(len(row) == width and all(is_int(v) and v in (0, 1) for v in row) for row in grid)
        and _int_in(capacity, 1, 10)
    )


def _gen_115(rng: random.Random) -> tuple[Any, ...]:
    rows = rng.choice([1, rng.randint(1, 6), rng.randint(1, 100)])
    cols = rng.choice([1, rng.randint(1, 6), rng.randint(1, 100)])
    p = rng.choice([0.0, 0.2, 0.5, 0.9, 1.0])
    grid = [[1 if rng.random() < p else 0 for _ in range(cols)] for _ in range(rows)]
    return (grid, rng.randint(1, 10))


# ---------------------------------------------------------------- 116 .. 118
def _he_116(arr: Any) -> bool:
    # The docstring says non-negative, but its own example and the tests pass
    # negative numbers, so any integer is allowed.
    return _ints_in(arr)


def _he_117(s: Any, n: Any) -> bool:
    return _chars_in(s, frozenset(string.ascii_letters + " ")) and _int_in(n, 0, 1000)


def _he_118(word: Any) -> bool:
    return _chars_in(word, _LETTERS) and len(word) >= 1


# ---------------------------------------------------------------- 119
def _he_119(lst: Any) -> bool:
    return (
        isinstance(lst, list)
        and len(lst) == 2
        and all(_chars_in(x, frozenset("()")) for x in lst)
    )


def _gen_119(rng: random.Random) -> tuple[Any, ...]:
    n = rng.choice([0, 1, 2, rng.randint(3, 10), rng.randint(11, 40)])
    if rng.random() < 0.5:  # a balanced string cut in two (often a "Yes")
        depth, out = 0, []
        for i in range(2 * n):
            left = 2 * n - i
            if depth == 0 or (depth < left and rng.random() < 0.5):
                out.append("(")
                depth += 1
            else:
                out.append(")")
                depth -= 1
        s = "".join(out)
        if s and rng.random() < 0.3:  # perturb one character
            i = rng.randrange(len(s))
            s = s[:i] + ("(" if s[i] == ")" else ")") + s[i + 1:]
        k = rng.randint(0, len(s))
        a, b = s[k:], s[:k]
        if rng.random() < 0.5:
            a, b = b, a
        return ([a, b],)
    return (["".join(rng.choice("()") for _ in range(rng.randint(0, n))) for _ in range(2)],)


# ---------------------------------------------------------------- 120 .. 122
def _he_120(arr: Any, k: Any) -> bool:
    return (
        _ints_in(arr, -1000, 1000)
        and len(arr) >= 1
        and is_int(k)
        and 0 <= k <= len(arr)
    )


def _gen_120(rng: random.Random) -> tuple[Any, ...]:
    n = rng.choice([1, 2, rng.randint(3, 10), rng.randint(11, 1000)])
    lo, hi = rng.choice([(-1000, 1000), (-5, 5), (0, 3)])
    arr = [rng.randint(lo, hi) for _ in range(n)]
    k = rng.choice([0, n, rng.randint(0, n)])
    return (arr, k)


def _he_121(lst: Any) -> bool:
    return _ints_in(lst) and len(lst) >= 1


def _he_122(arr: Any, k: Any) -> bool:
    return (
        _ints_in(arr, n=100)
        and len(arr) >= 1
        and is_int(k)
        and 1 <= k <= len(arr)
        # the reference measures len(str(x)), so it drops two-digit negatives
        and not any(-99 <= v <= -10 for v in arr[:k])
    )


CONTRACTS: dict[str, Contract] = {
    "HumanEval/82": Contract(pre=_he_82, note="takes a string"),
    "HumanEval/83": Contract(pre=_he_83, note="Given a positive integer n (<= 1000 here)"),
    "HumanEval/84": Contract(pre=_he_84, note="@N integer, Constraints: 0 <= N <= 10000"),
    "HumanEval/85": Contract(pre=_he_85, note="Given a non-empty list of integers lst"),
    "HumanEval/86": Contract(
        pre=_he_86,
        note="a string ... words (separated by space) ... ascending order based on ascii value;"
        " printable ASCII only",
    ),
    "HumanEval/87": Contract(
        pre=_he_87, note="2 dimensional data, as a nested lists ... integer x; rows may be ragged"
    ),
    "HumanEval/88": Contract(pre=_he_88, note="Given an array of non-negative integers"),
    "HumanEval/89": Contract(
        pre=_he_89,
        note="a string encrypted with the alphabet being rotated; all examples lowercase letters"
        " (other characters: unspecified)",
    ),
    "HumanEval/90": Contract(pre=_he_90, note="You are given a list of integers"),
    "HumanEval/91": Contract(
        pre=_he_91,
        gen=_gen_91,
        note="a string of words ... Sentences are delimited by '.', '?' or '!'; letters, spaces and"
        " delimiters, no leading space; no sentence that is only the word 'I' (reference counts it 0)",
    ),
    "HumanEval/92": Contract(pre=_he_92, note="takes 3 numbers (ints or floats; 3.0 is not an integer per the tests)"),
    "HumanEval/93": Contract(pre=_he_93, note="Assume only letters (examples also contain spaces)"),
    "HumanEval/94": Contract(
        pre=_he_94,
        gen=_gen_94,
        note="a list of integers ... find the largest prime value: at least one prime present",
    ),
    "HumanEval/95": Contract(
        pre=_he_95,
        gen=_gen_95,
        note="Given a dictionary ... keys are strings in lower/upper case (int keys in examples);"
        " string keys contain a letter; excludes dicts whose first two keys agree in case but a"
        " later key does not (reference bug)",
    ),
    "HumanEval/96": Contract(pre=_he_96, note="takes an non-negative integer (<= 2000 here)"),
    "HumanEval/97": Contract(
        pre=_he_97,
        note="takes two integers ... product of their unit digits; negatives only with unit digit"
        " 0 or 5 (the reference's abs(a % 10) is wrong for other negatives)",
    ),
    "HumanEval/98": Contract(pre=_he_98, note="Given a string s ... uppercase vowels; ASCII only"),
    "HumanEval/99": Contract(
        pre=_he_99,
        gen=_gen_99,
        note="a value (string) representing a number: decimal -?d+(.d+)?, at most 15 digits",
    ),
    "HumanEval/100": Contract(pre=_he_100, note="Given a positive integer n (<= 1000 here)"),
    "HumanEval/101": Contract(
        pre=_he_101, note="a string of words separated by commas or spaces (letters, ' ', ',')"
    ),
    "HumanEval/102": Contract(
        pre=_he_102, note="takes two positive numbers x and y (ints: the reference assumes integers)"
    ),
    "HumanEval/103": Contract(
        pre=_he_103,
        note="two positive integers n and m (<= 10**6, m - n <= 10**5 here); ties are rounded"
        " half-to-even per the tests",
    ),
    "HumanEval/104": Contract(pre=_he_104, note="Given a list of positive integers x"),
    "HumanEval/105": Contract(pre=_he_105, note="Given an array of integers"),
    "HumanEval/106": Contract(pre=_he_106, note="returns a list of size n (0 <= n <= 300 here)"),
    "HumanEval/107": Contract(pre=_he_107, note="Given a positive integer n ... 1 <= n <= 10^3"),
    "HumanEval/108": Contract(pre=_he_108, note="takes an array of integers"),
    "HumanEval/109": Contract(
        pre=_he_109,
        gen=_gen_109,
        note="an array 'arr' of N integers ... The given list is guaranteed to have unique elements",
    ),
    "HumanEval/110": Contract(
        pre=_he_110, note="two lists of numbers ... even ... assumed that the input lists will be non-empty"
    ),
    "HumanEval/111": Contract(
        pre=_he_111,
        gen=_gen_111,
        note="a string representing a space separated lowercase letters ('' allowed)",
    ),
    "HumanEval/112": Contract(pre=_he_112, note="We are given two strings s and c"),
    "HumanEval/113": Contract(
        pre=_he_113,
        gen=_gen_113,
        note="a list of strings, where each string consists of only digits (non-empty, ASCII digits)",
    ),
    "HumanEval/114": Contract(
        pre=_he_114, note="Given an array of integers nums ... non-empty sub-array (so nums non-empty)"
    ),
    "HumanEval/115": Contract(
        pre=_he_115,
        gen=_gen_115,
        note="all wells have the same length; 1 <= grid.length <= 10^2; 1 <= row length <= 10^2;"
        " grid[i][j] -> 0 | 1; 1 <= capacity <= 10",
    ),
    "HumanEval/116": Contract(
        pre=_he_116,
        note="an array of non-negative integers -- but the docstring example and the tests pass"
        " negatives, so any integers",
    ),
    "HumanEval/117": Contract(
        pre=_he_117,
        note="a string s and a natural number n ... the input string contains only letters and"
        " spaces (n = 0 allowed)",
    ),
    "HumanEval/118": Contract(
        pre=_he_118, note="You are given a word ... the given string contains English letter only"
    ),
    "HumanEval/119": Contract(
        pre=_he_119,
        gen=_gen_119,
        note="a list of two strings, both strings consist of open parentheses '(' or close"
        " parentheses ')' only",
    ),
    "HumanEval/120": Contract(
        pre=_he_120,
        gen=_gen_120,
        note="length of the array in [1, 1000]; elements in [-1000, 1000]; 0 <= k <= len(arr)",
    ),
    "HumanEval/121": Contract(pre=_he_121, note="Given a non-empty list of integers"),
    "HumanEval/122": Contract(
        pre=_he_122,
        note="a non-empty array of integers arr and an integer k; 1 <= len(arr) <= 100;"
        " 1 <= k <= len(arr); no two-digit negatives in arr[:k] (reference uses len(str(x)))",
    ),
}
