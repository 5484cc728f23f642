"""Authored candidates: hidden bugs and correct alternatives written by hand, kept as data.

``tasks/data/authored/*.jsonl`` holds, per HumanEval task, bugs written the way a strong model
trying to slip one past a reviewer would write them (idiomatic, consistent with the docstring's
examples, wrong on a class of valid inputs) and correct solutions written independently of the
reference. Each row: ``task_id``, ``kind`` (``bug`` | ``alternative``), ``family`` (the kind of
bug, or of algorithm), ``base`` (``reference`` | ``alternative``: what the code was written
from), ``code`` (a whole program), ``rationale`` and, for a bug, ``witness`` (a JSON list of call
arguments, codec-encoded, on which it is wrong).

Nothing here decides a label: the suite build runs every authored candidate in the sandbox and
keeps a bug only if execution labels it buggy with a witness, an alternative only if it passes
every test. :func:`load_authored` is total: a bad row is reported (file, line, what to fix) and
skipped, never raised.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from harness import codec

AUTHORED_DIR = Path(__file__).resolve().parent / "data" / "authored"
#: Longest authored program accepted (characters).
MAX_CODE = 20_000


class AuthoredRow(BaseModel):
    """One authored row as stored."""

    model_config = ConfigDict(extra="forbid")
    task_id: str
    kind: Literal["bug", "alternative"]
    family: str
    base: Literal["reference", "alternative"] | None = None
    code: str
    rationale: str
    witness: list[Any] | None = None


@dataclass(frozen=True)
class Authored:
    """An authored candidate ready for the build.

    Attributes:
        expected: ``buggy`` for a bug, ``correct`` for an alternative (what its author claims;
            execution decides).
        base: ``reference`` or ``alternative``: whether it was written from the reference.
        witness: the bug's witness arguments (decoded), or None.
    """

    task_id: str
    expected: str
    family: str
    base: str
    code: str
    rationale: str
    witness: tuple[Any, ...] | None
    where: str


def load_authored(paths: Iterable[str | Path] | None = None) -> tuple[list[Authored], list[str]]:
    """Every authored row of ``paths`` (default: all files in ``tasks/data/authored``).

    Returns:
        The usable rows, in file and line order, and one problem line per row that is not
        (``file:line: what``).
    """
    files = sorted(AUTHORED_DIR.glob("*.jsonl")) if paths is None else [Path(p) for p in paths]
    out: list[Authored] = []
    problems: list[str] = []
    for path in files:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"{path}: cannot be read: {exc}")
            continue
        for n, line in enumerate(lines, 1):
            where = f"{path.name}:{n}"
            if not line.strip():
                continue
            row, problem = _row(line)
            if row is None:
                problems.append(f"{where}: {problem}")
                continue
            out.append(_authored(row, where))
    return out, problems


def _row(line: str) -> tuple[AuthoredRow | None, str]:
    try:
        data = json.loads(line)
    except (ValueError, RecursionError) as exc:
        return None, f"not JSON ({exc}); each line must be one JSON object"
    try:
        row = AuthoredRow.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        return None, f"field {'.'.join(str(p) for p in first['loc']) or '(row)'}: {first['msg']}"
    if len(row.code) > MAX_CODE:
        return None, f"code longer than {MAX_CODE} characters"
    try:
        compile(row.code, "<authored>", "exec")
    except (SyntaxError, ValueError) as exc:
        return None, f"code does not compile: {exc}"
    if row.kind == "bug" and row.witness is None:
        return None, "a bug needs a witness (a JSON list of call arguments on which it is wrong)"
    if row.witness is not None:
        try:
            decoded = codec.loads(json.dumps(row.witness))
        except Exception as exc:  # noqa: BLE001 - untrusted data: any decoding failure is a problem line
            return None, f"witness cannot be decoded: {exc}"
        if not isinstance(decoded, (list, tuple)):
            return None, "witness must be a list of call arguments"
    return row, ""


def _authored(row: AuthoredRow, where: str) -> Authored:
    witness = tuple(codec.loads(json.dumps(row.witness))) if row.witness is not None else None
    return Authored(task_id=row.task_id, expected="buggy" if row.kind == "bug" else "correct", family=row.family,
                    base=row.base or ("reference" if row.kind == "bug" else "alternative"), code=row.code,
                    rationale=row.rationale, witness=witness, where=where)
