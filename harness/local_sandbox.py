"""The ``local`` sandbox: a runner subprocess with rlimits. Not isolation."""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

from harness.jobs import Limits, SandboxInfo
from harness.links import ProcessLink, RunnerLink
from harness.sandbox import PooledSandbox, register_sandbox

RUNNER = Path(__file__).resolve().parent / "runner.py"
NOT_ISOLATION = (
    "sandbox 'local' is NOT isolation: untrusted code runs on this host as your user, "
    "with only rlimits, its own process group and a temp dir. Use it only for trusted code."
)


@register_sandbox("local")
class LocalSandbox(PooledSandbox):
    """Explicit opt-in execution on the host, for machines without Docker.

    Each job still runs in a forked child with its own process group, rlimits and
    temp dir, but can read your files, use the network and outlive its job if it
    escapes its process group.
    """

    name = "local"

    def __init__(self, limits: Limits | None = None, workers: int | None = None, quiet: bool = False) -> None:
        super().__init__(limits, workers or min(2, os.cpu_count() or 1))
        if not quiet:
            warnings.warn(NOT_ISOLATION, stacklevel=2)
            print(f"warning: {NOT_ISOLATION}", file=sys.stderr)

    def _start_link(self) -> RunnerLink:
        env = {"PYTHONHASHSEED": "0", "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
        link = ProcessLink([sys.executable, "-S", "-B", str(RUNNER), "--isolation", "none"], env)
        try:
            link.ping()
        except BaseException:
            link.kill()
            raise
        return link

    def info(self) -> SandboxInfo:
        return SandboxInfo(backend="local", isolated=False, image_tag=None, image_digest=None,
                           workers=self.workers, limits=self.limits, python=sys.version.split()[0])
