"""``obench submit`` and ``obench leaderboard validate | build | reproduce | serve``."""

from __future__ import annotations

import functools
import http.server
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from harness.jobs import Limits
from leaderboard.site import SITE_DIR, build_site
from leaderboard.submission import REPRODUCED, SUBMISSIONS_DIR, SubmitError, submit
from leaderboard.validate import Validation, printable, validate_submission
from obench.common import ApiKeyEnvOpt, BaseUrlOpt, ConcurrencyOpt, DeviceOpt, DtypeOpt, err, fail, open_sandbox, out

leaderboard_app = typer.Typer(help="Validate and reproduce submissions, build and preview the static leaderboard site.",
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
    ogr_strong: Annotated[str | None, typer.Option(
        "--ogr-strong", help="exec (a protocol without a strong model): the reviewer spec whose direct entry is "
                             "the strong reference of its OGR on the protocol view.")] = None,
) -> None:
    """Copy a run into leaderboard/submissions/NAME/ (metadata.json, manifest.json, predictions.jsonl) and validate it."""
    try:
        dest = submit(run_dir, name, org=org, paper=paper,
                      open_weights=None if open_weights is None else open_weights == YesNo.yes, root=root, force=force,
                      ogr_strong=ogr_strong)
    except SubmitError as exc:
        fail(str(exc))
    out.print(f"wrote {escape(str(dest))}", highlight=False)
    sb = LazySandbox()
    try:
        ok = _report(validate_submission(dest, sandbox=sb))
    finally:
        sb.close()
    if not ok:
        raise typer.Exit(1)


class LazySandbox:
    """The Docker sandbox, opened on first use: submissions without witnesses (or unreadable ones) never need it."""

    def __init__(self) -> None:
        self._sandbox: Any = None

    def __getattr__(self, name: str) -> Any:
        if self._sandbox is None:
            self._sandbox = open_sandbox("docker", limits=Limits(timeout_s=30.0, memory_mb=512), workers=2)
        return getattr(self._sandbox, name)

    def close(self) -> None:
        if self._sandbox is not None:
            self._sandbox.close()


def _problems(v: Validation, limit: int | None = None) -> None:
    for p in v.problems[:limit]:
        err.print(f"  {p}", markup=False, highlight=False, soft_wrap=True)
    if limit is not None and len(v.problems) > limit:
        err.print(f"  ... and {len(v.problems) - limit} more", markup=False, highlight=False)


def _report(v: Validation) -> bool:
    """Print one validation's outcome; True when valid."""
    shown = escape(printable(str(v.path)))
    if not v.ok:
        err.print(f"[bold red]invalid:[/] {shown} ({len(v.problems)} problem(s))", highlight=False, soft_wrap=True)
        _problems(v)
        return False
    assert v.scores is not None
    primary = v.scores["catch@5%fpr"]
    lo, hi = primary["ci"]
    checked = "reproduced" if v.reproduction is not None and v.reproduction.passed else "self-reported"
    out.print(f"[bold green]valid:[/] {shown}: {v.scores['n_items']} predictions, {v.witnesses_rerun} witnesses "
              f"re-executed, catch@5%fpr {primary['value']:.3f} [{lo:.3f}, {hi:.3f}] recomputed, {checked}",
              highlight=False, soft_wrap=True)
    return True


@leaderboard_app.command("validate")
def validate_cmd(paths: Annotated[list[Path], typer.Argument(help="One or more submission directories.")]) -> None:
    """Check submissions: files, schemas, suite hash, ids, reviews vs raw replies, re-executed witnesses, scores.

    Exit status 0 when every one is valid, 1 when any is invalid (each problem on its own line).
    """
    sb = LazySandbox()
    try:
        results = [_report(validate_submission(p, sandbox=sb)) for p in paths]
    finally:
        sb.close()
    if not all(results):
        raise typer.Exit(1)


