"""Input contracts for HumanEval/41 .. HumanEval/81.

Each predicate states what the task's docstring allows for its arguments (and
never less than the task's own ``check`` inputs and docstring examples).  Size
and range bounds keep the reference solution fast (the recursive ``fib`` and
``fibfib`` references are exponential; ``modp``/``sum_to_n``/``largest_prime_factor``
are linear in the value of ``n``).  Tasks whose valid inputs are structured
(restricted alphabets, bracket strings, the fruit sentence, GPAs in [0, 4])
also get a ``gen`` producing random valid argument tuples.
"""

from __future__ import annotations

import random
import re
import string

from tasks.contracts import (
    Contract,
    bounded_size,
    in_range,
    ints,
    is_int,
    is_num,
    is_prime,
    is_str,
    list_of,
    nums,
    strs,
)

_BIG = 10**9
_LOWER = frozenset(string.ascii_lowercase)
_LETTERS = frozenset(string.ascii_letters)


def _int_in(x, lo, hi) -> bool:
    return is_int(x) and lo <= x <= hi


def _num_list(x, n: int = 1000, bound: float = _BIG) -> bool:
    return nums(x) and bounded_size(x, n) and all(abs(v) <= bound for v in x)


def _int_list(x, n: int = 1000, lo: int = -_BIG, hi: int = _BIG) -> bool:
    return ints(x) and bounded_size(x, n) and all(lo <= v <= hi for v in x)


def _str_over(s, alphabet, n: int = 1000) -> bool:
    return is_str(s) and len(s) <= n and all(c in alphabet for c in s)



_is_prime = is_prime


def _prime_factors(n: int) -> list[int]:
    out, d = [], 2
    while d * d <= n:
        while n % d == 0:
            out.append(d)
            n //= d
        d += 1
    if n > 1:
        out.append(n)
    return out


# ------------------------------------------------------------------ 41..50
def _he_41(n) -> bool:
    return _int_in(n, 0, _BIG)


def _he_42(l) -> bool:  # noqa: E741 - the task's parameter name
    return _num_list(l)


def _he_43(l) -> bool:  # noqa: E741
    return _int_list(l)


def _he_44(x, base) -> bool:
    # the reference returns "" for x == 0 (and for negatives): only x >= 1
    return _int_in(x, 1, _BIG) and _int_in(base, 2, 9)


def _he_45(a, h) -> bool:
    return in_range(a, 0, _BIG) and in_range(h, 0, _BIG) and a > 0 and h > 0


def _he_46(n) -> bool:
    return _int_in(n, 0, 1000)


def _he_47(l) -> bool:  # noqa: E741
    return _num_list(l) and len(l) >= 1


def _he_48(text) -> bool:
    return is_str(text) and len(text) <= 1000


def _he_49(n, p) -> bool:
    # 2^0 mod 1 is 0 but the reference returns 1: exclude that one pair
    return _int_in(n, 0, 10**5) and _int_in(p, 1, _BIG) and not (n == 0 and p == 1)


def _he_50(s) -> bool:
    # encode_shift always outputs lowercase ascii letters
    return _str_over(s, _LOWER)


def _gen_50(rng: random.Random) -> tuple:
    n = rng.choice([0, 1, 2, rng.randint(3, 30), rng.randint(30, 200)])
    plain = "".join(rng.choice(string.ascii_lowercase) for _ in range(n))
    return ("".join(chr(((ord(ch) + 5 - ord("a")) % 26) + ord("a")) for ch in plain),)


# ------------------------------------------------------------------ 51..60
def _he_51(text) -> bool:
    return is_str(text) and len(text) <= 1000


def _he_52(l, t) -> bool:  # noqa: E741
    return _num_list(l) and _int_in(t, -_BIG, _BIG)


def _he_53(x, y) -> bool:
    return _int_in(x, -_BIG, _BIG) and _int_in(y, -_BIG, _BIG)


def _he_54(s0, s1) -> bool:
    return _str_over(s0, _LOWER) and _str_over(s1, _LOWER)


def _gen_54(rng: random.Random) -> tuple:
    alpha = rng.sample(string.ascii_lowercase, rng.randint(1, 8))
    s0 = "".join(rng.choice(alpha) for _ in range(rng.randint(0, 20)))
    if rng.random() < 0.5:  # same character set, different multiplicities/order
        pool = sorted(set(s0))
        s1 = "".join(pool) + "".join(rng.choice(pool) for _ in range(rng.randint(0, 15))) if pool else ""
        s1 = "".join(rng.sample(s1, len(s1)))
    else:
        s1 = "".join(rng.choice(alpha) for _ in range(rng.randint(0, 20)))
    return (s0, s1)


