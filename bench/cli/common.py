"""Consoles and the error exit shared by the ``obench`` command groups."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NoReturn

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


def open_sandbox(name: str, **kw: Any) -> Any:
    """A sandbox backend, or exit 2 with the reason (e.g. the Docker daemon is down)."""
    from harness.sandbox import SandboxError, create_sandbox

    try:
        return create_sandbox(name, **kw)
    except SandboxError as exc:
        fail(str(exc))
