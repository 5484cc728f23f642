"""Label anyone's code against a suite's hidden tests, in the sandbox."""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness import codec
from harness.executor import rerun_infra_calls
from harness.jobs import UNSTABLE, CallJob, CallResult, Limits
from harness.sandbox import Sandbox
from tasks.compare import failing_indices
from tasks.suite import Suite, TaskRecord

MAX_WITNESSES = 3


@dataclass(frozen=True)
class CheckItem:
    """One line of a candidates file."""

    line: int
    task_id: str | None
    code: str | None
    error: str | None = None


def read_candidates(path: str | Path, suite: Suite) -> list[CheckItem]:
    """Parse ``{"task_id", "code"}`` lines; a bad line becomes an item with its error."""
    items = []
    for n, raw in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            items.append(CheckItem(n, None, None, f"line {n}: not valid JSON ({exc.msg}, column {exc.colno})"))
            continue
        if not isinstance(obj, dict):
            items.append(CheckItem(n, None, None, f"line {n}: expected an object with task_id and code"))
            continue
        tid, code = obj.get("task_id"), obj.get("code")
        if not isinstance(tid, str) or not isinstance(code, str):
            missing = [k for k in ("task_id", "code") if not isinstance(obj.get(k), str)]
            items.append(CheckItem(n, tid if isinstance(tid, str) else None, None,
                                   f"line {n}: missing or non-string field(s): {', '.join(missing)}"))
            continue
        if tid not in suite.tasks:
            items.append(CheckItem(n, tid, None, f"line {n}: unknown task_id {tid!r} (see `obench tasks show`)"))
            continue
        try:
            ast.parse(code)
        except SyntaxError as exc:
            items.append(CheckItem(n, tid, code, f"line {n}: code does not parse: {exc.msg} (line {exc.lineno})"))
            continue
        items.append(CheckItem(n, tid, code))
    return items


def _valid_output(task_id: str) -> Any:
    from tasks.contracts.humaneval import CONTRACTS

    contract = CONTRACTS.get(task_id)
    return contract.valid_output if contract is not None else None


def _tests(task: TaskRecord) -> list[tuple[tuple[Any, ...], Any]]:
    """Visible then hidden tests: the same sequence the build labelled with."""
    return task.visible() + task.hidden()


def _differs(task: TaskRecord, results: list[CallResult], tests: list[tuple[tuple[Any, ...], Any]]) -> list[int]:
    return failing_indices(results, tests, unordered=task.unordered_output, valid_output=_valid_output(task.task_id))


def label_items(sandbox: Sandbox, suite: Suite, items: list[CheckItem]) -> list[dict[str, Any]]:
    """One output row per item: label ``buggy`` / ``correct`` / ``invalid``, witnesses, error."""
    runnable = [it for it in items if it.error is None]
    jobs = []
    for it in runnable:
        task = suite.tasks[it.task_id]  # type: ignore[index]
        tests = _tests(task)
        jobs.append(CallJob.create(it.code or "", task.entry_point, [a for a, _ in tests],
                                   limits=Limits(timeout_s=task.time_limit_s, memory_mb=256, max_timeouts=2)))
    results = rerun_infra_calls(sandbox, jobs, sandbox.run_calls(jobs))
    for n, (it, res) in enumerate(zip(runnable, results)):
        task = suite.tasks[it.task_id]  # type: ignore[index]
        bad = _differs(task, res, _tests(task))
        if bad and all(res[k].status in UNSTABLE for k in bad):
            results[n] = sandbox.run_calls([jobs[n]], fresh=True)[0]
    out_by_line: dict[int, dict[str, Any]] = {}
    for it, res in zip(runnable, results):
        task = suite.tasks[it.task_id]  # type: ignore[index]
        tests = _tests(task)
        if any(r.infra for r in res):
            out_by_line[it.line] = {"task_id": it.task_id, "label": "invalid", "witnesses": [],
                                    "error": "sandbox infrastructure failure; re-run"}
            continue
        bad = _differs(task, res, tests)
        witnesses = []
        for k in bad[:MAX_WITNESSES]:
            r = res[k]
            witnesses.append({"input": codec.encode(list(tests[k][0])), "expected": codec.encode(tests[k][1]),
                              "status": r.status, "actual": r.value if r.status == "ok" else None,
                              "error": f"{r.error.get('type')}: {r.error.get('message')}" if r.error else None})
        n_visible = len(task.visible())
        out_by_line[it.line] = {"task_id": it.task_id, "label": "buggy" if bad else "correct", "witnesses": witnesses,
                                "n_failed": len(bad), "n_tests": len(tests), "error": None,
                                "n_visible_failed": sum(1 for k in bad if k < n_visible),
                                "n_hidden_failed": sum(1 for k in bad if k >= n_visible),
                                "n_hidden": len(tests) - n_visible}
    rows: list[dict[str, Any]] = []
    for it in items:
        if it.error is not None:
            rows.append({"task_id": it.task_id, "label": "invalid", "witnesses": [], "error": it.error})
        else:
            rows.append(out_by_line[it.line])
    return rows
