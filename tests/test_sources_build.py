"""Any task source: a suite built from a small task file, end to end in Docker.

The file has functions with a typed contract, a predicate contract and none, a stdin/stdout
program, a generator-returning function, and tasks that must be dropped (a reference that fails
its own tests, a program whose reference disagrees with its expected stdout, a nondeterministic
reference, one that returns objects). Every label is re-checked by execution, every drop reason
is checked, and two builds give the same content hash.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from harness.jobs import Limits
from tasks.build import NO_CONTRACT_NOTE, BuildConfig, build_suite
from tasks.check import label_items, read_candidates
from tasks.contracts import check_inputs, contract_for
from tasks.sources import load_task_file
from tasks.suite import load_suite

pytestmark = pytest.mark.docker

SUM_MAX = ("n = int(input())\nxs = list(map(int, input().split()))\nbest = xs[0]\nfor x in xs:\n    if x > best:\n"
           "        best = x\nprint(sum(xs), best)\n")
TASKS = [
    {"task_id": "t/clamp_sum", "entry_point": "clamp_sum",
     "prompt": 'def clamp_sum(xs, k):\n    """Sum of the items of xs, each clamped to at most k.\n    >>> clamp_sum([1, 5, 3], 3)\n'
               '    7\n    """\n',
     "reference": "    total = 0\n    for x in xs:\n        if x > k:\n            total += k\n        else:\n            total += x\n"
                  "    return total\n",
     "tests": "def check(candidate):\n    assert candidate([4, 4], 1) == 2\n    assert candidate([0, -3, 9], 5) == 2\n",
     "contract": {"args": {"xs": {"type": "list[int]", "max_len": 12, "items": {"min": -20, "max": 20}},
                           "k": {"type": "int", "min": 0, "max": 20}}}},
    {"task_id": "t/even_half", "entry_point": "even_half",
     "prompt": 'def even_half(n):\n    """Half of an even number n between 0 and 1000 (n // 2 for small n, an int).\n    """\n',
     "reference": "    if n < 100:\n        return n // 2\n    return n - n // 2\n",
     "tests": [{"args": [10], "output": 5}, {"args": [0], "output": 0}, {"args": [400], "output": 200}],
     "contract": {"args": ["int"], "predicate": "def valid(n):\n    return 0 <= n <= 1000 and n % 2 == 0\n"}},
    {"task_id": "t/vowels", "entry_point": "count_vowels",
     "prompt": 'def count_vowels(s):\n    """Number of vowels in s.\n    >>> count_vowels("banana")\n    3\n    """\n',
     "reference": "    return sum(1 for c in s if c in 'aeiou')\n",
     "tests": "def check(candidate):\n    assert candidate('xyz') == 0\n    assert candidate('aeiou') == 5\n"},
    {"task_id": "t/sum_max", "kind": "program", "prompt": "Read n, then n integers; print their sum and their maximum.",
     "reference": SUM_MAX,
     "tests": [{"stdin": "3\n1 2 3\n", "stdout": "6 3\n", "visible": True}, {"stdin": "1\n-5\n", "stdout": "-5  -5"}],
     "input_generator": "def generate(rng):\n    n = rng.randint(1, 6)\n"
                        "    return f'{n}\\n' + ' '.join(str(rng.randint(-9, 9)) for _ in range(n)) + '\\n'\n"},
    {"task_id": "t/squares", "entry_point": "squares",
     "prompt": 'def squares(n):\n    """Yield the squares of the numbers 0 .. n - 1, in order (0 <= n <= 30)."""\n',
     "reference": "    for i in range(n):\n        yield i * i\n",
     "tests": "def check(candidate):\n    assert list(candidate(4)) == [0, 1, 4, 9]\n    assert list(candidate(0)) == []\n",
     "contract": {"args": [{"type": "int", "min": 0, "max": 30}]}},
    {"task_id": "t/bad_ref", "entry_point": "double",
     "prompt": 'def double(x):\n    """Twice x."""\n', "reference": "    return x + 2\n",
     "tests": "def check(candidate):\n    assert candidate(3) == 6\n"},
    {"task_id": "t/bad_prog", "kind": "program", "prompt": "Print the input upside down.", "reference": "print(input()[::-1])\n",
     "tests": [{"stdin": "ab\n", "stdout": "ba\n"}, {"stdin": "abc\n", "stdout": "abc\n"}]},
    {"task_id": "t/noisy", "entry_point": "noisy", "prompt": 'def noisy(x):\n    """x plus noise."""\n',
     "reference": "    import random\n    return x + random.random()\n", "tests": "def check(candidate):\n    assert candidate(1) > 0\n",
     "contract": {"args": [{"type": "int", "min": 0, "max": 9}]}},
    {"task_id": "t/box", "entry_point": "box", "prompt": 'def box(x):\n    """A box holding x."""\n',
     "reference": "    class Box:\n        pass\n    b = Box()\n    b.x = x\n    return b\n",
     "tests": "def check(candidate):\n    assert candidate(1).x == 1\n"},
]
SMALL = BuildConfig(hidden_target=40, augment_rounds=3, mutants_per_task=40, rewrites_per_task=4,
                    split_fractions=(1.0, 0.0, 0.0))