def _he_55(n) -> bool:
    return _int_in(n, 0, 24)  # the reference is exponential-time recursion


def _brackets(x, opening: str, closing: str) -> bool:
    return _str_over(x, (opening, closing))


def _bracket_gen(opening: str, closing: str):
    def gen(rng: random.Random) -> tuple:
        k = rng.choice([0, 1, 2, rng.randint(3, 10), rng.randint(10, 60)])
        depth, out, opens = 0, [], 0
        while opens < k or depth > 0:  # a random balanced string with k pairs
            if opens < k and (depth == 0 or rng.random() < 0.5):
                out.append(opening)
                depth += 1
                opens += 1
            else:
                out.append(closing)
                depth -= 1
        r = rng.random()
        if r < 0.2 and out:  # flip one bracket
            i = rng.randrange(len(out))
            out[i] = closing if out[i] == opening else opening
        elif r < 0.3:  # insert one bracket
            out.insert(rng.randint(0, len(out)), rng.choice([opening, closing]))
        elif r < 0.4 and out:  # drop one bracket
            out.pop(rng.randrange(len(out)))
        elif r < 0.5:  # fully random
            out = [rng.choice([opening, closing]) for _ in range(rng.randint(0, 30))]
        return ("".join(out),)

    return gen


def _he_56(brackets) -> bool:
    return _brackets(brackets, "<", ">")


def _he_57(l) -> bool:  # noqa: E741
    return _num_list(l)


def _he_58(l1, l2) -> bool:
    return _int_list(l1) and _int_list(l2)


def _he_59(n) -> bool:
    # "Assume n > 1 and is not a prime"; the reference is linear in n
    return _int_in(n, 4, 10**5) and not _is_prime(n)


def _he_60(n) -> bool:
    return _int_in(n, 1, 10**5)


# ------------------------------------------------------------------ 61..70
def _he_61(brackets) -> bool:
    return _brackets(brackets, "(", ")")


def _he_62(xs) -> bool:
    return _num_list(xs) and len(xs) >= 1


def _he_63(n) -> bool:
    return _int_in(n, 0, 20)  # the reference is exponential-time recursion


def _he_64(s) -> bool:
    # "a string representing a word"; the reference reads s[-1]
    return _str_over(s, _LETTERS) and len(s) >= 1


def _gen_64(rng: random.Random) -> tuple:
    n = rng.choice([1, 2, 3, rng.randint(4, 12), rng.randint(12, 40)])
    pool = "aeiouyAEIOUY" + string.ascii_letters
    s = "".join(rng.choice(pool) for _ in range(n))
    if rng.random() < 0.3:
        s = s[:-1] + rng.choice("yY")
    return (s,)


def _he_65(x, shift) -> bool:
    # "digits of the integer x": a non-negative integer; shift a count >= 0
    return _int_in(x, 0, 10**18) and _int_in(shift, 0, _BIG)


def _he_66(s) -> bool:
    return is_str(s) and len(s) <= 1000 and s.isascii()


def _gen_66(rng: random.Random) -> tuple:
    n = rng.choice([0, 1, rng.randint(2, 20), rng.randint(20, 100)])
    pool = string.ascii_letters + string.digits + " ?!.,"
    return ("".join(rng.choice(pool) for _ in range(n)),)


_FRUIT = re.compile(r"(0|[1-9][0-9]{0,8}) apples and (0|[1-9][0-9]{0,8}) oranges")


def _he_67(s, n) -> bool:
    if not (is_str(s) and is_int(n)):
        return False
    m = _FRUIT.fullmatch(s)
    # the count of mangoes n - apples - oranges is not negative
    return m is not None and int(m.group(1)) + int(m.group(2)) <= n <= 2 * _BIG


def _gen_67(rng: random.Random) -> tuple:
    def count() -> int:
        return rng.choice([0, 1, rng.randint(2, 20), rng.randint(20, 1000)])

    a, b = count(), count()
    return (f"{a} apples and {b} oranges", a + b + count())


def _he_68(arr) -> bool:
    # "1 <= nodes.length <= 10000" (the docstring's own example passes []), "0 <= node.value"
    return _int_list(arr, n=10000, lo=0)


def _he_69(lst) -> bool:
    # "non-empty list of positive integers"; the reference allocates max(lst) cells
    return _int_list(lst, lo=1, hi=10**4) and len(lst) >= 1


