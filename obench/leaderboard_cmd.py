"""``obench submit`` and ``obench leaderboard validate | build | serve``."""

from __future__ import annotations

import functools
import http.server
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from harness.jobs import Limits
from leaderboard.site import SITE_DIR, build_site
from leaderboard.submission import SUBMISSIONS_DIR, SubmitError, submit
from leaderboard.validate import validate_submission
from obench.common import err, fail, open_sandbox, out

leaderboard_app = typer.Typer(help="Validate submissions, build and preview the static leaderboard site.",
                              no_args_is_help=True)


class YesNo(StrEnum):
    yes = "yes"
    no = "no"


def submit_cmd(
    run_dir: Annotated[Path, typer.Argument(help="A finished run directory written by `obench eval`.")],
    name: Annotated[str, typer.Option("--name", help="Entry name (letters, digits, . _ -).")],
    org: Annotated[str, typer.Option("--org")] = "",
    paper: Annotated[str | None, typer.Option("--paper", help="http(s) URL of a paper or model card.")] = None,
    open_weights: Annotated[YesNo | None, typer.Option("--open-weights")] = None,
    root: Annotated[Path, typer.Option("--submissions", help="Submissions directory.")] = SUBMISSIONS_DIR,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing entry of that name.")] = False,
) -> None:
    """Copy a run into leaderboard/submissions/NAME/ (metadata.json, manifest.json, predictions.jsonl) and validate it."""
    try:
        dest = submit(run_dir, name, org=org, paper=paper,
                      open_weights=None if open_weights is None else open_weights == YesNo.yes, root=root, force=force)
    except SubmitError as exc:
        fail(str(exc))
    out.print(f"wrote {dest}", highlight=False)
    _validate_and_report(dest)


def _sandbox() -> Any:
    return open_sandbox("docker", limits=Limits(timeout_s=30.0, memory_mb=512), workers=2)


def _validate_and_report(path: Path) -> None:
    sb = _sandbox()
    try:
        v = validate_submission(path, sandbox=sb)
    finally:
        sb.close()
    if not v.ok:
        err.print(f"[bold red]invalid:[/] {path} ({len(v.problems)} problem(s))", highlight=False)
        for p in v.problems:
            err.print(f"  {p}", highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    assert v.scores is not None
    primary = v.scores["catch@5%fpr"]
    lo, hi = primary["ci"]
    out.print(f"[bold green]valid:[/] {path}: {v.scores['n_items']} predictions, {v.witnesses_rerun} witnesses "
              f"re-executed, catch@5%fpr {primary['value']:.3f} [{lo:.3f}, {hi:.3f}] recomputed", highlight=False,
              soft_wrap=True)


@leaderboard_app.command("validate")
def validate_cmd(path: Annotated[Path, typer.Argument(help="A submission directory.")]) -> None:
    """Check a submission: schema, suite hash, ids, reviews vs raw replies, re-executed witnesses, recomputed scores.

    Exit status 0 when valid, 1 when invalid (each problem on its own line).
    """
    _validate_and_report(path)


@leaderboard_app.command("build")
def build_cmd(
    out_dir: Annotated[Path, typer.Option("--out", help="Where to write the site.")] = SITE_DIR,
    submissions: Annotated[Path, typer.Option("--submissions")] = SUBMISSIONS_DIR,
) -> None:
    """Validate every submission and render the static site (index.html, entry pages, results.json/csv, plots)."""
    sb = _sandbox()
    try:
        res = build_site(submissions, out_dir, sandbox=sb)
    finally:
        sb.close()
    table = Table(title=f"leaderboard: {len(res.entries)} entries")
    for col in ("rank", "name", "reviewer", "catch@5%fpr", "auroc"):
        table.add_column(col)
    for e in res.entries:
        m = e["metrics"]
        table.add_row(f"{e['rank']}{'=' if e['tied'] else ''}", e["name"], e["reviewer"],
                      f"{m['catch@5%fpr']['value']:.3f}", f"{m['auroc']['value']:.3f}")
    out.print(table)
    for v in res.rejected:
        err.print(f"[bold red]rejected:[/] {v.path} ({len(v.problems)} problem(s))", highlight=False)
        for p in v.problems[:20]:
            err.print(f"  {p}", highlight=False, soft_wrap=True)
    out.print(f"site: {(out_dir / 'index.html').resolve()}  (preview: obench leaderboard serve)", highlight=False)
    if res.rejected:
        raise typer.Exit(1)


@leaderboard_app.command("serve")
def serve_cmd(
    port: Annotated[int, typer.Option("--port")] = 8000,
    site: Annotated[Path, typer.Option("--site", help="Built site directory.")] = SITE_DIR,
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
) -> None:
    """Serve the built site locally for a preview (Ctrl-C to stop)."""
    if not (site / "index.html").exists():
        fail(f"{site / 'index.html'} does not exist; run `obench leaderboard build` first")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    with http.server.ThreadingHTTPServer((host, port), handler) as httpd:
        out.print(f"serving {site} at http://{host}:{httpd.server_address[1]}/  (Ctrl-C to stop)", highlight=False)
        try:
            httpd.serve_forever()
        except KeyboardInterrupt:
            pass
