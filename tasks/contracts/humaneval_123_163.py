"""Input contracts for HumanEval/123 .. HumanEval/163.

Each predicate encodes what the task's docstring allows (loosened only where the
task's own ``check`` passes inputs the docstring rules out; those cases are named
in the ``note``). Where the reference solution would misbehave on inputs the
docstring does not clearly allow (non-ASCII letters in ``ord``-based code, ``int``
accepting ``"+1"``/``" 1"``/``"1_0"``, float rounding, exponential runtimes), such
inputs are excluded too.
"""

from __future__ import annotations

import math
import random
import re
from typing import Any

from tasks.contracts import (
    Contract,
    bounded_size,
    in_range,
    ints,
    is_int,
    is_num,
    list_of,
    strs,
)

_BIG = 10**9
_PRINTABLE = frozenset(chr(c) for c in range(32, 127))
_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_LOWER = frozenset("abcdefghijklmnopqrstuvwxyz")


def _printable(s: Any, n: int = 1000) -> bool:
    """A str of printable ASCII (space through '~'), at most ``n`` long."""
    return isinstance(s, str) and len(s) <= n and all(c in _PRINTABLE for c in s)


def _ints_within(x: Any, bound: int = _BIG, n: int = 1000) -> bool:
    """A list of at most ``n`` ints, each with ``abs <= bound``."""
    return ints(x) and bounded_size(x, n) and all(abs(v) <= bound for v in x)


def _int_in(x: Any, lo: int, hi: int) -> bool:
    return is_int(x) and lo <= x <= hi


# ------------------------------------------------------------- HumanEval/123
def _he_123(n: Any) -> bool:
    # Float arithmetic in the reference (n/2) stays exact: every trajectory from
    # n <= 10**6 stays far below 2**53.
    return _int_in(n, 1, 10**6)


# ------------------------------------------------------------- HumanEval/124
_DATE_CHARS = _PRINTABLE - frozenset(" +_")
_DAYS_IN_MONTH = {1: 31, 2: 29, 3: 31, 4: 30, 5: 31, 6: 30, 7: 31, 8: 31, 9: 30, 10: 31, 11: 30, 12: 31}


def _he_124(date: Any) -> bool:
    # Any string may be validated, but the reference strips whitespace and uses
    # int(), which accepts " 1", "+1", "1_0" and non-ASCII digits; and it does not
    # check the field widths of mm-dd-yyyy. Exclude strings where that matters:
    # whitespace, '+', '_', non-ASCII, and three dash-separated digit groups
    # not 2-2-4 wide whose month/day would otherwise be valid.
    if not isinstance(date, str) or len(date) > 30:
        return False
    if not all(c in _DATE_CHARS for c in date):
        return False
    m = re.fullmatch(r"([0-9]+)-([0-9]+)-([0-9]+)", date)
    if m and not re.fullmatch(r"[0-9]{2}-[0-9]{2}-[0-9]{4}", date):
        month, day = int(m.group(1)), int(m.group(2))
        if 1 <= month <= 12 and 1 <= day <= _DAYS_IN_MONTH[month]:
            return False
    return True


def _gen_124(rng: random.Random) -> tuple[Any, ...]:
    r = rng.random()
    month = rng.choice([rng.randint(1, 12)] * 8 + [0, 13, rng.randint(14, 99)])
    day = rng.choice([rng.randint(1, 28)] * 8 + [0, 29, 30, 31, 32, rng.randint(33, 99)])
    year = rng.randint(0, 9999)
    if r < 0.7:
        return (f"{month:02d}-{day:02d}-{year:04d}",)
    if r < 0.8:
        sep = rng.choice(["/", ".", ""])
        return (f"{month:02d}{sep}{day:02d}{sep}{year:04d}",)
    if r < 0.9:
        return (rng.choice(["", "2003-04-12", "04-2003", "2003-04", "ab-cd-efgh", "01--2000", "-01-01-2000"]),)
    # wrong field widths, only with an invalid month or day
    return (f"{rng.choice([0, 13, 77])}-{day}-{year}",)


# ------------------------------------------------------------- HumanEval/125
def _he_125(txt: Any) -> bool:
    # The reference only looks for ' ' (not tabs/newlines) and uses ord() parity
    # for "order in the alphabet", which only holds for ASCII letters.
    return _printable(txt)


# ------------------------------------------------------------- HumanEval/126
def _he_126(lst: Any) -> bool:
    return _ints_within(lst) and all(v >= 0 for v in lst)


