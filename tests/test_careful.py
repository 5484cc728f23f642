"""Careful-tester inputs (tasks.careful): concrete derivations, order, determinism, bounds, robustness."""

from __future__ import annotations

import math
import random
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from tasks.careful import careful_inputs, careful_inputs_with_kinds, careful_kinds

# No example database; hypothesis's caches go to the temp directory, never into the repository.
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "obench-hypothesis")
SETTINGS = settings(max_examples=80, deadline=None, database=None, suppress_health_check=list(HealthCheck))
PLAIN = (int, float, str, bool, type(None), list, tuple, dict, set, frozenset)


def typed(v: Any) -> Any:
    """A hashable key with type names (1, 1.0 and True differ; nan equals nan)."""
    t = type(v)
    if t in (list, tuple):
        return (t.__name__, tuple(typed(x) for x in v))
    if t in (set, frozenset):
        return (t.__name__, frozenset(typed(x) for x in v))
    if t is dict:
        return ("dict", frozenset((typed(k), typed(x)) for k, x in v.items()))
    if t is float:
        return ("float", repr(v))
    return (t.__name__, v)


def run(seeds: list[tuple[Any, ...]], limit: int = 1000, seed: int = 0) -> list[tuple[Any, ...]]:
    return careful_inputs(seeds, random.Random(seed), limit)


def keys(seeds: list[tuple[Any, ...]], limit: int = 1000, seed: int = 0) -> set[Any]:
    return {typed(a) for a in run(seeds, limit, seed)}


def has(out: set[Any], *args: Any) -> bool:
    return typed(tuple(args)) in out


def sizes(v: Any) -> tuple[int, int]:
    """(longest container, longest string) anywhere inside ``v``."""
    if isinstance(v, str):
        return 0, len(v)
    if isinstance(v, (list, tuple, set, frozenset, dict)):
        items = [x for kv in v.items() for x in kv] if isinstance(v, dict) else list(v)
        inner = [sizes(x) for x in items]
        return max([len(v)] + [c for c, _ in inner]), max([0] + [s for _, s in inner])
    return 0, 0


def plain(v: Any) -> bool:
    if type(v) not in PLAIN:
        return False
    if isinstance(v, dict):
        return all(plain(k) and plain(x) for k, x in v.items())
    if isinstance(v, (list, tuple, set, frozenset)):
        return all(plain(x) for x in v)
    return True


def check_invariants(seeds: list[tuple[Any, ...]], out: list[tuple[Any, ...]], limit: int) -> None:
    assert len(out) <= limit
    ks = [typed(a) for a in out]
    assert len(set(ks)) == len(ks), "inputs must be distinct"
    assert not set(ks) & {typed(tuple(s)) for s in seeds}, "a seed is never returned"
    signatures = {tuple(type(a) for a in s) for s in seeds}
    max_c = max((sizes(a)[0] for s in seeds for a in s), default=0)
    max_s = max((sizes(a)[1] for s in seeds for a in s), default=0)
    for args in out:
        assert type(args) is tuple
        assert tuple(type(a) for a in args) in signatures, "same shape and per-position types as a seed"
        for a in args:
            assert plain(a)
            c, s = sizes(a)
            assert c <= 2 * max_c + 2 and s <= 2 * max_s + 2


# ------------------------------------------------------------------ concrete derivations


def test_list_derivations():
    seeds = [([3, 1, 2], 5)]
    out = keys(seeds)
    for lst in ([], [3], [2], [1, 2, 3], [3, 2, 1], [3, 3], [3, 3, 3], [-3, -1, -2], [1, 3, 2]):
        assert has(out, lst, 5), lst
    assert any(args[1] == 5 and len(args[0]) == 4 and 0 in args[0] for args in run(seeds)), "a 0 inserted"
    assert any(args[1] == 5 and sorted(args[0]) == [1, 2, 3, 3] for args in run(seeds)), "a duplicate inserted"
    for n in (0, 1, -1, 4, 6):
        assert has(out, [3, 1, 2], n), n
    check_invariants(seeds, run(seeds), 1000)


