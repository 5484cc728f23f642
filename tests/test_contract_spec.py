"""The contract language of task files: parse, check, generate, boundaries; suggestions only suggest."""

from __future__ import annotations

import json
import random
import subprocess
import sys

import pytest

from tasks.contracts import check_inputs, compile_contract, contract_for
from tasks.contracts.spec import ContractSpecError, canonical_spec, parse_contract, try_parse_contract
from tasks.suite import TaskRecord

SPEC = {"args": {
    "xs": {"type": "list[int]", "max_len": 6, "items": {"min": -5, "max": 5}, "sorted": True},
    "k": {"type": "int", "min": 0, "max": 10},
    "s": {"type": "str", "max_len": 4, "charset": "lowercase", "chars": "_"},
    "d": {"type": "dict[str, int]", "max_len": 3, "values": {"min": 0}},
    "o": "optional[float]",
    "t": {"type": "tuple[int, str]", "items": [{"min": 1}, {"max_len": 2}]},
    "u": {"type": "list[str]", "unique": True, "min_len": 1, "max_len": 3, "items": {"one_of": ["a", "b", "c", "d"]}},
}}
NAMES = ["xs", "k", "s", "d", "o", "t", "u"]


def test_parse_orders_named_args_by_the_signature_and_round_trips():
    shuffled = {"args": dict(reversed(list(SPEC["args"].items())))}
    spec = parse_contract(shuffled, NAMES)
    assert [t.name for t in spec.args] == NAMES
    assert parse_contract(canonical_spec(spec)) == spec
    assert json.loads(json.dumps(canonical_spec(spec))) == canonical_spec(spec)
    text = spec.describe()
    assert "xs: list[int] (length <= 6, items in [-5, 5], sorted ascending)" in text and "k: int (in [0, 10])" in text


@pytest.mark.parametrize(("args", "why"), [
    (([1, 2], 3, "ab", {}, None, (1, "x"), ["a"]), None),
    (([2, 1], 3, "ab", {}, None, (1, "x"), ["a"]), "not sorted"),
    (([1, 9], 3, "ab", {}, None, (1, "x"), ["a"]), "xs[1]: 9 is above the maximum 5"),
    (([], True, "", {}, None, (1, ""), ["a"]), "expected an int, got bool"),
    (([], 3, "aB", {}, None, (1, ""), ["a"]), "character 'B' is not allowed"),
    (([], 3, "a_", {"x": -1}, None, (1, ""), ["a"]), "is below the minimum 0"),
    (([], 3, "", {}, 2, (1, ""), ["a"]), None),  # ints are floats too
    (([], 3, "", {}, float("nan"), (1, ""), ["a"]), "finite float"),
    (([], 3, "", {}, None, (0, ""), ["a"]), "t[0]: 0 is below the minimum 1"),
    (([], 3, "", {}, None, [1, ""], ["a"]), "expected a tuple"),
    (([], 3, "", {}, None, (1, ""), ["a", "a"]), "not distinct"),
    (([], 3, "", {}, None, (1, ""), []), "below the minimum 1"),
    (([], 3, "", {}, None, (1, ""), ["e"]), "is not one of"),
    (([], 3), "expected 7 argument(s), got 2"),
])
def test_checker_accepts_and_explains(args, why):
    spec = parse_contract(SPEC, NAMES)
    got = spec.violation(args)
    assert (got is None) if why is None else (got is not None and why in got), got


def test_generated_inputs_and_boundaries_are_valid_and_seeded():
    spec = parse_contract(SPEC, NAMES)
    a = [spec.generate(random.Random(3)) for _ in range(1)] + [spec.generate(random.Random(s)) for s in range(200)]
    assert all(spec.violation(x) is None for x in a)
    assert spec.generate(random.Random(3)) == a[0]  # seeded
    b = spec.boundaries()
    assert b == spec.boundaries() and 5 <= len(b) <= 40 and all(spec.violation(x) is None for x in b)


