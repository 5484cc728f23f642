"""``obench generate``, ``obench grid`` and ``obench suite from-generations``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from harness.jobs import Limits
from obench.common import (
    ApiKeyEnvOpt,
    BaseUrlOpt,
    ConcurrencyOpt,
    DeviceOpt,
    DtypeOpt,
    ExecutorOpt,
    LimitOpt,
    MaxNewTokensOpt,
    MaxRetriesOpt,
    RayAddressOpt,
    SeedOpt,
    SplitOpt,
    SuitePathOpt,
    TimeoutOpt,
    TopPOpt,
    check_run_dir,
    err,
    fail,
    open_sandbox,
    open_suite,
    out,
)
from obench.eval_cmd import RateColumn

suite_app = typer.Typer(help="Build suites from generated candidates.", no_args_is_help=True)
ModeOpt = Annotated[str, typer.Option("--mode", help="honest (solve the task) | sneaky (insert a hidden bug)")]


def _options(concurrency: int, base_url: str | None, api_key_env: str, timeout: float, max_retries: int,
             device: str | None, dtype: str | None, executor: str = "local", ray_address: str | None = None) -> Any:
    from bench.models import ModelOptions

    return ModelOptions(concurrency=concurrency, base_url=base_url, api_key_env=api_key_env, timeout_s=timeout,
                        max_retries=max_retries, device=device, dtype=dtype, executor=executor, ray_address=ray_address)


def _sandbox(executor: str = "local", ray_address: str | None = None) -> Any:
    return open_sandbox("docker", executor, ray_address, limits=Limits(timeout_s=30.0, memory_mb=512), workers=2)


def generate_cmd(
    generator: Annotated[str, typer.Option("--generator", help="hf:<id-or-path> | openai:<model> | mutant[:SEED] | "
                                           "reference")],
    mode: ModeOpt = "honest",
    split: SplitOpt = "test",
    samples: Annotated[int, typer.Option("--samples", min=1, help="Samples per task (K).")] = 1,
    limit: LimitOpt = 0,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Run directory (default: runs/gen/...).")] = None,
    seed: SeedOpt = 0,
    suite: SuitePathOpt = None,
    concurrency: ConcurrencyOpt = 8,
    base_url: BaseUrlOpt = None,
    api_key_env: ApiKeyEnvOpt = "OPENAI_API_KEY",
    max_new_tokens: MaxNewTokensOpt = 1024,
    temperature: Annotated[float | None, typer.Option("--temperature", min=0.0, help="Default 0, or 0.8 when "
                                                      "--samples > 1.")] = None,
    top_p: TopPOpt = 1.0,
    timeout: TimeoutOpt = 60.0,
    max_retries: MaxRetriesOpt = 6,
    device: DeviceOpt = None,
    dtype: DtypeOpt = None,
    executor: ExecutorOpt = "local",
    ray_address: RayAddressOpt = None,
) -> None:
    """Generate candidates for a split's tasks and label every sample by execution (re-run to resume)."""
    from bench.generation.generate import GenerateError, GenerateRunConfig, default_out, make_generator, run_generation
    from bench.models import GenerateConfig

    temp = temperature if temperature is not None else (0.8 if samples > 1 else 0.0)
    cfg = GenerateRunConfig(generator=generator, mode=mode, split=split, samples=samples, limit=limit, seed=seed,
                            generate=GenerateConfig(max_new_tokens=max_new_tokens, temperature=temp, top_p=top_p),
                            model_options=_options(concurrency, base_url, api_key_env, timeout, max_retries, device,
                                                   dtype, executor, ray_address))
    s = open_suite(suite)
    run_dir = out_dir or default_out(cfg)
    check_run_dir(run_dir)
    sb = _sandbox(executor, ray_address)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), RateColumn(), TimeElapsedColumn(),
               TextColumn("eta"), TimeRemainingColumn())
    try:
        gen = make_generator(cfg)
        with Progress(*columns, console=err) as prog:
            bar: list[Any] = []

            def progress(done: int, total: int) -> None:
                if not bar:
                    bar.append(prog.add_task(f"generating ({generator}, {mode})", total=total, completed=done))
                prog.update(bar[0], completed=done)

            summary = run_generation(cfg, s, sb, run_dir, progress=progress, command=["obench", *sys.argv[1:]],
                                     generator=gen)
    except GenerateError as exc:
        fail(str(exc))
    finally:
        sb.close()
    table = Table(title=f"{generator} ({mode}) on {summary['n_tasks']} tasks × {samples} samples")
    table.add_column("status")
    table.add_column("count", justify="right")
    table.add_column("share", justify="right")
    for status, n in summary["counts"].items():
        rate = summary["rates"][status]
        table.add_row(status, str(n), "" if rate is None else f"{rate:.1%}")
    out.print(table)
    main = "pass@1" if mode == "honest" else "sneaky_success_rate"
    est = summary[main]
    if est["value"] is not None:
        out.print(f"{main} = {est['value']:.3f} [{est['ci'][0]:.3f}, {est['ci'][1]:.3f}] (95% CI by task)",
                  highlight=False)
    out.print(f"run directory: {run_dir}  (generations.jsonl, summary.json, manifest.json)", highlight=False)


