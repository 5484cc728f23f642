"""Augmentation scales with the number of tasks: a slow task stops on its time budget (and says so),
a job stops after a few reference timeouts, and the other tasks are not held up."""

from __future__ import annotations

import time

from harness.jobs import Limits
from tasks.augment import AugmentConfig, AugmentTask, grow_hidden
from tasks.contracts import compile_contract

SLOW = "def slow(n):\n    total = 0\n    for i in range(n):\n        total += i\n    return total\n"
FAST = "def fast(n):\n    return n + 1\n"


def test_a_slow_task_stops_on_its_budget_and_the_others_finish(local_sandbox):
    unbounded = compile_contract({"args": [{"type": "int", "min": 0}]})
    bounded = compile_contract({"args": [{"type": "int", "min": 0, "max": 1000}]})
    tasks = [AugmentTask("slow", SLOW, "slow", unbounded, [(10,), (10**8,)], []),
             AugmentTask("fast", FAST, "fast", bounded, [(1,)], [])]
    done: list[str] = []
    t0 = time.monotonic()
    pools = grow_hidden(tasks, local_sandbox.run_calls, AugmentConfig(target=60, rounds=6, seed=0, task_budget_s=3.0),
                        Limits(timeout_s=1.0, memory_mb=256), on_task=lambda tid, pool: done.append(tid))
    elapsed = time.monotonic() - t0
    slow, fast = pools["slow"], pools["fast"]
    assert len(fast.inputs) == 60 and fast.stopped == "target reached"
    assert "time budget" in slow.stopped and any("time budget" in n for n in slow.notes)
    assert slow.reference_failed >= 1  # 10**8 iterations time out; such inputs are dropped
    assert sorted(done) == ["fast", "slow"]
    # The budget is what ends the slow task (asserted above); this bound only catches a stall, with a margin
    # no loaded machine reaches (round 0 is one 1 s timeout, later jobs stop after 2 timeouts or on the budget).
    assert elapsed < 300, elapsed


def test_a_task_without_contract_or_generator_is_not_augmented(local_sandbox):
    pools = grow_hidden([AugmentTask("plain", FAST, "fast", None, [(1,), (2,)], [(3,)])], local_sandbox.run_calls,
                        AugmentConfig(target=50, rounds=3), Limits(timeout_s=2.0))
    p = pools["plain"]
    assert p.inputs == [(1,), (2,)] and p.origin == ["source", "source"] and p.stopped.startswith("not augmented")


def test_program_inputs_come_from_the_sandbox_generator(local_sandbox):
    prog = "a, b = map(int, input().split())\nprint(a + b)\n"
    gen = "def generate(rng):\n    return f'{rng.randint(0, 9)} {rng.randint(0, 9)}\\n'\n"
    t = AugmentTask("p", prog, "p", None, [("1 2\n",)], [], kind="program", generator=gen)
    a = grow_hidden([t], local_sandbox.run_calls, AugmentConfig(target=30, rounds=2), Limits(timeout_s=2.0))["p"]
    b = grow_hidden([t], local_sandbox.run_calls, AugmentConfig(target=30, rounds=2), Limits(timeout_s=2.0))["p"]
    assert a.inputs == b.inputs and len(a.inputs) == 30 and a.inputs[0] == ("1 2\n",)  # seeded
    assert all(out == str(sum(map(int, args[0].split()))) for args, out in zip(a.inputs, a.outputs))
    none = grow_hidden([AugmentTask("q", prog, "p", None, [("1 2\n",)], [], kind="program")], local_sandbox.run_calls,
                       AugmentConfig(target=30, rounds=2), Limits(timeout_s=2.0))["q"]
    assert len(none.inputs) == 1 and "input_generator" in none.stopped
