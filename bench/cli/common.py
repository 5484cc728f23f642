"""Consoles and the error exit shared by the ``obench`` command groups."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console

err = Console(stderr=True)
out = Console()


def fail(message: str, code: int = 2) -> NoReturn:
    """Print ``error: message`` on stderr and exit with ``code`` (2: bad usage)."""
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)