@pytest.fixture(scope="module")
def built(make_docker_sandbox, tmp_path_factory):
    sb = make_docker_sandbox(limits=Limits(timeout_s=30.0, memory_mb=512), workers=2)
    d = tmp_path_factory.mktemp("byo")
    path = d / "tasks.jsonl"
    path.write_text("".join(json.dumps(t) + "\n" for t in TASKS))
    sources = load_task_file(path)
    log: list[str] = []
    m1 = build_suite(sb, sources, None, d / "a", SMALL, name="byo", log=log.append)
    m2 = build_suite(sb, sources, None, d / "b", SMALL, name="byo")
    return {"sb": sb, "dir": d, "m1": m1, "m2": m2, "log": log, "suite": load_suite(d / "a"), "sources": sources}


def test_bad_tasks_are_dropped_with_their_reasons(built):
    dropped = built["m1"].stats["dropped_tasks"]
    assert set(dropped) == {"t/bad_ref", "t/bad_prog", "t/noisy", "t/box"}
    assert "fails its own tests" in dropped["t/bad_ref"] and "assert candidate(3) == 6" in dropped["t/bad_ref"]
    assert "disagrees with its own test 1" in dropped["t/bad_prog"] and "expected 'abc', got 'cba'" in dropped["t/bad_prog"]
    assert "nondeterministic" in dropped["t/noisy"]
    assert "no data representation" in dropped["t/box"] and "never by repr" in dropped["t/box"]
    assert all(any(line.startswith(f"{t}: dropped: ") for line in built["log"]) for t in dropped)
    assert set(built["suite"].tasks) == {"t/clamp_sum", "t/even_half", "t/vowels", "t/sum_max", "t/squares"}


def test_the_content_hash_is_deterministic(built, make_docker_sandbox):
    m1, m2 = built["m1"], built["m2"]
    assert m1.content_hash == m2.content_hash and m1.files == m2.files
    other = build_suite(built["sb"], built["sources"], None, built["dir"] / "c",
                        BuildConfig(**{**SMALL.__dict__, "seed": 1}), name="byo")
    assert other.content_hash != m1.content_hash


def test_tasks_by_kind_and_contract(built):
    s, sb = built["suite"], built["sb"]
    typed = s.tasks["t/clamp_sum"]
    c = contract_for(typed)
    assert c is not None and not c.needs_sandbox and json.loads(typed.contract_spec)["args"][0]["name"] == "xs"
    assert len(typed.hidden()) == 40 and all(c.accepts(a) for a, _ in typed.hidden())
    assert ([], 0) in [a for a, _ in typed.hidden()]  # a boundary value
    pred = s.tasks["t/even_half"]
    pc = contract_for(pred)
    assert pc is not None and pc.needs_sandbox
    inputs = [a for a, _ in pred.visible() + pred.hidden()]
    assert len(inputs) > 20 and all(check_inputs(pc, inputs, sb.run_calls))  # the predicate ran in the sandbox
    plain = s.tasks["t/vowels"]
    assert contract_for(plain) is None and plain.contract_note == NO_CONTRACT_NOTE and NO_CONTRACT_NOTE in plain.notes
    assert plain.hidden() == [(("xyz",), 0), (("aeiou",), 5)] and plain.hidden_origin == ["source", "source"]
    assert plain.visible() == [(("banana",), 3)]
    prog = s.tasks["t/sum_max"]
    assert prog.kind == "program" and prog.visible() == [(("3\n1 2 3\n",), "6 3")]
    assert prog.hidden()[:2] == [(("3\n1 2 3\n",), "6 3"), (("1\n-5\n",), "-5 -5")]
    assert len(prog.hidden()) == 40 and all(isinstance(a[0], str) and isinstance(out, str) for a, out in prog.hidden())
    gen = s.tasks["t/squares"]
    assert all(out == [i * i for i in range(a[0])] for a, out in gen.hidden())
    rows = [line for line in (built["dir"] / "a" / "tasks.jsonl").read_text().splitlines()]
    assert all('"kind"' in r and '"contract_spec"' in r for r in rows)  # this suite writes the new fields


def test_every_label_holds_when_checked_again(built):
    s = built["suite"]
    labels = {(c.task_id, c.label) for c in s.candidates}
    for tid in ("t/clamp_sum", "t/sum_max", "t/squares"):
        assert (tid, "buggy") in labels and (tid, "correct") in labels, tid
    for c in s.candidates:
        if c.label == "buggy":
            w = json.loads(c.witnesses)
            assert w and all(x["status"] in ("ok", "error") for x in w) and c.n_failed > 0
    from tasks.check import CheckItem

    items = [CheckItem(n, c.task_id, c.code) for n, c in enumerate(s.candidates, 1)]
    items += [CheckItem(len(items) + n, t.task_id, t.reference) for n, t in enumerate(s.tasks.values(), 1)]
    rows = label_items(built["sb"], s, items)
    want = [c.label for c in s.candidates] + ["correct"] * len(s.tasks)
    assert [r["label"] for r in rows] == want
    bug = next(r for r, c in zip(rows, s.candidates) if c.task_id == "t/sum_max" and c.label == "buggy")
    assert bug["hidden_bug"] and isinstance(bug["witnesses"][0]["input"], list)


