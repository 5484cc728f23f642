"""Semantic and multi-site mutation operators (``propose_mutants(..., semantic=True)``)."""

from __future__ import annotations

import builtins
import hashlib
import random
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tasks.mutants import FAMILIES, SEMANTIC_FAMILIES, Mutant, propose_mutants
from tasks.rewrites import normalise


def _mutants(src: str, entry: str, seed: int = 0, protected: set[str] | None = None, **kw) -> list[Mutant]:
    return propose_mutants(normalise(src), entry, protected or set(), random.Random(seed), semantic=True, **kw)


def _only(muts: list[Mutant], family: str, operator: str | None = None) -> list[Mutant]:
    return [m for m in muts if m.family == family and (operator is None or m.operator == operator)]


def _halves(operator: str, known: set[str]) -> list[tuple[str, str]]:
    """Ways to read a multi-site operator ``a+b`` as two known operators (``compare_bound+1`` holds a ``+`` too)."""
    cuts = [i for i, ch in enumerate(operator) if ch == "+"]
    return [(operator[:i], operator[i + 1:]) for i in cuts if operator[:i] in known and operator[i + 1:] in known]


def _fn(code: str, name: str):
    ns: dict = {}
    exec(code, ns)  # noqa: S102 - the test's own small programs
    return ns[name]


# --- each family applies, with the behaviour it must have ----------------------------------------------------------

def test_removed_special_case_drops_the_guard():
    src = "def f(x):\n    if x <= 0:\n        return 0\n    return x * 2 + 1\n"
    (m,) = _only(_mutants(src, "f"), "removed_special_case", "drop_guard")
    assert m.code == "def f(x):\n    return x * 2 + 1"
    assert m.changed_lines == (1,)  # the line before the deleted guard
    orig, mut = _fn(normalise(src), "f"), _fn(m.code, "f")
    assert (orig(0), mut(0)) == (0, 1)
    assert (orig(-3), mut(-3)) == (0, -5)
    assert orig(4) == mut(4) == 9


def test_removed_special_case_needs_a_guard_clause():
    # An `if` with an `else`, or whose body does not leave, is not a special case.
    src = "def f(x):\n    if x:\n        return 1\n    else:\n        x = 2\n    if x > 3:\n        x += 1\n    return x\n"
    assert not _only(_mutants(src, "f"), "removed_special_case")
    # Loop guards ending in continue / break are.
    src = "def f(xs):\n    n = 0\n    for x in xs:\n        if x < 0:\n            continue\n        n += x\n    return n\n"
    (m,) = _only(_mutants(src, "f"), "removed_special_case")
    assert _fn(normalise(src), "f")([1, -2, 3]) == 4 and _fn(m.code, "f")([1, -2, 3]) == 2


def test_wrong_variable_swaps_a_local_in_a_condition():
    src = "def first_above(xs, t):\n    for x in xs:\n        if x > t:\n            return x\n    return None\n"
    muts = _only(_mutants(src, "first_above"), "wrong_variable")
    ops = {m.operator for m in muts}
    assert "swap_name:x->t" in ops and "swap_name:t->x" in ops
    (m,) = [m for m in muts if m.operator == "swap_name:x->t"]
    assert "if t > t:" in m.code and m.changed_lines == (3,)
    assert _fn(normalise(src), "first_above")([1, 5, 9], 4) == 5
    assert _fn(m.code, "first_above")([1, 5, 9], 4) is None


def test_wrong_variable_never_uses_builtins_modules_protected_or_unrelated_names():
    src = (
        "import math\n\n"
        "def helper(v):\n    return v\n\n"
        "def f(xs, n):\n    acc = []\n    total = 0\n    for x in xs:\n"
        "        if len(xs) > n and math.isfinite(x) and helper(x) < total:\n            total += x\n"
        "    return total, acc, [y for y in xs if y > n]\n"
    )
    muts = _only(_mutants(src, "f", protected={"helper"}), "wrong_variable")
    assert muts
    for m in muts:
        old, new = m.operator.removeprefix("swap_name:").split("->")
        assert {old, new} <= {"xs", "n", "total", "x", "acc"}  # locals only: no len, math, helper, comprehension's y
        assert {old, new} != {"total", "acc"}  # a list never stands in for a number (or the reverse)
        assert "def helper(v):\n    return v" in m.code


