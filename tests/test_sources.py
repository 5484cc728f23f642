"""Task sources: HumanEval, hub-format rows via `datasets` (offline, local files), BYO JSON."""

from __future__ import annotations

import json

import pytest

from tasks.sources import TaskFileError, load_hub_rows, load_humaneval, load_task_file

GOOD = {"task_id": "mine/0", "prompt": 'def inc(x):\n    """Add one.\n    >>> inc(1)\n    2\n    """\n',
        "entry_point": "inc", "reference": "    return x + 1\n",
        "tests": "def check(candidate):\n    assert candidate(1) == 2\n"}


def test_humaneval_has_164_problems_in_order():
    tasks = load_humaneval()
    assert len(tasks) == 164 and tasks[0].task_id == "HumanEval/0" and tasks[-1].task_id == "HumanEval/163"
    assert all(t.reference.startswith(t.prompt) for t in tasks)


def test_byo_json_list_and_jsonl(tmp_path):
    a = tmp_path / "tasks.json"
    a.write_text(json.dumps([GOOD]))
    b = tmp_path / "tasks.jsonl"
    b.write_text(json.dumps(GOOD) + "\n")
    for path in (a, b):
        [t] = load_task_file(path)
        assert t.entry_point == "inc" and t.reference == GOOD["prompt"] + GOOD["reference"]


def test_byo_errors_name_line_and_field_and_keep_good_rows(tmp_path):
    bad_entry = {**GOOD, "task_id": "mine/1", "entry_point": "nope"}
    missing = {k: v for k, v in GOOD.items() if k != "tests"} | {"task_id": "mine/2"}
    bad_tests = {**GOOD, "task_id": "mine/3", "tests": "assert True\n"}
    lines = [json.dumps(GOOD), "{not json", json.dumps(bad_entry), json.dumps(missing), json.dumps(bad_tests),
             json.dumps(GOOD)]
    path = tmp_path / "t.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(TaskFileError) as info:
        load_task_file(path)
    msgs = info.value.problems
    assert any(m.startswith(f"{path}:2: not valid JSON") for m in msgs)
    assert any(m.startswith(f"{path}:3:") and "'nope' is not defined" in m for m in msgs)
    assert any(m.startswith(f"{path}:4: tests:") for m in msgs)
    assert any(m.startswith(f"{path}:5:") and "def check(candidate)" in m for m in msgs)
    assert any(m.startswith(f"{path}:6:") and "more than once" in m for m in msgs)
    assert [t.task_id for t in info.value.tasks] == ["mine/0"]


def test_datasets_loader_humaneval_and_mbpp_rows_offline(tmp_path):
    he = tmp_path / "he.jsonl"
    he.write_text(json.dumps({"task_id": "X/0", "prompt": GOOD["prompt"], "canonical_solution": GOOD["reference"],
                              "test": GOOD["tests"], "entry_point": "inc"}) + "\n")
    mbpp = tmp_path / "mbpp.jsonl"
    mbpp.write_text(json.dumps({"task_id": 11, "text": "Write a function to double a number.",
                                "code": "def double(n):\n    return 2 * n\n",
                                "test_list": ["assert double(2) == 4", "assert double(0) == 0"]}) + "\n")
    [a] = load_hub_rows(str(he))
    assert a.task_id == "X/0" and a.entry_point == "inc"
    [b] = load_hub_rows(str(mbpp), source="mbpp")
    assert b.entry_point == "double" and "candidate(2) == 4" in b.test and b.prompt.startswith("def double(n):")
    ns: dict = {}
    exec(b.reference, ns)
    exec(b.test, ns)
    ns["check"](ns["double"])