def test_check_cli_works_on_any_built_suite(built, tmp_path):
    d = built["dir"] / "a"
    s = built["suite"]
    bug = next(c for c in s.candidates if c.label == "buggy" and c.task_id == "t/sum_max")
    f = tmp_path / "c.jsonl"
    f.write_text("\n".join([json.dumps({"task_id": "t/sum_max", "code": "import sys\nxs = sys.stdin.read().split()[1:]\n"
                                                                        "print(sum(map(int, xs)), max(map(int, xs)))\n"}),
                            json.dumps({"task_id": bug.task_id, "code": bug.code}),
                            json.dumps({"task_id": "HumanEval/0", "code": "def f(): pass"})]) + "\n")
    r = subprocess.run([sys.executable, "-m", "obench", "tasks", "check", "--suite", str(d), "--candidates", str(f), "--json"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    got = [json.loads(line) for line in r.stdout.splitlines()]
    assert [g["label"] for g in got] == ["correct", "buggy", "invalid"]
    assert "unknown task_id 'HumanEval/0'" in got[2]["error"]
    only_bad = tmp_path / "bad.jsonl"
    only_bad.write_text(json.dumps({"task_id": "nope/1", "code": "x = 1"}) + "\n")
    r2 = subprocess.run([sys.executable, "-m", "obench", "tasks", "check", "--suite", str(d), "--candidates", str(only_bad)],
                        capture_output=True, text=True, timeout=300)
    assert r2.returncode != 0 and "none of the 1 lines could be checked" in r2.stderr
    assert [it.error is None for it in read_candidates(f, s)] == [True, True, False]


def test_build_cli_from_hub_rows(tmp_path):
    """`obench tasks build --hub FILE[:split]`: MBPP-style rows through `datasets`, a local file (no hub here)."""
    rows = [{"task_id": 11, "text": "Write a function to double a number.", "code": "def double(n):\n    return 2 * n\n",
             "test_list": ["assert double(2) == 4", "assert double(0) == 0", "assert double(-3) == -6"]},
            {"task_id": 12, "text": "Return the last item of a list.", "code": "def last(xs):\n    return xs[-1]\n",
             "test_list": ["assert last([1, 2]) == 2", "assert last([5]) == 5"]},
            {"task_id": 13, "text": "Broken.", "code": "def inc(n):\n    return n\n", "test_list": ["assert inc(1) == 2"]}]
    f = tmp_path / "mbpp.jsonl"
    f.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "suite"
    r = subprocess.run([sys.executable, "-m", "obench", "tasks", "build", "--hub", f"{f}:train", "--name", "mbpp-mini",
                        "--out", str(out)], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "dropped 1 task(s)" in r.stdout and "mbpp/13" in r.stdout and "without an input contract" in r.stdout
    s = load_suite(out)
    assert s.manifest.name == "mbpp-mini" and set(s.tasks) == {"mbpp/11", "mbpp/12"}
    assert s.tasks["mbpp/11"].hidden() == [((2,), 4), ((0,), 0), ((-3,), -6)]
    bad = subprocess.run([sys.executable, "-m", "obench", "tasks", "build", "--tasks", str(f), "--source", "humaneval"],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "give one source" in bad.stderr


def test_time_limits_rest_on_cpu_time_not_on_the_machines_load(make_docker_sandbox, tmp_path):
    """A reference whose calls wait (wall time far above CPU time, as a loaded machine makes it)
    gets the floor time limit: the slowest calls are timed again by CPU time before the limit is set."""
    sb = make_docker_sandbox(limits=Limits(timeout_s=30.0, memory_mb=512), workers=2)
    task = {"task_id": "t/slow_inc", "entry_point": "slow_inc",
            "prompt": 'def slow_inc(x):\n    """x + 1, for 0 <= x <= 9.\n    >>> slow_inc(1)\n    2\n    """\n',
            "reference": "    import time\n    time.sleep(0.25)\n    return x + 1\n",
            "tests": [{"args": [0], "output": 1}, {"args": [9], "output": 10}],
            "contract": {"args": [{"type": "int", "min": 0, "max": 9}]}}
    path = tmp_path / "tasks.jsonl"
    path.write_text(json.dumps(task) + "\n")
    cfg = BuildConfig(hidden_target=4, augment_rounds=1, mutants_per_task=4, rewrites_per_task=1,
                      split_fractions=(1.0, 0.0, 0.0))
    build_suite(sb, load_task_file(path), None, tmp_path / "s", cfg, name="slow")
    t = load_suite(tmp_path / "s").tasks["t/slow_inc"]
    # By wall time the slowest call (>= 0.25 s) would give 20 x 0.25 = 5 s.
    assert t.time_limit_s == cfg.min_time_limit_s
