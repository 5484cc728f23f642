"""``obench bench``: benchmarks whose tables go in the README (never timed assertions in tests)."""

from __future__ import annotations

from typing import Annotated

import typer

bench_app = typer.Typer(help="Benchmarks (results go in the README).", no_args_is_help=True)


@bench_app.command("scale")
def scale_cmd(
    split: Annotated[str, typer.Option("--split")] = "test",
    limit: Annotated[int, typer.Option("--limit", min=0)] = 0,
    local_workers: Annotated[int, typer.Option("--local-workers", min=1)] = 2,
    ray_workers: Annotated[list[int] | None, typer.Option("--ray-workers", help="Repeatable; default 1 and 2.")] = None,
    ray_address: Annotated[str | None, typer.Option("--ray-address")] = None,
    repeats: Annotated[int, typer.Option("--repeats", min=1)] = 1,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Label-verification throughput: local Docker executor vs Ray with 1 and 2 workers (labels must agree)."""
    from tools.scale import main

    argv = ["--split", split, "--limit", str(limit), "--local-workers", str(local_workers), "--repeats", str(repeats)]
    for w in ray_workers or [1, 2]:
        argv += ["--ray-workers", str(w)]
    if ray_address:
        argv += ["--ray-address", ray_address]
    if as_json:
        argv.append("--json")
    raise typer.Exit(main(argv))


@bench_app.command("throughput")
def throughput_cmd(
    concurrency: Annotated[list[int] | None, typer.Option("--concurrency", help="Repeatable; default 8, 32, 64.")] = None,
    latency: Annotated[float, typer.Option("--latency")] = 0.2,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """`obench eval` throughput against a mock OpenAI-compatible server with a fixed latency."""
    from tools.throughput import main

    argv = ["--latency", str(latency)] + [a for c in (concurrency or []) for a in ("--concurrency", str(c))]
    main(argv + (["--json"] if as_json else []))


@bench_app.command("gguf")
def gguf_cmd(
    model: Annotated[list[str] | None, typer.Option("--model", help="Catalogue name or .gguf path; repeatable "
                                                    "(default: smollm2-135m and qwen2.5-coder-0.5b).")] = None,
    prompts: Annotated[int, typer.Option("--prompts", min=1, help="Review prompts.")] = 8,
    max_new_tokens: Annotated[int, typer.Option("--max-new-tokens", min=1)] = 128,
    batch: Annotated[list[int] | None, typer.Option("--batch", help="Batch sizes; repeatable (default 1, 4, 8).")]
    = None,
    threads: Annotated[int | None, typer.Option("--threads", min=1, help="llama.cpp threads (default: all CPUs).")]
    = None,
    structured: Annotated[bool, typer.Option("--structured", help="Constrain replies to the review JSON schema.")]
    = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """GGUF backend reviews/s and tokens/s at batch 1 and batched, vs llama.cpp's own single-sequence loop."""
    from tools.gguf_bench import main

    argv = ["--prompts", str(prompts), "--max-new-tokens", str(max_new_tokens)]
    argv += [a for m in model or [] for a in ("--model", m)] + [a for b in batch or [] for a in ("--batch", str(b))]
    argv += ["--threads", str(threads)] if threads else []
    argv += ["--structured"] if structured else []
    raise typer.Exit(main(argv + (["--json"] if as_json else [])))
