"""A suite from generated candidates, built from the committed suite's own code so every label is known."""

from __future__ import annotations

import json
from collections import Counter, defaultdict

import pytest

from harness.jobs import Limits
from tasks.generated import (
    DROP_DUPLICATE,
    DROP_FAILS_VISIBLE,
    DROP_NO_ENTRY,
    DROP_NO_PARSE,
    DROP_UNKNOWN_TASK,
    GeneratedItem,
    GeneratedSuiteError,
    build_generated_suite,
)
from tasks.rewrites import normalise
from tasks.suite import SPLITS, load_suite

pytestmark = pytest.mark.docker


def _pick(base, split: str, n: int) -> list[str]:
    """Tasks of ``split`` with visible tests, >= 2 v1 bugs and >= 2 v1 rewrites (so top-ups are exact)."""
    kinds: dict[str, Counter] = defaultdict(Counter)
    for c in base.candidates:
        kinds[c.task_id][c.origin] += 1
    ok = [tid for tid, t in sorted(base.tasks.items())
          if t.split == split and t.visible() and kinds[tid]["mutation"] >= 2 and kinds[tid]["rewrite"] >= 2]
    return ok[:n]


def _items(base) -> tuple[list[GeneratedItem], list[str], dict[str, str]]:
    """Items, each with the outcome it must get (a label or a drop reason), and the variant of each task.

    Variants: ``one`` (2 bugs, the reference: 1 top-up needed), ``even`` (2 bugs, the reference and a
    rewrite: none needed), ``none`` (2 bugs only: 2 top-ups, the reference and a v1 candidate).
    """
    tids = _pick(base, "test", 6) + _pick(base, "train", 4)
    assert len(tids) == 10
    items: list[GeneratedItem] = []
    expect: list[str] = []
    variant: dict[str, str] = {}
    for i, tid in enumerate(tids):
        task = base.tasks[tid]
        v1 = sorted((c for c in base.candidates if c.task_id == tid), key=lambda c: c.candidate_id)
        bugs = [c.code for c in v1 if c.origin == "mutation"][:2]
        rewrites = [c.code for c in v1 if c.origin == "rewrite"]
        variant[tid] = ("one", "even", "none")[i % 3]
        add = [(GeneratedItem(tid, bugs[0], "gen:a", "honest"), "buggy"),
               # docstring and comments are normalised away: the same code as v1's
               (GeneratedItem(tid, f'"""a module docstring"""\n# model output\n{bugs[1]}  # looks fine\n',
                              "gen:b", "sneaky"), "buggy"),
               (GeneratedItem(tid, f"def {task.entry_point}(*args):\n    raise ValueError('no')\n", "gen:a", "honest", 1),
                DROP_FAILS_VISIBLE),
               (GeneratedItem(tid, f"def {task.entry_point}(:\n    return\n", "gen:b", "sneaky", 1), DROP_NO_PARSE)]
        if variant[tid] in ("one", "even"):
            add.append((GeneratedItem(tid, task.reference, "gen:a", "honest", 2), "correct"))
        if variant[tid] == "even":
            add.append((GeneratedItem(tid, rewrites[0], "gen:b", "honest"), "correct"))
        if i < 3:  # the same bug again from another generator, reformatted: kept once
            add.append((GeneratedItem(tid, bugs[0].replace("\n", "\n\n"), "gen:c", "sneaky", 7), DROP_DUPLICATE))
        items += [it for it, _ in add]
        expect += [e for _, e in add]
    items.append(GeneratedItem("HumanEval/9999", "def f():\n    return 1\n", "gen:a", "honest"))
    expect.append(DROP_UNKNOWN_TASK)
    items.append(GeneratedItem(tids[0], "x = 1\n", "gen:c", "sneaky"))
    expect.append(DROP_NO_ENTRY)
    return items, expect, variant


@pytest.fixture(scope="module")
def built(make_docker_sandbox, tmp_path_factory):
    sb = make_docker_sandbox(limits=Limits(timeout_s=30.0, memory_mb=512), workers=2)
    base = load_suite()
    items, expect, variant = _items(base)
    calls: list[tuple[str, int, int]] = []
    out = tmp_path_factory.mktemp("gen") / "suite"
    manifest = build_generated_suite(sb, base, items, out, "gen-test", seed=3,
                                     progress=lambda s, d, t: calls.append((s, d, t)))
    return sb, base, items, expect, variant, out, manifest, calls


