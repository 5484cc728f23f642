"""Transformers causal LMs as :class:`~bench.models.Model`: spec ``hf:<hub-id-or-local-path>``.

A spec naming an existing directory loads it with ``local_files_only`` (a directory written
by ``save_pretrained``); anything else is a hub id, loaded by the usual hub code path (from
the local cache when ``HF_HUB_OFFLINE=1``). torch and transformers are imported when a
model is created, not when this module is imported.

Prompts are rendered with the tokenizer's chat template when it has one, else with the
plain format of :func:`render_plain`. Generation runs in batches of
``ModelOptions.concurrency`` prompts, sorted by length and left-padded. Decoding is greedy
when ``temperature == 0``; sampling (``temperature`` and ``top_p``, no top-k) is seeded
per batch from ``(seed, batch_number)`` (:func:`batch_seed`), so a call is reproducible for
the same prompts, batch size and device (a sample depends on its batch-mates). The model's ``generation_config.json`` still supplies the stop
tokens and settings the config does not set (e.g. ``repetition_penalty``).
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.models import GenerateConfig, Generation, Message, ModelOptions, UnknownModel, register_model

HOW_TO_FIX = (
    "Expected a directory with config.json, tokenizer files and weights (*.safetensors or *.bin) "
    "saved by save_pretrained(), or a hub id like 'org/name' (already in the local cache when HF_HUB_OFFLINE=1)"
)
WEIGHT_PATTERNS = ("*.safetensors", "*.bin")
TOKENIZER_PATTERNS = (
    "tokenizer*",
    "special_tokens_map.json",
    "added_tokens.json",
    "chat_template.*",
    "vocab.*",
    "merges.txt",
)


def render_plain(messages: Sequence[Message]) -> str:
    """The fallback prompt for tokenizers without a chat template.

    Each message becomes ``"<Role>: <content>"`` (role capitalized), messages are separated
    by a blank line, and the prompt ends with ``"Assistant:"`` for the reply::

        System: You review code.

        User: Is this correct?

        Assistant:
    """
    parts = [f"{m['role'].capitalize()}: {m['content']}" for m in messages]
    parts.append("Assistant:")
    return "\n\n".join(parts)


def batch_seed(seed: int, batch_number: int) -> int:
    """The torch seed of one batch: a hash of ``(seed, batch_number)``.

    Not ``seed + batch_number``, which would give batch 1 of seed 0 the random stream of
    batch 0 of seed 1.
    """
    digest = hashlib.sha256(f"{seed}:{batch_number}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def _update(digest: Any, path: Path) -> None:
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)


def _sha256_file(path: Path) -> str | None:
    """sha256 of one file's bytes; None when it does not exist."""
    if not path.is_file():
        return None
    digest = hashlib.sha256()
    _update(digest, path)
    return digest.hexdigest()


def _sha256_files(paths: Iterable[Path]) -> str | None:
    """sha256 over (name, NUL, bytes) of each file, in name order; None when there is no file."""
    files = sorted(set(paths), key=lambda p: p.name)
    if not files:
        return None
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode() + b"\0")
        _update(digest, path)
    return digest.hexdigest()


def _matching(directory: Path, patterns: Sequence[str]) -> list[Path]:
    return [p for pattern in patterns for p in directory.glob(pattern) if p.is_file()]


def _looks_like_path(name: str) -> bool:
    """True for names that can only be a filesystem path (a hub id is ``name`` or ``org/name``)."""
    return name.startswith(("/", ".", "~")) or "\\" in name or name.count("/") > 1


def _pick_device(requested: str | None) -> str:
    import torch

    if requested:
        try:
            torch.device(requested)
        except (RuntimeError, ValueError) as exc:
            raise UnknownModel(f"hf: invalid device {requested!r}: {exc}; use cpu, cuda, cuda:N or mps") from exc
        return requested
    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


