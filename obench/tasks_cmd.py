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


SOURCES = ("humaneval",)


def _load_sources(source: str | None, tasks_file: Path | None, hub: str | None) -> tuple[list[Any], Any, str]:
    """(tasks, hand-written contracts or None, default suite name) for the one source given."""
    from tasks.sources import TaskFileError, load_hub_rows, load_humaneval, load_task_file, parse_hub_spec

    given = [x for x in (source, tasks_file, hub) if x is not None]
    if len(given) > 1:
        fail("give one source: --source humaneval, --tasks FILE or --hub ID[:split]")
    if tasks_file is not None or hub is not None:
        try:
            if tasks_file is not None:
                return load_task_file(tasks_file), None, tasks_file.stem
            hub_id, split = parse_hub_spec(hub or "")
            return load_hub_rows(hub_id, split), None, Path(hub_id).stem.split("/")[-1] or "hub"
        except TaskFileError as exc:
            where = f"--tasks {tasks_file}" if tasks_file is not None else f"--hub {hub}"
            for problem in exc.problems[:50]:
                err.print(f"  {problem}", markup=False, highlight=False)
            if len(exc.problems) > 50:
                err.print(f"  ... and {len(exc.problems) - 50} more", highlight=False)
            fail(f"{where}: {len(exc.problems)} problem(s) (above); fix them or remove those rows "
                 f"({len(exc.tasks)} row(s) are valid)")
        except (OSError, ValueError) as exc:
            fail(f"--hub {hub}: {exc}")
    source = source or "humaneval"
    if source not in SOURCES:
        fail(f"unknown --source {source!r}; known: {', '.join(SOURCES)} (or --tasks FILE, --hub ID[:split])")
    return load_humaneval(), {}, "humaneval"


