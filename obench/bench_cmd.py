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
