"""Units of the suite builder: docstring examples, output comparison, mutants, rewrites."""

from __future__ import annotations

import ast
import random

import pytest

from tasks.compare import outcomes_differ, values_equal
from tasks.mutants import FAMILIES, changed_lines, propose_mutants
from tasks.rewrites import REWRITE_FAMILIES, normalise, rewrite
from tasks.visible import parse_examples

PROMPT = '''
def add_all(xs: list, k: int) -> list:
    """Add k to every item.
    >>> add_all([1, 2], 1)
    [2, 3]
    add_all([], 5) == []
    add_all([0], -1) ➞ [-1]
    add_all() should not be parsed
    """
'''


def test_parse_examples_in_the_common_styles():
    ex = parse_examples(PROMPT, "add_all")
    assert [(e.args, e.expected, e.has_expected) for e in ex] == [
        (([1, 2], 1), [2, 3], True), (([], 5), [], True), (([0], -1), [-1], True)]


def test_parse_examples_without_expected_value_keeps_input():
    prompt = 'def f(x):\n    """For f(3) the result is surprising."""\n'
    ex = parse_examples(prompt, "f")
    assert len(ex) == 1 and ex[0].args == (3,) and not ex[0].has_expected


def test_float_tolerance_and_types():
    assert values_equal(0.1 + 0.2, 0.3)
    assert not values_equal(0.3, 0.31)
    assert values_equal(6, 6.0) and values_equal(True, 1)
    assert not values_equal([1, 2], (1, 2))
    assert not values_equal("1", 1)
    assert values_equal(float("nan"), float("nan"))
    assert values_equal({"a": [1.0000000001]}, {"a": [1.0]})


def test_order_insensitive_only_when_asked():
    assert not values_equal([1, 2, 2], [2, 1, 2])
    assert values_equal([1, 2, 2], [2, 1, 2], unordered=True)
    assert not values_equal([1, 2, 2], [2, 1, 1], unordered=True)


def test_candidate_errors_always_differ():
    assert outcomes_differ("error", None, {"type": "ValueError"}, 3)
    assert outcomes_differ("timeout", None, None, 3)
    assert not outcomes_differ("ok", 3.0000000001, None, 3.0)


REF = normalise('''
def count_pos(xs):
    """Count positives."""
    n = 0
    for x in xs:
        if x > 0:
            n += 1
    return n
''')


def test_mutants_cover_families_and_compile():
    muts = propose_mutants(REF, "count_pos", set(), random.Random(0))
    assert muts and len({m.code for m in muts}) == len(muts)
    fams = {m.family for m in muts}
    assert {"comparison", "arithmetic", "constant", "boolean", "remove_statement", "return_value"} <= fams
    assert fams <= set(FAMILIES)
    for m in muts:
        ast.parse(m.code)
        assert m.changed_lines, m
    seeded = [m.code for m in propose_mutants(REF, "count_pos", set(), random.Random(0))]
    assert seeded == [m.code for m in muts]  # deterministic for a seed


def test_mutants_never_touch_protected_helpers():
    code = normalise("def helper(a):\n    return a + 1\n\ndef f(x):\n    return helper(x) * 2\n")
    for m in propose_mutants(code, "f", {"helper"}, random.Random(1)):
        assert "def helper(a):\n    return a + 1" in m.code


def test_changed_lines():
    assert changed_lines("a\nb\nc", "a\nB\nc") == (2,)
    assert changed_lines("a\nb\nc", "a\nc") == (1,)


@pytest.mark.parametrize("seed", range(5))
def test_rewrites_preserve_behaviour(seed):
    code = normalise('''
def evens_squared(xs):
    out = []
    for x in xs:
        if x % 2 == 0:
            out.append(x * x)
    total = 0
    for v in out:
        total += v
    if total > 10:
        return out
    else:
        return []
''')
    new, applied = rewrite(code, set(), random.Random(seed), p=0.9)
    assert set(applied) <= set(REWRITE_FAMILIES)
    ns_a: dict = {}
    ns_b: dict = {}
    exec(code, ns_a)
    exec(new, ns_b)
    for xs in ([], [1, 2, 3, 4], [2, 4, 6], [5, -4, 10]):
        assert ns_a["evens_squared"](xs) == ns_b["evens_squared"](xs)


def test_normalise_strips_docstrings_and_comments():
    assert normalise('def f():\n    """doc"""\n    # comment\n    return 1  # trailing\n') == "def f():\n    return 1"


def test_integer_answers_are_exact():
    assert not values_equal(100000001.0, 100000000)
    assert not values_equal(100000000, 100000000.5)
    assert values_equal(3, 3.0)


def test_tasks_with_several_right_answers_use_their_checker():
    from tasks.contracts.humaneval import CONTRACTS

    check = CONTRACTS["HumanEval/32"].valid_output
    xs = [-6, 11, -6, 1]  # roots 1, 2, 3: any of them is right
    assert not outcomes_differ("ok", 2.0, None, 1.0, valid_output=check, args=(xs,))
    assert not outcomes_differ("ok", 3.0000000001, None, 1.0, valid_output=check, args=(xs,))
    assert outcomes_differ("ok", 1.5, None, 1.0, valid_output=check, args=(xs,))
    assert outcomes_differ("ok", "1.0", None, 1.0, valid_output=check, args=(xs,))


def test_negating_a_negated_condition_drops_the_not():
    code = normalise("def f(x):\n    if not x:\n        return 1\n    return 2\n")
    muts = propose_mutants(code, "f", set(), random.Random(0))
    assert not any("not not" in m.code for m in muts)
    assert any("if x:" in m.code for m in muts)


def test_rewrites_refuse_unsafe_cases():
    # Float bounds are not shifted; list accumulators are not expanded; leaking loop vars are kept.
    code = normalise("def f(x, xs):\n    acc = []\n    acc += xs\n    if x < 1:\n        return acc\n    return []\n")
    for seed in range(20):
        new, applied = rewrite(code, set(), random.Random(seed), p=1.0)
        assert "shift_bound" not in applied and "expand_augassign" not in applied
    code = normalise("def f(xs, i):\n    ys = [i * 2 for i in xs]\n    return ys, i\n")
    for seed in range(20):
        assert "comprehension_to_loop" not in rewrite(code, set(), random.Random(seed), p=1.0)[1]
