"""Check hand-written (authored) candidates against suite v1's tests, outside Docker.

An authoring aid, not the labelling rule: the suite build relabels every authored
candidate in the Docker sandbox. This script gives an author fast feedback:

    python3 tools/authored_check.py tasks/data/authored/humaneval_000_040.jsonl [--task HumanEval/3]

For an ``alternative`` it requires: every visible and hidden test passes, and the
code is not a near-copy of the reference (difflib ratio reported; > 0.6 warns).
For a ``bug`` it requires: every visible test passes (a *hidden* bug), the witness
(a JSON list of call arguments, codec-encoded: ``{"t": "tuple", "v": [...]}``
for a tuple) satisfies the task's contract, the reference returns normally on it, and the
candidate's outcome differs there. It reports how many hidden tests the bug fails
(0 is allowed: the witness then becomes a hidden test).
"""

from __future__ import annotations

import argparse
import difflib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness import codec  # noqa: E402
from tasks.compare import values_equal  # noqa: E402
from tasks.contracts.humaneval import CONTRACTS  # noqa: E402

TASKS = ROOT / "tasks" / "data" / "oversightbench-v1" / "tasks.jsonl"

_CHILD = r"""
import json, sys
sys.setrecursionlimit(10000)
sys.path.insert(0, sys.argv[1])
from harness import codec
payload = json.loads(sys.stdin.read())
ns = {}
exec(compile(payload["code"], "<candidate>", "exec"), ns)
fn = ns[payload["entry"]]
out = []
for args in codec.loads(payload["inputs"]):
    try:
        out.append({"ok": True, "v": codec.encode(fn(*args))})
    except Exception as e:
        out.append({"ok": False, "err": type(e).__name__ + ": " + str(e)[:200]})
print(json.dumps(out))
"""


def run(code: str, entry: str, inputs: list[Any], timeout: float = 20.0) -> list[dict[str, Any]] | str:
    """Outcomes of ``entry(*args)`` for each input, or an error string."""
    payload = json.dumps({"code": code, "entry": entry, "inputs": codec.dumps([list(a) for a in inputs])})
    try:
        p = subprocess.run([sys.executable, "-c", _CHILD, str(ROOT)], input=payload, capture_output=True,
                           text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout"
    if p.returncode != 0:
        return "crash: " + p.stderr.strip().splitlines()[-1] if p.stderr.strip() else f"exit {p.returncode}"
    rows = json.loads(p.stdout.strip().splitlines()[-1])
    for r in rows:
        if r["ok"]:
            r["v"] = codec.decode(r["v"])
    return rows


def same(task: dict[str, Any], args: tuple[Any, ...], got: dict[str, Any], expected: Any) -> bool:
    if not got["ok"]:
        return False
    if values_equal(got["v"], expected, unordered=task["unordered_output"]):
        return True
    contract = CONTRACTS.get(task["task_id"])
    if contract is not None and contract.valid_output is not None:
        try:
            return bool(contract.valid_output(args, got["v"]))
        except Exception:  # noqa: BLE001
            return False
    return False


def check_entry(task: dict[str, Any], entry: dict[str, Any]) -> tuple[bool, str]:
    visible = [(tuple(a), e) for a, e in codec.loads(task["visible_tests"])]
    hidden = [(tuple(a), e) for a, e in codec.loads(task["hidden_tests"])]
    tests = visible + hidden
    try:
        compile(entry["code"], "<candidate>", "exec")
    except SyntaxError as exc:
        return False, f"syntax error: {exc}"
    res = run(entry["code"], task["entry_point"], [a for a, _ in tests])
    if isinstance(res, str):
        return False, f"run failed: {res}"
    fails = [k for k, ((a, e), r) in enumerate(zip(tests, res)) if not same(task, a, r, e)]
    vis_fail = [k for k in fails if k < len(visible)]
    hid_fail = [k for k in fails if k >= len(visible)]
    sim = difflib.SequenceMatcher(None, task["reference"], entry["code"]).ratio()
    if entry["kind"] == "alternative":
        if fails:
            k = fails[0]
            return False, (f"alternative fails {len(fails)} tests; first: args={tests[k][0]!r} "
                           f"expected={tests[k][1]!r} got={res[k]}")
        warn = "  WARNING: looks like the reference (similarity > 0.6)" if sim > 0.6 else ""
        return True, f"alternative ok; similarity to reference {sim:.2f}{warn}"
    if entry["kind"] != "bug":
        return False, f"unknown kind {entry['kind']!r}"
    if vis_fail:
        k = vis_fail[0]
        return False, f"bug fails a visible test (must pass them all): args={tests[k][0]!r} got={res[k]}"
    w = entry.get("witness")
    if not isinstance(w, list):
        return False, "bug needs 'witness': a JSON list of call arguments"
    args = tuple(codec.decode(w))  # codec-encoded: {"t": "tuple", "v": [...]} for tuples
    contract = CONTRACTS.get(task["task_id"])
    if contract is not None and not contract.accepts(args):
        return False, f"witness {w!r} violates the task's contract ({contract.note})"
    ref = run(task["reference"], task["entry_point"], [args])
    cand = run(entry["code"], task["entry_point"], [args])
    if isinstance(ref, str) or not ref[0]["ok"]:
        return False, f"reference does not return normally on the witness: {ref}"
    if isinstance(cand, str):
        return False, f"candidate on witness: {cand} (timeouts/crashes never decide a label)"
    if same(task, args, cand[0], ref[0]["v"]):
        return False, f"witness {w!r} shows no difference (both give {ref[0]['v']!r})"
    got = cand[0].get("v", cand[0].get("err"))
    return True, (f"bug ok; witness -> expected {ref[0]['v']!r}, got {got!r}; fails {len(hid_fail)}/{len(hidden)} "
                  f"hidden tests; similarity to reference {sim:.2f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="+")
    ap.add_argument("--task", default=None, help="only this task id")
    ns = ap.parse_args()
    tasks = {json.loads(x)["task_id"]: json.loads(x) for x in TASKS.read_text().splitlines()}
    bad = 0
    for f in ns.files:
        for n, line in enumerate(Path(f).read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except json.JSONDecodeError as exc:
                print(f"{f}:{n}: not JSON: {exc}")
                bad += 1
                continue
            if ns.task and entry.get("task_id") != ns.task:
                continue
            missing = [k for k in ("task_id", "kind", "family", "code", "rationale") if not entry.get(k)]
            if missing or entry.get("task_id") not in tasks:
                print(f"{f}:{n}: missing fields {missing} or unknown task_id")
                bad += 1
                continue
            ok, msg = check_entry(tasks[entry["task_id"]], entry)
            bad += 0 if ok else 1
            print(f"{f}:{n}: {entry['task_id']} {entry['kind']} [{entry['family']}]: {'OK' if ok else 'FAIL'} {msg}")
    print(f"{bad} problem(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
