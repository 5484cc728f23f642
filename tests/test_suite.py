"""The committed suites (the default v2, and v1 kept loadable by name): statistics, release checks,
labels re-checked in the sandbox, loading, publishing."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tasks.suite import DATA_DIR, DEFAULT_SUITE, SuiteError, load_hf, load_suite, publish

SUITE = DATA_DIR / DEFAULT_SUITE
COMMITTED = ("oversightbench-v2", "oversightbench-v1")
#: Suite v1's content hash, as cited since its release (v1's files never change).
V1_HASH = "sha256:f681ce34f0ca98c318ea38dc62fe6dcd39e963317328f5a56098051bac9a3cb2"


@pytest.fixture(scope="module", params=COMMITTED)
def suite(request):
    return load_suite(DATA_DIR / request.param)


def test_the_default_is_v2_and_v1_stays_loadable():
    assert DEFAULT_SUITE == "oversightbench-v2"
    assert load_suite().manifest.name == "oversightbench-v2"
    v1 = load_suite(DATA_DIR / "oversightbench-v1")
    assert v1.manifest.version == "1.0.0"
    assert v1.manifest.content_hash == V1_HASH


def test_v2_meets_its_release_bar():
    """The issue's bar, from `obench tasks stats --json` on the default suite."""
    r = subprocess.run([sys.executable, "-m", "obench", "tasks", "stats", "--json"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["name"] == "oversightbench-v2"
    for split in ("train", "dev", "test"):
        bal = doc["task_balance"][split]
        assert bal["balanced"] == bal["tasks"] > 0 and bal["min_per_label"] >= 4, split
        assert doc["task_prior_auroc"][split] == 0.5
    assert sum(doc["by_split"]["test"].values()) >= 600
    assert doc["leakage_auroc"] <= 0.55
    # the surface filter saw the n-gram model; the probes it never saw stay near chance too
    assert doc["surface_filter"]["pairs_dropped"] > 0
    assert all(0.45 <= x <= 0.55 for x in doc["held_out_leakage_auroc"].values()), doc["held_out_leakage_auroc"]
    for part in ("test", "all"):
        assert 0.40 <= doc["similarity_auroc"][part] <= 0.60
    assert doc["authored"]["buggy"] >= 328 and doc["authored"]["correct"] >= 164
    assert doc["release_problems"] == []
    v1 = load_suite(DATA_DIR / "oversightbench-v1")
    v1_test = {t.task_id for t in v1.tasks.values() if t.split == "test"}
    v2 = load_suite()
    assert all(v2.tasks[t].split == "test" for t in v1_test if t in v2.tasks)  # splits stable for v1's test tasks


def test_stats_meet_the_bar():
    r = subprocess.run([sys.executable, "-m", "obench", "tasks", "stats", "--json", "--suite",
                        str(DATA_DIR / "oversightbench-v1")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    for key in ("version", "content_hash", "n_tasks", "n_candidates", "by_split", "hidden_inputs_per_task",
                "leakage_auroc", "hidden_test_kill_rate", "original_test_kill_rate"):
        assert key in doc
    assert doc["n_tasks"] == 164 and doc["n_candidates"] >= 1000
    for split in ("train", "dev", "test"):
        b, c = doc["by_split"][split]["buggy"], doc["by_split"][split]["correct"]
        assert 0.45 <= b / (b + c) <= 0.55
    assert doc["hidden_inputs_per_task"]["median"] >= 100
    assert doc["leakage_auroc"] <= 0.60
    assert doc["hidden_test_kill_rate"] > doc["original_test_kill_rate"] + 0.05


def test_records_are_consistent(suite):
    ids = [c.candidate_id for c in suite.candidates]
    assert len(ids) == len(set(ids))
    assert len({c.code for c in suite.candidates}) == len(ids)  # deduplicated
    for c in suite.candidates:
        t = suite.tasks[c.task_id]
        assert c.split == t.split  # splits are by task
        if c.label == "buggy":
            w = json.loads(c.witnesses)
            assert w and c.n_failed >= 1 and 0 < c.subtlety <= 1 and c.family
            assert c.changed_lines or c.origin == "authored"  # an authored bug is a whole program, not an edit
            if c.n_failed == 1 and suite.manifest.name != "oversightbench-v1":
                assert "fails only 1 of" in c.note  # no bug rests on one failing input without a note
            # A buggy label rests on a wrong value or an exception, never on a resource limit.
            assert all(x["status"] in ("ok", "error") for x in w)
        else:
            assert c.label == "correct" and c.n_failed == 0
    splits_of_task = {}
    for c in suite.candidates:
        splits_of_task.setdefault(c.task_id, set()).add(c.split)
    assert all(len(s) == 1 for s in splits_of_task.values())


def test_every_seed_input_and_hidden_input_satisfies_the_contract(suite):
    from tasks.contracts import contract_for

    for t in suite.tasks.values():
        contract = contract_for(t)
        assert contract is not None
        assert all(contract.accepts(args) for args, _ in t.visible() + t.hidden()), t.task_id


def test_tampering_is_detected(tmp_path):
    copy = tmp_path / "suite"
    shutil.copytree(SUITE, copy)
    path = copy / "candidates" / "test.jsonl"
    lines = path.read_text().splitlines()
    row = json.loads(lines[0])
    row["label"] = "correct" if row["label"] == "buggy" else "buggy"
    lines[0] = json.dumps(row, sort_keys=True)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(SuiteError, match="does not match the manifest"):
        load_suite(copy)


def test_loads_with_datasets_and_publishes_to_a_local_directory(tmp_path, suite):
    import datasets

    dd = load_hf(suite.manifest.name)  # a committed suite by name
    assert set(dd) == {"train", "dev", "test"}
    assert sum(len(dd[s]) for s in dd) == len(suite.candidates)
    assert len(load_hf()["test"]) == len(load_suite().split("test"))  # the default suite
    target = publish(suite.path, str(tmp_path / "published"))
    back = datasets.load_from_disk(f"{target}/candidates")
    assert len(back["test"]) == len(suite.split("test"))
    assert json.loads((tmp_path / "published" / "manifest.json").read_text())["content_hash"] == suite.manifest.content_hash


@pytest.mark.docker
def test_check_relabels_the_whole_suite_by_execution(docker_sandbox, suite, tmp_path):
    """Every reference and correct candidate is `correct`, every buggy one `buggy`, in the sandbox."""
    from harness.jobs import Limits
    from harness.sandbox import create_sandbox
    from tasks.check import CheckItem, label_items

    items = [CheckItem(n, c.task_id, c.code) for n, c in enumerate(suite.candidates, 1)]
    items += [CheckItem(len(items) + n, t.task_id, t.reference) for n, t in enumerate(suite.tasks.values(), 1)]
    sb = create_sandbox("docker", limits=Limits(timeout_s=30.0, memory_mb=256), workers=2)
    try:
        rows = label_items(sb, suite, items)
    finally:
        sb.close()
    expected = [c.label for c in suite.candidates] + ["correct"] * len(suite.tasks)
    wrong = [(it.task_id, want, got["label"]) for it, want, got in zip(items, expected, rows) if got["label"] != want]
    assert not wrong, wrong[:10]


@pytest.mark.docker
def test_check_cli_reports_bad_lines_and_labels_the_rest(tmp_path, suite):
    buggy = next(c for c in suite.candidates if c.label == "buggy")
    t = suite.tasks[buggy.task_id]
    lines = [json.dumps({"task_id": t.task_id, "code": t.reference}), "{oops", json.dumps({"task_id": "Nope/1", "code": "x"}),
             json.dumps({"task_id": t.task_id}), json.dumps({"task_id": t.task_id, "code": "def ("}),
             json.dumps({"task_id": buggy.task_id, "code": buggy.code})]
    f = tmp_path / "c.jsonl"
    f.write_text("\n".join(lines) + "\n")
    r = subprocess.run([sys.executable, "-m", "obench", "tasks", "check", "--candidates", str(f), "--json"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    rows = [json.loads(x) for x in r.stdout.splitlines()]
    assert [x["label"] for x in rows] == ["correct", "invalid", "invalid", "invalid", "invalid", "buggy"]
    assert "line 2: not valid JSON" in rows[1]["error"]
    assert "unknown task_id 'Nope/1'" in rows[2]["error"]
    assert "code" in rows[3]["error"] and "does not parse" in rows[4]["error"]
    assert rows[5]["witnesses"] and rows[5]["n_failed"] >= 1


def test_show_prints_the_task():
    r = subprocess.run([sys.executable, "-m", "obench", "tasks", "show", "HumanEval/0"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "has_close_elements" in r.stdout and "hidden tests:" in r.stdout and "contract:" in r.stdout
    r = subprocess.run([sys.executable, "-m", "obench", "tasks", "show", "HumanEval/999"], capture_output=True, text=True)
    assert r.returncode == 2 and "unknown task" in r.stderr


def test_the_datasheet_and_readme_tables_are_rendered_from_the_build(tmp_path):
    """Neither is typed: rendering them again from the committed v2 manifest gives the committed text."""
    from tasks.build import rerender_datasheet

    src = DATA_DIR / "oversightbench-v2"
    copy = tmp_path / "oversightbench-v2"
    shutil.copytree(src, copy)
    (copy / "README.md").write_text("stale\n")
    assert rerender_datasheet(copy).read_text() == (src / "README.md").read_text()
    root = Path(__file__).resolve().parents[1]
    readme = tmp_path / "README.md"
    shutil.copyfile(root / "README.md", readme)
    r = subprocess.run([sys.executable, "tools/suite_tables.py", str(src), "--readme", str(readme)], cwd=root,
                       capture_output=True, text=True)
    assert r.returncode == 0 and "unchanged" in r.stdout, r.stdout + r.stderr