def _he_70(lst) -> bool:
    return _int_list(lst)


# ------------------------------------------------------------------ 71..81
def _he_71(a, b, c) -> bool:
    return all(in_range(v, 0, 10**6) and v > 0 for v in (a, b, c))


def _he_72(q, w) -> bool:
    return _int_list(q, lo=0) and _int_in(w, 0, _BIG)


def _he_73(arr) -> bool:
    return _int_list(arr)


def _he_74(lst1, lst2) -> bool:
    return all(strs(x) and bounded_size(x, 1000) and all(len(v) <= 1000 for v in x) for x in (lst1, lst2))


def _he_75(a) -> bool:
    # docstring: "a is less then 100", but the check passes 125 .. 1001.  The
    # reference only tries primes <= 100, so it is wrong on products of three
    # primes with a prime factor > 100 (404 = 2*2*101, ...): exclude those.
    if not _int_in(a, 1, 1001):
        return False
    f = _prime_factors(a)
    return not (len(f) == 3 and max(f) > 100)


def _gen_75(rng: random.Random) -> tuple:
    if rng.random() < 0.5:
        primes = [p for p in range(2, 101) if _is_prime(p)]
        while True:
            a = rng.choice(primes) * rng.choice(primes) * rng.choice(primes)
            if a <= 1001:
                return (a,)
    while True:
        a = rng.randint(1, 1001)
        if _he_75(a):
            return (a,)


def _he_76(x, n) -> bool:
    return _int_in(x, 1, _BIG) and _int_in(n, 1, _BIG)


def _he_77(a) -> bool:
    # float cube root of the reference is exact on all cubes up to 10**15
    return _int_in(a, -(10**12), 10**12)


_HEX = frozenset("0123456789ABCDEF")


def _he_78(num) -> bool:
    # the check passes [] (an empty list) for "the empty string"
    if isinstance(num, list):
        return num == []
    return _str_over(num, _HEX)


def _gen_78(rng: random.Random) -> tuple:
    n = rng.choice([0, 1, 2, rng.randint(3, 16), rng.randint(16, 100)])
    return ("".join(rng.choice("0123456789ABCDEF") for _ in range(n)),)


def _he_79(decimal) -> bool:
    # bin() of a negative number breaks the "db...db" format: non-negative only
    return _int_in(decimal, 0, 10**18)


def _he_80(s) -> bool:
    return _str_over(s, _LOWER)


def _gen_80(rng: random.Random) -> tuple:
    n = rng.choice([0, 1, 2, 3, rng.randint(4, 10), rng.randint(10, 40)])
    alpha = rng.sample(string.ascii_lowercase, rng.randint(2, 26))
    out: list[str] = []
    for _ in range(n):
        if rng.random() < 0.85:  # mostly keep 3-windows distinct, so some are happy
            choices = [c for c in alpha if c not in out[-2:]] or alpha
        else:
            choices = alpha
        out.append(rng.choice(choices))
    return ("".join(out),)


def _he_81(grades) -> bool:
    return list_of(grades, lambda g: is_num(g) and 0 <= g <= 4) and bounded_size(grades)


def _gen_81(rng: random.Random) -> tuple:
    cuts = [4.0, 3.7, 3.3, 3.0, 2.7, 2.3, 2.0, 1.7, 1.3, 1.0, 0.7, 0.0]

    def grade():
        r = rng.random()
        if r < 0.3:
            return rng.choice(cuts)
        if r < 0.45:
            return rng.randint(0, 4)
        if r < 0.6:
            return round(rng.uniform(0, 4), 1)
        return rng.uniform(0, 4)

    return ([grade() for _ in range(rng.choice([0, 1, rng.randint(2, 10), rng.randint(10, 50)]))],)


