"""Input contracts for HumanEval/0 .. HumanEval/40.

Each ``_he_N`` predicate encodes what task N's docstring allows (and never less
than what its ``check`` tests and docstring examples pass), plus size bounds that
keep the reference solution fast. Tasks whose valid inputs are too structured
for blind mutation (parenthesis groups, note strings, number words, binary
strings, polynomials with a guaranteed root, cyclic encodings) also get a
``gen`` that draws valid argument tuples.
"""

from __future__ import annotations

import random
from typing import Any

from tasks.contracts import (
    Contract,
    bounded_size,
    ints,
    is_int,
    is_num,
    is_str,
    list_of,
    nums,
    strs,
)

_BIG = 10**9  # a wide but finite range for plain integers / floats
_MAXLEN = 1000  # default bound on list and string sizes


# ------------------------------------------------------------------ local helpers
def _flt(x: Any) -> bool:
    """A finite float (the signature says float and the seeds pass floats only)."""
    return isinstance(x, float) and is_num(x) and abs(x) <= _BIG


def _floats(x: Any, n: int = _MAXLEN) -> bool:
    return list_of(x, _flt) and bounded_size(x, n)


def _small_ints(x: Any, n: int = _MAXLEN) -> bool:
    """A list of ints (not bools) with ``|v| <= 1e9``, at most ``n`` long."""
    return ints(x) and bounded_size(x, n) and all(abs(v) <= _BIG for v in x)


def _small_nums(x: Any, n: int = _MAXLEN) -> bool:
    """A list of ints / finite floats with ``|v| <= 1e9``, at most ``n`` long."""
    return nums(x) and bounded_size(x, n) and all(abs(v) <= _BIG for v in x)


def _text(x: Any, n: int = _MAXLEN) -> bool:
    return is_str(x) and bounded_size(x, n)


def _ascii_text(x: Any, n: int = _MAXLEN) -> bool:
    return _text(x, n) and x.isascii()


def _texts(x: Any, n: int = _MAXLEN, m: int = _MAXLEN) -> bool:
    return strs(x) and bounded_size(x, n) and all(len(s) <= m for s in x)


def _balanced(s: str) -> bool:
    """Only '(' and ')', depth never negative, ends at zero."""
    depth = 0
    for c in s:
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth < 0:
                return False
        else:
            return False
    return depth == 0


def _primitive_group(s: str) -> bool:
    """A non-empty balanced string whose depth returns to zero only at its end."""
    if not s or not _balanced(s):
        return False
    depth = 0
    for i, c in enumerate(s):
        depth += 1 if c == "(" else -1
        if depth == 0 and i != len(s) - 1:
            return False
    return True


def _rand_balanced(rng: random.Random, pairs: int) -> str:
    """A random balanced parenthesis string with ``pairs`` pairs."""
    out: list[str] = []
    opened = closed = 0
    while closed < pairs:
        if opened < pairs and (opened == closed or rng.random() < 0.5):
            out.append("(")
            opened += 1
        else:
            out.append(")")
            closed += 1
    return "".join(out)


def _rand_group(rng: random.Random, max_pairs: int = 6) -> str:
    """A random primitive group: '(' + balanced + ')'."""
    return "(" + _rand_balanced(rng, rng.randint(0, max_pairs - 1)) + ")"


def _space_tokens(s: Any, allowed: frozenset[str] | None = None) -> list[str] | None:
    """``s.split(' ')`` if ``s`` is tokens separated by single spaces (no empty token)."""
    if not _text(s):
        return None
    if s == "":
        return []
    toks = s.split(" ")
    if any(t == "" for t in toks):
        return None
    if allowed is not None and any(t not in allowed for t in toks):
        return None
    return toks


# ------------------------------------------------------------------ HumanEval/0
def _he_0(numbers, threshold):
    return _floats(numbers, 500) and _flt(threshold) and threshold >= 0