def test_tuple_stays_tuple_and_min_max_moves():
    seeds = [((2, 9, 1, 5),)]
    out = keys(seeds)
    for t in ((), (2,), (5,), (1, 2, 5, 9), (9, 5, 2, 1), (1, 2, 9, 5), (2, 9, 5, 1), (9, 2, 1, 5), (2, 1, 5, 9)):
        assert has(out, t), t
    assert all(type(a[0]) is tuple for a in run(seeds))


def test_float_list_inserts_float_zero():
    out = run([([1.5, -2.0],)])
    assert ([1.5, 0.0, -2.0],) in out
    assert all(type(x) is float for (lst,) in out for x in lst)


def test_nested_lists_reshaped_at_top_level_only():
    seeds = [([[2, 1], [0]],)]
    out = keys(seeds)
    assert has(out, [[0], [2, 1]])  # sorted at the top level; the items are untouched
    assert has(out, [[2, 1]])
    check_invariants(seeds, run(seeds), 1000)


def test_swap_of_same_typed_arguments():
    out = keys([(3, 5)])
    assert has(out, 5, 3)
    assert has(keys([([1, 2], [3])]), [3], [1, 2])
    assert not any(a == (5, "x") for a in run([("x", 5)]))  # different types are never swapped
    kinds = dict(careful_inputs_with_kinds([(3, 5)], random.Random(0), 100))
    assert kinds[(5, 3)] == "swap"


def test_int_extremes_across_seeds():
    seeds = [(3, 5), (10, -2)]
    out = keys(seeds)
    for n in (2, 4, 9, 11):  # smallest (3) and largest (10) at position 0, and their +-1
        assert has(out, n, 5) or has(out, n, -2), n
    for n in (-3, -1, 4, 6):  # position 1: -2 and 5
        assert has(out, 3, n) or has(out, 10, n), n


def test_string_derivations():
    out = keys([("hello",)])
    for s in ("", "h", "o", "olleh", "HELLO", "hhhhh", "aello", "zello", "hella", "hellz"):
        assert has(out, s), s
    out = keys([("Abc x9",)])
    for s in ("abc x9", "ABC X9", "Zbc x9", "Abc x0", "Abc  x9", " Abc x9", "Abc x9 "):
        assert has(out, s), s


def test_float_derivations():
    out = keys([(1.25,)])
    for x in (0.0, -0.0, 1.75, 0.75, 1.5, -1.25):
        assert has(out, x), x
    assert all(type(a[0]) is float for a in run([(1.25,)]))


def test_bool_and_dict_derivations():
    seeds = [(True, {"Ab": 1, "c": 2})]
    out = keys(seeds)
    assert has(out, False, {"Ab": 1, "c": 2})
    for d in ({}, {"Ab": 1}, {"c": 2}, {"AB": 1, "C": 2}, {"ab": 1, "c": 2}):
        assert has(out, True, d), d
    assert all(type(a[0]) is bool for a in run(seeds))


def test_key_tells_1_from_1_0_and_true():
    assert (0,) in run([(2,)]) and (0.0,) in run([(2.5,)])
    both = keys([(2,), (2.5,)])
    assert has(both, 0) and has(both, 0.0)  # equal under ==, yet both kept
    flags = run([(True,), (3,)])
    assert any(type(a[0]) is bool and a[0] is False for a in flags)
    assert any(type(a[0]) is int and a[0] == 0 for a in flags)
    assert any(type(a[0]) is int and a[0] == 1 for a in run([(1.0,), (0,)]))  # (1,) is not the seed (1.0,)


def test_sets_keep_their_type():
    out = run([({3, 1},)])
    assert (set(),) in out and ({1},) in out
    assert all(type(a[0]) is set for a in out)


# ------------------------------------------------------------------ order, limit, determinism


def test_limit_and_kind_coverage():
    seeds = [([3, 1, 2], "ab c", 4, 0.5, True)]
    assert run(seeds, limit=0) == []
    assert len(run(seeds, limit=7)) == 7
    labelled = careful_inputs_with_kinds(seeds, random.Random(0), 30)
    assert len(labelled) == 30
    kinds = [k for _, k in labelled]
    assert set(kinds) <= set(careful_kinds())
    first = kinds[:20]
    assert len(set(first)) == len(first), "the first round visits each kind once"
    check_invariants(seeds, [a for a, _ in labelled], 30)