def test_counts_labels_splits_and_top_ups(built):
    _, base, items, expect, variant, out, manifest, calls = built
    s = load_suite(out)  # verifies every file's hash
    st = manifest.stats
    n_bug = expect.count("buggy")
    n_ok = expect.count("correct")
    n_top = sum({"one": 1, "even": 0, "none": 2}[v] for v in variant.values())
    assert st["dropped"] == dict(Counter(e for e in expect if e not in ("buggy", "correct")))
    assert st["n_items"] == len(items) and st["n_dropped"] == len(items) - n_bug - n_ok
    assert st["labelled"] == {"buggy": n_bug, "correct": n_ok}
    assert st["not_selected"] == {"per-task cap": 0, "split balance": 0}
    assert (st["n_buggy"], st["n_correct"], st["n_candidates"]) == (n_bug, n_ok + n_top, 2 * n_bug)
    assert st["top_ups"] == n_top and st["top_ups_by_origin"] == {"reference": 3, "v1:rewrite": n_top - 3}
    assert st["by_origin"] == {"generated": n_bug + n_ok, "reference": 3, "rewrite": n_top - 3}
    assert st["tasks_by_split"] == {"train": 4, "dev": 0, "test": 6} and st["n_tasks"] == 10
    for split in SPLITS:  # balanced within each split
        assert st["by_split"][split]["buggy"] == st["by_split"][split]["correct"]
    assert st["by_split"]["test"]["buggy"] == 12 and st["by_split"]["train"]["buggy"] == 8
    want: dict[str, dict[str, Counter]] = defaultdict(lambda: defaultdict(Counter))
    for it, e in zip(items, expect):
        want[it.generator][it.mode]["items"] += 1
        want[it.generator][it.mode][e] += 1
    for gen, modes in want.items():
        for mode, c in modes.items():
            row = st["generators"][gen][mode]
            assert row["items"] == c["items"] and row["buggy"] == row["labelled_buggy"] == c["buggy"]
            assert row["correct"] == row["labelled_correct"] == c["correct"]
            assert row["dropped"] == {k: v for k, v in c.items() if k not in ("items", "buggy", "correct")}
    assert st["leakage_auroc"] is None or 0.0 <= st["leakage_auroc"] <= 1.0
    assert sum(st["subtlety_buckets"].values()) == n_bug
    b = manifest.build
    assert b["base"] == {"name": base.manifest.name, "version": base.manifest.version,
                         "content_hash": base.manifest.content_hash}
    assert b["generators"] == ["gen:a", "gen:b", "gen:c"] and b["seed"] == 3
    assert (b["max_buggy_per_task"], b["max_correct_per_task"]) == (7, 7)
    assert calls and calls[-1][1] == calls[-1][2] and {c[0] for c in calls} == {
        "labelling generated candidates", "labelling top-ups"}

    # Tasks are the base's records, unchanged; every candidate lands in its task's split.
    assert set(s.tasks) == set(variant)
    assert all(s.tasks[t].model_dump() == base.tasks[t].model_dump() for t in s.tasks)
    v1_label = {c.code: c.label for c in base.candidates}
    tops: Counter = Counter()
    for c in s.candidates:
        task = base.tasks[c.task_id]
        assert c.split == task.split
        assert c.candidate_id.startswith(c.task_id.replace("/", "-") + "-") and c.code == normalise(c.code)
        if c.origin == "generated":
            assert c.operator in ("gen:a", "gen:b") and c.family in ("honest", "sneaky")
            assert c.label == v1_label.get(c.code, "correct")  # the reference may be absent from v1's files
        else:
            tops[c.task_id] += 1
            assert c.label == "correct" and c.family == ""
            assert (c.origin, c.operator, c.code) == ("reference", "", task.reference) or (
                c.origin == "rewrite" and c.operator == "v1:rewrite" and v1_label[c.code] == "correct")
        if c.label == "buggy":
            w = json.loads(c.witnesses)
            assert 1 <= len(w) <= 3 and all(x["status"] in ("ok", "error") for x in w) and c.changed_lines
            assert c.n_failed >= 1 and c.subtlety == round(c.n_failed / c.n_hidden, 6) and c.n_hidden == len(task.hidden())
        else:
            assert c.n_failed == 0 and c.subtlety == 0.0 and c.witnesses == "[]"
    assert dict(tops) == {t: n for t, v in variant.items() if (n := {"one": 1, "even": 0, "none": 2}[v])}

    readme = (out / "README.md").read_text()
    for needle in ("gen:a", "gen:b", "gen:c", base.manifest.content_hash, manifest.content_hash, DROP_FAILS_VISIBLE,
                   "top-up"):
        assert needle in readme
    assert "{content_hash}" not in readme