def test_early_return_stops_the_loop_after_one_iteration():
    src = "def total(xs):\n    s = 0\n    for x in xs:\n        s += x\n    return s\n"
    (m,) = _only(_mutants(src, "total"), "early_return", "return_in_loop")
    assert m.code == "def total(xs):\n    s = 0\n    for x in xs:\n        s += x\n        return s\n    return s"
    assert m.changed_lines == (5,)
    assert _fn(normalise(src), "total")([1, 2, 3]) == 6
    assert _fn(m.code, "total")([1, 2, 3]) == 1


def test_early_return_needs_a_return_after_the_loop():
    src = "def f(xs):\n    out = []\n    for x in xs:\n        out.append(x)\n    print(out)\n"
    assert not _only(_mutants(src, "f"), "early_return")
    src = "def f(n):\n    i = 0\n    while i < n:\n        i += 2\n    return i\n"
    (m,) = _only(_mutants(src, "f"), "early_return")
    assert _fn(normalise(src), "f")(5) == 6 and _fn(m.code, "f")(5) == 2


def test_accumulator_init_changes_a_product():
    src = "def product(xs):\n    p = 1\n    for x in xs:\n        p *= x\n    return p\n"
    (m,) = _only(_mutants(src, "product"), "accumulator_init")
    assert m.operator == "init_zero" and "p = 0" in m.code and m.changed_lines == (2,)
    assert _fn(normalise(src), "product")([2, 3, 4]) == 24
    assert _fn(m.code, "product")([2, 3, 4]) == 0


@pytest.mark.parametrize(("init", "update", "operator", "arg", "before", "after"), [
    ("0", "acc += x", "init_one", [1, 2], 3, 4),
    ("''", "acc += str(x)", "init_space", [1, 2], "12", " 12"),
    ("[]", "acc.append(x)", "init_nonempty", [1, 2], [1, 2], [0, 1, 2]),
    ("set()", "acc.add(x)", "init_nonempty", [1, 2], {1, 2}, {0, 1, 2}),
    ("True", "acc = acc and x > 0", "init_flip", [1, 2], True, False),
    ("float('inf')", "acc = min(acc, x)", "init_zero", [3, 1, 2], 1, 0),
    ("-1", "acc = max(acc, x)", "init_zero", [-5, -3], -1, 0),
])
def test_accumulator_init_operators(init, update, operator, arg, before, after):
    src = f"def f(xs):\n    acc = {init}\n    for x in xs:\n        {update}\n    return acc\n"
    (m,) = _only(_mutants(src, "f"), "accumulator_init")
    assert m.operator == operator
    assert _fn(normalise(src), "f")(arg) == before
    assert _fn(m.code, "f")(arg) == after


def test_accumulator_init_min_tracker_and_run_of_inits():
    src = ("def f(xs):\n    best = float('inf')\n    count = 0\n    for x in xs:\n        if x < best:\n"
           "            best = x\n    return best\n")
    (m,) = _only(_mutants(src, "f"), "accumulator_init")  # `count` is never updated by the loop
    assert m.code.splitlines()[1] == "    best = 0"
    assert _fn(m.code, "f")([3, 1, 2]) == 0


def test_accumulator_init_needs_a_loop_that_updates_it():
    src = "def f(xs):\n    k = 3\n    out = 0\n    return out + k + len(xs)\n"
    assert not _only(_mutants(src, "f"), "accumulator_init")


def test_multi_site_applies_two_edits():
    # Every edit here keeps the line count, so a two-site mutant is the line-wise merge of two single-site ones.
    src = "def f(a, b):\n    x = a * 3\n    y = b - 2\n    z = x + y\n    return z * 2\n"
    code = normalise(src)
    muts = _mutants(src, "f", seed=3)
    multi = _only(muts, "multi_site")
    assert multi
    orig = code.splitlines()
    singles = [m for m in muts if m.family != "multi_site" and len(m.code.splitlines()) == len(orig)]
    checked = 0
    known = {m.operator for m in muts if m.family != "multi_site"}
    for m in multi:
        ((a_op, b_op),) = _halves(m.operator, known)
        lines = m.code.splitlines()
        if len(lines) != len(orig):  # a dropped statement
            continue
        changed = {i for i, (u, v) in enumerate(zip(orig, lines)) if u != v}
        assert len(changed) >= 1 and m.changed_lines == tuple(sorted(i + 1 for i in changed))
        for sa in (s for s in singles if s.operator == a_op):
            for sb in (s for s in singles if s.operator == b_op):
                if set(sa.changed_lines) & set(sb.changed_lines):
                    continue
                merged = [sa.code.splitlines()[i] if i + 1 in sa.changed_lines else
                          sb.code.splitlines()[i] if i + 1 in sb.changed_lines else orig[i] for i in range(len(orig))]
                if merged == lines:
                    assert set(m.changed_lines) == set(sa.changed_lines) | set(sb.changed_lines)
                    checked += 1
    assert checked >= 3