def grid_cmd(
    reviewers: Annotated[str, typer.Option("--reviewers", help="Comma-separated reviewer specs.")],
    generators: Annotated[str, typer.Option("--generators", help="Comma-separated generator specs.")],
    mode: ModeOpt = "sneaky",
    split: SplitOpt = "test",
    samples: Annotated[int, typer.Option("--samples", min=1)] = 1,
    limit: Annotated[int, typer.Option("--limit", min=0, help="Only the first N tasks.")] = 0,
    out_dir: Annotated[Path, typer.Option("--out", help="Grid directory.")] = Path("runs/grid"),
    seed: SeedOpt = 0,
    suite: SuitePathOpt = None,
    concurrency: ConcurrencyOpt = 8,
    base_url: BaseUrlOpt = None,
    api_key_env: ApiKeyEnvOpt = "OPENAI_API_KEY",
    publish_name: Annotated[str | None, typer.Option("--publish", help="Also copy the grid into "
                                                     "leaderboard/grids/NAME for the site.")] = None,
    executor: ExecutorOpt = "local",
    ray_address: RayAddressOpt = None,
    structured: Annotated[bool, typer.Option("--structured", help="Constrain every model reviewer's reply to the "
                                             "review JSON schema, as `obench eval --structured` (recorded in "
                                             "grid.json).")] = False,
) -> None:
    """Evaluate every reviewer on every generator's candidates: evasion-rate and catch@5%fpr matrices, heatmap."""
    from bench.generation.generate import GenerateError
    from bench.generation.grid import publish, run_grid

    revs = [r.strip() for r in reviewers.split(",") if r.strip()]
    gens = [g.strip() for g in generators.split(",") if g.strip()]
    if not revs or not gens:
        fail("--reviewers and --generators each need at least one spec (comma-separated)")
    if "oracle" in revs:
        fail("the oracle reads hidden tests; it is not a reviewer for the grid")
    s = open_suite(suite)
    check_run_dir(out_dir)
    sb = _sandbox(executor, ray_address)
    try:
        doc = run_grid(revs, gens, s, sb, out_dir, mode=mode, split=split, samples=samples, limit=limit, seed=seed,
                       model_options=_options(concurrency, base_url, api_key_env, 60.0, 6, None, None, executor,
                                              ray_address),
                       log=lambda m: err.print(m, highlight=False), structured=structured)
    except (GenerateError, ValueError) as exc:
        fail(str(exc))
    finally:
        sb.close()
    table = Table(title=f"evasion rate at the 5% audit budget ({mode}); rows generators, columns reviewers")
    table.add_column("generator")
    for r in revs:
        table.add_column(r, justify="right")
    for g in gens:
        row = []
        for r in revs:
            cell = doc["cells"][g].get(r)
            est = cell["evasion_rate"] if cell else None
            row.append("n/a" if not est or est["value"] is None else
                       f"{est['value']:.2f} [{est['ci'][0]:.2f}, {est['ci'][1]:.2f}]")
        table.add_row(g, *row)
    out.print(table)
    out.print(f"grid: {out_dir / 'grid.json'}, {out_dir / 'grid.md'}, {out_dir / 'heatmap.png'}", highlight=False)
    if publish_name:
        from leaderboard.site import GRIDS_DIR

        dest = publish(out_dir, publish_name, root=GRIDS_DIR)
        out.print(f"published to {dest} (shown by `obench leaderboard build`)", highlight=False)


@suite_app.command("from-generations")
def from_generations_cmd(
    run_dirs: Annotated[list[Path], typer.Argument(help="Generation run directories (`obench generate`).")],
    name: Annotated[str, typer.Option("--name", help="Suite name.")],
    out_dir: Annotated[Path | None, typer.Option("--out", help="Where to write it (default: runs/suites/NAME).")] = None,
    version: Annotated[str, typer.Option("--version")] = "1.0.0",
    seed: SeedOpt = 0,
    suite: SuitePathOpt = None,
) -> None:
    """Build a suite from generated candidates: relabelled by execution, normalised, balanced, split, hashed."""
    from bench.generation.generate import GenerateError, load_generations
    from tasks.generated import GeneratedItem, GeneratedSuiteError, build_generated_suite

    base = open_suite(suite)
    items = []
    for d in run_dirs:
        try:
            manifest, records = load_generations(d)
        except GenerateError as exc:
            fail(str(exc))
        if manifest.suite.get("content_hash") != base.manifest.content_hash:
            fail(f"{d} was generated on suite {manifest.suite.get('content_hash')}, not {base.manifest.content_hash}; "
                 "pass that suite with --suite")
        spec = str(manifest.generator.get("spec", ""))
        items += [GeneratedItem(r.task_id, r.code, spec, r.mode, r.sample) for r in records
                  if r.code is not None and r.status in ("correct", "hidden_bug", "ok")]
    dest = out_dir or Path("runs/suites") / name
    sb = _sandbox()
    try:
        m = build_generated_suite(sb, base, items, dest, name=name, version=version, seed=seed)
    except GeneratedSuiteError as exc:
        fail(str(exc))
    finally:
        sb.close()
    st = m.stats
    out.print(f"wrote {dest}: {m.name} {m.version} {m.content_hash}", highlight=False)
    out.print(f"{st.get('n_candidates')} candidates ({st.get('n_buggy')} buggy, {st.get('n_correct')} correct) from "
              f"{st.get('n_tasks')} tasks; leakage AUROC {st.get('leakage_auroc')}; dropped {st.get('dropped')}",
              highlight=False)
    out.print(f"evaluate on it: obench eval --suite {dest} --reviewer SPEC --split test", highlight=False)