# ------------------------------------------------------------- HumanEval/127
def _interval(iv: Any) -> bool:
    return (
        isinstance(iv, tuple)
        and len(iv) == 2
        and _int_in(iv[0], -(10**5), 10**5)
        and _int_in(iv[1], -(10**5), 10**5)
        and iv[0] <= iv[1]
    )


def _he_127(interval1: Any, interval2: Any) -> bool:
    # Bounded because the reference tests primality by trial division up to the length.
    return _interval(interval1) and _interval(interval2)


def _gen_127(rng: random.Random) -> tuple[Any, ...]:
    span = rng.choice([5, 20, 100, 10**5])

    def one() -> tuple[int, int]:
        a = rng.randint(-span, span)
        b = rng.randint(-span, span)
        return (min(a, b), max(a, b))

    return (one(), one())


# ------------------------------------------------------------- HumanEval/128
def _he_128(arr: Any) -> bool:
    return _ints_within(arr)


# ------------------------------------------------------------- HumanEval/129
def _he_129(grid: Any, k: Any) -> bool:
    # Docstring: N x N grid, N >= 2, every integer of [1, N*N] exactly once.
    # check() passes [[1, 3], [3, 2]] (3 twice, no 4), so only require values in
    # [1, N*N] with a single cell holding 1 (which keeps the answer unique).
    if not isinstance(grid, list) or not 2 <= len(grid) <= 30:
        return False
    n = len(grid)
    if not all(isinstance(row, list) and len(row) == n for row in grid):
        return False
    vals = [v for row in grid for v in row]
    if not all(_int_in(v, 1, n * n) for v in vals):
        return False
    return vals.count(1) == 1 and _int_in(k, 1, 1000)


def _gen_129(rng: random.Random) -> tuple[Any, ...]:
    n = rng.choice([2, 2, 3, 3, 4, 5, 6, 8, 10])
    vals = list(range(1, n * n + 1))
    rng.shuffle(vals)
    grid = [vals[i * n:(i + 1) * n] for i in range(n)]
    k = rng.choice([1, 2, 3, rng.randint(1, 20), rng.randint(1, 100)])
    return (grid, k)


# ------------------------------------------------------------- HumanEval/130
def _he_130(n: Any) -> bool:
    return _int_in(n, 0, 1000)


# ------------------------------------------------------------- HumanEval/131
def _he_131(n: Any) -> bool:
    return _int_in(n, 1, 10**18)


# ------------------------------------------------------------- HumanEval/132
def _he_132(string: Any) -> bool:
    return isinstance(string, str) and len(string) <= 1000 and all(c in "[]" for c in string)


# ------------------------------------------------------------- HumanEval/133
def _he_133(lst: Any) -> bool:
    return list_of(lst, lambda v: in_range(v, -_BIG, _BIG)) and bounded_size(lst)


# ------------------------------------------------------------- HumanEval/134
def _he_134(txt: Any) -> bool:
    # Words are separated by ' ' only; the reference tests ASCII letters via ord().
    return _printable(txt)


# ------------------------------------------------------------- HumanEval/135
def _he_135(arr: Any) -> bool:
    return _ints_within(arr) and len(set(arr)) == len(arr)


# ------------------------------------------------------------- HumanEval/136
def _he_136(lst: Any) -> bool:
    return _ints_within(lst)


# ------------------------------------------------------------- HumanEval/137
_REAL_STR = re.compile(r"-?[0-9]{1,9}(?:[.,][0-9]{1,6})?")


def _real_137(v: Any) -> bool:
    # Strings: plain decimals with '.' or ',' and <= 15 significant digits, so that
    # the reference's float() comparison is exact for distinct decimals.
    if isinstance(v, str):
        return _REAL_STR.fullmatch(v) is not None
    return in_range(v, -_BIG, _BIG)


def _he_137(a: Any, b: Any) -> bool:
    return _real_137(a) and _real_137(b)


def _gen_137(rng: random.Random) -> tuple[Any, ...]:
    def one(base: float) -> Any:
        kind = rng.randrange(4)
        if kind == 0:
            return int(round(base))
        if kind == 1:
            return round(base, rng.randint(0, 3))
        x = round(base, rng.randint(0, 3))
        s = f"{x:.{rng.randint(0, 3)}f}" if rng.random() < 0.8 else str(int(round(x)))
        return s.replace(".", ",") if kind == 3 else s

    base = rng.uniform(-50, 50)
    other = base if rng.random() < 0.3 else rng.uniform(-50, 50)
    return (one(base), one(other))