@tasks_app.command("build")
def build_cmd(
    out_dir: Annotated[Path | None, typer.Option("--out", help="Where to write the suite (default: the "
                                                               "committed suite of the profile, tasks/data/"
                                                               "oversightbench-v2 or -v1, for --source humaneval; "
                                                               "suites/NAME otherwise).")] = None,
    source: Annotated[str | None, typer.Option("--source", help="A built-in source: humaneval.")] = None,
    tasks_file: Annotated[Path | None, typer.Option("--tasks", help="A task file (JSON Lines or a JSON list; "
                                                                    "see the README's task-file format).")] = None,
    hub: Annotated[str | None, typer.Option("--hub", help="A dataset of HumanEval-, MBPP- or APPS-style rows, through "
                                                          "`datasets`: a hub id or a local json/parquet file, "
                                                          "with an optional :split (default test).")] = None,
    name: Annotated[str | None, typer.Option("--name", help="Suite name (default: the profile's, oversightbench-v2 or -v1, for humaneval, "
                                                            "else the file or dataset name).")] = None,
    suite_version: Annotated[str | None, typer.Option("--suite-version", help="Version recorded in the manifest "
                                                                          "(default: the profile's).")] = None,
    profile: Annotated[str | None, typer.Option("--profile", help="Build recipe: v2 (authored bugs and alternatives, "
                                                                  "semantic mutants, careful and mutation-guided hidden "
                                                                  "tests, per-task balance; the default for humaneval) or "
                                                                  "v1 (suite v1's recipe: labels balanced per split; the "
                                                                  "default for --tasks and --hub).")] = None,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    sandbox: Annotated[str, typer.Option("--sandbox")] = "docker",
    limit: Annotated[int, typer.Option("--limit", help="Only the first N tasks (for a quick build).")] = 0,
    workers: Annotated[int, typer.Option("--workers")] = 2,
    budget: Annotated[float, typer.Option("--augment-budget", min=1.0,
                                          help="Seconds of (traced) reference execution a task may spend on "
                                               "augmentation before it stops growing.")] = 300.0,
    executor: ExecutorOpt = "local",
    ray_address: RayAddressOpt = None,
) -> None:
    """Build a suite from any task source: hidden tests, candidates, labels, splits (deterministic per seed).

    One bad task never aborts the build: it is dropped, with its reason printed and kept in the manifest.
    """
    import time

    from tasks.build import PROFILES, BuildError, build_suite
    from tasks.contracts.humaneval import humaneval_contracts

    if profile is not None and profile not in PROFILES:
        fail(f"unknown --profile {profile!r}; known: {', '.join(PROFILES)}")
    sources, contracts, default_name = _load_sources(source, tasks_file, hub)
    recipe = PROFILES[profile or ("v2" if contracts is not None else "v1")]
    contract_set = ""
    if contracts is not None:  # HumanEval: the profile's hand-written contracts and suite name
        contract_set, contracts, default_name = recipe.contract_set, humaneval_contracts(recipe.contract_set), recipe.name
    if limit:
        sources = sources[:limit]
    name = name or default_name
    suite_version = suite_version or recipe.version
    if out_dir is None:
        out_dir = DATA_DIR / name if name == recipe.name and contracts is not None else Path("suites") / name
    sb = open_sandbox(sandbox, executor, ray_address, limits=Limits(timeout_s=30.0, memory_mb=512), workers=workers)
    columns = (TextColumn("{task.description:<28}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    t0 = time.monotonic()
    lines: list[str] = []
    try:
        with Progress(*columns, console=err) as prog:
            bars: dict[str, Any] = {}

            def progress(step: str, done: int, total: int) -> None:
                if step not in bars:
                    bars[step] = prog.add_task(step, total=total)
                prog.update(bars[step], completed=done, total=total)

            def log(line: str) -> None:
                lines.append(line)
                prog.console.print(f"  {line}", markup=False, highlight=False, soft_wrap=True)

            manifest = build_suite(sb, sources, contracts, out_dir, recipe.config(seed=seed, augment_budget_s=budget),
                                   name=name, version=suite_version, progress=progress, log=log,
                                   contract_set=contract_set)
    except BuildError as exc:
        fail(str(exc), 1)
    finally:
        sb.close()
    elapsed = time.monotonic() - t0
    stats = manifest.stats
    dropped = stats.get("dropped_tasks", {})
    out.print(f"wrote {out_dir}  {manifest.name} {manifest.version}  {manifest.content_hash}  "
              f"({stats['n_tasks']} of {len(sources)} tasks, {elapsed:.0f} s)", highlight=False)
    if dropped:
        out.print(f"[bold]dropped {len(dropped)} task(s):[/]")
        for tid, why in dropped.items():
            out.print(f"  {tid}: {why}", markup=False, highlight=False, soft_wrap=True)
    if stats.get("tasks_without_contract"):
        out.print(f"{len(stats['tasks_without_contract'])} task(s) without an input contract: hidden tests are their own "
                  "tests and examples only (`obench tasks suggest-contract` proposes one)", highlight=False)
    _print_stats(manifest.model_dump())


@tasks_app.command("suggest-contract")
def suggest_contract_cmd(
    tasks_file: Annotated[Path, typer.Option("--tasks", help="A task file.")],
    task_id: Annotated[str | None, typer.Option("--task", help="Only this task.")] = None,
    all_tasks: Annotated[bool, typer.Option("--all", help="Also tasks that already have a contract.")] = False,
) -> None:
    """Suggest typed contracts inferred from each task's examples and test calls (printed, never applied).

    One JSON line per task: the suggested spec, what the examples showed (ranges, lengths, characters), and
    how many values it rests on. Review it, tighten it to what the docstring allows, and add it to the task
    file yourself; the file is never changed.
    """
    from tasks.sources import TaskFileError, load_task_file
    from tasks.suggest import suggest_contract

    try:
        tasks = load_task_file(tasks_file)
    except TaskFileError as exc:
        for problem in exc.problems[:20]:
            err.print(f"  {problem}", markup=False, highlight=False)
        if not exc.tasks:
            fail(f"--tasks {tasks_file}: no valid task")
        tasks = exc.tasks
    if task_id is not None:
        tasks = [t for t in tasks if t.task_id == task_id]
        if not tasks:
            fail(f"--task {task_id!r} is not in {tasks_file}")
    for t in tasks:
        if t.contract is not None and not all_tasks and task_id is None:
            continue
        print(json.dumps(suggest_contract(t), ensure_ascii=False))


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


@tasks_app.command("datasheet")
def datasheet_cmd(suite: SuiteOpt = DEFAULT_PATH) -> None:
    """Render a built suite's datasheet (README.md) again from its manifest; the data files are not touched."""
    from tasks.build import rerender_datasheet
    from tasks.suite import SuiteError

    try:
        out_path = rerender_datasheet(suite)
    except SuiteError as exc:
        fail(str(exc))
    out.print(f"wrote {out_path}", highlight=False)


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
    out.print(f"[bold]kind:[/] {t.kind}  [bold]contract:[/] {t.contract_note}"
              + ("  (output order free)" if t.unordered_output else ""), soft_wrap=True)
    out.print(f"[bold]visible tests ({len(t.visible())}):[/]")
    for args, expected in t.visible():
        if t.kind == "program":
            out.print(f"  stdin {args[0]!r} -> stdout {expected!r}", markup=False, highlight=False)
        else:
            out.print(f"  {t.entry_point}{args!r} -> {expected!r}", markup=False, highlight=False)
    for note in t.notes:
        out.print(f"  note: {note}", markup=False, highlight=False, soft_wrap=True)
    origin = t.hidden_origin
    out.print(f"[bold]hidden tests:[/] {len(origin)} ({origin.count('source')} from the source's tests, "
              f"{origin.count('augmented')} augmented)")
    table = Table(title="candidates")
    for col in ("id", "split", "label", "origin", "operator", "subtlety"):
        table.add_column(col)
    for c in sorted((c for c in s.candidates if c.task_id == task_id), key=lambda c: (c.label, c.candidate_id)):
        table.add_row(c.candidate_id, c.split, c.label, c.origin, c.operator, f"{c.subtlety:.3f}")
    out.print(table)