# ------------------------------------------------------------------ HumanEval/1
def _he_1(paren_string):
    if not _text(paren_string):
        return False
    if any(c not in "() " for c in paren_string):
        return False
    core = paren_string.replace(" ", "")
    return core != "" and _balanced(core)


def _gen_1(rng: random.Random) -> tuple:
    groups = [_rand_group(rng) for _ in range(rng.randint(1, 6))]
    if rng.random() < 0.5:  # spaces anywhere (they are ignored)
        chars: list[str] = []
        for c in "".join(groups):
            chars.append(c)
            if rng.random() < 0.3:
                chars.append(" ")
        return ("".join(chars).strip(),)
    sep = rng.choice(["", " ", "  "])
    return (sep.join(groups),)


# ------------------------------------------------------------------ HumanEval/2
def _he_2(number):
    return _flt(number) and number > 0


# ------------------------------------------------------------------ HumanEval/3
def _he_3(operations):
    return _small_ints(operations)


# ------------------------------------------------------------------ HumanEval/4
def _he_4(numbers):
    return _floats(numbers) and len(numbers) >= 1


# ------------------------------------------------------------------ HumanEval/5
def _he_5(numbers, delimeter):
    return _small_ints(numbers) and is_int(delimeter) and abs(delimeter) <= _BIG


# ------------------------------------------------------------------ HumanEval/6
def _he_6(paren_string):
    toks = _space_tokens(paren_string)
    return bool(toks) and all(_primitive_group(t) for t in toks)


def _gen_6(rng: random.Random) -> tuple:
    return (" ".join(_rand_group(rng, 7) for _ in range(rng.randint(1, 8))),)


# ------------------------------------------------------------------ HumanEval/7
def _he_7(strings, substring):
    return _texts(strings) and _text(substring)


# ------------------------------------------------------------------ HumanEval/8
def _he_8(numbers):
    return _small_ints(numbers)


# ------------------------------------------------------------------ HumanEval/9
def _he_9(numbers):
    return _small_ints(numbers)


# ------------------------------------------------------------------ HumanEval/10
def _he_10(string):
    return _text(string)


# ------------------------------------------------------------------ HumanEval/11
def _is_binary(s: Any) -> bool:
    return _text(s) and all(c in "01" for c in s)


def _he_11(a, b):
    return _is_binary(a) and _is_binary(b) and len(a) == len(b)


def _gen_11(rng: random.Random) -> tuple:
    n = rng.choice([0, 1, 2, rng.randint(3, 12), rng.randint(13, 64)])
    a = "".join(rng.choice("01") for _ in range(n))
    b = "".join(rng.choice("01") for _ in range(n))
    return (a, b)


# ------------------------------------------------------------------ HumanEval/12
def _he_12(strings):
    return _texts(strings)


# ------------------------------------------------------------------ HumanEval/13
def _he_13(a, b):
    return is_int(a) and is_int(b) and 0 <= a <= _BIG and 0 <= b <= _BIG and (a, b) != (0, 0)


# ------------------------------------------------------------------ HumanEval/14
def _he_14(string):
    return _text(string)


# ------------------------------------------------------------------ HumanEval/15
def _he_15(n):
    return is_int(n) and 0 <= n <= 10**4


# ------------------------------------------------------------------ HumanEval/16
def _he_16(string):
    return _ascii_text(string)


# ------------------------------------------------------------------ HumanEval/17
_NOTES = frozenset({"o", "o|", ".|"})


def _he_17(music_string):
    return _space_tokens(music_string, _NOTES) is not None


def _gen_17(rng: random.Random) -> tuple:
    n = rng.choice([0, 1, rng.randint(2, 10), rng.randint(11, 40)])
    return (" ".join(rng.choice(["o", "o|", ".|"]) for _ in range(n)),)


# ------------------------------------------------------------------ HumanEval/18
def _he_18(string, substring):
    return _text(string) and _text(substring) and substring != ""


# ------------------------------------------------------------------ HumanEval/19
_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def _he_19(numbers):
    return _space_tokens(numbers, frozenset(_WORDS)) is not None