def test_multi_site_edits_are_both_effective():
    src = "def f(xs, k):\n    n = 0\n    for x in xs:\n        if x > k:\n            n += x\n    return n\n"
    code = normalise(src)
    for seed in range(4):
        muts = _mutants(src, "f", seed=seed)
        plain = {m.code for m in muts if m.family != "multi_site"}
        known = {m.operator for m in muts if m.family != "multi_site"}
        for m in _only(muts, "multi_site"):
            assert m.code not in plain and m.code != code
            assert _halves(m.operator, known | {"int_inc", "int_dec", "int_zero"}), m.operator


def test_semantic_sites_are_interleaved_in_the_seeded_order():
    src = ("def f(xs, k):\n    if not xs:\n        return 0\n    total = 0\n    for x in xs:\n        if x < 0:\n"
           "            continue\n        total += x\n    return total if total < k else k\n")
    firsts = set()
    for seed in range(12):
        muts = _mutants(src, "f", seed=seed, limit=3)
        assert len(muts) == 3
        firsts.update(m.family in SEMANTIC_FAMILIES for m in muts)
    assert firsts == {True, False}  # a limit draws from both kinds
    a = [(m.code, m.operator) for m in _mutants(src, "f", seed=5)]
    assert a == [(m.code, m.operator) for m in _mutants(src, "f", seed=5)]  # deterministic for a seed


def test_whole_module_program_with_semantic():
    src = ("import sys\n\nn = int(sys.stdin.readline())\ntotal = 0\nfor i in range(n):\n    if i % 3 == 0:\n"
           "        continue\n    total += i\nprint(total)\n\nif __name__ == '__main__':\n    pass\n")
    muts = _mutants(src, "main", whole_module=True)
    fams = {m.family for m in muts}
    assert {"accumulator_init", "removed_special_case", "multi_site"} <= fams
    for m in muts:
        compile(m.code, "<m>", "exec")
        if m.family in SEMANTIC_FAMILIES[:-1]:  # (the ordinary negate_if may flip the guard's `if`)
            assert "if __name__ == '__main__':" in m.code


def test_protected_helpers_are_untouched_with_semantic():
    src = ("def helper(xs):\n    s = 0\n    for x in xs:\n        if x < 0:\n            return 0\n        s += x\n"
           "    return s\n\ndef f(xs):\n    return helper(xs) * 2\n")
    for m in _mutants(src, "f", protected={"helper"}):
        assert m.code.startswith(normalise(src).split("\n\ndef f")[0])


def test_input_that_applies_nothing():
    assert _mutants("def f():\n    pass\n", "f") == []
    assert _mutants("x = 1\n", "f") == []


# --- semantic=False is byte-for-byte the behaviour before the semantic operators ---------------------------------

