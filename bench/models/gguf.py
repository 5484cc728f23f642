"""GGUF models run in process by llama.cpp: specs ``gguf:<path.gguf>`` and ``local:<catalogue name>``.

``local:<name>`` resolves a :mod:`bench.models.catalogue` name to its installed file (an
uninstalled model fails with the ``obench models install NAME`` to run). Options go in
:class:`~bench.models.ModelOptions` or in a query on the spec, which wins:
``gguf:/m/x.gguf?n_ctx=8192&prefix_cache=0``. Known keys: ``n_ctx`` (context per
sequence, default 4096), ``n_threads`` (default ``os.cpu_count()``), ``prefix_cache``
(1/0, default 1). ``llama_cpp`` is imported when a model is created, so ``obench`` works
without the ``local`` extra.

How prompts are run:

- **Chat template.** The model's own template from the GGUF metadata
  (``tokenizer.chat_template``), rendered by llama-cpp-python's Jinja2 chat formatter
  (the formatter of ``Llama.create_chat_completion``), else the plain format of
  :func:`bench.models.hf.render_plain`. Message *contents* are tokenized as plain text,
  never as control tokens, so reviewed code that contains ``<|im_end|>`` cannot close its
  own message or forge a turn; the template's own markup is tokenized with control tokens.
- **Batching.** Up to ``ModelOptions.concurrency`` sequences decode together through
  llama.cpp's low-level API: one context with ``n_seq_max`` sequences; each step decodes
  the next token of every active sequence in one ``llama_batch`` (in even groups of at most
  :data:`MAX_DECODE_ROWS`), and a finished sequence's slot takes the next prompt at once
  (continuous batching). Prompts are prefilled one at a time, in the same chunks whatever
  the batch.
- **Exactness.** Greedy output is the same batched or not, token for token (tested on
  SmolLM2 and Qwen2.5-Coder-0.5B at batch 1, 4, 5 and 8, 1 and 2 threads). Four choices
  make it so, each measured to break it otherwise (max logit change in one step): every
  sequence has its own KV stream (``kv_unified=False``; a unified cache: 0.46 with other
  sequences present), flash attention is off (its CPU single-query path splits the KV
  reduction across threads: 0.64 at 2 threads), weights are not repacked
  (``use_extra_bufts=False``; the repacked Q4_K gemm for 4-row groups: 0.48), and a decode
  call holds at most :data:`MAX_DECODE_ROWS` tokens (the 8-row matmul kernel: 0.52). With
  all four, each token's row is computed as if alone: results do not depend on
  batch-mates, batch size or thread count. (Measured on x86-64 with AVX-512; a CPU whose
  kernels change at other row counts could differ, which tests/test_gguf.py would show.)
- **Prefix reuse.** A prompt that starts with a system message has that message's
  tokens (the template rendered up to it) evaluated once into a cache sequence and copied
  (``llama_memory_seq_cp``, a stream copy) into each new sequence that starts with the
  same tokens; the last ``PREFIX_SLOTS`` distinct prefixes are kept. Prompts are split
  there (prefix, then the rest, each in chunks of ``N_BATCH``) with the cache on or off, so
  the cache changes speed, never output (``prefix_cache=0`` gives the same text; tested).
- **Decoding.** ``temperature == 0`` is greedy. Sampling (``temperature``, ``top_p``)
  seeds each prompt from ``(seed, prompt tokens)``, so a sample does not depend on its
  batch-mates. ``GenerateConfig.json_schema`` constrains every sequence with a grammar made
  by llama-cpp-python's ``json_schema_to_gbnf`` (``LlamaGrammar.from_json_schema``).
- **Context.** A prompt longer than ``n_ctx - max_new_tokens`` is cut from the left
  (``extra["truncated_tokens"]``), like the ``hf`` backend.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import logging
import os
import re
import threading
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import numpy as np

from bench.models import GenerateConfig, Generation, Message, ModelOptions, UnknownModel, register_model

DEFAULT_N_CTX = 4096
"""Context per sequence (prompt + reply), in tokens."""
N_BATCH = 512
"""Largest llama_batch (prefill chunk) in tokens."""
MAX_DECODE_ROWS = 7
"""Most tokens in one decode call. llama.cpp's CPU matmuls take another kernel from 8 rows
on, which rounds some rows differently (up to 0.5 in a logit, measured on Q4_K_M and
x86-64); below 8 every row is computed as if alone. A step of more sequences is split into
even groups (8 -> 4 + 4): on 2 CPU cores decode is compute-bound, and batch 8 measured the
same throughput as batch 4 (tools/gguf_bench.py)."""
PREFIX_SLOTS = 2
"""Distinct cached prompt prefixes kept (each in its own sequence)."""
MIN_PREFIX = 16
"""Shorter system prefixes are not worth a cache sequence."""
INSTALL_HINT = "pip install 'oversightbench[local]' (llama-cpp-python[server]==0.3.36; it compiles llama.cpp, ~5-15 min)"
QUERY_KEYS = ("n_ctx", "n_threads", "prefix_cache")

_TOKEN_DATA = np.dtype([("id", np.int32), ("logit", np.float32), ("p", np.float32)])
"""llama.cpp's ``llama_token_data`` as a numpy record (the full-vocabulary grammar check fills an array of them)."""

