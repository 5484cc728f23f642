"""Building a small suite end to end: determinism by seed, the contract filter, labels by execution."""

from __future__ import annotations

import random

import pytest

from harness.jobs import Limits
from tasks.augment import AugmentConfig, grow_hidden, mutate_args
from tasks.build import BuildConfig, build_suite
from tasks.contracts import Contract, is_int
from tasks.contracts.humaneval import CONTRACTS
from tasks.sources import load_humaneval
from tasks.suite import load_suite

SMALL = BuildConfig(hidden_target=40, augment_rounds=3, mutants_per_task=25, rewrites_per_task=4)


def test_contract_filter_keeps_only_valid_inputs(local_sandbox):
    even = Contract(pre=lambda n: is_int(n) and n % 2 == 0 and 0 <= n <= 1000, note="even, 0..1000")
    ref = "def half(n):\n    if n > 100:\n        return n // 2\n    return n / 2\n"
    pools = grow_hidden([("t", ref, "half", even, [(4,), (200,)], [(10,)])],
                        local_sandbox.run_calls, AugmentConfig(target=40, rounds=4, seed=1), Limits(timeout_s=5.0))
    pool = pools["t"]
    assert len(pool.inputs) >= 20 and pool.rejected_by_contract > 0
    assert all(even.accepts(a) for a in pool.inputs)
    assert pool.origin[:2] == ["source", "source"]
    assert all(o == (a[0] // 2 if a[0] > 100 else a[0] / 2) for a, o in zip(pool.inputs, pool.outputs))


def test_mutation_keeps_types():
    rng = random.Random(0)
    for _ in range(300):
        args = mutate_args(([1, 2, 3], "abc", 2.5, (1, "x")), rng, "abcxyz", [7, "q"])
        assert [type(a) for a in args] == [list, str, float, tuple]


@pytest.mark.docker
def test_small_build_is_deterministic_and_labels_hold(make_docker_sandbox, tmp_path):
    sb = make_docker_sandbox(limits=Limits(timeout_s=30.0, memory_mb=512), workers=2)
    sources = load_humaneval()[:5]
    m1 = build_suite(sb, sources, CONTRACTS, tmp_path / "a", SMALL)
    m2 = build_suite(sb, sources, CONTRACTS, tmp_path / "b", SMALL)
    assert m1.content_hash == m2.content_hash
    m3 = build_suite(sb, sources, CONTRACTS, tmp_path / "c", BuildConfig(**{**SMALL.__dict__, "seed": 1}))
    assert m3.content_hash != m1.content_hash
    s = load_suite(tmp_path / "a")
    assert len(s.tasks) == 5 and all(len(t.hidden()) > 0 for t in s.tasks.values())
    for c in s.candidates:
        assert c.label in ("buggy", "correct")
        if c.label == "buggy":
            assert c.origin == "mutation" and c.n_failed > 0
