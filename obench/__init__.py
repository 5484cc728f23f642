"""The ``obench`` command line: the only package that imports every other one.

Each sub-command module wires typer options to a public API of ``harness``, ``tasks``,
``bench``, ``leaderboard`` or ``tools`` and turns their errors into messages with exit
codes (0 ok, 1 a result that says no, 2 unusable input).

May import: every package of the project. Imported by nothing (the console script
``obench`` and ``python -m obench``).
"""

from __future__ import annotations

import typer

from obench.bench_cmd import bench_app
from obench.eval_cmd import compare_cmd, eval_cmd, report_cmd
from obench.generate_cmd import generate_cmd, grid_cmd, suite_app
from obench.harness_cmd import harness_app
from obench.inspect_cmd import import_inspect_cmd
from obench.leaderboard_cmd import leaderboard_app, submit_cmd
from obench.models_cmd import models_app
from obench.ogr_cmd import ogr_cmd
from obench.tasks_cmd import tasks_app
from obench.w2s_cmd import w2s_cmd

app = typer.Typer(
    name="obench",
    help="OversightBench: scalable oversight of code, decided by sandboxed execution.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(harness_app, name="harness")
app.add_typer(tasks_app, name="tasks")
app.command("eval")(eval_cmd)
app.command("report")(report_cmd)
app.command("compare")(compare_cmd)
app.command("submit")(submit_cmd)
app.command("import-inspect")(import_inspect_cmd)
app.command("generate")(generate_cmd)
app.command("grid")(grid_cmd)
app.command("ogr")(ogr_cmd)
app.add_typer(bench_app, name="bench")
app.command("w2s")(w2s_cmd)
app.add_typer(suite_app, name="suite")
app.add_typer(leaderboard_app, name="leaderboard")
app.add_typer(models_app, name="models")


def main() -> None:
    """Console-script entry point."""
    app()
