"""``obench eval``, ``obench report``, ``obench compare``: evaluate a reviewer, re-render, compare two runs."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from bench.metrics.scoring import METRICS, PRIMARY
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


class RateColumn(ProgressColumn):
    """Reviews per second."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:6.1f} rev/s" if speed else "   ... rev/s", style="progress.data.speed")


def _fmt(est: dict[str, Any]) -> tuple[str, str]:
    v, (lo, hi) = est["value"], est["ci"]
    if v is None:
        return "n/a", ""
    return f"{v:.3f}", (f"[{lo:.3f}, {hi:.3f}]" if lo is not None and hi is not None else "")


def headline(scores: dict[str, Any], title: str) -> Table:
    """The metrics table printed at the end of a run and by ``obench report``."""
    table = Table(title=title)
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_column("95% CI (by task)", justify="right")
    for m in METRICS:
        v, ci = _fmt(scores[m])
        table.add_row(f"[bold]{m}[/] (primary)" if m == PRIMARY else m, v, ci)
    return table


def _summary(scores: dict[str, Any]) -> str:
    return (f"{scores['n_items']} candidates ({scores['n_buggy']} buggy, {scores['n_correct']} correct, "
            f"{scores['n_tasks']} tasks); {scores['n_abstain']} abstain, {scores['n_errors']} failed requests")


def eval_cmd(
    reviewer: Annotated[str, typer.Option("--reviewer", help="hf:<id-or-path> | openai:<model> | gguf:<file.gguf> | "
                                          "local:<catalogue name> | random[:SEED] | always-buggy | lint | oracle")],
    protocol: Annotated[str, typer.Option("--protocol", help="direct | exec | critique | consultancy | debate")]
    = "direct",
    split: SplitOpt = "test",
    limit: LimitOpt = 0,
    concurrency: ConcurrencyOpt = 8,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Run directory (default: runs/<reviewer>__...).")] = None,
    seed: SeedOpt = 0,
    suite: SuitePathOpt = None,
    sandbox: Annotated[str, typer.Option("--sandbox", help="Where witnesses run: docker | local.")] = "docker",
    base_url: BaseUrlOpt = None,
    api_key_env: ApiKeyEnvOpt = "OPENAI_API_KEY",
    prompt: Annotated[str, typer.Option("--prompt", help="Prompt template name or .j2 path.")] = "review_direct.v1",
    max_new_tokens: MaxNewTokensOpt = 512,
    temperature: Annotated[float, typer.Option("--temperature", min=0.0, help="0 = greedy (deterministic).")] = 0.0,
    top_p: TopPOpt = 1.0,
    timeout: TimeoutOpt = 60.0,
    max_retries: MaxRetriesOpt = 6,
    device: DeviceOpt = None,
    dtype: DtypeOpt = None,
    store: Annotated[Path | None, typer.Option("--store", help="Run store (default: <out>/store.sqlite).")] = None,
    strong: Annotated[str | None, typer.Option("--strong", help="Strong model for critique / consultancy / debate.")]
    = None,
    rounds: Annotated[int, typer.Option("--rounds", min=1, help="Debate / consultancy rounds.")] = 2,
    tool_calls: Annotated[int, typer.Option("--tool-calls", min=0, help="exec: runs the reviewer may request.")] = 3,
    strong_max_new_tokens: Annotated[int, typer.Option("--strong-max-new-tokens", min=1)] = 384,
    native_tools: Annotated[bool, typer.Option("--native-tools", help="exec: also offer run() as a native tool "
                                               "(openai: backends).")] = False,
    executor: ExecutorOpt = "local",
    ray_address: RayAddressOpt = None,
    structured: Annotated[bool, typer.Option("--structured", help="Constrain replies to the review JSON schema "
                                             "(gguf/local: a grammar; openai: response_format): direct replies, protocols' final judge turns, "
                                             "and exec's turns (a JSON object whose run field asks for a run).")]
    = False,
) -> None:
    """Evaluate a reviewer on a suite split: reviews, verified witnesses, scores, report. Re-run to resume."""
    from bench.models import GenerateConfig, ModelOptions
    from bench.reviewing.protocols import Budgets
    from bench.reviewing.schema import review_schema
    from bench.reviewing.verify import GoldCheckFailed
    from bench.runs.evaluate import EvalConfig, EvalError, default_out, evaluate, make_reviewer
    from harness.jobs import Limits

    cfg = EvalConfig(
        reviewer=reviewer, protocol=protocol, split=split, limit=limit, seed=seed, prompt=prompt,
        generate=GenerateConfig(max_new_tokens=max_new_tokens, temperature=temperature, top_p=top_p, seed=seed,
                                json_schema=review_schema() if structured else None),
        model_options=ModelOptions(concurrency=concurrency, base_url=base_url, api_key_env=api_key_env,
                                   timeout_s=timeout, max_retries=max_retries, device=device, dtype=dtype,
                                   executor=executor, ray_address=ray_address),
        strong=strong, budgets=Budgets(rounds=rounds, tool_calls=tool_calls, strong_max_new_tokens=strong_max_new_tokens,
                                       judge_max_new_tokens=max_new_tokens),
        native_tools=native_tools,
    )
    s = open_suite(suite)
    run_dir = out_dir or default_out(cfg)
    if structured and out_dir is None:
        run_dir = run_dir.with_name(run_dir.name + "__structured")
    check_run_dir(run_dir)
    sb = open_sandbox(sandbox, executor, ray_address, limits=Limits(timeout_s=30.0, memory_mb=512), workers=2)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), RateColumn(),
               TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn())
    try:
        rev = make_reviewer(cfg, s, sb)
        with Progress(*columns, console=err, transient=False) as prog:
            bar: list[Any] = []

            def progress(done: int, total: int) -> None:
                if not bar:
                    bar.append(prog.add_task(f"reviewing ({reviewer})", total=total, completed=done))
                prog.update(bar[0], completed=done)

            scores = evaluate(cfg, s, sb, run_dir, progress=progress, command=["obench", *sys.argv[1:]],
                              store_path=store, reviewer=rev)
    except EvalError as exc:
        fail(str(exc))
    except GoldCheckFailed as exc:
        fail(str(exc), 1)
    finally:
        sb.close()
    out.print(headline(scores, f"{reviewer} on {s.manifest.name} {s.manifest.version} / {split}"))
    out.print(_summary(scores), highlight=False)
    out.print(f"run directory: {run_dir}  (report.md, scores.json, predictions.jsonl, plots)", highlight=False)
    if scores["n_errors"]:
        err.print(f"[yellow]{scores['n_errors']} requests failed after retries; run the same command again to retry "
                  "only those.[/]")


