"""``obench tasks ...``: build, stats, check, show."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from harness.jobs import Limits
from obench.common import ExecutorOpt, RayAddressOpt, err, fail, open_sandbox, open_suite, out
from tasks.suite import DATA_DIR, DEFAULT_SUITE

tasks_app = typer.Typer(help="The task suite: build it, inspect it, label your own code against it.", no_args_is_help=True)
SuiteOpt = Annotated[Path, typer.Option("--suite", help="Suite directory.")]
DEFAULT_PATH = DATA_DIR / DEFAULT_SUITE


@tasks_app.command("build")
def build_cmd(
    out_dir: Annotated[Path, typer.Option("--out", help="Where to write the suite.")] = DEFAULT_PATH,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    sandbox: Annotated[str, typer.Option("--sandbox")] = "docker",
    limit: Annotated[int, typer.Option("--limit", help="Only the first N tasks (for a quick build).")] = 0,
    workers: Annotated[int, typer.Option("--workers")] = 2,
    executor: ExecutorOpt = "local",
    ray_address: RayAddressOpt = None,
) -> None:
    """Build the suite from HumanEval: hidden tests, candidates, labels, splits (deterministic per seed)."""
    from tasks.build import BuildConfig, GoldCheckError, build_suite
    from tasks.contracts.humaneval import CONTRACTS
    from tasks.sources import load_humaneval

    sources = load_humaneval()
    if limit:
        sources = sources[:limit]
    sb = open_sandbox(sandbox, executor, ray_address, limits=Limits(timeout_s=30.0, memory_mb=512), workers=workers)
    columns = (TextColumn("{task.description:<28}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    try:
        with Progress(*columns, console=err) as prog:
            bars: dict[str, Any] = {}

            def progress(step: str, done: int, total: int) -> None:
                if step not in bars:
                    bars[step] = prog.add_task(step, total=total)
                prog.update(bars[step], completed=done, total=total)

            manifest = build_suite(sb, sources, CONTRACTS, out_dir, BuildConfig(seed=seed), progress=progress)
    except GoldCheckError as exc:
        fail(str(exc), 1)
    finally:
        sb.close()
    out.print(f"wrote {out_dir}  version {manifest.version}  {manifest.content_hash}", highlight=False)
    _print_stats(manifest.model_dump())


STAT_KEYS = ("version", "content_hash", "n_tasks", "n_candidates", "by_split", "hidden_inputs_per_task",
             "leakage_auroc", "hidden_test_kill_rate", "original_test_kill_rate")


def _stats_doc(m: dict[str, Any]) -> dict[str, Any]:
    doc = {"name": m["name"], "version": m["version"], "content_hash": m["content_hash"]}
    doc.update(m["stats"])
    return doc


def _print_stats(m: dict[str, Any]) -> None:
    doc = _stats_doc(m)
    table = Table(title=f"{doc['name']} {doc['version']}")
    for col in ("split", "tasks", "buggy", "correct", "buggy share"):
        table.add_column(col)
    for sp in ("train", "dev", "test"):
        b, c = doc["by_split"][sp]["buggy"], doc["by_split"][sp]["correct"]
        table.add_row(sp, str(doc["tasks_by_split"][sp]), str(b), str(c), f"{b / max(1, b + c):.2f}")
    out.print(table)
    h = doc["hidden_inputs_per_task"]
    leak = "n/a" if doc["leakage_auroc"] is None else f"{doc['leakage_auroc']:.3f}"
    out.print(f"hidden inputs per task: min {h['min']}, median {h['median']}; leakage AUROC {leak}; "
              f"kill rate hidden {doc['hidden_test_kill_rate']:.3f} vs original {doc['original_test_kill_rate']:.3f}",
              highlight=False)


@tasks_app.command("stats")
def stats_cmd(suite: SuiteOpt = DEFAULT_PATH, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Counts and quality statistics of a suite."""
    s = open_suite(suite)
    m = s.manifest.model_dump()
    if as_json:
        print(json.dumps(_stats_doc(m), indent=2))
    else:
        _print_stats(m)


