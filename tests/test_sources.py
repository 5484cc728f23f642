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


def _row(**kw):
    return {**GOOD, **kw}


def test_task_file_contracts_programs_and_generators(tmp_path):
    prog = {"task_id": "p/1", "kind": "program", "prompt": "Echo the input.", "reference": "print(input())\n",
            "tests": [{"stdin": "a\n", "stdout": "a\n", "visible": True}, {"stdin": "b\n", "stdout": "b"}],
            "input_generator": "def generate(rng):\n    return rng.choice('xyz') + '\\n'\n"}
    listed = _row(task_id="mine/1", tests=[{"args": [1], "output": 2}, {"args": [5], "output": 6}],
                  contract={"args": {"x": {"type": "int", "min": 0}}})
    path = tmp_path / "t.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in (GOOD, prog, listed)) + "\n")
    a, p, b = load_task_file(path)
    assert a.kind == "function" and a.contract is None
    assert p.kind == "program" and p.entry_point == "program" and p.io_tests == (("a\n", "a\n", True), ("b\n", "b", False))
    assert p.generator.startswith("def generate")
    assert b.contract == {"args": [{"type": "int", "name": "x", "min": 0}]}
    ns: dict = {}
    exec(b.reference, ns)  # the list-form tests become a check program (trusted test data)
    exec(b.test, ns)
    ns["check"](ns["inc"])


def test_task_file_problems_name_line_and_field(tmp_path):
    rows = [
        _row(task_id="e/1", contract={"args": ["lst[int]"]}),
        _row(task_id="e/2", contract={"args": ["int", "int"]}),
        _row(task_id="e/3", kind="script"),
        _row(task_id="e/4", entry_point=""),
        {"task_id": "e/5", "kind": "program", "prompt": "x", "reference": "print(1)\n", "tests": [{"stdin": 1}]},
        {"task_id": "e/6", "kind": "program", "prompt": "x", "reference": "print(1)\n",
         "tests": [{"stdin": "", "stdout": "1"}], "contract": {"args": ["str"]}},
        _row(task_id="e/7", input_generator="x = 1"),
        _row(task_id="e/8", tests=[{"args": 1, "output": 2}]),
        _row(task_id="e/9", contract={"args": ["int"], "predicate": "def valid(:"}),
    ]
    path = tmp_path / "t.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    with pytest.raises(TaskFileError) as info:
        load_task_file(path)
    msgs = "\n".join(info.value.problems)
    for line, needle in [(1, "contract.args[0]: cannot read type 'lst[int]'"), (2, "2 type(s) for 1 parameter(s)"),
                         (3, "kind: unknown kind 'script'"), (4, "entry_point: required for a function task"),
                         (5, "tests[0]: expected {\"stdin\": str"), (6, "contract.args: a program's input is its stdin"),
                         (7, "input_generator: must define `def generate(...)`"), (8, "tests[0]: expected {\"args\""),
                         (9, "contract.predicate: not valid Python")]:
        assert f"{path}:{line}: " in msgs and needle in msgs, (line, needle, msgs)
    assert info.value.tasks == []


def test_hub_rows_apps_style_and_task_file_style(tmp_path):
    apps = tmp_path / "apps.jsonl"
    apps.write_text(json.dumps({"problem_id": 7, "question": "Print the sum of two integers.",
                                "solutions": json.dumps(["a, b = map(int, input().split())\nprint(a + b)\n"]),
                                "input_output": json.dumps({"inputs": ["1 2\n", "3 4\n"], "outputs": ["3\n", "7\n"]})})
                    + "\n" + json.dumps({"problem_id": 8, "question": "q", "solutions": "[\"x\"]",
                                         "input_output": json.dumps({"fn_name": "f", "inputs": [], "outputs": []})}) + "\n")
    with pytest.raises(TaskFileError) as info:
        load_hub_rows(str(apps), source="apps")
    [t] = info.value.tasks
    assert t.kind == "program" and t.task_id == "apps/7" and t.io_tests[1] == ("3 4\n", "7\n", False)
    assert any("call-based APPS problems" in p for p in info.value.problems)
    own = tmp_path / "own.jsonl"
    own.write_text(json.dumps(_row(task_id="o/1", contract=json.dumps({"args": ["int"]}))) + "\n")
    [o] = load_hub_rows(str(own))
    assert o.contract == {"args": [{"type": "int", "name": "x"}]}
    from tasks.sources import parse_hub_spec

    assert parse_hub_spec("mbpp:train") == ("mbpp", "train")
    assert parse_hub_spec("org/name") == ("org/name", "test")
    assert parse_hub_spec(f"{own}:dev") == (str(own), "dev")