@leaderboard_app.command("reproduce")
def reproduce_cmd(
    submission: Annotated[Path, typer.Argument(help="A submission directory.")],
    sample: Annotated[int, typer.Option("--sample", min=1, help="Items to ask again, drawn by a seed derived from "
                                        "the predictions' content hash.")] = 20,
    base_url: BaseUrlOpt = None,
    api_key_env: ApiKeyEnvOpt = "OPENAI_API_KEY",
    concurrency: ConcurrencyOpt = 8,
    device: DeviceOpt = None,
    dtype: DtypeOpt = None,
    model_path: Annotated[str | None, typer.Option("--model-path", help="hf: load the model from here instead of "
                                                   "the path the run recorded.")] = None,
) -> None:
    """Re-run the submitted reviewer on a sample of items; require identical raw replies; write reproduced.json.

    Uses the run's recorded prompt and (temperature-0) decoding; the deterministic baselines are recomputed.
    Exit status 0 when every sampled reply is identical, 1 when some differ (named), 2 when it cannot run.
    """
    from bench.models import ModelOptions
    from leaderboard.reproduce import ReproduceError, reproduce

    opts = ModelOptions(concurrency=concurrency, base_url=base_url, api_key_env=api_key_env, device=device, dtype=dtype)
    try:
        rec = reproduce(submission, sample, model_options=opts, model_path=model_path)
    except ReproduceError as exc:
        fail(escape(str(exc)))
    where = escape(printable(str(submission / REPRODUCED)))
    for d in rec.identity_differences:
        err.print(f"note: reviewer identity differs from the run's: {d}", markup=False, highlight=False, soft_wrap=True)
    how = "recomputed" if rec.method == "recomputed" else "re-generated"
    if rec.passed:
        out.print(f"[bold green]reproduced:[/] all {len(rec.sample)} sampled items {how} with identical replies "
                  f"(seed {rec.seed}); wrote {where}", highlight=False, soft_wrap=True)
        return
    named = ", ".join(f"{m.candidate_id} ({', '.join(m.fields)})" for m in rec.mismatches)
    err.print(f"[bold red]not reproduced:[/] {len(rec.mismatches)} of {len(rec.sample)} sampled items differ from the "
              f"submission: {escape(named)}; wrote {where} (the entry is shown as self-reported)", highlight=False,
              soft_wrap=True)
    raise typer.Exit(1)


@leaderboard_app.command("build")
def build_cmd(
    out_dir: Annotated[Path, typer.Option("--out", help="Where to write the site.")] = SITE_DIR,
    submissions: Annotated[Path, typer.Option("--submissions")] = SUBMISSIONS_DIR,
) -> None:
    """Validate every submission and render the static site (index.html, entry pages, results.json/csv, plots)."""
    sb = LazySandbox()
    try:
        res = build_site(submissions, out_dir, sandbox=sb)
    finally:
        sb.close()
    table = Table(title=f"leaderboard: {len(res.entries)} entries")
    for col in ("suite", "items", "rank", "name", "reviewer", "catch@5%fpr", "auroc", "checked"):
        table.add_column(col)

    def num(est: dict[str, Any]) -> str:
        return "n/a" if est["value"] is None else f"{est['value']:.3f}"

    for e in res.entries:  # ranked within each (suite, subset) group: rank restarts at every group
        m = e["metrics"]
        table.add_row(escape(f"{e['suite']['name']} {e['suite']['version']}"),
                      f"{e['n_items']}{' (subset)' if e['subset'] else ''}", f"{e['rank']}{'=' if e['tied'] else ''}",
                      escape(e["name"]), escape(e["reviewer"]), num(m["catch@5%fpr"]), num(m["auroc"]), e["reproduced"])
    out.print(table)
    for v in res.rejected:
        err.print(f"[bold red]rejected:[/] {escape(printable(str(v.path)))} ({len(v.problems)} problem(s))",
                  highlight=False, soft_wrap=True)
        _problems(v, 20)
    out.print(f"site: {escape(str((out_dir / 'index.html').resolve()))}  (preview: obench leaderboard serve)",
              highlight=False)
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
