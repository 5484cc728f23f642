"""Model backends: one interface for reviewers and, later, generators and judges.

A :class:`Model` turns chat prompts into text. Backends register by spec prefix:

- ``hf:<hub-id-or-local-path>``: a transformers causal LM (see :mod:`bench.models.hf`).
- ``openai:<model>``: any OpenAI-compatible server (see :mod:`bench.models.openai_api`).
- ``gguf:<path.gguf>``, ``local:<catalogue name>``: llama.cpp in process (see :mod:`bench.models.gguf`
  and the catalogue of installable models, :mod:`bench.models.catalogue`).

``create_model("hf:/tmp/tiny")`` builds one; an unknown spec fails with the list of
known forms. Backends never raise for a bad *reply*: a request that cannot be
answered (after retries) yields a :class:`Generation` with ``error`` set.

Backends register where they are defined (``@register_model``) and are listed as
``oversightbench.models`` entry points. May import: ``harness``. Imported by the
other ``bench`` sub-packages and the CLI.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, runtime_checkable

from bench.models._async import drive_generations as drive_generations  # re-exported: the backends use it
from harness.plugins import MODEL_GROUP, load_entry_points

Message = dict[str, str]
"""One chat message: ``{"role": "system" | "user" | "assistant", "content": ...}``."""


def canonical_schema(schema: Any) -> Any:
    """``schema`` with every object's ``properties`` in one order: the ``required`` names as ``required`` lists
    them, then the others sorted (recursively).

    Constrained decoding writes properties in the order the schema lists them, and a run manifest stores
    its schema with sorted keys (``required`` is a list, so its order survives): ordering by ``required``
    makes the schema a reproduction reads back from a manifest decode exactly as the one the run used.
    """
    if isinstance(schema, list):
        return [canonical_schema(x) for x in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: canonical_schema(v) for k, v in schema.items()}
    props, required = out.get("properties"), out.get("required")
    if isinstance(props, dict):
        first = [k for k in (required if isinstance(required, list) else []) if isinstance(k, str) and k in props]
        order = list(dict.fromkeys(first)) + sorted(k for k in props if k not in first)
        out["properties"] = {k: props[k] for k in order}
    return out


@dataclass(frozen=True)
class GenerateConfig:
    """Decoding settings, recorded in run manifests.

    ``temperature == 0`` means greedy (deterministic) decoding. ``json_schema``, when set,
    asks for structured output: a reply that is one JSON value matching the schema
    (``gguf``/``local``: grammar-constrained decoding; ``openai``: ``response_format``), its
    properties in :func:`canonical_schema` order.
    """

    max_new_tokens: int = 512
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int = 0
    json_schema: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.json_schema is not None:
            object.__setattr__(self, "json_schema", canonical_schema(self.json_schema))

    def to_json(self) -> dict[str, Any]:
        """The settings as JSON; ``json_schema`` is left out when None, so older runs keep their identity."""
        out = asdict(self)
        if out["json_schema"] is None:
            del out["json_schema"]
        return out


@dataclass(frozen=True)
class ModelOptions:
    """How to reach and run a model (not part of what it is asked).

    Attributes:
        concurrency: requests in flight (``openai``), prompts per batch (``hf``) or sequences
            decoded together (``gguf``, ``local``).
        base_url: OpenAI-compatible endpoint; None uses the SDK default.
        api_key_env: environment variable that holds the API key.
        timeout_s: per-request timeout (``openai``).
        max_retries: retries on 429 / 5xx / timeouts / connection errors (``openai``).
        device: ``cpu``, ``cuda``, ``mps``...; None picks the best available (``hf``).
        dtype: ``float32``, ``bfloat16``, ``float16``; None picks by device (``hf``).
        executor: ``local``, or ``ray`` to run the backend inside a Ray actor.
        ray_address: the Ray cluster to join (None: a local Ray).
        n_ctx: context per sequence in tokens (``gguf``, ``local``); None: the backend's default.
    """

    concurrency: int = 8
    base_url: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    timeout_s: float = 60.0
    max_retries: int = 6
    device: str | None = None
    dtype: str | None = None
    executor: str = "local"
    ray_address: str | None = None
    n_ctx: int | None = None


@dataclass(frozen=True)
class Generation:
    """One completion.

    Attributes:
        text: the reply ("" when ``error`` is set).
        input_tokens: prompt tokens as counted by the backend.
        output_tokens: completion tokens.
        attempts: requests made (retries included).
        latency_s: wall time from first attempt to reply.
        error: why no reply was obtained (after every retry); None on success.
    """

    text: str
    input_tokens: int = 0
    output_tokens: int = 0
    attempts: int = 1
    latency_s: float = 0.0
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class Model(Protocol):
    """Generates replies to chat prompts."""

    @property
    def spec(self) -> str:
        """The spec string that created this model."""
        ...

    def describe(self) -> dict[str, Any]:
        """Identity for run manifests (backend, model id, revision or weights hash, device...). No secrets."""
        ...

    def generate(self, prompts: Sequence[Sequence[Message]], config: GenerateConfig) -> Iterator[tuple[int, Generation]]:
        """Yield ``(index, generation)`` for every prompt exactly once, as each completes (any order)."""
        ...


ModelFactory = Callable[[str, ModelOptions], Model]
_FACTORIES: dict[str, tuple[ModelFactory, str]] = {}


class UnknownModel(ValueError):
    """A model spec no backend understands, or a backend that cannot start."""


def register_model(prefix: str, form: str) -> Callable[[ModelFactory], ModelFactory]:
    """Register a backend for specs ``prefix:<rest>``; ``form`` is shown in errors."""

    def deco(factory: ModelFactory) -> ModelFactory:
        _FACTORIES[prefix] = (factory, form)
        return factory

    return deco


def _load_builtin() -> None:
    """Backends register where they are defined; their modules are entry points."""
    load_entry_points(MODEL_GROUP)


def model_forms() -> list[str]:
    """The spec forms of every registered backend."""
    _load_builtin()
    return [form for _, form in _FACTORIES.values()]


def is_model_spec(spec: str) -> bool:
    _load_builtin()
    return spec.split(":", 1)[0] in _FACTORIES


def create_model(spec: str, options: ModelOptions | None = None) -> Model:
    """The model for ``spec`` (``hf:<path>``, ``openai:<model>``...).

    Raises:
        UnknownModel: unknown prefix (listing known forms), empty name, or a backend
            that cannot load the model (with the reason).
    """
    _load_builtin()
    prefix, _, rest = spec.partition(":")
    if prefix not in _FACTORIES:
        raise UnknownModel(f"unknown model {spec!r}; known forms: {', '.join(model_forms())}")
    if not rest:
        raise UnknownModel(f"model spec {spec!r} names no model; use {_FACTORIES[prefix][1]}")
    opts = options or ModelOptions()
    if opts.executor == "ray":
        from dataclasses import replace

        from bench.models.ray_model import RayModel

        # no CPU reservation: on one machine the sandbox actors hold the CPUs; on a cluster pass GPUs via RayModel
        return RayModel(spec, replace(opts, executor="local"), address=opts.ray_address, actor_cpus=0)
    return _FACTORIES[prefix][0](spec, opts)