def _gen_19(rng: random.Random) -> tuple:
    n = rng.choice([0, 1, rng.randint(2, 10), rng.randint(11, 30)])
    return (" ".join(rng.choice(_WORDS) for _ in range(n)),)


# ------------------------------------------------------------------ HumanEval/20
def _he_20(numbers):
    if not (_floats(numbers, 500) and len(numbers) >= 2):
        return False
    xs = sorted(numbers)
    d = min(xs[i + 1] - xs[i] for i in range(len(xs) - 1))
    pairs = set()
    for i in range(len(xs)):  # x_j - x_i is non-decreasing in j: stop once past d
        for j in range(i + 1, len(xs)):
            gap = xs[j] - xs[i]
            if gap > d:
                break
            pairs.add((xs[i], xs[j]))
            if len(pairs) > 1:
                return False
    return True


# ------------------------------------------------------------------ HumanEval/21
def _he_21(numbers):
    return _floats(numbers) and len(numbers) >= 2 and min(numbers) != max(numbers)


# ------------------------------------------------------------------ HumanEval/22
def _he_22(values):
    return isinstance(values, list) and bounded_size(values) and not any(isinstance(v, bool) for v in values)


# ------------------------------------------------------------------ HumanEval/23
def _he_23(string):
    return _text(string)


# ------------------------------------------------------------------ HumanEval/24
def _he_24(n):
    return is_int(n) and 2 <= n <= 5 * 10**5


# ------------------------------------------------------------------ HumanEval/25
def _he_25(n):
    return is_int(n) and 1 <= n <= _BIG


# ------------------------------------------------------------------ HumanEval/26
def _he_26(numbers):
    return _small_ints(numbers)


# ------------------------------------------------------------------ HumanEval/27
def _he_27(string):
    return _ascii_text(string)


# ------------------------------------------------------------------ HumanEval/28
def _he_28(strings):
    return _texts(strings)


# ------------------------------------------------------------------ HumanEval/29
def _he_29(strings, prefix):
    return _texts(strings) and _text(prefix)


# ------------------------------------------------------------------ HumanEval/30
def _he_30(l):  # noqa: E741 - the task's parameter name
    return _small_nums(l)


# ------------------------------------------------------------------ HumanEval/31
def _he_31(n):
    return is_int(n) and -_BIG <= n <= 5 * 10**5


# ------------------------------------------------------------------ HumanEval/32
def _he_32(xs):
    if not (nums(xs) and 2 <= len(xs) <= 20 and len(xs) % 2 == 0):
        return False
    if xs[-1] == 0 or any(abs(c) > 10**6 for c in xs):
        return False
    # Cauchy bound on the roots: keeps the reference's doubling + bisection finite
    # (at |x| >~ 1e5 a float step exceeds its 1e-10 stopping width).
    return 1 + max(abs(c) for c in xs[:-1]) / abs(xs[-1]) <= 10**4


def _zero_32(args: tuple, x: Any) -> bool:
    """find_zero's answer is any root: the residual |poly(xs, x)| is tiny relative to the
    size of the polynomial's terms at x (the check's own test is |poly| < 1e-4)."""
    xs = args[0]
    if not is_num(x):
        return False
    try:
        terms = [c * x**i for i, c in enumerate(xs)]
    except (OverflowError, TypeError):
        return False
    return abs(sum(terms)) <= 1e-4 + 1e-6 * sum(abs(t) for t in terms)