def test_careful_kinds():
    kinds = careful_kinds()
    assert isinstance(kinds, tuple) and len(set(kinds)) == len(kinds) and all(isinstance(k, str) for k in kinds)
    assert "swap" in kinds and "seq_sorted" in kinds and "str_empty" in kinds


def test_deterministic_and_rng_only_reorders():
    seeds = [([3, 1, 2], 5), ([7], 1), ([], 2)]
    a = careful_inputs_with_kinds(seeds, random.Random(42), 60)
    b = careful_inputs_with_kinds(seeds, random.Random(42), 60)
    assert [(typed(x), k) for x, k in a] == [(typed(x), k) for x, k in b]
    base = keys(seeds, seed=0)
    firsts = set()
    for s in range(12):
        assert keys(seeds, seed=s) == base  # the same inputs whatever the rng ...
        firsts.add(typed(run(seeds, seed=s)[0]))
    assert len(firsts) > 1  # ... only which seed goes first changes


def test_no_seed_returned_and_distinct():
    seeds = [(1, 2), (2, 1), (0, 2), ([1, 1], [1]), ([1], [1, 1]), ("a", "a")]
    check_invariants(seeds, run(seeds), 1000)


def test_size_bounds():
    seeds = [("x" * 3, [1] * 4), ("ab cd", [])]
    out = run(seeds)
    assert out
    check_invariants(seeds, out, 1000)
    # A character whose upper case is three characters still keeps to the bound.
    check_invariants([("\u0390",)], run([("\u0390",)]), 1000)


# ------------------------------------------------------------------ robustness


def test_weird_seeds_never_raise():
    deep: Any = []
    for _ in range(5000):
        deep = [deep]
    weird: list[Any] = [
        [],
        None,
        [None],
        [(None,)],
        [()],
        [(10**5000, [10**4000, -(10**4000)])],
        [(math.nan, [math.nan, 1.0, math.inf])],
        [(math.inf, -math.inf)],
        [([1, "a", None, [2]], {1: "x", "k": [1]})],
        [(deep,)],
        [([{"a": 1}, {"b": 2}],)],
        [(object(), 1)],
        [(1, 2), (1, 2, 3), "not a tuple", 5],
        [([1, 2],), ([3],)],
    ]
    for seeds in weird:
        out = careful_inputs(seeds, random.Random(0))
        assert isinstance(out, list) and all(type(a) is tuple for a in out)
    assert careful_inputs([(3,)], None) != []  # type: ignore[arg-type]
    assert careful_inputs([(3,)], random.Random(0), limit=-1) == []
    assert len(careful_inputs([(10**5000,)], random.Random(0))) > 0
    assert careful_inputs([(deep,)], random.Random(0)) == []  # too deep for a docstring example


def test_heavy_seeds_derive_nothing_and_light_ones_still_do():
    big = list(range(30_000))
    out = careful_inputs([(big, 1), ([2, 1], 1)], random.Random(0))
    assert out and all(len(a[0]) <= 3 for a in out)
    assert ([1, 2], 1) in out and ([2, 1], 0) in out


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=5)
    | st.lists(inner, max_size=4).map(tuple)
    | st.dictionaries(st.text(max_size=4), inner, max_size=4),
    max_leaves=12,
)
ARGS = st.lists(JSON, min_size=0, max_size=4).map(tuple)


@SETTINGS
@given(st.lists(ARGS, max_size=4), st.integers(0, 2**32), st.integers(0, 80))
def test_property_shape_and_bounds(seeds, rng_seed, limit):
    out = careful_inputs(seeds, random.Random(rng_seed), limit)
    check_invariants(seeds, out, limit)
    assert [typed(a) for a in out] == [typed(a) for a in careful_inputs(seeds, random.Random(rng_seed), limit)]


@SETTINGS
@given(st.lists(st.tuples(JSON, JSON), min_size=1, max_size=3))
def test_property_same_arity_pairs(seeds):
    labelled = careful_inputs_with_kinds(seeds, random.Random(0), 60)
    assert all(len(a) == 2 and k in careful_kinds() for a, k in labelled)
    assert [typed(a) for a, _ in labelled] == [typed(a) for a, _ in careful_inputs_with_kinds(seeds, random.Random(0), 60)]
