"""``inspect:<provider>/<model>``: any model Inspect AI can reach, as an OversightBench model backend.

``obench eval --reviewer inspect:mockllm/model`` (or ``inspect:openai-api/<service>/<model>``,
``inspect:anthropic/...``...) asks the model through Inspect's own providers, retries and connection
limits, and records it as ``{"backend": "inspect", "model": ...}``: the same description
``obench import-inspect`` writes for a run made with ``inspect eval``, so both paths name the
model alike, and ``obench leaderboard validate`` / ``reproduce`` accept an imported run as a model
run. ``--base-url`` becomes the provider's base URL; ``--concurrency`` its connection limit.

Registered as an ``oversightbench.models`` entry point. Importing this module never imports
Inspect (``obench`` works without the extra); creating a model without it installed fails with
what to install.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import queue
from collections.abc import Iterator, Sequence
from typing import Any

from bench.models import (
    GenerateConfig,
    Generation,
    Message,
    ModelOptions,
    UnknownModel,
    drive_generations,
    register_model,
)

PREFIX = "inspect"
INSTALL_HINT = "install the Inspect extra: pip install -e '.[inspect]'"


def inspect_version() -> str | None:
    """The installed ``inspect-ai`` version (None without the extra)."""
    try:
        return importlib.metadata.version("inspect-ai")
    except importlib.metadata.PackageNotFoundError:
        return None


def describe_inspect_model(name: str, base_url: str | None = None) -> dict[str, Any]:
    """What a run records about an Inspect model: backend, Inspect's model name, endpoint and Inspect version.

    ``base_url`` and ``inspect_ai`` say how the model was reached, not what it is (they are left out of the
    reviewer fingerprint).
    """
    return {"backend": "inspect", "model": name, "base_url": base_url, "inspect_ai": inspect_version()}


def spec_for(name: str) -> str:
    """The reviewer spec of Inspect model ``name``: ``inspect:<name>``."""
    return f"{PREFIX}:{name}"


def to_inspect_messages(messages: Sequence[Message]) -> list[Any]:
    """Our chat messages (``{"role", "content"}``) as Inspect ``ChatMessage`` objects."""
    from inspect_ai.model import ChatMessageAssistant, ChatMessageSystem, ChatMessageUser

    kinds = {"system": ChatMessageSystem, "user": ChatMessageUser, "assistant": ChatMessageAssistant}
    out = []
    for m in messages:
        if m["role"] not in kinds:
            raise ValueError(f"unsupported chat role {m['role']!r} (system, user, assistant)")
        out.append(kinds[m["role"]](content=m["content"]))
    return out


def to_tool_infos(tools: Sequence[dict[str, Any]] | None) -> list[Any]:
    """OpenAI function-calling schemas (``{"type": "function", "function": {...}}``) as Inspect ``ToolInfo``."""
    from inspect_ai.tool import ToolInfo

    return [ToolInfo.model_validate(t["function"]) for t in tools or []]


def generation_from_output(output: Any) -> Generation:
    """An Inspect ``ModelOutput`` as a :class:`~bench.models.Generation` (tool calls in ``extra``, like ``openai:``)."""
    usage = output.usage
    extra: dict[str, Any] = {"finish_reason": output.stop_reason}
    calls = getattr(output.message, "tool_calls", None) if output.choices else None
    if calls:
        extra["tool_calls"] = [{"name": c.function, "arguments": c.arguments} for c in calls]
    return Generation(text=output.completion or "", input_tokens=usage.input_tokens if usage else 0,
                      output_tokens=usage.output_tokens if usage else 0, extra=extra)


def inspect_config(config: GenerateConfig, options: ModelOptions | None = None) -> Any:
    """Our decoding settings (and, when given, connection options) as an Inspect ``GenerateConfig``."""
    from inspect_ai.model import GenerateConfig as InspectGenerateConfig

    kw: dict[str, Any] = {"max_tokens": config.max_new_tokens, "temperature": config.temperature,
                          "top_p": config.top_p, "seed": config.seed}
    if options is not None:
        kw.update(max_connections=options.concurrency, max_retries=options.max_retries,
                  timeout=max(1, round(options.timeout_s)))
    return InspectGenerateConfig(**kw)


class InspectModel:
    """A model reached through Inspect AI's providers (``inspect:<provider>/<model>``).

    Raises:
        UnknownModel: not an ``inspect:`` spec, no provider in the name, or Inspect is not installed.
    """

    supports_tools = True

    def __init__(self, spec: str, options: ModelOptions | None = None) -> None:
        prefix, _, name = spec.partition(":")
        if prefix != PREFIX or "/" not in name.strip("/"):
            raise UnknownModel(f"not an Inspect model spec: {spec!r}; use inspect:<provider>/<model>, e.g. "
                               "inspect:mockllm/model or inspect:openai-api/<service>/<model>")
        try:
            import inspect_ai  # noqa: F401 - only to say early, and clearly, that the extra is missing
        except ImportError as exc:
            raise UnknownModel(f"{spec}: Inspect AI is not installed; {INSTALL_HINT}") from exc
        self._spec = spec
        self.name = name
        self.options = options or ModelOptions()
        if self.options.concurrency < 1:
            raise UnknownModel(f"concurrency must be >= 1, got {self.options.concurrency}")

    @property
    def spec(self) -> str:
        return self._spec

    def describe(self) -> dict[str, Any]:
        return describe_inspect_model(self.name, self.options.base_url)

    def generate(self, prompts: Sequence[Sequence[Message]], config: GenerateConfig,
                 tools: list[dict[str, Any]] | None = None) -> Iterator[tuple[int, Generation]]:
        """Yield ``(index, generation)`` for every prompt once, in completion order (Inspect retries; a request
        that still fails is a generation with ``error``)."""
        todo = [list(p) for p in prompts]
        if not todo:
            return
        from oversightbench.offline import ensure_o200k_cache

        ensure_o200k_cache()  # Inspect counts tokens with tiktoken's o200k_base (mockllm always does)
        yield from drive_generations(len(todo), lambda results: self._run_all(todo, config, tools, results),
                                     name="inspect")

    async def _run_all(self, prompts: list[list[Message]], config: GenerateConfig,
                       tools: list[dict[str, Any]] | None, results: queue.SimpleQueue[Any]) -> None:
        from inspect_ai.model import get_model

        # a model of its own per call: its HTTP client belongs to this call's event loop
        model = get_model(self.name, config=inspect_config(config, self.options), base_url=self.options.base_url,
                          memoize=False)
        infos = to_tool_infos(tools)
        sem = asyncio.Semaphore(self.options.concurrency)

        async def one(index: int, messages: list[Message]) -> None:
            async with sem:
                try:
                    output = await model.generate(to_inspect_messages(messages), tools=infos)
                    generation = generation_from_output(output)
                except Exception as exc:  # noqa: BLE001 - a failed request is a Generation with error
                    generation = Generation(text="", error=f"{type(exc).__name__}: {exc}"[:500])
            results.put((index, generation))

        async with model:
            await asyncio.gather(*(one(i, m) for i, m in enumerate(prompts)))


@register_model(PREFIX, "inspect:<provider>/<model> (any Inspect AI provider; pip install -e '.[inspect]')")
def _create(spec: str, options: ModelOptions) -> InspectModel:
    return InspectModel(spec, options)