_BACKEND_LOCK = threading.Lock()
_BACKEND_READY = False


def _llama_cpp() -> Any:
    """The ``llama_cpp`` module, or UnknownModel saying how to install it."""
    try:
        import llama_cpp
    except ImportError as exc:
        raise UnknownModel(f"gguf: llama-cpp-python is not installed ({exc}); {INSTALL_HINT}") from exc
    global _BACKEND_READY
    with _BACKEND_LOCK:
        if not _BACKEND_READY:
            # llama.cpp's own log lines go through this logger (its callback is installed by `import llama_cpp`)
            log = logging.getLogger("llama-cpp-python")
            if log.level == logging.NOTSET:
                log.setLevel(logging.ERROR)
            llama_cpp.llama_backend_init()
            _BACKEND_READY = True
    return llama_cpp


def parse_spec_query(rest: str) -> tuple[str, dict[str, str]]:
    """``"<name>?k=v&..."`` -> (name, {k: v}); unknown keys raise UnknownModel."""
    name, _, query = rest.partition("?")
    params = dict(parse_qsl(query, keep_blank_values=True)) if query else {}
    unknown = sorted(set(params) - set(QUERY_KEYS))
    if unknown:
        raise UnknownModel(f"unknown option(s) {', '.join(unknown)} in {rest!r}; known: {', '.join(QUERY_KEYS)}")
    return name, params


def _int_param(params: dict[str, str], key: str, default: int, minimum: int = 1) -> int:
    if key not in params:
        return default
    try:
        value = int(params[key])
    except ValueError:
        raise UnknownModel(f"gguf: {key}={params[key]!r} is not an integer") from None
    if value < minimum:
        raise UnknownModel(f"gguf: {key} must be >= {minimum}, got {value}")
    return value


def _bool_param(params: dict[str, str], key: str, default: bool) -> bool:
    if key not in params:
        return default
    value = params[key].strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise UnknownModel(f"gguf: {key}={params[key]!r} is not a boolean (use 1 or 0)")


_JSON_CHAR = r'char ::= [^"\\] |'
_STRICT_JSON_CHAR = r'char ::= [^"\\\x7F\x00-\x1F] |'


def schema_grammar(schema: dict[str, Any]) -> str:
    """The GBNF grammar of JSON values matching ``schema`` (llama-cpp-python's ``json_schema_to_gbnf``).

    Its string characters are narrowed to what JSON allows unescaped (no control
    characters: a raw newline inside a string is not JSON), as llama.cpp's own converter does.
    """
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    return str(json_schema_to_gbnf(json.dumps(schema))).replace(_JSON_CHAR, _STRICT_JSON_CHAR)


def prompt_seed(seed: int, ids: Sequence[int]) -> int:
    """The sampling seed of one prompt: a hash of ``(seed, prompt tokens)`` (32 bits)."""
    digest = hashlib.sha256(f"{seed}:".encode() + json.dumps(list(ids)).encode()).digest()
    return int.from_bytes(digest[:4], "big")


@dataclass
class _Job:
    index: int
    ids: list[int]
    prefix: int  # tokens of ids that are a cacheable prefix (0: none)
    truncated: int
    seed: int
    began: float = 0.0
    out: list[int] = field(default_factory=list)
    stopped: bool = False
    error: str | None = None