def _gen_32(rng: random.Random) -> tuple:
    ncoeff = 2 * rng.randint(1, 5)
    kind = rng.random()
    if kind < 0.6:  # the check's recipe, but zeros allowed below the top degree
        xs: list = [rng.randint(-10, 10) for _ in range(ncoeff)]
    elif kind < 0.8:  # product of (x - r) over small integer roots (several zeros)
        roots = [rng.randint(-5, 5) for _ in range(ncoeff - 1)]
        xs = [1]
        for r in roots:  # multiply by (x - r); xs[i] is the x^i coefficient
            xs = [(xs[i - 1] if i > 0 else 0) - r * (xs[i] if i < len(xs) else 0) for i in range(len(xs) + 1)]
        scale = rng.choice([1, -1, 2])
        xs = [c * scale for c in xs]
    else:  # float coefficients
        xs = [round(rng.uniform(-10, 10), 2) for _ in range(ncoeff)]
    while xs[-1] == 0:
        xs[-1] = rng.choice([1, -1, 2, -3])
    if not _he_32(xs):  # many roots give big coefficients: clip them, raise the top one
        xs = [max(-(10**4), min(10**4, c)) for c in xs[:-1]] + [rng.choice([10, -10])]
    return (xs,)


# ------------------------------------------------------------------ HumanEval/33
def _he_33(l):  # noqa: E741 - the task's parameter name
    return _small_nums(l)


# ------------------------------------------------------------------ HumanEval/34
def _he_34(l):  # noqa: E741 - the task's parameter name
    return _small_nums(l)


# ------------------------------------------------------------------ HumanEval/35
def _he_35(l):  # noqa: E741 - the task's parameter name
    return _small_nums(l) and len(l) >= 1


# ------------------------------------------------------------------ HumanEval/36
def _he_36(n):
    return is_int(n) and 0 <= n <= 2 * 10**5


# ------------------------------------------------------------------ HumanEval/37
def _he_37(l):  # noqa: E741 - the task's parameter name
    return _small_nums(l)