def _pick_dtype(requested: str | None, device: str) -> Any:
    import torch

    if requested:
        dtype = getattr(torch, requested, None)
        if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
            raise UnknownModel(f"hf: unknown dtype {requested!r}; use float32, bfloat16 or float16")
        return dtype
    if device.startswith("cuda"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device.startswith("mps"):
        return torch.float16
    return torch.float32


@dataclass
class _Prompt:
    index: int
    ids: list[int]
    truncated: int


class HFModel:
    """A transformers causal LM (spec ``hf:<hub-id-or-local-path>``).

    Args:
        name: a local directory saved by ``save_pretrained`` or a hub id.
        options: ``concurrency`` is the batch size; ``device`` and ``dtype`` pick where and
            how the weights run (None: cuda > mps > cpu; float32 on cpu, bfloat16 or
            float16 on cuda, float16 on mps).

    Raises:
        UnknownModel: no name, a missing directory, an invalid device or dtype, or a model
            or tokenizer that cannot be loaded (with the reason and how to fix it).
    """

    def __init__(self, name: str, options: ModelOptions | None = None) -> None:
        if not name:
            raise UnknownModel("hf: no model named; use hf:<hub-id-or-local-path>")
        options = options or ModelOptions()
        self.name = name
        self.batch_size = max(1, options.concurrency)
        path = Path(name).expanduser()
        self.local = path.exists()
        if self.local and not path.is_dir():
            raise UnknownModel(f"hf: {path} is a file, not a model directory. {HOW_TO_FIX}")
        if self.local and not (path / "config.json").is_file():
            raise UnknownModel(f"hf: {path} has no config.json. {HOW_TO_FIX}")
        if not self.local and _looks_like_path(name):
            raise UnknownModel(f"hf: model directory {path} does not exist. {HOW_TO_FIX}")
        self.directory: Path | None = path.resolve() if self.local else None
        self.device = _pick_device(options.device)
        self.dtype = _pick_dtype(options.dtype, self.device)

        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        source = str(self.directory) if self.directory else name
        try:
            tokenizer: Any = AutoTokenizer.from_pretrained(source, local_files_only=self.local)
            model: Any = AutoModelForCausalLM.from_pretrained(source, local_files_only=self.local, dtype=self.dtype)
            model.to(self.device)
        except Exception as exc:  # noqa: BLE001 - OSError, ValueError, KeyError, ImportError... from loading
            where = f"directory {source}" if self.local else f"hub id {source!r}"
            reason = str(exc).strip().rstrip(".")
            raise UnknownModel(f"hf: cannot load the model from {where}: {type(exc).__name__}: {reason}. {HOW_TO_FIX}") from exc
        model.eval()
        tokenizer.padding_side = "left"
        tokenizer.model_max_length = 1 << 62  # prompts are fitted to the context here (_fit), not by the tokenizer
        if tokenizer.pad_token_id is None:
            if tokenizer.eos_token_id is None:
                raise UnknownModel(f"hf: the tokenizer of {source} has neither a pad nor an eos token")
            tokenizer.pad_token = tokenizer.eos_token
        self.tokenizer: Any = tokenizer
        self.model: Any = model
        self.torch: Any = torch
        eos = model.generation_config.eos_token_id
        if eos is None:
            eos = tokenizer.eos_token_id
        self.stop_ids: list[int] = [eos] if isinstance(eos, int) else [int(t) for t in eos or []]
        self.max_positions = self._max_positions()
        self._describe: dict[str, Any] | None = None

    @property
    def spec(self) -> str:
        """``hf:<name>`` as given."""
        return f"hf:{self.name}"

    @property
    def has_chat_template(self) -> bool:
        """Whether prompts are rendered with the tokenizer's chat template."""
        return bool(getattr(self.tokenizer, "chat_template", None))

    def _max_positions(self) -> int | None:
        config = self.model.config
        if hasattr(config, "get_text_config"):
            config = config.get_text_config()
        for attr in ("max_position_embeddings", "n_positions"):
            value = getattr(config, attr, None)
            if isinstance(value, int) and value > 0:
                return value
        return None

    def render(self, messages: Sequence[Message]) -> str:
        """The prompt text for ``messages``: the chat template with the generation prompt, else :func:`render_plain`."""
        if self.has_chat_template:
            return str(
                self.tokenizer.apply_chat_template(
                    [dict(m) for m in messages], tokenize=False, add_generation_prompt=True
                )
            )
        return render_plain(messages)

    def encode(self, messages: Sequence[Message]) -> list[int]:
        """The prompt token ids for ``messages`` (the tokens of :meth:`render`).

        Control tokens written *inside* message contents (``<|im_end|>``, ``<|endoftext|>``...)
        are encoded as plain text, never as the control tokens themselves, so reviewed code
        cannot close its own message or forge a turn.
        """
        if self.has_chat_template:
            ids = self.tokenizer.apply_chat_template(
                [dict(m) for m in messages],
                tokenize=True,
                add_generation_prompt=True,
                return_dict=False,
                sanitize_control_tokens=True,
            )
        else:
            ids = self.tokenizer(render_plain(messages), split_special_tokens=True)["input_ids"]
        return [int(t) for t in ids]

    def _fit(self, ids: list[int], new_tokens: int) -> tuple[list[int], int]:
        """``ids`` cut from the left (keeping a leading bos) so that prompt + new tokens fit the context."""
        if self.max_positions is None or len(ids) + new_tokens <= self.max_positions:
            return ids, 0
        keep = self.max_positions - new_tokens
        cut = len(ids) - keep
        bos = self.tokenizer.bos_token_id
        if bos is not None and ids[0] == bos and keep > 1:
            return [bos, *ids[cut + 1 :]], cut
        return ids[cut:], cut

    def describe(self) -> dict[str, Any]:
        """Backend, model, hashes of the local files (or the hub commit), device, dtype, versions."""
        if self._describe is None:
            import transformers

            directory, revision = self.directory, None
            if directory is None:
                directory, revision = self._hub_snapshot()
            self._describe = {
                "backend": "hf",
                "model": self.name,
                "revision": revision,
                "config_sha256": _sha256_file(directory / "config.json") if directory else None,
                # A hub commit pins the weights; hashing gigabytes again would add nothing.
                "weights_sha256": _sha256_files(_matching(directory, WEIGHT_PATTERNS)) if self.local and directory else None,
                "tokenizer_sha256": _sha256_files(_matching(directory, TOKENIZER_PATTERNS)) if directory else None,
                "generation_config_sha256": _sha256_file(directory / "generation_config.json") if directory else None,
                "device": self.device,
                "dtype": str(self.dtype).removeprefix("torch."),
                "chat_template": self.has_chat_template,
                "max_positions": self.max_positions,
                "transformers": transformers.__version__,
                "torch": self.torch.__version__,
            }
        return dict(self._describe)

    def _hub_snapshot(self) -> tuple[Path | None, str | None]:
        """The cached snapshot directory and commit hash of a hub model, when the cache knows them."""
        try:
            from huggingface_hub import try_to_load_from_cache

            found = try_to_load_from_cache(self.name, "config.json")
        except Exception:  # noqa: BLE001 - best effort: the manifest then records no revision
            return None, None
        if not isinstance(found, str):
            return None, None
        match = re.search(r"snapshots/([0-9a-f]{40})/", Path(found).as_posix())
        return Path(found).parent, match.group(1) if match else None

    def generate(self, prompts: Sequence[Sequence[Message]], config: GenerateConfig) -> Iterator[tuple[int, Generation]]:
        """Yield ``(index, generation)`` for every prompt exactly once, batch by batch.

        Prompts are sorted by token length (longest first) and run in batches of
        ``concurrency``. A prompt longer than the context allows is cut from the left
        (``extra["truncated_tokens"]``). A prompt that cannot be rendered, or a batch that
        fails (out of memory...), yields generations with ``error`` set instead of raising.
        ``input_tokens`` counts the prompt as the model saw it; ``output_tokens`` counts the
        generated tokens up to and including the first stop token.
        """
        new_tokens = config.max_new_tokens
        clamped = self.max_positions is not None and new_tokens >= self.max_positions
        if clamped and self.max_positions is not None:
            new_tokens = self.max_positions - 1
        todo: list[_Prompt] = []
        for index, messages in enumerate(prompts):
            try:
                ids = self.encode(messages)
                if not ids:
                    raise ValueError("the prompt has no tokens")
            except Exception as exc:  # noqa: BLE001 - template errors (empty chat, bad role...) fail one prompt
                yield index, Generation(text="", attempts=0, error=f"cannot render the prompt: {type(exc).__name__}: {exc}")
                continue
            ids, cut = self._fit(ids, new_tokens)
            todo.append(_Prompt(index, ids, cut))
        todo.sort(key=lambda p: (-len(p.ids), p.index))

        for number, start in enumerate(range(0, len(todo), self.batch_size)):
            batch = todo[start : start + self.batch_size]
            began = time.perf_counter()
            try:
                outputs = self._generate_batch([p.ids for p in batch], config, new_tokens, batch_seed(config.seed, number))
            except Exception as exc:  # noqa: BLE001 - OOM, device errors...: fail this batch, not the run
                if self.device.startswith("cuda"):
                    self.torch.cuda.empty_cache()
                latency = time.perf_counter() - began
                error = f"generation failed: {type(exc).__name__}: {exc}"
                for p in batch:
                    yield p.index, Generation(text="", input_tokens=len(p.ids), latency_s=latency, error=error)
                continue
            latency = time.perf_counter() - began
            for p, (text, n_out) in zip(batch, outputs):
                extra: dict[str, Any] = {}
                if p.truncated:
                    extra["truncated_tokens"] = p.truncated
                if clamped:
                    extra["max_new_tokens"] = new_tokens
                yield p.index, Generation(
                    text=text, input_tokens=len(p.ids), output_tokens=n_out, latency_s=latency, extra=extra
                )

    def _generate_batch(
        self, batch: list[list[int]], config: GenerateConfig, new_tokens: int, seed: int
    ) -> list[tuple[str, int]]:
        """Left-pad ``batch``, generate, and return (text, output tokens) per row."""
        torch = self.torch
        width = max(len(ids) for ids in batch)
        input_ids = torch.full((len(batch), width), self.tokenizer.pad_token_id, dtype=torch.long)
        attention_mask = torch.zeros((len(batch), width), dtype=torch.long)
        for row, ids in enumerate(batch):
            input_ids[row, width - len(ids) :] = torch.tensor(ids, dtype=torch.long)
            attention_mask[row, width - len(ids) :] = 1
        kwargs: dict[str, Any] = {
            "max_new_tokens": new_tokens,
            "num_beams": 1,
            "pad_token_id": self.tokenizer.pad_token_id,
            "eos_token_id": self.stop_ids or None,
        }
        if config.temperature > 0:
            kwargs.update(do_sample=True, temperature=config.temperature, top_p=config.top_p, top_k=0)
            torch.manual_seed(seed)
        else:
            kwargs.update(do_sample=False)
        with torch.inference_mode():
            out = self.model.generate(
                input_ids=input_ids.to(self.device), attention_mask=attention_mask.to(self.device), **kwargs
            )
        results = []
        for row in out[:, width:].tolist():
            end = next((i for i, t in enumerate(row) if t in self.stop_ids), None)
            text = self.tokenizer.decode(row[:end], skip_special_tokens=True)
            results.append((text, len(row) if end is None else end + 1))
        return results


@register_model("hf", "hf:<hub-id-or-local-path>")
def create_hf_model(spec: str, options: ModelOptions) -> HFModel:
    """The :class:`HFModel` for ``hf:<hub-id-or-local-path>``."""
    return HFModel(spec.partition(":")[2], options)