_REFERENCE = {
    "count_pos": "def count_pos(xs):\n    n = 0\n    for x in xs:\n        if x > 0:\n            n += 1\n    return n\n",
    "gap": "def gap(a, b):\n    if a > b:\n        return a - b\n    return b * 2\n",
    "tail_upper": "def tail_upper(s):\n    out = ''\n    for ch in s[1:]:\n        out += ch.upper()\n    return out\n",
}
# (operator, code) of propose_mutants(normalise(src), name, set(), random.Random(0)) before this change.
_FROZEN = {
    "count_pos": [
        ('int_inc', 'def count_pos(xs):\n    n = 1\n    for x in xs:\n        if x > 0:\n            n += 1\n    return n'),
        ('int_dec', 'def count_pos(xs):\n    n = 0\n    for x in xs:\n        if x > 0:\n            n += 0\n    return n'),
        ('int_zero', 'def count_pos(xs):\n    n = 2\n    for x in xs:\n        if x > 0:\n            n += 1\n    return n'),
        ('return_reversed_or_bumped', 'def count_pos(xs):\n    n = 0\n    for x in xs:\n        if x > 0:\n            n += 1\n    return n[::-1]'),
        ('int_dec', 'def count_pos(xs):\n    n = -1\n    for x in xs:\n        if x > 0:\n            n += 1\n    return n'),
        ('aug_Add->Sub', 'def count_pos(xs):\n    n = 0\n    for x in xs:\n        if x > 0:\n            n -= 1\n    return n'),
        ('Gt->GtE', 'def count_pos(xs):\n    n = 0\n    for x in xs:\n        if x >= 0:\n            n += 1\n    return n'),
        ('int_dec', 'def count_pos(xs):\n    n = 0\n    for x in xs:\n        if x > -1:\n            n += 1\n    return n'),
        ('int_inc', 'def count_pos(xs):\n    n = 0\n    for x in xs:\n        if x > 0:\n            n += 2\n    return n'),
        ('Gt->Lt', 'def count_pos(xs):\n    n = 0\n    for x in xs:\n        if x < 0:\n            n += 1\n    return n'),
        ('compare_bound+1', 'def count_pos(xs):\n    n = 0\n    for x in xs:\n        if x > 1:\n            n += 1\n    return n'),
        ('negate_if', 'def count_pos(xs):\n    n = 0\n    for x in xs:\n        if not x > 0:\n            n += 1\n    return n'),
        ('drop_statement', 'def count_pos(xs):\n    for x in xs:\n        if x > 0:\n            n += 1\n    return n'),
        ('int_zero', 'def count_pos(xs):\n    n = 0\n    for x in xs:\n        if x > 2:\n            n += 1\n    return n'),
    ],
    "gap": [
        ('Gt->GtE', 'def gap(a, b):\n    if a >= b:\n        return a - b\n    return b * 2'),
        ('Mult->Add', 'def gap(a, b):\n    if a > b:\n        return a - b\n    return b + 2'),
        ('Mult->FloorDiv', 'def gap(a, b):\n    if a > b:\n        return a - b\n    return b // 2'),
        ('return_reversed_or_bumped', 'def gap(a, b):\n    if a > b:\n        return a - b + 1\n    return b * 2'),
        ('int_zero', 'def gap(a, b):\n    if a > b:\n        return a - b\n    return b * 0'),
        ('Gt->Lt', 'def gap(a, b):\n    if a < b:\n        return a - b\n    return b * 2'),
        ('compare_bound+1', 'def gap(a, b):\n    if a > b + 1:\n        return a - b\n    return b * 2'),
        ('swap_operands', 'def gap(a, b):\n    if a > b:\n        return b - a\n    return b * 2'),
        ('return_reversed_or_bumped', 'def gap(a, b):\n    if a > b:\n        return a - b\n    return b * 2 + 1'),
        ('compare_bound-1', 'def gap(a, b):\n    if a > b - 1:\n        return a - b\n    return b * 2'),
        ('negate_if', 'def gap(a, b):\n    if not a > b:\n        return a - b\n    return b * 2'),
        ('int_dec', 'def gap(a, b):\n    if a > b:\n        return a - b\n    return b * 1'),
        ('Sub->Add', 'def gap(a, b):\n    if a > b:\n        return a + b\n    return b * 2'),
        ('int_inc', 'def gap(a, b):\n    if a > b:\n        return a - b\n    return b * 3'),
    ],
    "tail_upper": [
        ('int_inc', "def tail_upper(s):\n    out = ''\n    for ch in s[2:]:\n        out += ch.upper()\n    return out"),
        ('str_space', "def tail_upper(s):\n    out = ' '\n    for ch in s[1:]:\n        out += ch.upper()\n    return out"),
        ('slice_drop_lower', "def tail_upper(s):\n    out = ''\n    for ch in s[:]:\n        out += ch.upper()\n    return out"),
        ('aug_Add->Sub', "def tail_upper(s):\n    out = ''\n    for ch in s[1:]:\n        out -= ch.upper()\n    return out"),
        ('drop_statement', 'def tail_upper(s):\n    for ch in s[1:]:\n        out += ch.upper()\n    return out'),
        ('return_reversed_or_bumped', "def tail_upper(s):\n    out = ''\n    for ch in s[1:]:\n        out += ch.upper()\n    return out[::-1]"),
        ('int_dec', "def tail_upper(s):\n    out = ''\n    for ch in s[0:]:\n        out += ch.upper()\n    return out"),
    ],
}
# The rng's next draw after that call (the same use of the generator).
_NEXT_DRAW = {"count_pos": 0.7558042041572239, "gap": 0.5046868558173903, "tail_upper": 0.9677999949201714}
# sha256[:16] of [(code, family, operator, changed_lines)] for other seeds, limits and whole_module.
_DIGESTS = {
    "count_pos": {(1, None, False): "1b188ae318dd4b34", (2, 3, False): "b1a1273f2ed67314", (3, None, True): "f7ca2ba624f8455a"},
    "gap": {(1, None, False): "8f2fb614c9d7ac2b", (2, 3, False): "dfd87c391d8653b0", (3, None, True): "15687d64974fa020"},
    "tail_upper": {(1, None, False): "102a1c8bca9c21da", (2, 3, False): "e3f8fa66efa17f2d", (3, None, True): "16b98c79f78722b8"},
}