def test_boundaries_cover_the_edges():
    ints = parse_contract({"args": [{"type": "int", "min": -3, "max": 7}]})
    assert {x for (x,) in ints.boundaries()} >= {-3, -2, 0, 1, -1, 6, 7}
    lists = parse_contract({"args": [{"type": "list[int]", "max_len": 5, "items": {"min": 0, "max": 9}}]})
    vals = [x for (x,) in lists.boundaries()]
    assert [] in vals and [0] in vals and [9] in vals
    assert any(len(v) > 1 and len(set(v)) == 1 for v in vals)  # all equal
    assert any(len(v) > 1 and v == sorted(v) and len(set(v)) == len(v) for v in vals)  # sorted
    assert any(len(v) > 1 and v == sorted(v, reverse=True) and len(set(v)) == len(v) for v in vals)  # reverse-sorted
    strs = parse_contract({"args": [{"type": "str", "max_len": 3, "chars": "xyz"}]})
    svals = [x for (x,) in strs.boundaries()]
    assert {"", "x", "z", "xxx", "zzz"} <= set(svals)


@pytest.mark.parametrize(("spec", "needle"), [
    ([], "expected an object"),
    ({}, "needs `args`"),
    ({"args": ["lst[int]"]}, "unknown type 'lst'"),
    ({"args": ["list[int"]}, "missing ']'"),
    ({"args": ["dict[int]"]}, "dict takes 2 type parameter(s)"),
    ({"args": ["None"]}, "optional[T]"),
    ({"args": [{"type": "int", "maxx": 3}]}, "args[0]: unknown key 'maxx' for int"),
    ({"args": [{"type": "int", "min": 5, "max": 1}]}, "min 5 is above max 1"),
    ({"args": [{"type": "int", "min": 0.5}]}, "expected an integer"),
    ({"args": [{"type": "str", "charset": "greek"}]}, "unknown character class 'greek'"),
    ({"args": [{"type": "list[int]", "items": {"type": "str"}}]}, "disagrees"),
    ({"args": [{"type": "list"}]}, "needs its item type"),
    ({"args": [{"min": 1}]}, "needs \"type\""),
    ({"args": ["int", "int"]}, "2 type(s) for 1 parameter(s)"),
    ({"args": {"y": "int"}}, "do not match the parameters"),
    ({"args": ["int"], "predicate": "x = 1"}, "must define `def valid(...)`"),
    ({"args": ["int"], "predicate": "def valid(a, b): return 1"}, "takes 2..2 argument(s), the task has 1"),
    ({"args": ["int"], "predicate": "def valid(:"}, "not valid Python"),
    ({"args": ["int"], "unordered_output": "yes"}, "expected true or false"),
    ({"args": ["int"], "extra": 1}, "unknown key 'extra'"),
])
def test_bad_specs_get_one_clear_message_each(spec, needle):
    got, problems = try_parse_contract(spec, ["x"])
    assert got is None and any(needle in p for p in problems), problems
    with pytest.raises(ContractSpecError) as info:
        parse_contract(spec, ["x"])
    assert info.value.problems == problems


def test_predicate_contracts_run_in_the_sandbox_only(local_sandbox):
    c = compile_contract({"args": ["int"], "predicate": "def valid(n):\n    return n % 2 == 0\n"})
    assert c.needs_sandbox and c.accepts((3,))  # the host part (types) only
    with pytest.raises(ValueError, match="only in the sandbox"):
        check_inputs(c, [(3,)], None)
    assert check_inputs(c, [(2,), (3,), ("x",), (4,)], local_sandbox.run_calls) == [True, False, False, True]
    raising = compile_contract({"predicate": "def valid(n):\n    return 1 / n > 0\n"})
    assert check_inputs(raising, [(0,), (1,), (-1,)], local_sandbox.run_calls) == [False, True, False]


def test_contract_for_humaneval_and_task_specs():
    rec = dict(task_id="HumanEval/0", split="train", source="openai/human-eval", license="MIT", prompt="", entry_point="f",
               reference="", contract_note="", unordered_output=False, time_limit_s=2.0, visible_tests="[]",
               hidden_tests="[]", hidden_origin=[])
    he = contract_for(TaskRecord(**rec))
    assert he is not None and he.note
    assert contract_for(TaskRecord(**{**rec, "source": "user"})) is None
    own = contract_for(TaskRecord(**{**rec, "source": "user", "contract_spec": json.dumps({"args": ["int"]})}))
    assert own is not None and own.accepts((1,)) and not own.accepts(("1",))