CONTRACTS: dict[str, Contract] = {
    "HumanEval/41": Contract(pre=_he_41, note="n cars ... (a count: non-negative int)"),
    "HumanEval/42": Contract(pre=_he_42, note="Return list with elements incremented by 1 (list of numbers)"),
    "HumanEval/43": Contract(pre=_he_43, note="takes a list of integers as an input"),
    "HumanEval/44": Contract(
        pre=_he_44,
        note="input number x (>= 1: the reference returns '' for 0); base numbers are less than 10 (>= 2)",
    ),
    "HumanEval/45": Contract(pre=_he_45, note="length of a side and high (positive numbers)"),
    "HumanEval/46": Contract(pre=_he_46, note="the n-th element of the fib4 number sequence (n >= 0)"),
    "HumanEval/47": Contract(pre=_he_47, note="median of elements in the list l (non-empty list of numbers)"),
    "HumanEval/48": Contract(pre=_he_48, note="Checks if given string is a palindrome"),
    "HumanEval/49": Contract(
        pre=_he_49, note="Return 2^n modulo p (n >= 0, p >= 1; the reference is O(n), wrong on (0, 1))"
    ),
    "HumanEval/50": Contract(
        pre=_he_50, gen=_gen_50, note="takes as input string encoded with encode_shift (lowercase letters)"
    ),
    "HumanEval/51": Contract(pre=_he_51, note="takes string and returns string without vowels"),
    "HumanEval/52": Contract(pre=_he_52, note="all numbers in the list l are below threshold t: int"),
    "HumanEval/53": Contract(pre=_he_53, note="Add two numbers x: int and y: int"),
    "HumanEval/54": Contract(
        pre=_he_54, gen=_gen_54, note="Check if two words have the same characters (lowercase letters)"
    ),
    "HumanEval/55": Contract(pre=_he_55, note="Return n-th Fibonacci number (n >= 0; exponential reference)"),
    "HumanEval/56": Contract(pre=_he_56, gen=_bracket_gen("<", ">"), note='brackets is a string of "<" and ">"'),
    "HumanEval/57": Contract(pre=_he_57, note="list elements are monotonically increasing or decreasing"),
    "HumanEval/58": Contract(pre=_he_58, note="sorted unique common elements for two lists (of integers)"),
    "HumanEval/59": Contract(pre=_he_59, note="Assume n > 1 and is not a prime"),
    "HumanEval/60": Contract(pre=_he_60, note="sums numbers from 1 to n (n >= 1)"),
    "HumanEval/61": Contract(pre=_he_61, gen=_bracket_gen("(", ")"), note='brackets is a string of "(" and ")"'),
    "HumanEval/62": Contract(pre=_he_62, note="xs represent coefficients of a polynomial (non-empty)"),
    "HumanEval/63": Contract(
        pre=_he_63, note="the n-th element of the fibfib sequence (n >= 0; exponential reference)"
    ),
    "HumanEval/64": Contract(pre=_he_64, gen=_gen_64, note="a string representing a word (non-empty, letters)"),
    "HumanEval/65": Contract(pre=_he_65, note="Circular shift the digits of the integer x (x >= 0, shift >= 0)"),
    "HumanEval/66": Contract(pre=_he_66, gen=_gen_66, note="sum of the upper characters only' ASCII codes"),
    "HumanEval/67": Contract(
        pre=_he_67,
        gen=_gen_67,
        note="string of the numbers of apples and oranges; n the total number of fruits (mangoes >= 0)",
    ),
    "HumanEval/68": Contract(pre=_he_68, note="non-negative integer nodes; nodes.length <= 10000; may be empty"),
    "HumanEval/69": Contract(pre=_he_69, note="a non-empty list of positive integers"),
    "HumanEval/70": Contract(pre=_he_70, note="Given list of integers (the reference empties its argument)"),
    "HumanEval/71": Contract(pre=_he_71, note="the lengths of the three sides of a triangle (positive numbers)"),
    "HumanEval/72": Contract(pre=_he_72, note="q a list of weights (non-negative ints), w the maximum possible weight"),
    "HumanEval/73": Contract(pre=_he_73, note="Given an array arr of integers"),
    "HumanEval/74": Contract(pre=_he_74, note="accepts two lists of strings"),
    "HumanEval/75": Contract(
        pre=_he_75,
        gen=_gen_75,
        note="(a) is less then 100 -- but the check passes up to 1001; products of 3 primes with one > 100 excluded",
    ),
    "HumanEval/76": Contract(pre=_he_76, note="x is a simple power of n if n**int=x (positive integers)"),
    "HumanEval/77": Contract(pre=_he_77, note="takes an integer a; you may assume the input is always valid"),
    "HumanEval/78": Contract(
        pre=_he_78,
        gen=_gen_78,
        note="hexadecimal number as a string ... correct or empty string, A-F uppercase (check passes [])",
    ),
    "HumanEval/79": Contract(pre=_he_79, note="a number in decimal form (non-negative integer)"),
    "HumanEval/80": Contract(
        pre=_he_80, gen=_gen_80, note="every 3 consecutive letters are distinct (lowercase letters)"
    ),
    "HumanEval/81": Contract(pre=_he_81, gen=_gen_81, note="a list of GPAs (numbers from 0.0 to 4.0)"),
}