# ------------------------------------------------------------------ HumanEval/38
def _encode_cyclic(s: str) -> str:
    """The prompt's ``encode_cyclic``: rotate each full group of three left by one."""
    groups = [s[3 * i : min(3 * i + 3, len(s))] for i in range((len(s) + 2) // 3)]
    return "".join((g[1:] + g[0]) if len(g) == 3 else g for g in groups)


def _he_38(s):
    # encode_cyclic permutes the characters of each length-3 block, so it is a
    # bijection on strings of each length: every string is some string's encoding.
    return _text(s)


def _gen_38(rng: random.Random) -> tuple:
    n = rng.choice([0, 1, 2, 3, 4, 5, 6, rng.randint(7, 30)])
    alphabet = rng.choice(["abcdefghijklmnopqrstuvwxyz", "abcXYZ012 .,!", "ab"])
    return (_encode_cyclic("".join(rng.choice(alphabet) for _ in range(n))),)


# ------------------------------------------------------------------ HumanEval/39
def _he_39(n):
    # The 12th prime Fibonacci number (99194853094755497) takes the reference's
    # trial division ~3e8 steps, so n stops at 11.
    return is_int(n) and 1 <= n <= 11


def _gen_39(rng: random.Random) -> tuple:
    return (rng.randint(1, 11),)


# ------------------------------------------------------------------ HumanEval/40
def _he_40(l):  # noqa: E741 - the task's parameter name
    # The reference is cubic: at most 100 items.
    return _small_ints(l, 100)


CONTRACTS: dict[str, Contract] = {
    "HumanEval/0": Contract(
        pre=_he_0,
        note="'given list of numbers' (List[float]), 'closer to each other than given threshold' (float, a "
        "distance so >= 0); at most 500 items (quadratic reference), |x| <= 1e9",
    ),
    "HumanEval/1": Contract(
        pre=_he_1,
        gen=_gen_1,
        note="'a string containing multiple groups of nested parentheses ... groups are balanced ... Ignore any "
        "spaces': only '(', ')' and spaces, balanced once spaces are removed, at least one group (the check "
        "passes a single group)",
    ),
    "HumanEval/2": Contract(
        pre=_he_2,
        note="'Given a positive floating point number': a float > 0, at most 1e9",
    ),
    "HumanEval/3": Contract(
        pre=_he_3,
        note="'list of deposit and withdrawal operations' (List[int]); |op| <= 1e9, at most 1000 items",
    ),
    "HumanEval/4": Contract(
        pre=_he_4,
        note="'For a given list of input numbers' (List[float]) ... 'average': non-empty (the mean of nothing is "
        "undefined), |x| <= 1e9",
    ),
    "HumanEval/5": Contract(
        pre=_he_5,
        note="'numbers: List[int], delimeter: int'; the empty list is a docstring example",
    ),
    "HumanEval/6": Contract(
        pre=_he_6,
        gen=_gen_6,
        note="'multiple groups for nested parentheses separated by spaces': single-space-separated tokens, each a "
        "balanced primitive group such as '(()())'; at least one group (the check passes a single group)",
    ),
    "HumanEval/7": Contract(
        pre=_he_7,
        note="'Filter an input list of strings ... given substring' (List[str], str)",
    ),
    "HumanEval/8": Contract(
        pre=_he_8,
        note="'For a given list of integers' (empty allowed: 'Empty sum ... empty product'); |x| <= 1e9",
    ),
    "HumanEval/9": Contract(
        pre=_he_9,
        note="'From a given list of integers'; |x| <= 1e9",
    ),
    "HumanEval/10": Contract(
        pre=_he_10,
        note="'Find the shortest palindrome that begins with a supplied string' (any str, '' is an example)",
    ),
    "HumanEval/11": Contract(
        pre=_he_11,
        gen=_gen_11,
        note="'two strings a and b consisting only of 1s and 0s', 'binary XOR': equal lengths (every seed; the "
        "XOR of unequal lengths is undefined)",
    ),
    "HumanEval/12": Contract(
        pre=_he_12,
        note="'Out of list of strings ... Return None in case the input list is empty'",
    ),
    "HumanEval/13": Contract(
        pre=_he_13,
        note="'greatest common divisor of two integers a and b': non-negative (the reference returns a negative "
        "'gcd' for negative inputs), not both zero (gcd(0, 0) is undefined), at most 1e9",
    ),
    "HumanEval/14": Contract(
        pre=_he_14,
        note="'all prefixes ... of the input string' (any str)",
    ),
    "HumanEval/15": Contract(
        pre=_he_15,
        note="'numbers starting from 0 upto n inclusive': n >= 0 (0 is an example), at most 1e4",
    ),
    "HumanEval/16": Contract(
        pre=_he_16,
        note="'how many distinct characters (regardless of case)': ASCII only, since case folding of non-ASCII "
        "text (e.g. 'ß', Greek sigma) is ambiguous",
    ),
    "HumanEval/17": Contract(
        pre=_he_17,
        gen=_gen_17,
        note="'a string representing musical notes in a special ASCII format' with legend 'o', 'o|', '.|': those "
        "tokens separated by single spaces ('' allowed, as in the check)",
    ),
    "HumanEval/18": Contract(
        pre=_he_18,
        note="'how many times a given substring can be found in the original string': non-empty substring (the "
        "count of '' is ill-defined; every seed's substring is non-empty)",
    ),
    "HumanEval/19": Contract(
        pre=_he_19,
        gen=_gen_19,
        note="'a space-delimited string of numberals from 'zero' to 'nine'. Valid choices are ...': those words "
        "separated by single spaces ('' allowed, as in the check)",
    ),
    "HumanEval/20": Contract(
        pre=_he_20,
        note="'From a supplied list of numbers (of length at least two) select and return two that are the "
        "closest': List[float], len >= 2, and the closest pair of values is unique (a tie between different "
        "value pairs has no single answer); at most 500 items (quadratic reference), |x| <= 1e9",
    ),
    "HumanEval/21": Contract(
        pre=_he_21,
        note="'Given list of numbers (of at least two elements) ... smallest number will become 0 and the largest "
        "will become 1': List[float], len >= 2, not all equal (else the transform divides by zero)",
    ),
    "HumanEval/22": Contract(
        pre=_he_22,
        note="'Filter given list of any python values only for integers': any list, but no bool items (bool is an "
        "int subclass; whether True is an 'integer' is ambiguous)",
    ),
    "HumanEval/23": Contract(
        pre=_he_23,
        note="'Return length of given string' (any str)",
    ),
    "HumanEval/24": Contract(
        pre=_he_24,
        note="'the largest number that divides n evenly, smaller than n': n >= 2 (n = 1 has no such divisor and the "
        "reference divides by zero), at most 5e5 (linear reference)",
    ),
    "HumanEval/25": Contract(
        pre=_he_25,
        note="'prime factors of given integer ... Input number should be equal to the product of all factors': "
        "n >= 1 (1 -> [], the empty product), at most 1e9 (trial division)",
    ),
    "HumanEval/26": Contract(
        pre=_he_26,
        note="'From a list of integers, remove all elements that occur more than once'; |x| <= 1e9",
    ),
    "HumanEval/27": Contract(
        pre=_he_27,
        note="'flip lowercase characters to uppercase and uppercase to lowercase': ASCII only, since non-ASCII case "
        "mapping (e.g. 'ß' -> 'SS') is ambiguous",
    ),
    "HumanEval/28": Contract(
        pre=_he_28,
        note="'Concatenate list of strings into a single string' (List[str], empty allowed)",
    ),
    "HumanEval/29": Contract(
        pre=_he_29,
        note="'Filter an input list of strings only for ones that start with a given prefix' (List[str], str)",
    ),
    "HumanEval/30": Contract(
        pre=_he_30,
        note="'Return only positive numbers in the list': a list of ints / floats; |x| <= 1e9",
    ),
    "HumanEval/31": Contract(
        pre=_he_31,
        note="'Return true if a given number is prime': an int; at most 5e5 (the reference tries every divisor)",
    ),
    "HumanEval/32": Contract(
        pre=_he_32,
        gen=_gen_32,
        valid_output=_zero_32,
        note="'find_zero only takes list xs having even number of coefficients and largest non zero coefficient as "
        "it guarantees a solution': even length >= 2, top coefficient != 0; numbers; at most 20 coefficients, "
        "|c| <= 1e6 and Cauchy root bound <= 1e4 so the reference's bisection terminates. NB 'returns only one "
        "zero point, even if there are many': any root is right, so outputs are checked with |poly(xs, x)| < 1e-6",
    ),
    "HumanEval/33": Contract(
        pre=_he_33,
        note="'takes a list l ... sorted': a list of ints / floats; |x| <= 1e9",
    ),
    "HumanEval/34": Contract(
        pre=_he_34,
        note="'Return sorted unique elements in a list': a list of ints / floats; |x| <= 1e9",
    ),
    "HumanEval/35": Contract(
        pre=_he_35,
        note="'Return maximum element in the list': non-empty list of ints / floats; |x| <= 1e9",
    ),
    "HumanEval/36": Contract(
        pre=_he_36,
        note="'integers less than n which are divisible by 11 or 13': n >= 0 (non-negative integers are meant); at "
        "most 2e5 (linear reference; the check goes to 1e5)",
    ),
    "HumanEval/37": Contract(
        pre=_he_37,
        note="'takes a list l ... values at the even indicies ... sorted': a list of ints / floats; |x| <= 1e9",
    ),
    "HumanEval/38": Contract(
        pre=_he_38,
        gen=_gen_38,
        note="'takes as input string encoded with encode_cyclic function': encode_cyclic is a bijection on strings "
        "of each length, so any str qualifies",
    ),
    "HumanEval/39": Contract(
        pre=_he_39,
        gen=_gen_39,
        note="'returns n-th number that is a Fibonacci number and it's also prime': n >= 1; at most 11 (the 12th "
        "needs ~3e8 trial divisions in the reference)",
    ),
    "HumanEval/40": Contract(
        pre=_he_40,
        note="'takes a list of integers as an input ... three distinct elements' (distinct positions: [1, 3, -2, 1] "
        "is True); at most 100 items (cubic reference), |x| <= 1e9",
    ),
}

__all__ = ["CONTRACTS"]
