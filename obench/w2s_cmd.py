"""``obench w2s``: weak-to-strong supervision, a weak reviewer's verdicts as labels for a stronger student."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from obench.common import SuitePathOpt, err, fail, open_sandbox, open_suite, out


def _methods(values: list[str]) -> list[str]:
    from bench.w2s.train import METHODS

    names = [m.strip() for v in values for m in v.split(",") if m.strip()]
    return list(METHODS) if names == ["all"] else names


def default_out(weak: str, student: str, mode: str, limit_train: int, limit_test: int, root: Path = Path("runs/w2s")) \
        -> Path:
    """``runs/w2s/<weak>__<student>__<mode>[__limitN-M]``."""
    from bench.runs.evaluate import slug

    w = Path(weak).name if Path(weak).is_dir() else weak
    s = student
    for prefix in ("hf:", "gguf:"):
        if student.startswith(prefix):
            s = prefix + Path(student[len(prefix):]).name
    parts = [slug(w), slug(s), mode] + ([f"limit{limit_train}-{limit_test}"] if limit_train or limit_test else [])
    return root / "__".join(parts)


def results_table(res: Any) -> Table:
    """Per method and metric: P_weak, P_w2s, P_ceiling (seed means, 95% CI) and PGR."""
    from bench.w2s.report import METRIC_LABELS, fmt, fmt_pgr

    table = Table(title=f"weak-to-strong: {res.weak_spec} -> {res.student} ({res.mode}); {len(res.seeds)} seed(s), "
                        f"test {res.n_test} candidates")
    for col in ("method", "metric", "P_weak", "P_w2s", "P_ceiling", "PGR [95% CI]"):
        table.add_column(col, justify="left" if col in ("method", "metric") else "right")
    for m in res.methods:
        for metric in res.metrics:
            e = m.mean[metric]
            table.add_row(m.method, METRIC_LABELS.get(metric, metric), fmt(e.weak), fmt(e.w2s), fmt(e.ceiling),
                          fmt_pgr(e.pgr))
    return table


def w2s_cmd(
    weak: Annotated[str, typer.Option("--weak", help="Weak supervisor: ngram[:N] (built in, N labelled dev "
                                      "candidates), a train-split RUN_DIR of `obench eval`, or a reviewer spec "
                                      "(lint, hf:<path>, openai:<model>...) run on train and test.")],
    student: Annotated[str, typer.Option("--student", help="minilm | hf:<id-or-path> | gguf:<file.gguf> | "
                                         "local:<catalogue-name> (an installed `obench models` model; both through "
                                         "transformers) | llamacpp:<catalogue-name-or-file.gguf> (llama.cpp itself: "
                                         "last layer only, several times faster on a CPU).")]
    = "minilm",
    layer: Annotated[int | None, typer.Option("--layer", help="Student hidden layer to mean-pool: 0 = token "
                                              "embeddings, N = the last of N (default), negative from the end "
                                              "(-1 = last).")] = None,
    method: Annotated[list[str], typer.Option("--method", help="naive | aux-conf | bootstrap | all; repeat or "
                                              "comma-separate for several.")] = ["naive"],  # noqa: B006
    seeds: Annotated[int, typer.Option("--seeds", min=1, help="Student seeds 0..N-1.")] = 3,
    epochs: Annotated[int | None, typer.Option("--epochs", min=1, help="Default: 100 (probe), 2 (fine-tune).")]
    = None,
    probe: Annotated[bool | None, typer.Option("--probe/--finetune", help="Linear probe on frozen embeddings, or "
                                               "fine-tune the encoder. Default: probe on CPU, fine-tune on a GPU.")]
    = None,
    weak_test: Annotated[Path | None, typer.Option("--weak-test", help="Test-split RUN_DIR of the same reviewer "
                                                   "as --weak RUN_DIR (default: run it on test).")] = None,
    limit_train: Annotated[int, typer.Option("--limit-train", min=0, help="Only the first N train candidates "
                                             "(hash order, as obench eval --limit).")] = 0,
    limit_test: Annotated[int, typer.Option("--limit-test", min=0, help="Only the first N test candidates.")] = 0,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Output directory (default: runs/w2s/...).")] = None,
    weak_seed: Annotated[int, typer.Option("--weak-seed", help="ngram draw and classifier seed; seed of reviewer "
                                           "runs.")] = 0,
    batch_size: Annotated[int | None, typer.Option("--batch-size", min=1, help="Default: 32 (probe), 8 (fine-tune).")]
    = None,
    lr: Annotated[float | None, typer.Option("--lr", min=0.0, help="Probe / head learning rate. Default: 1e-2 "
                                             "(probe), 1e-3 (fine-tune).")] = None,
    base_lr: Annotated[float, typer.Option("--base-lr", min=0.0, help="Fine-tune: encoder learning rate.")] = 5e-5,
    weight_decay: Annotated[float, typer.Option("--weight-decay", min=0.0)] = 1e-2,
    alpha_max: Annotated[float, typer.Option("--alpha-max", min=0.0, max=1.0, help="aux-conf: final weight of "
                                             "the hardened predictions.")] = 0.5,
    warmup_frac: Annotated[float, typer.Option("--warmup-frac", min=0.0, max=1.0, help="aux-conf: share of steps "
                                               "of the linear alpha warm-up.")] = 0.2,
    bootstrap_dims: Annotated[int, typer.Option("--bootstrap-dims", min=1, help="bootstrap: principal components "
                                                "of the intermediate probe.")] = 32,
    bootstrap_folds: Annotated[int, typer.Option("--bootstrap-folds", min=2, help="bootstrap: cross-fitting folds "
                                                 "by task.")] = 2,
    student_input: Annotated[str, typer.Option("--input", help="What the student reads: prompt+code | code.")]
    = "prompt+code",
    max_length: Annotated[int, typer.Option("--max-length", min=8, help="Student token budget per text (cut "
                                            "from the left).")] = 512,
    device: Annotated[str | None, typer.Option("--device", help="Student device (default: cuda if available, "
                                               "else cpu).")] = None,
    cache: Annotated[Path | None, typer.Option("--cache", help="Embedding cache directory (default: <out>/cache); "
                                               "share one across experiments with the same student.")] = None,
    n_boot: Annotated[int, typer.Option("--n-boot", min=100, help="Bootstrap draws for the CIs.")] = 1000,
    suite: SuitePathOpt = None,
    sandbox: Annotated[str, typer.Option("--sandbox", help="Where a weak reviewer's run executes: docker | local.")]
    = "docker",
    base_url: Annotated[str | None, typer.Option("--base-url", help="Endpoint of an openai: weak reviewer.")] = None,
    concurrency: Annotated[int, typer.Option("--concurrency", min=1, help="Weak reviewer requests in flight.")] = 8,
    as_json: Annotated[bool, typer.Option("--json", help="Print the leaderboard summary as JSON.")] = False,
) -> None:
    """Weak-to-strong: train a student on a weak supervisor's train-split verdicts; PGR on the test split."""
    from bench.models import ModelOptions
    from bench.w2s import (
        TrainConfig,
        W2SConfig,
        W2SError,
        check_methods,
        create_student,
        leaderboard_summary,
        load_data,
        resolve_weak,
        run_w2s,
    )
    from bench.w2s.train import FINETUNE_EPOCHS, PROBE_EPOCHS
    from harness.jobs import Limits

    if device is None:
        import torch

        device = "cuda" if torch.cuda.is_available() else "cpu"
    use_probe = probe if probe is not None else device == "cpu"
    mode = "probe" if use_probe else "finetune"
    try:
        methods = check_methods(_methods(method))
    except W2SError as exc:
        fail(str(exc))
    s = open_suite(suite)
    student_label = student + ("" if student_input == "prompt+code" else f"-{student_input}") + \
        ("" if layer is None else f"-layer{layer}")
    run_dir = out_dir or default_out(weak, student_label, mode, limit_train, limit_test)
    command = ["obench", *sys.argv[1:]] if Path(sys.argv[0]).name in ("obench", "__main__.py") else ["obench", "w2s"]
    train_cfg = TrainConfig(epochs=epochs or (PROBE_EPOCHS if use_probe else FINETUNE_EPOCHS),
                            batch_size=batch_size or (32 if use_probe else 8),
                            lr=lr if lr is not None else (1e-2 if use_probe else 1e-3), weight_decay=weight_decay,
                            alpha_max=alpha_max, warmup_frac=warmup_frac, bootstrap_dims=bootstrap_dims,
                            bootstrap_folds=bootstrap_folds, base_lr=base_lr)
    cfg = W2SConfig(methods=methods, seeds=tuple(range(seeds)), probe=use_probe, train=train_cfg, n_boot=n_boot)
    opened: list[Any] = []

    def open_sb() -> Any:
        if not opened:
            opened.append(open_sandbox(sandbox, limits=Limits(timeout_s=30.0, memory_mb=512), workers=2))
        return opened[0]

    def progress(msg: str) -> None:
        err.print(f"[dim]w2s:[/] {msg}", highlight=False)

    try:
        enc = create_student(student, max_length=max_length, device=device, layer=layer)
        data = load_data(s, limit_train, limit_test, student_input)
        progress(f"weak supervisor {weak}")
        labels = resolve_weak(s, data, weak, weak_test, Path(run_dir), open_sb, limit_train=limit_train,
                              limit_test=limit_test, seed=weak_seed,
                              model_options=ModelOptions(concurrency=concurrency, base_url=base_url), command=command)
        suite_info = {"name": s.manifest.name, "version": s.manifest.version,
                      "content_hash": s.manifest.content_hash, "path": str(s.path)}
        res = run_w2s(cfg, data, labels, enc, Path(run_dir), suite_info=suite_info, command=command,
                      progress=progress, cache_dir=cache)
    except W2SError as exc:
        fail(str(exc))
    finally:
        for sb in opened:
            sb.close()
    if as_json:
        print(json.dumps(leaderboard_summary(Path(run_dir)), indent=2))
        return
    out.print(results_table(res))
    for m in res.methods:
        for metric in res.metrics:
            why = m.mean[metric].pgr.undefined
            if why:
                out.print(f"[yellow]{m.method} / {metric}: PGR undefined[/]: {why}", highlight=False)
    out.print(f"output: {run_dir}  (results.json, report.md, w2s.png, predictions.jsonl, manifest.json)",
              highlight=False)