# ------------------------------------------------------------- HumanEval/138
def _he_138(n: Any) -> bool:
    return _int_in(n, -_BIG, _BIG)


# ------------------------------------------------------------- HumanEval/139
def _he_139(n: Any) -> bool:
    # n > 0; the product of factorials grows fast: n <= 80 keeps the result under
    # Python's 4300-digit int-to-str limit (results cross the sandbox as JSON).
    return _int_in(n, 1, 80)


# ------------------------------------------------------------- HumanEval/140
def _he_140(text: Any) -> bool:
    # Only ' ' counts as a space; other whitespace would make "spaces" ambiguous.
    return isinstance(text, str) and len(text) <= 1000 and all(c == " " or not c.isspace() for c in text)


# ------------------------------------------------------------- HumanEval/141
def _he_141(file_name: Any) -> bool:
    # "latin alphabet" letters and '0'-'9' digits: the reference uses isalpha() /
    # isdigit(), which also accept non-ASCII letters and digits.
    return _printable(file_name)


# ------------------------------------------------------------- HumanEval/142
def _he_142(lst: Any) -> bool:
    return _ints_within(lst)


# ------------------------------------------------------------- HumanEval/143
def _he_143(sentence: Any) -> bool:
    return (
        isinstance(sentence, str)
        and 1 <= len(sentence) <= 100
        and re.fullmatch(r"[A-Za-z]+(?: [A-Za-z]+)*", sentence) is not None
    )


def _gen_143(rng: random.Random) -> tuple[Any, ...]:
    while True:
        words = [
            "".join(rng.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(rng.randint(1, 12)))
            for _ in range(rng.randint(1, 15))
        ]
        s = " ".join(words)
        if len(s) <= 100:
            return (s,)


# ------------------------------------------------------------- HumanEval/144
def _fraction(s: Any) -> bool:
    # Positive whole numerator/denominator without signs, spaces or leading zeros;
    # <= 10**6 so the reference's float division decides wholeness exactly.
    if not isinstance(s, str):
        return False
    m = re.fullmatch(r"([1-9][0-9]{0,6})/([1-9][0-9]{0,6})", s)
    return m is not None and int(m.group(1)) <= 10**6 and int(m.group(2)) <= 10**6


def _he_144(x: Any, n: Any) -> bool:
    return _fraction(x) and _fraction(n)


