"""Consoles and the error exit shared by the ``obench`` command groups."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console

err = Console(stderr=True)
out = Console()


def fail(message: str, code: int = 2) -> NoReturn:
    """Print ``error: message`` on stderr and exit with ``code`` (2: bad usage)."""
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def open_suite(path: Path | None) -> Any:
    """The suite at ``path`` (default: the committed one), or exit 2 saying what is wrong."""
    from tasks.suite import SuiteError, load_suite

    try:
        return load_suite(path)
    except SuiteError as exc:
        fail(str(exc))


def check_run_dir(path: Path) -> None:
    """Exit 2 before any work when ``path`` cannot be written or its disk is nearly full."""
    from bench.runs.rundir import RunDirError, preflight

    try:
        preflight(path)
    except RunDirError as exc:
        fail(str(exc))


def open_sandbox(name: str, executor: str = "local", ray_address: str | None = None, **kw: Any) -> Any:
    """A sandbox backend, or exit 2 with the reason (e.g. the Docker daemon is down).

    With ``executor="ray"`` the jobs are spread over Ray actors, each with its own ``name`` sandbox
    (on a cluster: one Docker pool per node).
    """
    from harness.sandbox import SandboxError, create_sandbox

    if executor not in ("local", "ray"):
        fail(f"unknown executor {executor!r}; known: local, ray")
    try:
        if executor == "ray":
            return create_sandbox("ray", backend=name, address=ray_address, **kw)
        return create_sandbox(name, **kw)
    except SandboxError as exc:
        fail(str(exc))


# Options shared by the commands that drive models (eval, generate, grid).
SplitOpt = Annotated[str, typer.Option("--split", help="train | dev | test")]
LimitOpt = Annotated[int, typer.Option("--limit", min=0, help="Only the first N items (0 = all).")]
SeedOpt = Annotated[int, typer.Option("--seed", help="Decoding and bootstrap seed.")]
ConcurrencyOpt = Annotated[int, typer.Option("--concurrency", min=1, help="Requests in flight (openai) or batch size (hf).")]
BaseUrlOpt = Annotated[str | None, typer.Option("--base-url", help="OpenAI-compatible endpoint.")]
ApiKeyEnvOpt = Annotated[str, typer.Option("--api-key-env", help="Variable holding the API key.")]
MaxNewTokensOpt = Annotated[int, typer.Option("--max-new-tokens", min=1)]
TopPOpt = Annotated[float, typer.Option("--top-p", min=0.0, max=1.0)]
TimeoutOpt = Annotated[float, typer.Option("--timeout", min=0.1, help="Per-request timeout, seconds.")]
MaxRetriesOpt = Annotated[int, typer.Option("--max-retries", min=0)]
DeviceOpt = Annotated[str | None, typer.Option("--device", help="hf: cpu | cuda | mps (default: best).")]
DtypeOpt = Annotated[str | None, typer.Option("--dtype", help="hf: float32 | bfloat16 | float16.")]
SuitePathOpt = Annotated[Path | None, typer.Option("--suite", help="Suite directory (default: the committed v1).")]
ExecutorOpt = Annotated[str, typer.Option("--executor", help="local | ray (executions and model calls as Ray tasks).")]
RayAddressOpt = Annotated[str | None, typer.Option("--ray-address", help="Ray cluster address (default: a local Ray).")]
