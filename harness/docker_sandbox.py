"""The ``docker`` sandbox: hardened long-lived containers, one runner stream each."""

from __future__ import annotations

import os
import socket
from typing import Any

from harness.image import find_image, recipe
from harness.jobs import Limits, SandboxInfo
from harness.links import RunnerLink, SocketLink
from harness.sandbox import PooledSandbox, SandboxError, register_sandbox

LABEL = "org.oversightbench.sandbox"
OWNER_LABEL = "org.oversightbench.owner-pid"
RUNNER_ARGV = ["python3", "-S", "-B", "/opt/obench/runner.py", "--isolation", "uid"]
TMPFS_MB = 64


class DockerUnavailable(SandboxError):
    """The Docker daemon cannot be reached."""


def docker_client() -> Any:
    """A Docker SDK client that has answered a ping.

    Raises:
        DockerUnavailable: with instructions to start the daemon or use ``--sandbox local``.
    """
    try:
        import docker

        client = docker.from_env(timeout=60)
        client.ping()
        return client
    except Exception as exc:  # noqa: BLE001 - any failure means the same to the user
        host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
        raise DockerUnavailable(
            f"cannot reach the Docker daemon at {host} ({type(exc).__name__}: {exc}).\n"
            "Start it (as root: `make docker`, or `dockerd > /var/log/dockerd.log 2>&1 &`), "
            "or run without isolation with `--sandbox local`."
        ) from None


def hardening(limits: Limits) -> dict[str, Any]:
    """``containers.run`` arguments that make a container a sandbox.

    The container runs as root with only CAP_SETUID, CAP_SETGID and CAP_KILL so
    the runner can drop each job to a fresh uid (which then has no capabilities)
    and kill what it leaves behind.
    """
    mem = 2 * limits.memory_mb + 160  # candidate and test processes + the runner
    return {
        "user": "0:0",
        "network_mode": "none",
        "read_only": True,
        "tmpfs": {"/tmp": f"rw,nosuid,nodev,noexec,size={TMPFS_MB}m,mode=1777"},
        "mem_limit": f"{mem}m",
        "memswap_limit": f"{mem}m",
        "pids_limit": 4 * limits.nproc,
        "nano_cpus": 1_000_000_000,
        "cap_drop": ["ALL"],
        "cap_add": ["SETUID", "SETGID", "KILL"],
        "security_opt": ["no-new-privileges"],
        "ipc_mode": "none",
        "init": True,
        "environment": {"PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1", "LANG": "C.UTF-8"},
        "labels": {LABEL: "1", OWNER_LABEL: str(os.getpid())},
        "detach": True,
    }


def prune_stale(client: Any) -> int:
    """Remove sandbox containers left by processes that no longer exist.

    Reads the container list in one call (``containers.list`` inspects each container after listing
    them, and raises NotFound when another process removes one in between).
    """
    removed = 0
    for c in client.api.containers(all=True, filters={"label": LABEL}):
        pid = str((c.get("Labels") or {}).get(OWNER_LABEL, ""))
        alive = pid.isdigit() and os.path.exists(f"/proc/{pid}")
        if not alive:
            try:
                client.api.remove_container(c["Id"], force=True)
                removed += 1
            except Exception:  # noqa: BLE001 - already gone (another process removed it), or the daemon refused
                pass
    return removed


@register_sandbox("docker")
class DockerSandbox(PooledSandbox):
    """Isolated execution in hardened containers (the default).

    Args:
        limits: default job limits (also size the container).
        workers: containers working at once (one more is kept warm).
        image: image tag; default: the built image for the current sources.
    """

    name = "docker"

    def __init__(self, limits: Limits | None = None, workers: int | None = None, image: str | None = None) -> None:
        super().__init__(limits, workers or min(2, os.cpu_count() or 1))
        self.client = docker_client()
        prune_stale(self.client)
        if image is None:
            found = find_image(self.client)
            if found is None:
                raise SandboxError(
                    f"the sandbox image {recipe('offline').tag} is not built: run "
                    "`obench harness build-image --offline` (or `make image`)"
                )
            image = found[0]
        try:
            img = self.client.images.get(image)
        except Exception as exc:  # noqa: BLE001
            raise SandboxError(f"sandbox image {image!r} not found: {exc}") from None
        self.image_tag = image
        self.image_digest = str(img.id)

    def _start_link(self) -> RunnerLink:
        container = self.client.containers.run(self.image_tag, ["sleep", "infinity"], **hardening(self.limits))
        api = self.client.api

        def remove() -> None:
            try:
                api.remove_container(container.id, force=True)
            except Exception:  # noqa: BLE001 - already gone
                pass

        try:
            exec_id = api.exec_create(container.id, RUNNER_ARGV, stdin=True, stdout=True, stderr=True,
                                      user="0:0", environment={"PYTHONHASHSEED": "0"})
            wrapped = api.exec_start(exec_id, socket=True)
            sock: socket.socket = getattr(wrapped, "_sock", wrapped)
            sock.setblocking(True)
            link = SocketLink(sock, remove)
            hello = link.ping()
            if not hello.get("pong") or hello.get("uid") != 0:
                raise SandboxError(f"sandbox runner answered unexpectedly: {hello}")
        except BaseException:
            remove()
            raise
        link.container_id = container.id  # type: ignore[attr-defined]
        return link

    def container_ids(self) -> list[str]:
        """Containers currently in this sandbox's pool (busy or warm)."""
        pool = self._pool
        return [getattr(link, "container_id", "") for link in (pool.links() if pool else [])]

    def info(self) -> SandboxInfo:
        return SandboxInfo(backend="docker", isolated=True, image_tag=self.image_tag,
                           image_digest=self.image_digest, workers=self.workers, limits=self.limits,
                           python="3.11")
