"""Label anyone's code against a suite's hidden tests, in the sandbox."""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness import codec
from harness.sandbox import Sandbox
from tasks.labels import label_cases, task_case
from tasks.suite import Suite

MAX_WITNESSES = 3


@dataclass(frozen=True)
class CheckItem:
    """One line of a candidates file."""

    line: int
    task_id: str | None
    code: str | None
    error: str | None = None


class CandidatesError(ValueError):
    """A candidates file that cannot be read at all (missing, a directory, unreadable)."""


def read_candidates(path: str | Path, suite: Suite) -> list[CheckItem]:
    """Parse ``{"task_id", "code"}`` lines; a bad line becomes an item with its error.

    Never raises for the file's contents (bytes that are not UTF-8, bad JSON, wrong types,
    unknown tasks are per-line errors).

    Raises:
        CandidatesError: the path is missing, is not a regular file, or cannot be read.
    """
    p = Path(path)
    if not p.exists():
        raise CandidatesError(f"{p}: no such file; pass a JSON Lines file of {{\"task_id\": ..., \"code\": ...}}")
    if not p.is_file():
        raise CandidatesError(f"{p}: is a directory, not a file; pass the JSON Lines file inside it")
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise CandidatesError(f"{p}: cannot be read ({exc.strerror}); check its permissions") from exc
    items = []
    for n, raw_bytes in enumerate(data.splitlines(), 1):
        try:
            raw = raw_bytes.decode("utf-8")
        except UnicodeDecodeError as exc:
            items.append(CheckItem(n, None, None, f"line {n}: not UTF-8 (byte 0x{raw_bytes[exc.start]:02x} at column "
                                                  f"{exc.start + 1}); save the file as UTF-8"))
            continue
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except (json.JSONDecodeError, RecursionError, ValueError) as exc:
            why = f"{exc.msg}, column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else type(exc).__name__
            items.append(CheckItem(n, None, None, f"line {n}: not valid JSON ({why}); one JSON object per line"))
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
        except (ValueError, RecursionError, MemoryError) as exc:
            items.append(CheckItem(n, tid, code, f"line {n}: code cannot be parsed ({type(exc).__name__})"))
            continue
        items.append(CheckItem(n, tid, code))
    return items


def label_items(sandbox: Sandbox, suite: Suite, items: list[CheckItem]) -> list[dict[str, Any]]:
    """One output row per item: label ``buggy`` / ``correct`` / ``undecided: ...`` / ``invalid``, witnesses, error.

    The label is :mod:`tasks.labels`' rule; ``undecided`` rows keep the unstable outcomes as evidence.
    """
    runnable = [it for it in items if it.error is None]
    cases = [task_case(suite.tasks[it.task_id], it.code or "") for it in runnable]  # type: ignore[index]
    judged = label_cases(sandbox, cases)
    out_by_line: dict[int, dict[str, Any]] = {}
    for it, case, (j, res) in zip(runnable, cases, judged):
        if j.label == "infra":
            out_by_line[it.line] = {"task_id": it.task_id, "label": "invalid", "witnesses": [],
                                    "error": f"sandbox infrastructure failure ({j.reason}); re-run"}
            continue
        tests = case.tests
        evidence = j.decisive if j.label == "buggy" else j.failing
        witnesses = []
        for k in evidence[:MAX_WITNESSES]:
            r = res[k]
            witnesses.append({"input": codec.encode(list(tests[k][0])), "expected": codec.encode(tests[k][1]),
                              "status": r.status, "actual": r.value if r.status == "ok" else None,
                              "error": f"{r.error.get('type')}: {r.error.get('message')}" if r.error else None})
        n_visible = j.n_visible
        out_by_line[it.line] = {"task_id": it.task_id, "label": j.shown, "witnesses": witnesses,
                                "n_failed": len(j.failing), "n_tests": len(tests), "error": None,
                                "hidden_bug": j.hidden_bug,
                                "n_visible_failed": len(j.visible_failing),
                                "n_hidden_failed": len(j.hidden_failing),
                                "n_hidden": len(tests) - n_visible}
    rows: list[dict[str, Any]] = []
    for it in items:
        if it.error is not None:
            rows.append({"task_id": it.task_id, "label": "invalid", "witnesses": [], "error": it.error})
        else:
            rows.append(out_by_line[it.line])
    return rows