@tasks_app.command("check")
def check_cmd(
    candidates: Annotated[Path, typer.Option("--candidates", help='JSON Lines of {"task_id": ..., "code": ...}.')],
    suite: SuiteOpt = DEFAULT_PATH,
    sandbox: Annotated[str, typer.Option("--sandbox")] = "docker",
    as_json: Annotated[bool, typer.Option("--json")] = False,
    executor: ExecutorOpt = "local",
    ray_address: RayAddressOpt = None,
) -> None:
    """Label your own code against the suite's hidden tests (one output line per input line)."""
    from tasks.check import CandidatesError, label_items, read_candidates

    s = open_suite(suite)
    try:
        items = read_candidates(candidates, s)
    except CandidatesError as exc:
        fail(f"--candidates {exc}")
    if not items:
        fail(f"--candidates {candidates}: no candidates in the file (one JSON object per line)")
    sb = open_sandbox(sandbox, executor, ray_address, limits=Limits(timeout_s=30.0, memory_mb=256), workers=2)
    try:
        rows = label_items(sb, s, items)
    finally:
        sb.close()
    if as_json:
        for row in rows:
            print(json.dumps(row))
        _exit_if_nothing_checked(candidates, rows)
        return
    table = Table(title=f"{len(rows)} candidates against {s.manifest.name} {s.manifest.version}")
    for col in ("line", "task", "label", "detail"):
        table.add_column(col)
    for it, row in zip(items, rows):
        detail = row["error"] or (f"fails {row['n_failed']}/{row['n_tests']} tests" if row["label"] == "buggy" else "")
        table.add_row(str(it.line), str(row["task_id"]), row["label"], detail)
    out.print(table)
    _exit_if_nothing_checked(candidates, rows)


def _exit_if_nothing_checked(candidates: Path, rows: list[dict[str, Any]]) -> None:
    """Exit 2 when no line of the file could be labelled (every one had an error)."""
    if rows and all(r["label"] == "invalid" for r in rows):
        fail(f"--candidates {candidates}: none of the {len(rows)} lines could be checked (see the errors above)")


@tasks_app.command("show")
def show_cmd(task_id: str, suite: SuiteOpt = DEFAULT_PATH) -> None:
    """Prompt, contract, visible tests, hidden-test count and candidates of one task."""
    s = open_suite(suite)
    if task_id not in s.tasks:
        close = [t for t in s.tasks if task_id.lower() in t.lower()][:5]
        fail(f"unknown task {task_id!r}" + (f"; did you mean {', '.join(close)}?" if close else ""))
    t = s.tasks[task_id]
    out.print(f"[bold]{t.task_id}[/]  split={t.split}  entry_point={t.entry_point}  time_limit={t.time_limit_s}s")
    out.print(t.prompt, markup=False, highlight=False)
    out.print(f"[bold]contract:[/] {t.contract_note}" + ("  (output order free)" if t.unordered_output else ""))
    out.print(f"[bold]visible tests ({len(t.visible())}):[/]")
    for args, expected in t.visible():
        out.print(f"  {t.entry_point}{args!r} -> {expected!r}", markup=False, highlight=False)
    origin = t.hidden_origin
    out.print(f"[bold]hidden tests:[/] {len(origin)} ({origin.count('source')} from the source's tests, "
              f"{origin.count('augmented')} augmented)")
    table = Table(title="candidates")
    for col in ("id", "split", "label", "origin", "operator", "subtlety"):
        table.add_column(col)
    for c in sorted((c for c in s.candidates if c.task_id == task_id), key=lambda c: (c.label, c.candidate_id)):
        table.add_row(c.candidate_id, c.split, c.label, c.origin, c.operator, f"{c.subtlety:.3f}")
    out.print(table)