@dataclass
class _Slot:
    seq: int
    job: _Job | None = None
    n_past: int = 0
    sampler: Any = None  # a llama.cpp sampler chain, or None on the greedy grammar path
    grammar: Any = None  # the greedy grammar path's grammar sampler (see GGUFModel._sample)
    last: int = -1


class GGUFModel:
    """A GGUF file run in process by llama.cpp (specs ``gguf:<path>``, ``local:<name>``).

    Args:
        path: the GGUF file.
        options: ``concurrency`` is the number of sequences decoded together; ``n_ctx`` the
            context per sequence (None: 4096).
        spec: the spec string that created it (default ``gguf:<path>``).
        catalogue_name: the catalogue entry the file belongs to (``local:`` specs).
        n_threads: llama.cpp threads (None: ``os.cpu_count()``).
        prefix_cache: reuse the KV cache of shared system-prompt prefixes.

    Raises:
        UnknownModel: llama-cpp-python missing, no such file, not a GGUF file, or a file
            llama.cpp cannot load (with the reason and how to fix it).
    """

    def __init__(self, path: str | Path, options: ModelOptions | None = None, *, spec: str | None = None,
                 catalogue_name: str | None = None, n_threads: int | None = None, prefix_cache: bool = True) -> None:
        from bench.models.catalogue import gguf_version

        options = options or ModelOptions()
        self.path = Path(path).expanduser().resolve()
        self._spec = spec or f"gguf:{path}"
        self.catalogue_name = catalogue_name
        if not self.path.is_file():
            raise UnknownModel(f"gguf: no file {self.path}; pass a .gguf file, or a catalogue model as local:<name> "
                               "(see `obench models list`)")
        if gguf_version(self.path) is None:
            raise UnknownModel(f"gguf: {self.path} is not a GGUF file (no b'GGUF' header with version 1..3)")
        if options.concurrency < 1:
            raise UnknownModel(f"gguf: concurrency must be >= 1, got {options.concurrency}")
        self.batch_size = min(options.concurrency, 64)
        self.n_ctx = options.n_ctx or DEFAULT_N_CTX
        self.n_threads = n_threads or os.cpu_count() or 1
        self.prefix_cache = prefix_cache
        self.grammar_fast = True
        """Greedy grammar decoding checks the arg-max token first (:meth:`_sample`); False: llama.cpp's chain."""
        self.llama_cpp = _llama_cpp()
        self._lock = threading.Lock()
        self._sha256: str | None = None
        self._describe: dict[str, Any] | None = None
        self._clamped: int | None = None
        self.stats: dict[str, float] = {}
        """Counters of the last :meth:`generate` call: prefill and decode tokens and seconds, cache hits."""
        self._load()

    # ------------------------------------------------------------------------------------------ loading

    def _load(self) -> None:
        lc = self.llama_cpp
        mparams = lc.llama_model_default_params()
        mparams.n_gpu_layers = 0
        mparams.use_extra_bufts = False  # no weight repacking: its batched kernels round differently (see module doc)
        model = lc.llama_model_load_from_file(str(self.path).encode(), mparams)
        if not model:
            raise UnknownModel(f"gguf: llama.cpp cannot load {self.path} (corrupt or an unsupported architecture?); "
                               "re-install it (`obench models install NAME`) or update llama-cpp-python")
        self._model = model
        self._vocab = lc.llama_model_get_vocab(model)
        self._n_vocab = int(lc.llama_vocab_n_tokens(self._vocab))
        self._one = (lc.llama_token_data * 1)()
        self._one_array = lc.llama_token_data_array(self._one, 1, -1, False)
        self.n_ctx_train = int(lc.llama_model_n_ctx_train(model))
        self.n_seq = self.batch_size + (PREFIX_SLOTS if self.prefix_cache else 0)
        cparams = lc.llama_context_default_params()
        cparams.n_ctx = self.n_ctx * self.n_seq  # non-unified KV: every sequence gets n_ctx cells of its own
        cparams.n_batch = N_BATCH
        cparams.n_ubatch = N_BATCH
        cparams.n_seq_max = self.n_seq
        cparams.n_threads = self.n_threads
        cparams.n_threads_batch = self.n_threads
        cparams.kv_unified = False
        cparams.flash_attn_type = lc.LLAMA_FLASH_ATTN_TYPE_DISABLED
        cparams.no_perf = True
        ctx = lc.llama_init_from_model(model, cparams)
        if not ctx:
            lc.llama_model_free(model)
            raise UnknownModel(f"gguf: llama.cpp cannot create a context of {self.n_seq} x {self.n_ctx} tokens for "
                               f"{self.path} (out of memory?); lower --concurrency or n_ctx")
        self._ctx = ctx
        self._mem = lc.llama_get_memory(ctx)
        self._batch = lc.llama_batch_init(max(N_BATCH, self.batch_size), 0, 1)
        self.n_ctx_seq = int(lc.llama_n_ctx_seq(ctx))
        template = lc.llama_model_chat_template(model, None)
        self.chat_template: str | None = template.decode("utf-8", "replace") if template else None
        self._formatters = self._make_formatters()
        self._prefixes: OrderedDict[tuple[int, ...], int] = OrderedDict()  # prefix tokens -> cache seq id
        self._free_cache_seqs = list(range(self.batch_size, self.n_seq))

    def close(self) -> None:
        """Free the llama.cpp context and model (also done when the object is collected)."""
        lc = getattr(self, "llama_cpp", None)
        if lc is None:
            return
        if getattr(self, "_batch", None) is not None:
            lc.llama_batch_free(self._batch)
            self._batch = None
        if getattr(self, "_ctx", None):
            lc.llama_free(self._ctx)
            self._ctx = None
        if getattr(self, "_model", None):
            lc.llama_model_free(self._model)
            self._model = None

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown: nothing left to free with
            pass

    def _token_text(self, token: int) -> str:
        if token < 0:
            return ""
        return (self.llama_cpp.llama_vocab_get_text(self._vocab, token) or b"").decode("utf-8", "replace")

    def _make_formatters(self) -> tuple[Any, Any] | None:
        if not self.chat_template:
            return None
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        lc = self.llama_cpp
        eos, bos = lc.llama_vocab_eos(self._vocab), lc.llama_vocab_bos(self._vocab)
        template, eos_text, bos_text = self.chat_template, self._token_text(eos), self._token_text(bos)

        def formatter(generation_prompt: bool) -> Any:
            return Jinja2ChatFormatter(template=template, eos_token=eos_text, bos_token=bos_text,
                                       add_generation_prompt=generation_prompt)

        return formatter(True), formatter(False)

    # ------------------------------------------------------------------------------------------ identity

    @property
    def spec(self) -> str:
        """The spec string that created this model."""
        return self._spec

    @property
    def has_chat_template(self) -> bool:
        """Whether prompts are rendered with the GGUF file's chat template."""
        return self._formatters is not None

    def describe(self) -> dict[str, Any]:
        """Backend, catalogue name, file, its sha256 (the model identity), llama-cpp-python version, n_ctx."""
        if self._describe is None:
            import llama_cpp

            from bench.models.catalogue import file_sha256

            self._describe = {
                "backend": "gguf",
                "model": self.catalogue_name or self.path.name,
                "catalogue": self.catalogue_name,
                "path": str(self.path),
                "sha256": file_sha256(self.path),
                "size": self.path.stat().st_size,
                "chat_template": self.has_chat_template,
                "chat_template_sha256": hashlib.sha256(self.chat_template.encode()).hexdigest()
                if self.chat_template else None,
                "n_ctx": self.n_ctx,
                "structured": True,  # GenerateConfig.json_schema is enforced by a llama.cpp grammar
                "llama_cpp_python": llama_cpp.__version__,
            }
        return dict(self._describe)

    # ------------------------------------------------------------------------------------------ prompts

    def render(self, messages: Sequence[Message], add_generation_prompt: bool = True) -> str:
        """The prompt text for ``messages`` (chat template, else :func:`~bench.models.hf.render_plain`)."""
        if self._formatters is None:
            from bench.models.hf import render_plain

            text = render_plain(messages)
            return text if add_generation_prompt else text.removesuffix("Assistant:").rstrip("\n")
        formatter = self._formatters[0 if add_generation_prompt else 1]
        return str(formatter(messages=[dict(m) for m in messages]).prompt)

    def _tokenize(self, text: str, special: bool) -> list[int]:
        lc = self.llama_cpp
        data = text.encode("utf-8", "surrogatepass")
        if not data:
            return []
        cap = len(data) + 8
        buf = (lc.llama_token * cap)()
        n = lc.llama_tokenize(self._vocab, data, len(data), buf, cap, False, special)
        if n < 0:
            cap = -n
            buf = (lc.llama_token * cap)()
            n = lc.llama_tokenize(self._vocab, data, len(data), buf, cap, False, special)
            if n < 0:
                raise ValueError(f"llama_tokenize failed ({n})")
        return list(buf[:n])

    def encode(self, messages: Sequence[Message], add_generation_prompt: bool = True) -> list[int]:
        """The prompt token ids of ``messages``.

        The template is rendered with a placeholder for each message's content; the markup
        around the placeholders is tokenized with control tokens, the contents as plain
        text (so ``<|im_end|>`` inside a message is just text). No BOS is added beyond what
        the template writes (as ``Llama.create_chat_completion`` does).
        """
        nonce = uuid.uuid4().hex
        marked = [{**m, "content": f"\x00{nonce}:{i}\x00"} for i, m in enumerate(messages)]
        text = self.render(marked, add_generation_prompt)  # type: ignore[arg-type]
        ids: list[int] = []
        pieces = re.split(f"\x00{nonce}:(\\d+)\x00", text)
        for k, piece in enumerate(pieces):
            if k % 2:
                ids += self._tokenize(str(messages[int(piece)].get("content", "")), special=False)
            elif piece:
                ids += self._tokenize(piece, special=True)
        return ids

    def _prefix_len(self, messages: Sequence[Message], ids: list[int]) -> int:
        """Tokens of ``ids`` that are the rendered system message (0 when there is none or it is short).

        Prompts are prefilled in two parts at this point whether or not the prefix cache
        is on, so that the cache never changes a prompt's chunks (and so its logits).
        """
        if not messages or messages[0].get("role") != "system" or len(messages) < 2:
            return 0
        try:
            head = self.encode(messages[:1], add_generation_prompt=False)
        except Exception:  # noqa: BLE001 - a template that cannot render a lone system message: no cache
            return 0
        if len(head) < MIN_PREFIX or len(head) >= len(ids) or ids[: len(head)] != head:
            return 0
        return len(head)

    def detokenize(self, ids: Sequence[int]) -> str:
        """Text of generated tokens (control tokens are not rendered)."""
        lc = self.llama_cpp
        out = bytearray()
        buf = ctypes.create_string_buffer(256)
        for t in ids:
            n = lc.llama_token_to_piece(self._vocab, t, buf, len(buf), 0, False)
            if n < 0:
                big = ctypes.create_string_buffer(-n)
                n = lc.llama_token_to_piece(self._vocab, t, big, len(big), 0, False)
                out += big.raw[:n]
            else:
                out += buf.raw[:n]
        return out.decode("utf-8", "replace")

    # ------------------------------------------------------------------------------------------ generation

    def generate(self, prompts: Sequence[Sequence[Message]], config: GenerateConfig) -> Iterator[tuple[int, Generation]]:
        """Yield ``(index, generation)`` for every prompt exactly once, as each completes.

        Prompts that cannot be rendered, and a decode that fails, yield generations with
        ``error`` set. ``input_tokens`` counts the prompt as the model saw it;
        ``output_tokens`` the generated tokens up to and including the stop token.
        """
        with self._lock:
            yield from self._generate(prompts, config)

    def _generate(self, prompts: Sequence[Sequence[Message]], config: GenerateConfig) -> Iterator[tuple[int, Generation]]:
        self.stats = {}
        new_tokens = max(1, min(config.max_new_tokens, self.n_ctx_seq - 1))
        self._clamped = new_tokens if new_tokens != config.max_new_tokens else None
        grammar = None
        if config.json_schema is not None:
            try:
                grammar = schema_grammar(config.json_schema)
            except Exception as exc:  # noqa: BLE001 - an unsupported schema fails every prompt, not the process
                for index in range(len(prompts)):
                    yield index, Generation(text="", attempts=0, error=f"cannot build a grammar from the JSON "
                                                                   f"schema: {type(exc).__name__}: {exc}")
                return
        todo: deque[_Job] = deque()
        for index, messages in enumerate(prompts):
            try:
                ids = self.encode(messages)
                if not ids:
                    raise ValueError("the prompt has no tokens")
            except Exception as exc:  # noqa: BLE001 - template errors (empty chat, bad role...) fail one prompt
                yield index, Generation(text="", attempts=0, error=f"cannot render the prompt: {type(exc).__name__}: {exc}")
                continue
            prefix = self._prefix_len(messages, ids)
            ids, cut = self._fit(ids, new_tokens)
            if cut:
                prefix = 0
            todo.append(_Job(index, ids, prefix, cut, prompt_seed(config.seed, ids)))

        slots = [_Slot(seq) for seq in range(self.batch_size)]
        try:
            while todo or any(s.job for s in slots):
                for slot in slots:
                    if slot.job is None and todo:
                        job = todo.popleft()
                        done = self._start(slot, job, config, grammar, new_tokens)
                        if done is not None:
                            yield done
                active = [s for s in slots if s.job is not None]
                if not active:
                    continue
                for item in self._step(active, new_tokens):
                    yield self._finish(item)
        finally:
            for slot in slots:
                self._release(slot)

    def _fit(self, ids: list[int], new_tokens: int) -> tuple[list[int], int]:
        """``ids`` cut from the left (keeping a leading BOS) so that prompt + reply fit ``n_ctx``."""
        keep = self.n_ctx_seq - new_tokens
        if len(ids) <= keep:
            return ids, 0
        cut = len(ids) - keep
        bos = self.llama_cpp.llama_vocab_bos(self._vocab)
        if bos >= 0 and ids[0] == bos and keep > 1:
            return [bos, *ids[cut + 1 :]], cut
        return ids[cut:], cut

    def _grammar_sampler(self, grammar: str) -> Any:
        g = self.llama_cpp.llama_sampler_init_grammar(self._vocab, grammar.encode(), b"root")
        if not g:
            raise ValueError("llama.cpp rejected the grammar made from the JSON schema")
        return g

    def _sampler(self, config: GenerateConfig, grammar: str | None, seed: int) -> Any:
        lc = self.llama_cpp
        chain = lc.llama_sampler_chain_init(lc.llama_sampler_chain_default_params())
        if grammar is not None:
            try:
                g = self._grammar_sampler(grammar)
            except ValueError:
                lc.llama_sampler_free(chain)
                raise
            lc.llama_sampler_chain_add(chain, g)
        if config.temperature > 0:
            if config.top_p < 1.0:
                lc.llama_sampler_chain_add(chain, lc.llama_sampler_init_top_p(config.top_p, 1))
            lc.llama_sampler_chain_add(chain, lc.llama_sampler_init_temp(config.temperature))
            lc.llama_sampler_chain_add(chain, lc.llama_sampler_init_dist(seed))
        else:
            lc.llama_sampler_chain_add(chain, lc.llama_sampler_init_greedy())
        return chain

    def _sample(self, slot: _Slot, i: int) -> int:
        """The next token of ``slot`` from the logits of batch row ``i``.

        Greedy decoding under a grammar takes the fast path of llama.cpp's own common sampler: the
        arg-max token is checked against the grammar alone, and only when the grammar rejects it are all
        ``n_vocab`` tokens filtered and the best allowed one taken. The result is the chain's
        ``grammar -> greedy`` choice exactly (the first maximal logit among the allowed tokens: when the
        overall first maximum is allowed, no allowed token comes before it with the same logit), at one
        grammar check per token instead of ``n_vocab`` (tested token for token against the chain).
        """
        lc = self.llama_cpp
        if slot.grammar is None:
            return int(lc.llama_sampler_sample(slot.sampler, self._ctx, i))
        logits = np.ctypeslib.as_array(lc.llama_get_logits_ith(self._ctx, i), shape=(self._n_vocab,))
        token = int(logits.argmax())
        one = self._one[0]
        one.id, one.logit, one.p = token, float(logits[token]), 0.0
        self._one_array.selected = -1
        lc.llama_sampler_apply(slot.grammar, ctypes.byref(self._one_array))
        if not np.isfinite(one.logit):  # rejected: filter every token, then the first maximal allowed one
            self._count("grammar_full_checks", 1)
            cur = np.zeros(self._n_vocab, dtype=_TOKEN_DATA)
            cur["id"] = np.arange(self._n_vocab, dtype=np.int32)
            cur["logit"] = logits
            arr = lc.llama_token_data_array(cur.ctypes.data_as(ctypes.POINTER(lc.llama_token_data)), self._n_vocab,
                                            -1, False)
            lc.llama_sampler_apply(slot.grammar, ctypes.byref(arr))
            token = int(cur["id"][int(cur["logit"][: arr.size].argmax())])
        lc.llama_sampler_accept(slot.grammar, token)
        return token

    def _release(self, slot: _Slot) -> None:
        if slot.sampler is not None:
            self.llama_cpp.llama_sampler_free(slot.sampler)
            slot.sampler = None
        if slot.grammar is not None:
            self.llama_cpp.llama_sampler_free(slot.grammar)
            slot.grammar = None
        slot.job = None

    def _fill(self, tokens: Sequence[int], seq: int, pos0: int) -> None:
        """Put ``tokens`` of sequence ``seq`` at positions ``pos0...`` in the batch; logits for the last one."""
        b = self._batch
        b.n_tokens = len(tokens)
        for i, t in enumerate(tokens):
            b.token[i] = t
            b.pos[i] = pos0 + i
            b.n_seq_id[i] = 1
            b.seq_id[i][0] = seq
            b.logits[i] = 0
        b.logits[len(tokens) - 1] = 1

    def _decode(self) -> None:
        rc = self.llama_cpp.llama_decode(self._ctx, self._batch)
        if rc != 0:
            raise RuntimeError(f"llama_decode returned {rc}" + (" (no room in the KV cache)" if rc == 1 else ""))

    def _prefill(self, tokens: Sequence[int], seq: int, pos0: int) -> None:
        began = time.perf_counter()
        for start in range(0, len(tokens), N_BATCH):
            chunk = tokens[start : start + N_BATCH]
            self._fill(chunk, seq, pos0 + start)
            self._decode()
        self._count("prefill_tokens", len(tokens))
        self._count("prefill_s", time.perf_counter() - began)

    def _count(self, key: str, value: float) -> None:
        self.stats[key] = self.stats.get(key, 0) + value

    def _cached_prefix(self, prefix: tuple[int, ...]) -> int:
        """The cache sequence holding ``prefix`` (evaluating it into the least recently used one if needed)."""
        lc = self.llama_cpp
        if prefix in self._prefixes:
            self._prefixes.move_to_end(prefix)
            self._count("prefix_hits", 1)
            self._count("prefix_tokens_reused", len(prefix))
            return self._prefixes[prefix]
        if self._free_cache_seqs:
            seq = self._free_cache_seqs.pop()
        else:
            _, seq = self._prefixes.popitem(last=False)
        self._prefixes.pop(prefix, None)
        lc.llama_memory_seq_rm(self._mem, seq, -1, -1)
        try:
            self._prefill(prefix, seq, 0)
        except Exception:
            lc.llama_memory_seq_rm(self._mem, seq, -1, -1)
            self._free_cache_seqs.append(seq)
            raise
        self._prefixes[prefix] = seq
        return seq

    def _start(self, slot: _Slot, job: _Job, config: GenerateConfig, grammar: str | None,
               new_tokens: int) -> tuple[int, Generation] | None:
        """Prefill ``job`` into ``slot`` and sample its first token; a finished or failed job is returned."""
        lc = self.llama_cpp
        job.began = time.perf_counter()
        slot.job, slot.n_past = job, 0
        lc.llama_memory_seq_rm(self._mem, slot.seq, -1, -1)
        try:
            if grammar is not None and config.temperature <= 0 and self.grammar_fast:
                slot.grammar = self._grammar_sampler(grammar)
            else:
                slot.sampler = self._sampler(config, grammar, job.seed)
            start = job.prefix
            if start and self.prefix_cache:
                cache = self._cached_prefix(tuple(job.ids[:start]))
                lc.llama_memory_seq_cp(self._mem, cache, slot.seq, -1, -1)
            elif start:
                self._prefill(job.ids[:start], slot.seq, 0)
            self._prefill(job.ids[start:], slot.seq, start)
            slot.n_past = len(job.ids)
            token = self._sample(slot, self._batch.n_tokens - 1)
        except Exception as exc:  # noqa: BLE001 - a failed prefill fails this prompt, not the run
            job.error = f"generation failed: {type(exc).__name__}: {exc}"
            lc.llama_memory_seq_rm(self._mem, slot.seq, -1, -1)
            self._release(slot)
            return self._finish(job)
        if self._accept(slot, token, new_tokens):
            finished = slot.job
            self._release(slot)
            return self._finish(finished) if finished is not None else None
        return None

    def _accept(self, slot: _Slot, token: int, new_tokens: int) -> bool:
        """Record ``token`` for the slot's job; True when the job is done."""
        job = slot.job
        assert job is not None
        job.out.append(token)
        slot.last = token
        if self.llama_cpp.llama_vocab_is_eog(self._vocab, token):
            job.stopped = True
            return True
        return len(job.out) >= new_tokens

    def _step(self, active: list[_Slot], new_tokens: int) -> list[_Job]:
        """One decode step for every active slot (in groups of at most ``MAX_DECODE_ROWS``); the jobs that finished."""
        groups = -(-len(active) // MAX_DECODE_ROWS)
        size = -(-len(active) // groups)
        finished: list[_Job] = []
        for start in range(0, len(active), size):
            finished += self._step_group(active[start : start + size], new_tokens)
        return finished

    def _step_group(self, active: list[_Slot], new_tokens: int) -> list[_Job]:
        lc = self.llama_cpp
        b = self._batch
        b.n_tokens = len(active)
        for i, slot in enumerate(active):
            b.token[i] = slot.last
            b.pos[i] = slot.n_past
            b.n_seq_id[i] = 1
            b.seq_id[i][0] = slot.seq
            b.logits[i] = 1
        finished: list[_Job] = []
        began = time.perf_counter()
        try:
            self._decode()
            self._count("decode_tokens", len(active))
            self._count("decode_calls", 1)
            self._count("decode_s", time.perf_counter() - began)
        except Exception as exc:  # noqa: BLE001 - fail the sequences of this step, keep the run
            for slot in active:
                assert slot.job is not None
                slot.job.error = f"generation failed: {type(exc).__name__}: {exc}"
                finished.append(slot.job)
                lc.llama_memory_seq_rm(self._mem, slot.seq, -1, -1)
                self._release(slot)
            return finished
        for i, slot in enumerate(active):
            slot.n_past += 1
            token = self._sample(slot, i)
            if self._accept(slot, token, new_tokens):
                assert slot.job is not None
                finished.append(slot.job)
                self._release(slot)
        return finished

    def _finish(self, job: _Job) -> tuple[int, Generation]:
        latency = time.perf_counter() - job.began if job.began else 0.0
        if job.error is not None:
            return job.index, Generation(text="", input_tokens=len(job.ids), latency_s=latency, error=job.error)
        extra: dict[str, Any] = {"finish_reason": "stop" if job.stopped else "length"}
        if job.truncated:
            extra["truncated_tokens"] = job.truncated
        if self._clamped is not None:
            extra["max_new_tokens"] = self._clamped
        text_ids = job.out[:-1] if job.stopped else job.out
        return job.index, Generation(text=self.detokenize(text_ids), input_tokens=len(job.ids),
                                     output_tokens=len(job.out), latency_s=latency, extra=extra)


def _options_from(params: dict[str, str], options: ModelOptions) -> tuple[ModelOptions, dict[str, Any]]:
    from dataclasses import replace

    n_ctx = _int_param(params, "n_ctx", options.n_ctx or DEFAULT_N_CTX, minimum=64)
    kw = {"n_threads": _int_param(params, "n_threads", os.cpu_count() or 1) if "n_threads" in params else None,
          "prefix_cache": _bool_param(params, "prefix_cache", True)}
    return replace(options, n_ctx=n_ctx), kw


@register_model("gguf", "gguf:<path.gguf>")
def create_gguf_model(spec: str, options: ModelOptions) -> GGUFModel:
    """The :class:`GGUFModel` for ``gguf:<path.gguf>[?n_ctx=N&n_threads=N&prefix_cache=0|1]``."""
    name, params = parse_spec_query(spec.partition(":")[2])
    if not name:
        raise UnknownModel("gguf: no file named; use gguf:<path.gguf>")
    opts, kw = _options_from(params, options)
    return GGUFModel(name, opts, spec=spec, **kw)


@register_model("local", "local:<catalogue name> (obench models list)")
def create_local_model(spec: str, options: ModelOptions) -> GGUFModel:
    """The :class:`GGUFModel` of an installed catalogue model, ``local:<name>[?options]``."""
    from bench.models.catalogue import get_entry, require_installed

    name, params = parse_spec_query(spec.partition(":")[2])
    entry = get_entry(name)
    path = require_installed(entry.name)
    opts, kw = _options_from(params, options)
    return GGUFModel(path, opts, spec=spec, catalogue_name=entry.name, **kw)