@pytest.mark.parametrize("name", sorted(_REFERENCE))
def test_default_behaviour_is_unchanged(name):
    rng = random.Random(0)
    muts = propose_mutants(normalise(_REFERENCE[name]), name, set(), rng)
    assert [(m.operator, m.code) for m in muts] == _FROZEN[name]
    assert rng.random() == _NEXT_DRAW[name]
    assert {m.family for m in muts} <= set(FAMILIES)
    explicit = propose_mutants(normalise(_REFERENCE[name]), name, set(), random.Random(0), semantic=False)
    assert explicit == muts
    for (seed, limit, whole), digest in _DIGESTS[name].items():
        got = propose_mutants(normalise(_REFERENCE[name]), name, set(), random.Random(seed), limit=limit, whole_module=whole)
        text = repr([(m.code, m.family, m.operator, m.changed_lines) for m in got])
        assert hashlib.sha256(text.encode()).hexdigest()[:16] == digest, (seed, limit, whole)


# --- property: never raises, only compiling distinct programs ----------------------------------------------------

_CMP = st.sampled_from(["<", "<=", ">", ">=", "==", "!="])
_OP = st.sampled_from(["+", "-", "*", "//", "%"])
_AUG = st.sampled_from(["+", "-", "*"])
_INT = st.integers(-3, 10)
_INIT = st.sampled_from(["0", "1", "-1", "0.0", "''", "[]", "{}", "set()", "()", "True", "float('inf')", "None"])
_LEAVE = st.sampled_from(["continue", "break", "return 0", "pass", "raise ValueError(x)"])

_TEMPLATES = [
    "def f(xs, k):\n    acc = {init}\n    for x in xs:\n        if x {cmp} {c1}:\n            {leave}\n"
    "        acc {aug}= x\n    return acc\n",
    "def f(n):\n    i = {c1}\n    total = {init}\n    while i {cmp} n:\n        total = total {op} i\n        i += 1\n"
    "    return total\n",
    "def f(a, b):\n    if a {cmp} {c1}:\n        return {c2}\n    c = a {op} b\n    return c if c {cmp2} b else a\n",
    "def f(xs):\n    def g(v):\n        return v {op} {c1}\n    ys = [g(y) for y in xs if y {cmp} {c2}]\n"
    "    best = {init}\n    for y in ys:\n        best = max(best, y)\n    return best\n",
    "class C:\n    def m(self, x):\n        return x {op} {c1}\n\ndef f(xs, t):\n    seen = {init}\n    for i, x in enumerate(xs):\n"
    "        if x {cmp} t and i {cmp2} {c2}:\n            {leave}\n        seen = seen or x\n    return seen, C().m(t)\n",
]
_PROGRAM = ("import sys\n\nn = int(sys.argv[1]) if len(sys.argv) > 1 else {c1}\nacc = {init}\nfor i in range(n):\n"
            "    if i {cmp} {c2}:\n        {leave_loop}\n    acc {aug}= i\nprint(acc)\n\nif __name__ == '__main__':\n"
            "    print(n)\n")