def report_cmd(run_dir: Annotated[Path, typer.Argument(help="A run directory written by `obench eval`.")]) -> None:
    """Re-render scores.json, report.md and the plots from a run's stored predictions."""
    from bench.runs.rundir import RunDirError, render

    try:
        scores = render(run_dir)
    except RunDirError as exc:
        fail(str(exc))
    out.print(headline(scores, str(run_dir)))
    out.print(_summary(scores), highlight=False)
    out.print(f"wrote {run_dir / 'report.md'}, {run_dir / 'scores.json'} and plots", highlight=False)


def compare_cmd(
    run_a: Annotated[Path, typer.Argument(help="Run directory A.")],
    run_b: Annotated[Path, typer.Argument(help="Run directory B.")],
    n_boot: Annotated[int, typer.Option("--n-boot", min=100)] = 2000,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Paired comparison of two runs on the same candidates: A - B with a 95% CI and p-value, by task."""
    from bench.metrics.scoring import paired_compare_all
    from bench.runs.rundir import RunDirError, load_paired

    try:
        preds = load_paired([run_a, run_b])
    except RunDirError as exc:
        fail(str(exc))
    a, b = ([p.item() for p in ps] for ps in preds)
    res = paired_compare_all(a, b, n_boot=n_boot, seed=seed)
    if as_json:
        print(json.dumps({"a": str(run_a), "b": str(run_b), "n_boot": n_boot, "seed": seed,
                          "metrics": {m: r.to_json() for m, r in res.items()}}, indent=2))
        return
    table = Table(title=f"A = {run_a}   B = {run_b}   ({len(a)} candidates, paired bootstrap by task)")
    for col in ("metric", "A", "B", "A - B", "95% CI", "p"):
        table.add_column(col, justify="left" if col == "metric" else "right")
    for m, r in res.items():
        f = (lambda x: "n/a" if x is None else f"{x:.3f}")  # noqa: E731
        ci = f"[{r.ci[0]:+.3f}, {r.ci[1]:+.3f}]" if r.ci[0] is not None and r.ci[1] is not None else ""
        p = "" if r.p_value is None else (f"{r.p_value:.3f}" if r.p_value >= 0.001 else "<0.001")
        table.add_row(f"[bold]{m}[/]" if m == PRIMARY else m, f(r.a), f(r.b),
                      "n/a" if r.diff is None else f"{r.diff:+.3f}", ci, p)
    out.print(table)