def _gen_144(rng: random.Random) -> tuple[Any, ...]:
    def num() -> int:
        return rng.choice([rng.randint(1, 12), rng.randint(1, 100), rng.randint(1, 10**6)])

    a, b = num(), num()
    if rng.random() < 0.5:  # x * n whole: c = b * t, d a divisor of a * t
        t = rng.randint(1, 5)
        c = b * t if b * t <= 10**6 else b
        m = a * (c // b)
        divisors = [q for q in range(1, math.isqrt(m) + 1) if m % q == 0]
        divisors += [m // q for q in divisors]
        d = rng.choice([q for q in divisors if q <= 10**6])
        return (f"{a}/{b}", f"{c}/{d}")
    return (f"{a}/{b}", f"{num()}/{num()}")


# ------------------------------------------------------------- HumanEval/145
def _he_145(nums: Any) -> bool:
    return _ints_within(nums)


# ------------------------------------------------------------- HumanEval/146
def _he_146(nums: Any) -> bool:
    # "array of numbers": check() only passes ints; the digit rule is about ints.
    return _ints_within(nums, 10**18)


# ------------------------------------------------------------- HumanEval/147
def _he_147(n: Any) -> bool:
    # The reference is cubic; n <= 100 (the largest check input) runs in ~0.03 s.
    return _int_in(n, 1, 100)


# ------------------------------------------------------------- HumanEval/148
_PLANETS = ("Mercury", "Venus", "Earth", "Mars", "Jupiter", "Saturn", "Uranus", "Neptune")
_PLANETS_LOWER = frozenset(p.lower() for p in _PLANETS)


def _planet_arg(p: Any) -> bool:
    # Any string; but a near-miss spelling of a planet ("earth", " Mars") is
    # excluded: whether it is a "correct planet name" is ambiguous.
    return (
        isinstance(p, str)
        and len(p) <= 100
        and (p in _PLANETS or p.strip().lower() not in _PLANETS_LOWER)
    )


def _he_148(planet1: Any, planet2: Any) -> bool:
    return _planet_arg(planet1) and _planet_arg(planet2)


def _gen_148(rng: random.Random) -> tuple[Any, ...]:
    bad = ["Pluto", "Makemake", "Sun", "Moon", "", "Ceres", "Planet X"]

    def one() -> str:
        return rng.choice(_PLANETS) if rng.random() < 0.9 else rng.choice(bad)

    return (one(), one())


# ------------------------------------------------------------- HumanEval/149
def _he_149(lst: Any) -> bool:
    # "list of strings" (words); "all words will have the same length" is
    # contradicted by check() and the examples, so lengths may differ.
    return strs(lst) and bounded_size(lst) and all(len(w) <= 100 and all(c in _LETTERS for c in w) for w in lst)


# ------------------------------------------------------------- HumanEval/150
def _he_150(n: Any, x: Any, y: Any) -> bool:
    # The reference returns x for n <= 0 (treating it as prime); primality is
    # about positive integers, so n >= 1. Trial division: n <= 10**5.
    return _int_in(n, 1, 10**5) and _int_in(x, -_BIG, _BIG) and _int_in(y, -_BIG, _BIG)


# ------------------------------------------------------------- HumanEval/151
def _item_151(v: Any) -> bool:
    if is_int(v):
        return abs(v) <= _BIG
    # Floats: only non-integral ones ("not integers"; whether 3.0 is an integer
    # is ambiguous) and not so small that str() uses exponent notation, which
    # the reference's '"." not in str(i)' test would then misjudge.
    return is_num(v) and 1e-4 <= abs(v) <= _BIG and v != int(v)


def _he_151(lst: Any) -> bool:
    return list_of(lst, _item_151) and bounded_size(lst)


# ------------------------------------------------------------- HumanEval/152
def _he_152(game: Any, guess: Any) -> bool:
    return _ints_within(game) and _ints_within(guess) and len(game) == len(guess)


def _gen_152(rng: random.Random) -> tuple[Any, ...]:
    n = rng.choice([0, 1, rng.randint(1, 10), rng.randint(1, 100)])
    hi = rng.choice([5, 10, 100])
    game = [rng.randint(0, hi) for _ in range(n)]
    guess = [g if rng.random() < 0.4 else rng.randint(-hi, hi) for g in game]
    return (game, guess)


# ------------------------------------------------------------- HumanEval/153
def _he_153(class_name: Any, extensions: Any) -> bool:
    # ASCII only: the reference's isupper()/islower() on other scripts (title-case
    # letters, letters without case) is not what "uppercase letters" means.
    return (
        _printable(class_name, 100)
        and strs(extensions)
        and 1 <= len(extensions) <= 1000
        and all(_printable(e, 100) for e in extensions)
    )


# ------------------------------------------------------------- HumanEval/154
def _word(s: Any, n: int = 200) -> bool:
    return isinstance(s, str) and 1 <= len(s) <= n and all(c in _LETTERS for c in s)


def _he_154(a: Any, b: Any) -> bool:
    return _word(a) and _word(b)


# ------------------------------------------------------------- HumanEval/155
def _he_155(num: Any) -> bool:
    return _int_in(num, -(10**18), 10**18)


# ------------------------------------------------------------- HumanEval/156
def _he_156(number: Any) -> bool:
    return _int_in(number, 1, 1000)


# ------------------------------------------------------------- HumanEval/157
def _he_157(a: Any, b: Any, c: Any) -> bool:
    # Side lengths: positive. check() passes (1, 2, 3) and (2, 2, 10), which are
    # not triangles, so the triangle inequality is not required. Ints only: the
    # reference's exact float equality would misjudge e.g. (0.3, 0.4, 0.5).
    return all(_int_in(v, 1, _BIG) for v in (a, b, c))


# ------------------------------------------------------------- HumanEval/158
def _he_158(words: Any) -> bool:
    # Non-empty list of lower-case words (mixed case would make "lexicographical
    # order" ambiguous). "different words" is contradicted by check()'s
    # ['play', 'play', 'play'], so duplicates are allowed.
    return (
        strs(words)
        and 1 <= len(words) <= 1000
        and all(len(w) <= 100 and all(c in _LOWER for c in w) for w in words)
    )


# ------------------------------------------------------------- HumanEval/159
def _he_159(number: Any, need: Any, remaining: Any) -> bool:
    return all(_int_in(v, 0, 1000) for v in (number, need, remaining))


# ------------------------------------------------------------- HumanEval/160
_OPS = ("+", "-", "*", "//", "**")
_POW_BITS = 10_000


def _he_160(operator: Any, operand: Any) -> bool:
    if not (isinstance(operator, list) and isinstance(operand, list)):
        return False
    if not (1 <= len(operator) <= 50 and len(operand) == len(operator) + 1):
        return False
    if not all(isinstance(o, str) and o in _OPS for o in operator):
        return False
    if not all(_int_in(v, 0, 10**6) for v in operand):
        return False
    # Split into '**' chains (right-associative), evaluate each with a size cap,
    # and reject a zero divisor after '//'.
    chains: list[list[int]] = [[operand[0]]]
    joins: list[str] = []
    for op, v in zip(operator, operand[1:]):
        if op == "**":
            chains[-1].append(v)
        else:
            joins.append(op)
            chains.append([v])
    values = []
    for chain in chains:
        e = chain[-1]
        for base in reversed(chain[:-1]):
            if base > 1 and (e > _POW_BITS or e * math.log2(base) > _POW_BITS):
                return False
            e = base**e
        values.append(e)
    # The result must stay well under Python's 4300-digit int-to-str limit.
    if sum(v.bit_length() + 1 for v in values) > _POW_BITS:
        return False
    return all(not (op == "//" and values[i + 1] == 0) for i, op in enumerate(joins))


def _gen_160(rng: random.Random) -> tuple[Any, ...]:
    while True:
        n = rng.choice([1, 2, 3, rng.randint(1, 8), rng.randint(1, 20)])
        weights = [3, 3, 3, 2, 1]
        operator = rng.choices(_OPS, weights=weights, k=n)
        hi = rng.choice([9, 20, 100])
        operand = [rng.randint(0, hi) for _ in range(n + 1)]
        if _he_160(operator, operand):
            return (operator, operand)


# ------------------------------------------------------------- HumanEval/161
def _he_161(s: Any) -> bool:
    # ASCII: swapcase()/isalpha() of other scripts can change length (e.g. 'ß').
    return _printable(s)


# ------------------------------------------------------------- HumanEval/162
def _he_162(text: Any) -> bool:
    # The reference encodes with 'ascii'.
    return isinstance(text, str) and len(text) <= 1000 and text.isascii()


# ------------------------------------------------------------- HumanEval/163
def _he_163(a: Any, b: Any) -> bool:
    return _int_in(a, 1, _BIG) and _int_in(b, 1, _BIG)


CONTRACTS: dict[str, Contract] = {
    "HumanEval/123": Contract(pre=_he_123, note="Given a positive integer n (<= 10**6)."),
    "HumanEval/124": Contract(
        pre=_he_124,
        gen=_gen_124,
        note="a given date string, format mm-dd-yyyy; excludes strings where the reference's "
        "strip()/int() leniency or unchecked field widths would call a mis-formatted date valid",
    ),
    "HumanEval/125": Contract(pre=_he_125, note="Given a string of words (printable ASCII; whitespace = ' ')."),
    "HumanEval/126": Contract(pre=_he_126, note="Given a list of numbers ... Assume no negative numbers and only integers."),
    "HumanEval/127": Contract(
        pre=_he_127,
        gen=_gen_127,
        note="each interval is a pair of integers (start, end) ... start is less or equal its end",
    ),
    "HumanEval/128": Contract(pre=_he_128, note="You are given an array arr of integers (may be empty)."),
    "HumanEval/129": Contract(
        pre=_he_129,
        gen=_gen_129,
        note="a grid with N rows and N columns (N >= 2) and a positive integer k; values in [1, N*N]. "
        "SEED CONTRADICTION: check() passes [[1, 3], [3, 2]], not a permutation, so only a unique 1 is required",
    ),
    "HumanEval/130": Contract(pre=_he_130, note="You are given a non-negative integer number n."),
    "HumanEval/131": Contract(pre=_he_131, note="Given a positive integer n."),
    "HumanEval/132": Contract(pre=_he_132, note="a string as input which contains only square brackets"),
    "HumanEval/133": Contract(pre=_he_133, note="You are given a list of numbers (ints or floats)."),
    "HumanEval/134": Contract(
        pre=_he_134, note="a given string; 'word' is a group of characters separated by space (printable ASCII)"
    ),
    "HumanEval/135": Contract(pre=_he_135, note="The given array will not contain duplicate values."),
    "HumanEval/136": Contract(pre=_he_136, note="a list of integers (may be empty)"),
    "HumanEval/137": Contract(
        pre=_he_137,
        gen=_gen_137,
        note="integers, floats, or strings representing real numbers; the floating point might be . or ,",
    ),
    "HumanEval/138": Contract(pre=_he_138, note="the given number n (ints, as in check())"),
    "HumanEval/139": Contract(pre=_he_139, note="where n > 0; the function will receive an integer (n <= 80: result size)"),
    "HumanEval/140": Contract(pre=_he_140, note="Given a string text (no whitespace other than ' ')."),
    "HumanEval/141": Contract(
        pre=_he_141, note="a string representing a file's name; latin letters and '0'-'9' digits (printable ASCII)"
    ),
    "HumanEval/142": Contract(pre=_he_142, note="This function will take a list of integers."),
    "HumanEval/143": Contract(
        pre=_he_143,
        gen=_gen_143,
        note="words separated by a space; 1 <= len(sentence) <= 100; sentence contains only letters",
    ),
    "HumanEval/144": Contract(
        pre=_he_144,
        gen=_gen_144,
        note="<numerator>/<denominator> where both are positive whole numbers (<= 10**6)",
    ),
    "HumanEval/145": Contract(pre=_he_145, note="sorts the given list of integers"),
    "HumanEval/146": Contract(pre=_he_146, note="takes an array of numbers (integers, as in check())"),
    "HumanEval/147": Contract(pre=_he_147, note="You are given a positive integer n (<= 100: cubic reference)."),
    "HumanEval/148": Contract(
        pre=_he_148,
        gen=_gen_148,
        note="two planet names as strings; empty tuple if not correct planet names "
        "(case/whitespace variants of real names excluded as ambiguous)",
    ),
    "HumanEval/149": Contract(
        pre=_he_149,
        note="a list of strings (words), may contain duplicates. SEED CONTRADICTION: "
        "'You may assume that all words will have the same length' is broken by check() and the examples",
    ),
    "HumanEval/150": Contract(pre=_he_150, note="return x if n is a prime number, y otherwise (n >= 1; ints)"),
    "HumanEval/151": Contract(
        pre=_he_151,
        note="Given a list of numbers ... Ignore numbers that are negative or not integers "
        "(floats must be non-integral, |x| >= 1e-4)",
    ),
    "HumanEval/152": Contract(
        pre=_he_152, gen=_gen_152, note="two arrays of scores and guesses of equal length"
    ),
    "HumanEval/153": Contract(
        pre=_he_153, note="the name of a class (a string) and a (non-empty) list of extensions"
    ),
    "HumanEval/154": Contract(pre=_he_154, note="You are given 2 words (non-empty, ASCII letters, <= 200)."),
    "HumanEval/155": Contract(pre=_he_155, note="Given an integer."),
    "HumanEval/156": Contract(pre=_he_156, note="Given a positive integer ... Restrictions: 1 <= num <= 1000"),
    "HumanEval/157": Contract(
        pre=_he_157,
        note="the lengths of the three sides of a triangle (positive ints). SEED CONTRADICTION: "
        "check() passes (1, 2, 3) and (2, 2, 10), which are not triangles",
    ),
    "HumanEval/158": Contract(
        pre=_he_158,
        note="a list of strings ... The list contains different words (lower-case, non-empty list). "
        "SEED CONTRADICTION: check() passes ['play', 'play', 'play']",
    ),
    "HumanEval/159": Contract(
        pre=_he_159, note="0 <= number <= 1000, 0 <= need <= 1000, 0 <= remaining <= 1000 (integers)"
    ),
    "HumanEval/160": Contract(
        pre=_he_160,
        gen=_gen_160,
        note="operator list of + - * // **, len(operator) == len(operand) - 1 >= 1, operand of "
        "non-negative integers; no division by zero, '**' results capped for speed",
    ),
    "HumanEval/161": Contract(pre=_he_161, note="You are given a string s (printable ASCII)."),
    "HumanEval/162": Contract(pre=_he_162, note="Given a string 'text' (ASCII: the reference encodes as ascii)."),
    "HumanEval/163": Contract(pre=_he_163, note="Given two positive integers a and b."),
}
