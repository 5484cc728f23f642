"""Suite v2's recipe end to end in Docker, on a few HumanEval tasks (a small, fast config).

Checks what v2 adds over v1: authored bugs and alternatives as candidates (kept only as execution
labels them), their witnesses and careful-tester inputs as hidden tests, examples added to prompts
that show fewer than two, labels balanced within every task, the contract set recorded per task,
the release statistics, a content hash that does not change between builds, and every label
holding when the suite is checked again. The mutation-guided search is checked on a task file whose
one planted mutant only a searched input can kill.
"""

from __future__ import annotations

import json

import pytest

from harness.jobs import Limits
from tasks.authored import load_authored
from tasks.build import PROFILES, BuildConfig, CandidateSpec, SuiteBuilder, build_suite
from tasks.check import CheckItem, label_items
from tasks.contracts import contract_for
from tasks.contracts.humaneval import humaneval_contracts
from tasks.sources import load_humaneval, load_task_file
from tasks.suite import load_suite
from tasks.visible import EXAMPLES_MARKER

pytestmark = pytest.mark.docker

IDS = ("HumanEval/0", "HumanEval/2", "HumanEval/12", "HumanEval/26")


def small() -> BuildConfig:
    return PROFILES["v2"].config(split_fractions=(1.0, 0.0, 0.0), hidden_target=60, mutants_per_task=30,
                                 augment_rounds=2, guided_search=60)


@pytest.fixture(scope="module")
def v2(make_docker_sandbox, tmp_path_factory):
    sb = make_docker_sandbox(limits=Limits(timeout_s=30.0, memory_mb=512), workers=2)
    d = tmp_path_factory.mktemp("v2")
    src = [t for t in load_humaneval() if t.task_id in IDS]
    log: list[str] = []
    kw = {"name": "v2-small", "version": "0", "contract_set": "humaneval-v2"}
    m1 = build_suite(sb, src, humaneval_contracts("humaneval-v2"), d / "a", small(), log=log.append, **kw)
    m2 = build_suite(sb, src, humaneval_contracts("humaneval-v2"), d / "b", small(), **kw)
    return {"sb": sb, "m1": m1, "m2": m2, "suite": load_suite(d / "a"), "log": log}


def test_every_task_is_balanced_or_dropped_with_its_reason(v2):
    s, stats = v2["suite"], v2["m1"].stats
    assert set(s.tasks) | set(stats["dropped_tasks"]) == set(IDS)
    assert len(s.tasks) >= 3
    for tid in s.tasks:
        labels = [c.label for c in s.candidates if c.task_id == tid]
        assert labels.count("buggy") == labels.count("correct") >= 4, tid
    for tid, why in stats["dropped_tasks"].items():
        assert "too few candidates to balance" in why and any(line.startswith(f"{tid}: dropped: ") for line in v2["log"])
    assert stats["task_prior_auroc"]["train"] == 0.5
    assert stats["task_balance"]["train"]["balanced"] == len(s.tasks)


def test_authored_candidates_are_kept_only_as_execution_labels_them(v2):
    s = v2["suite"]
    rows, problems = load_authored()
    assert problems == []
    authored = [c for c in s.candidates if c.origin == "authored"]
    assert {c.label for c in authored} == {"buggy", "correct"}
    for c in authored:
        assert c.base in ("reference", "alternative") and c.note.startswith("authored (")
        if c.label == "buggy":
            assert c.n_failed >= 1 and json.loads(c.witnesses)
    # Every authored bug's witness the contract accepts is a hidden test of its task.
    for a in rows:
        t = s.tasks.get(a.task_id)
        if t is None or a.witness is None:
            continue
        c = contract_for(t)
        assert c is not None
        if c.accepts(a.witness):
            assert a.witness in [args for args, _ in t.hidden()], (a.where, a.witness)
    assert {"authored witness", "careful"} <= set(v2["m1"].stats["hidden_origins"])


def test_prompts_show_at_least_two_examples(v2):
    s = v2["suite"]
    t = s.tasks["HumanEval/2"]  # its docstring shows one example
    assert EXAMPLES_MARKER in t.prompt and len(t.visible()) == 2
    added = t.visible()[1]
    assert f">>> truncate_number({added[0][0]!r})" in t.prompt and repr(added[1]) in t.prompt
    assert added[0] not in [a for a, _ in t.hidden()]  # an example is visible, not hidden
    assert all(len(task.visible()) >= 2 for task in s.tasks.values())
    assert all(task.contract_set == "humaneval-v2" for task in s.tasks.values())


def test_release_stats_and_a_stable_hash(v2):
    m1, m2 = v2["m1"], v2["m2"]
    assert m1.content_hash == m2.content_hash and m1.files == m2.files
    st = m1.stats
    for key in ("by_origin", "families_by_origin", "subtlety_by_origin", "similarity_auroc", "prompt_length_auroc",
                "mutation_score", "single_input_bugs", "release_problems"):
        assert key in st, key
    assert st["by_origin"]["authored"]["buggy"] >= 1
    singles = [c for c in v2["suite"].candidates if c.label == "buggy" and c.n_failed == 1]
    assert len(singles) == st["single_input_bugs"] and all("fails only 1 of" in c.note for c in singles)
    assert any("test_size" in p for p in st["release_problems"])  # a 4-task suite has no test split


def test_every_label_holds_when_checked_again(v2):
    s = v2["suite"]
    items = [CheckItem(n, c.task_id, c.code) for n, c in enumerate(s.candidates, 1)]
    rows = label_items(v2["sb"], s, items)
    assert [r["label"] for r in rows] == [c.label for c in s.candidates]


def test_mutation_guided_search_kills_a_mutant_the_hidden_tests_miss(make_docker_sandbox, tmp_path):
    task = {"task_id": "t/double", "entry_point": "double",
            "prompt": 'def double(x):\n    """Twice x, for 0 <= x <= 100000.\n    >>> double(3)\n    6\n    """\n',
            "reference": "    return 2 * x\n",
            "tests": [{"args": [1], "output": 2}, {"args": [10], "output": 20}],
            "contract": {"args": [{"type": "int", "min": 0, "max": 100000}]}}
    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps(task) + "\n")
    cfg = BuildConfig(hidden_target=4, augment_rounds=1, guided_search=300, split_fractions=(1.0, 0.0, 0.0))
    sb = make_docker_sandbox(limits=Limits(timeout_s=30.0, memory_mb=512), workers=2)
    b = SuiteBuilder(sb, cfg)
    specs = b.gold_check(b.hidden(b.prepare(load_task_file(path))))
    (s,) = specs
    planted = s.reference.replace("return 2 * x", "if x % 89 == 7:\n        return 2 * x + 1\n    return 2 * x")
    assert planted != s.reference
    hidden_before = [a for a in s.hidden_inputs]
    assert not any(a[0] % 89 == 7 for a in hidden_before)  # the hidden tests miss it
    cands = [CandidateSpec(s.task_id, s.reference, "reference", ()),
             CandidateSpec(s.task_id, planted, "mutation", (), "boundary", "planted")]
    b.label(specs, cands)
    assert cands[1].dropped and not cands[1].label
    got = b.guided(specs, cands)
    assert got["found"] == 1 and got["added"] >= 1 and got["tasks"] == 1
    assert cands[1].label == "buggy" and cands[1].found_by_search and not cands[1].dropped
    assert cands[0].label == "correct" and not cands[0].dropped
    assert "mutation-guided" in s.hidden_origin and any(a[0] % 89 == 7 for a in s.hidden_inputs)