def _check(code: str, muts: list[Mutant]) -> None:
    assert len({m.code for m in muts}) == len(muts)
    allowed = set(FAMILIES) | set(SEMANTIC_FAMILIES)
    for m in muts:
        assert m.code != code and m.family in allowed and m.operator
        compile(m.code, "<mutant>", "exec")
        n_lines = len(m.code.splitlines())
        assert m.changed_lines and all(1 <= i <= n_lines for i in m.changed_lines), m
        if m.family == "wrong_variable":
            new = m.operator.split("->")[-1]
            assert new not in dir(builtins) and new not in ("sys", "self")
        if m.family == "multi_site":
            assert m.operator.count("+") >= 1


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(t=st.integers(0, len(_TEMPLATES) - 1), cmp=_CMP, cmp2=_CMP, op=_OP, aug=_AUG, c1=_INT, c2=_INT, init=_INIT,
       leave=_LEAVE, seed=st.integers(0, 2**16), limit=st.sampled_from([None, 1, 5]))
def test_semantic_mutants_always_compile_and_differ(t, cmp, cmp2, op, aug, c1, c2, init, leave, seed, limit):
    code = normalise(_TEMPLATES[t].format(cmp=cmp, cmp2=cmp2, op=op, aug=aug, c1=c1, c2=c2, init=init, leave=leave))
    muts = propose_mutants(code, "f", set(), random.Random(seed), limit=limit, semantic=True)
    _check(code, muts)
    if limit is not None:
        assert len(muts) <= limit
    else:
        plain = propose_mutants(code, "f", set(), random.Random(seed))
        assert {m.code for m in plain} <= {m.code for m in muts} | {code}  # the semantic run finds them all too


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cmp=_CMP, aug=_AUG, c1=_INT, c2=_INT, init=_INIT, leave=st.sampled_from(["continue", "break", "pass"]),
       seed=st.integers(0, 2**16))
def test_semantic_whole_module_always_compiles_and_differs(cmp, aug, c1, c2, init, leave, seed):
    code = normalise(_PROGRAM.format(cmp=cmp, aug=aug, c1=c1, c2=c2, init=init, leave_loop=leave))
    muts = propose_mutants(code, "main", set(), random.Random(seed), whole_module=True, semantic=True)
    _check(code, muts)
    for m in muts:
        if m.family in SEMANTIC_FAMILIES[:-1]:
            assert "if __name__ == '__main__':" in m.code


@settings(max_examples=40, deadline=None)
@given(src=st.sampled_from([
    "def f(*a, **k):\n    return a if k else ()\n",
    "async def f(xs):\n    t = 0\n    async for x in xs:\n        t += x\n    return t\n",
    "def f(x):\n    global G\n    G = x\n    while G > 0:\n        G -= 1\n    return G\n",
    "def f(x):\n    y = 10 ** 400\n    z = 1" + "0" * 400 + "\n    for _ in x:\n        z += y\n    return z\n",
    "def f(x):\n    match x:\n        case [a, *rest] if a > 0:\n            return a\n        case _:\n            return None\n",
    "def f(x):\n    try:\n        for i in x:\n            if i:\n                raise KeyError\n    except KeyError as e:\n"
    "        return e\n    return x\n",
    "def f(x):\n    if (n := len(x)) > 2:\n        return n\n    lam = lambda q: q < n\n    return lam(x)\n",
    "def f():\n    return\n",
    "x = [i for i in range(3) if i > 1]\n",
]), seed=st.integers(0, 1000))
def test_semantic_odd_inputs_never_raise(src, seed):
    code = normalise(src)
    _check(code, propose_mutants(code, "f", set(), random.Random(seed), semantic=True))
    _check(code, propose_mutants(code, "f", set(), random.Random(seed), semantic=True, whole_module=True))


def test_semantic_operator_names():
    src = ("def f(xs, k):\n    if not xs:\n        return 0\n    n = 0\n    for x in xs:\n        if x > k:\n"
           "            n += x\n    return n\n")
    muts = _mutants(src, "f")
    single = re.compile(r"drop_guard|return_in_loop|init_(one|zero|space|empty|flip|nonempty)|swap_name:\w+->\w+")
    fams = set()
    for m in muts:
        fams.add(m.family)
        if m.family in SEMANTIC_FAMILIES[:-1]:
            assert single.fullmatch(m.operator), m.operator
    assert fams >= set(SEMANTIC_FAMILIES)
