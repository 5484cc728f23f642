"""Sandbox image: a content-hashed tag, an online Dockerfile and an offline build.

Both paths put the same layer (the runner and codec, a non-root default user) on a
Python 3.11 Debian bookworm runtime. Online, the base is ``python:3.11-slim-bookworm``
pulled from a registry; offline, it is a root filesystem made by ``debootstrap``
and ``docker import``-ed, because no registry may be reachable.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import docker

HERE = Path(__file__).resolve().parent
IMAGE_DIR = HERE / "image"
REPOSITORY = "obench-sandbox"
LAYER_FILES = ("runner.py", "codec.py")
ONLINE_BASE = "python:3.11-slim-bookworm"
OFFLINE_SUITE = "bookworm"
OFFLINE_BASE = f"obench-base:{OFFLINE_SUITE}-minbase-python3"
DEBIAN_MIRROR = "http://deb.debian.org/debian"

Variant = Literal["offline", "online"]


class ImageError(RuntimeError):
    """The sandbox image is missing or could not be built."""


@dataclass(frozen=True)
class ImageRecipe:
    """What goes into a sandbox image variant; its hash names the tag."""

    variant: Variant
    base: str
    dockerfile: str
    files: tuple[tuple[str, bytes], ...]

    @property
    def content_hash(self) -> str:
        h = hashlib.sha256()
        h.update(self.base.encode())
        h.update(b"\0" + self.dockerfile.encode())
        for name, data in self.files:
            h.update(b"\0" + name.encode() + b"\0" + hashlib.sha256(data).digest())
        return h.hexdigest()

    @property
    def tag(self) -> str:
        return f"{REPOSITORY}:{self.variant}-{self.content_hash[:12]}"


def recipe(variant: Variant) -> ImageRecipe:
    """The recipe for ``variant`` built from the files in this package."""
    template = (IMAGE_DIR / "Dockerfile").read_text()
    base = OFFLINE_BASE if variant == "offline" else ONLINE_BASE
    dockerfile = template.replace("ARG BASE_IMAGE=" + ONLINE_BASE, "ARG BASE_IMAGE=" + base)
    files = tuple((name, (HERE / name).read_bytes()) for name in LAYER_FILES)
    return ImageRecipe(variant=variant, base=base, dockerfile=dockerfile, files=files)


def find_image(client: docker.DockerClient) -> tuple[str, str] | None:
    """The (tag, image id) of a built sandbox image for the current sources, if any."""
    import docker.errors

    for variant in ("offline", "online"):
        tag = recipe(variant).tag  # type: ignore[arg-type]
        try:
            img = client.images.get(tag)
        except docker.errors.ImageNotFound:
            continue
        return tag, str(img.id)
    return None


def _build_layer(client: docker.DockerClient, rec: ImageRecipe, log) -> str:
    import docker.errors

    with tempfile.TemporaryDirectory(prefix="obench-image-") as tmp:
        ctx = Path(tmp)
        (ctx / "Dockerfile").write_text(rec.dockerfile)
        for name, data in rec.files:
            (ctx / name).write_bytes(data)
        try:
            img, logs = client.images.build(
                path=str(ctx), tag=rec.tag, rm=True, forcerm=True, pull=False,
                labels={"org.oversightbench.content-hash": rec.content_hash},
            )
        except docker.errors.BuildError as exc:
            tail = "".join(str(c.get("stream", c.get("error", ""))) for c in exc.build_log)[-2000:]
            raise ImageError(f"building {rec.tag} failed:\n{tail}") from exc
        except docker.errors.APIError as exc:
            raise ImageError(f"building {rec.tag} failed: {exc}") from exc
        for chunk in logs:
            if "stream" in chunk:
                log(str(chunk["stream"]).rstrip())
    return str(img.id)


def _ensure_offline_base(client: docker.DockerClient, log, mirror: str) -> None:
    import docker.errors

    try:
        client.images.get(OFFLINE_BASE)
        return
    except docker.errors.ImageNotFound:
        pass
    if shutil.which("debootstrap") is None:
        raise ImageError(
            "the offline image needs debootstrap: run `apt-get install debootstrap` as root "
            "(or build online with a reachable registry: `obench harness build-image`)"
        )
    with tempfile.TemporaryDirectory(prefix="obench-rootfs-") as tmp:
        root = Path(tmp) / "rootfs"
        log(f"debootstrap --variant=minbase --include=python3 {OFFLINE_SUITE} (about a minute)")
        cmd = ["debootstrap", "--variant=minbase", "--include=python3", OFFLINE_SUITE, str(root), mirror]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise ImageError(f"debootstrap failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
        archive = Path(tmp) / "rootfs.tar"
        with tarfile.open(archive, "w") as tar:
            tar.add(str(root), arcname=".")
        shutil.rmtree(root, ignore_errors=True)
        log(f"docker import -> {OFFLINE_BASE}")
        repo, tag = OFFLINE_BASE.split(":")
        with archive.open("rb") as f:
            client.api.import_image_from_data(f.read(), repository=repo, tag=tag)


def build_image(
    client: docker.DockerClient,
    variant: Variant = "offline",
    *,
    log=print,
    mirror: str = DEBIAN_MIRROR,
    force: bool = False,
) -> tuple[str, str]:
    """Build the sandbox image (skipped when its tag exists); returns (tag, image id)."""
    import docker.errors

    rec = recipe(variant)
    if not force:
        try:
            img = client.images.get(rec.tag)
            log(f"{rec.tag} already built")
            return rec.tag, str(img.id)
        except docker.errors.ImageNotFound:
            pass
    if variant == "offline":
        _ensure_offline_base(client, log, mirror)
    else:
        try:
            client.images.pull(ONLINE_BASE)
        except docker.errors.APIError as exc:
            raise ImageError(
                f"cannot pull {ONLINE_BASE} ({exc.explanation or exc}); no registry is reachable? "
                "Build from a Debian root filesystem instead: `obench harness build-image --offline`"
            ) from exc
    image_id = _build_layer(client, rec, log)
    return rec.tag, image_id
