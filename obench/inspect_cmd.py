"""``obench import-inspect``: an Inspect log of ``oversightbench/review`` or ``oversightbench/exec`` as a run directory."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from obench.common import fail, out


def import_inspect_cmd(
    log: Annotated[Path, typer.Argument(help="An Inspect log (.eval or .json) of oversightbench/review or "
                                             "oversightbench/exec, or a log directory (its newest log).")],
    out_dir: Annotated[Path | None, typer.Option("--out", help="Run directory (default: runs/inspect_<model>__...).")]
    = None,
) -> None:
    """Turn an Inspect log into a run directory that report, compare and submit take like any other run."""
    from obench.eval_cmd import _summary, headline

    try:
        from oversightbench.importer import InspectImportError, import_log
    except ImportError as exc:
        fail(escape(f"the Inspect extension is not installed ({exc}); install it with: pip install -e '.[inspect]'"))
    try:
        run_dir, scores = import_log(log, out_dir)
    except InspectImportError as exc:
        fail(escape(str(exc)))
    out.print(headline(scores, f"imported {log}"))
    out.print(_summary(scores), highlight=False)
    out.print(f"run directory: {run_dir}  (report.md, scores.json, predictions.jsonl, plots)", highlight=False)
    if scores["n_errors"]:
        out.print(f"{scores['n_errors']} samples failed or are missing: finish the run with `inspect eval-retry` and "
                  "import it again before submitting.", highlight=False)