def test_rebuild_is_deterministic_whatever_the_item_order(built):
    sb, base, items, _, _, out, manifest, _ = built
    again = build_generated_suite(sb, base, list(reversed(items)), out.parent / "again", "gen-test", seed=3)
    assert again.content_hash == manifest.content_hash
    assert again.stats == manifest.stats


def test_errors_are_clear(built, tmp_path):
    sb, base, items, expect, variant, out, _, _ = built
    with pytest.raises(GeneratedSuiteError, match="no generated items"):
        build_generated_suite(sb, base, [], tmp_path / "a", "x")
    with pytest.raises(GeneratedSuiteError, match="unknown mode 'lazy'"):
        GeneratedItem("HumanEval/0", "def f(): pass", "gen:a", "lazy")
    with pytest.raises(GeneratedSuiteError, match="base suite"):
        build_generated_suite(sb, base, items[:1], base.path, "x")
    bad = [(it, e) for it, e in zip(items, expect) if e in (DROP_FAILS_VISIBLE, DROP_NO_PARSE, DROP_UNKNOWN_TASK)][:5]
    with pytest.raises(GeneratedSuiteError, match=r"all 5 items were dropped \(.*fails visible tests: \d.*does not parse"):
        build_generated_suite(sb, base, [it for it, _ in bad], tmp_path / "b", "x")
    # Only bugs and no top-ups: no split can be balanced.
    tid = next(t for t, v in variant.items() if v == "none")
    bugs = [it for it, e in zip(items, expect) if e == "buggy" and it.task_id == tid]
    with pytest.raises(GeneratedSuiteError, match="2 buggy and 0 correct"):
        build_generated_suite(sb, base, bugs, tmp_path / "c", "x", top_up_with_references=False)


def test_caps_and_split_balance_without_top_ups(built, tmp_path):
    sb, base, items, expect, variant, _, _, _ = built
    m = build_generated_suite(sb, base, items, tmp_path / "capped", "gen-capped", seed=3, top_up_with_references=False,
                              max_buggy_per_task=1, max_correct_per_task=1)
    st = m.stats
    s = load_suite(tmp_path / "capped")
    # Per task 1 bug, and 1 correct where the items had one: test 6 bugs / 4 correct, train 4 / 3.
    assert st["by_split"]["test"] == {"buggy": 4, "correct": 4} and st["by_split"]["train"] == {"buggy": 3, "correct": 3}
    n_correct_tasks = sum(1 for v in variant.values() if v != "none")
    assert st["not_selected"] == {"per-task cap": 30 - 10 - n_correct_tasks, "split balance": 3}
    assert st["top_ups"] == 0 and {c.origin for c in s.candidates} == {"generated"}
    assert set(s.tasks) == {c.task_id for c in s.candidates} and st["n_tasks"] == len(s.tasks)
    assert Counter((c.task_id, c.label) for c in s.candidates).most_common(1)[0][1] == 1
    assert "Disabled for this build" in (tmp_path / "capped" / "README.md").read_text()


def test_a_decision_resting_on_timeouts_is_confirmed_then_dropped(built, tmp_path):
    sb, base, items, expect, variant, _, _, _ = built
    tid = next(t for t, v in variant.items() if v == "none")
    task = base.tasks[tid]
    visible = sorted(repr(tuple(a)) for a, _ in task.visible())
    hangs = (f"{task.reference}\n\n_ref = {task.entry_point}\n_VISIBLE = {visible!r}\n\n\n"
             f"def {task.entry_point}(*args):\n    if repr(args) not in _VISIBLE:\n        while True:\n"
             f"            pass\n    return _ref(*args)\n")
    bugs = [it for it, e in zip(items, expect) if e == "buggy" and it.task_id == tid]
    fresh: list[int] = []

    class Spy:  # the real sandbox, recording re-runs in a fresh container
        def __getattr__(self, name):
            return getattr(sb, name)

        def run_calls(self, jobs, **kw):
            if kw.get("fresh"):
                fresh.append(len(jobs))
            return sb.run_calls(jobs, **kw)

    m = build_generated_suite(Spy(), base, [*bugs, GeneratedItem(tid, hangs, "gen:a", "honest", 9)], tmp_path / "t", "t")
    assert fresh == [1]  # only the hanging candidate, alone
    assert m.stats["dropped"] == {"only resource failures (timeout / memory / crash)": 1}
    assert m.stats["n_buggy"] == m.stats["n_correct"] == 2 and m.stats["top_ups"] == 2