import hypothesis  # noqa: E402, I001  (a dev dependency: installed by `make test`, never skipped)

st = hypothesis.strategies

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
                    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=8), kids, max_size=4),
                    max_leaves=25)
TYPE_WORDS = st.sampled_from(["int", "float", "bool", "str", "list[int]", "list", "tuple[int, str]", "dict[str, int]",
                              "optional[int]", "list[list[str]]", "dict[", "tuple[]", "set[int]", "", "int]"])
KEYS = st.sampled_from(["type", "min", "max", "min_len", "max_len", "chars", "charset", "sorted", "unique", "items",
                        "keys", "values", "one_of", "name", "bogus"])
ARG = st.recursive(TYPE_WORDS | JSON, lambda kids: st.dictionaries(KEYS, kids | TYPE_WORDS | JSON, max_size=5), max_leaves=10)
SPECS = st.dictionaries(st.sampled_from(["args", "predicate", "unordered_output", "note", "other"]),
                        st.lists(ARG, max_size=3) | st.dictionaries(st.text(max_size=3), ARG, max_size=3) | JSON,
                        max_size=4) | JSON


@hypothesis.settings(max_examples=400, deadline=None)
@hypothesis.given(SPECS, st.one_of(st.none(), st.lists(st.text(min_size=1, max_size=3), max_size=3)))
def test_the_parser_never_raises_on_arbitrary_json(spec, names):
    got, problems = try_parse_contract(spec, names)
    assert (got is None) == bool(problems)
    assert all(isinstance(p, str) and p for p in problems)
    if got is not None:  # whatever parses, checks, generates and bounds without raising anything unexpected
        got.violation(tuple(None for _ in (got.args or ())))
        got.boundaries()
        try:
            args = got.generate(random.Random(0)) if got.args is not None else None
        except ValueError:
            args = None
        if args is not None:
            assert got.violation(args) is None
        assert parse_contract(canonical_spec(got), names) == got


@hypothesis.settings(max_examples=150, deadline=None)
@hypothesis.given(st.integers(-50, 50), st.integers(0, 30), st.integers(0, 8), st.booleans(), st.booleans(), st.integers(0, 10**6))
def test_generated_values_satisfy_random_typed_specs(lo, width, max_len, srt, uniq, seed):
    spec = parse_contract({"args": [{"type": "list[int]", "max_len": max_len, "sorted": srt, "unique": uniq,
                                     "items": {"min": lo, "max": lo + width}},
                                    {"type": "str", "max_len": max_len, "chars": "ab"}]})
    try:
        args = spec.generate(random.Random(seed))
    except ValueError:
        return  # e.g. more distinct items asked for than the range holds
    assert spec.violation(args) is None
    assert all(spec.violation(b) is None for b in spec.boundaries(str(seed)))


def test_suggest_contract_only_suggests(tmp_path):
    row = {"task_id": "s/1", "prompt": 'def f(xs, k):\n    """Doc.\n    >>> f([1, 2], 3)\n    4\n    """\n',
           "entry_point": "f", "reference": "    return len(xs) + k - 1\n",
           "tests": "def check(candidate):\n    assert candidate([], 0) == -1\n    assert candidate([1.5], 2) == 2\n"}
    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps(row) + "\n")
    before = path.read_bytes()
    r = subprocess.run([sys.executable, "-m", "obench", "tasks", "suggest-contract", "--tasks", str(path)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    [doc] = [json.loads(line) for line in r.stdout.splitlines()]
    assert doc["suggestion"] == {"args": {"xs": "list[float]", "k": "int"}} and doc["applied"] is False
    assert doc["observed"]["k"] == {"n": 3, "min": 0, "max": 3} and "not applied" in doc["note"]
    assert path.read_bytes() == before  # never written back
    from tasks.sources import load_task_file

    [task] = load_task_file(path)
    assert task.contract is None  # and the builder does not use suggestions: the task still has no contract
