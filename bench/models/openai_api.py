"""OpenAI-compatible chat-completions backend (vLLM, hosted APIs, :mod:`tools.mock_server`).

``openai:<model>`` sends every prompt to ``POST {base_url}/chat/completions`` with bounded
concurrency. The SDK's own retries are off (``max_retries=0``); this module retries 429,
5xx, timeouts and connection errors itself with exponential backoff and jitter, honouring
``Retry-After``. A prompt that still fails yields a :class:`~bench.models.Generation` with
``text == ""`` and ``error`` set: a bad reply never raises.

The caller is synchronous: :meth:`OpenAIModel.generate` runs an asyncio loop in a
background thread and yields results as they complete. Closing the iterator early cancels
outstanding requests and stops the thread.

Without ``--base-url`` the endpoint is ``$OPENAI_BASE_URL`` or the real OpenAI API, which
needs a key in ``$OPENAI_API_KEY`` (or ``ModelOptions.api_key_env``); a custom endpoint
without a key gets a placeholder one.

Structured output: with ``GenerateConfig.json_schema`` set, requests carry
``response_format={"type": "json_schema", "json_schema": {"name": ..., "schema": ..., "strict": true}}``
(OpenAI, vLLM, llama.cpp's ``llama-server``). A server that rejects that form (HTTP 400 or
422, or an error naming ``json_object``/``response_format``: llama-cpp-python's server
knows only ``json_object`` and answers 500) is asked again at once with
``{"type": "json_object", "schema": ...}``, and that form is kept for the model's later
requests.
"""

from __future__ import annotations

import asyncio
import os
import queue
import random
import re
import time
from collections.abc import Iterator, Sequence
from typing import Any

import openai

from bench.models import (
    GenerateConfig,
    Generation,
    Message,
    ModelOptions,
    UnknownModel,
    drive_generations,
    register_model,
)

DEFAULT_BASE_URL = "https://api.openai.com/v1"
"""Where requests go when neither ``--base-url`` nor ``$OPENAI_BASE_URL`` is set."""
PLACEHOLDER_KEY = "not-needed"
"""API key sent to a custom ``base_url`` when the key variable is unset (local servers ignore it)."""
BACKOFF_BASE_S = 0.5
"""First retry waits about this long; each further retry doubles it."""
BACKOFF_CAP_S = 20.0
"""Longest computed backoff."""
RETRY_AFTER_CAP_S = 60.0
"""Longest wait honoured from a ``Retry-After`` header."""
RAMP_GAP_S = 0.002
"""Gap between the first ``concurrency`` launches (about one request's client CPU time).

Started all at once, requests stay in a clump: the event loop interleaves their
processing, so each waits for the whole clump on every round trip (measured: 213 ms mean
instead of 203 ms at 200 ms latency and concurrency 32). A short ramp spreads them out
for good."""
RAMP_MAX_S = 0.25
"""Longest total ramp (the gap shrinks for very high concurrency)."""
_POLL_S = 0.5


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _retry_after(exc: openai.APIStatusError) -> float | None:
    """Seconds from ``Retry-After-Ms`` / ``Retry-After`` (numeric forms only), or None."""
    try:
        headers = exc.response.headers
    except AttributeError:
        return None
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value) * scale
        except ValueError:
            continue
        if seconds == seconds and seconds >= 0:  # not NaN
            return seconds
    return None


def _mentions_response_format(exc: openai.APIStatusError) -> bool:
    """Whether an error is about the ``response_format`` form (llama-cpp-python's server answers 500 to it)."""
    text = f"{exc.message} {getattr(exc, 'body', '')}"
    return "json_object" in text or "response_format" in text


class OpenAIModel:
    """A chat model behind an OpenAI-compatible ``/chat/completions`` endpoint.

    Args:
        spec: ``openai:<model>``; the part after the colon is sent as ``model``.
        options: endpoint, key variable, concurrency, timeout and retry budget.
        backoff_base_s: first retry delay (doubles per retry, jittered, capped).
        backoff_cap_s: longest computed retry delay.
        retry_after_cap_s: longest server-requested (``Retry-After``) delay honoured.
        ramp_gap_s: delay between the first ``concurrency`` launches (see :data:`RAMP_GAP_S`).

    Raises:
        UnknownModel: the spec names no model, or no API key is set for the real OpenAI API.
    """

    def __init__(
        self,
        spec: str,
        options: ModelOptions | None = None,
        *,
        backoff_base_s: float = BACKOFF_BASE_S,
        backoff_cap_s: float = BACKOFF_CAP_S,
        retry_after_cap_s: float = RETRY_AFTER_CAP_S,
        ramp_gap_s: float = RAMP_GAP_S,
    ) -> None:
        prefix, _, name = spec.partition(":")
        if prefix != "openai" or not name:
            raise UnknownModel(f"not an OpenAI model spec: {spec!r}; use openai:<model>")
        self._spec = spec
        self.name = name
        self.options = options or ModelOptions()
        if self.options.concurrency < 1:
            raise UnknownModel(f"concurrency must be >= 1, got {self.options.concurrency}")
        self.backoff_base_s = backoff_base_s
        self.backoff_cap_s = backoff_cap_s
        self.retry_after_cap_s = retry_after_cap_s
        self.ramp_gap_s = min(ramp_gap_s, RAMP_MAX_S / self.options.concurrency)
        explicit_url = self.options.base_url or os.environ.get("OPENAI_BASE_URL") or None
        self.base_url = explicit_url or DEFAULT_BASE_URL
        key = os.environ.get(self.options.api_key_env, "")
        if not key:
            if explicit_url is None:
                raise UnknownModel(
                    f"{spec}: no API key; set ${self.options.api_key_env} "
                    "(or pass --base-url for a local OpenAI-compatible server)"
                )
            key = PLACEHOLDER_KEY
        self._api_key = key
        self._schema_form = "json_schema"  # becomes "json_object" once a server rejects json_schema

    def __repr__(self) -> str:  # never show the key
        return f"OpenAIModel({self._spec!r}, base_url={self.base_url!r})"

    @property
    def spec(self) -> str:
        """The spec string that created this model."""
        return self._spec

    def describe(self) -> dict[str, Any]:
        """Backend, model name, endpoint and SDK version (never the key)."""
        return {"backend": "openai", "model": self.name, "base_url": self.base_url, "openai_sdk": openai.__version__}

    def response_format(self, config: GenerateConfig) -> dict[str, Any] | None:
        """The ``response_format`` of a request under ``config`` (None without a JSON schema)."""
        schema = config.json_schema
        if schema is None:
            return None
        if self._schema_form == "json_object":
            return {"type": "json_object", "schema": schema}
        name = re.sub(r"[^A-Za-z0-9_-]", "_", str(schema.get("title") or "reply"))[:64] or "reply"
        return {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": True}}

    supports_tools = True

    def generate(self, prompts: Sequence[Sequence[Message]], config: GenerateConfig,
                 tools: list[dict[str, Any]] | None = None) -> Iterator[tuple[int, Generation]]:
        """Yield ``(index, generation)`` for every prompt exactly once, in completion order.

        Requests run on an asyncio loop in a background thread, at most
        ``options.concurrency`` at a time. Closing the iterator early cancels the rest.
        With ``tools`` (OpenAI function-calling schemas), the server may answer with tool
        calls: they arrive in ``Generation.extra["tool_calls"]`` as ``{"name", "arguments"}``.
        """
        todo = [list(p) for p in prompts]
        if not todo:
            return
        # One client per call: its connection pool belongs to this call's event loop.
        client = openai.AsyncOpenAI(
            base_url=self.base_url, api_key=self._api_key, max_retries=0, timeout=self.options.timeout_s
        )
        yield from drive_generations(
            len(todo), lambda results: self._run_all(client, todo, config, results, tools), name="openai", poll_s=_POLL_S
        )

    async def _run_all(
        self,
        client: openai.AsyncOpenAI,
        prompts: list[list[Message]],
        config: GenerateConfig,
        results: queue.SimpleQueue[Any],
        tools: list[dict[str, Any]] | None = None,
    ) -> None:
        """One task per prompt, bounded by a semaphore, all sharing ``client`` (closed at the end)."""
        concurrency = self.options.concurrency
        sem = asyncio.Semaphore(concurrency)

        async def one(index: int, messages: list[Message]) -> None:
            async with sem:
                if index and index < concurrency and self.ramp_gap_s > 0:  # the first wave: staggered
                    await asyncio.sleep(index * self.ramp_gap_s)
                generation = await self._complete(client, messages, config, tools)
            results.put((index, generation))

        try:
            async with asyncio.TaskGroup() as group:
                for i, messages in enumerate(prompts):
                    group.create_task(one(i, messages))
        finally:
            await client.close()

    def _backoff(self, retry: int, retry_after: float | None) -> float:
        """Delay before retry number ``retry`` (0-based): server's Retry-After, else jittered exponential."""
        if retry_after is not None:
            return min(retry_after, self.retry_after_cap_s)
        delay = min(self.backoff_cap_s, self.backoff_base_s * (2.0**retry))
        return delay * random.uniform(0.5, 1.0)

    async def _complete(self, client: openai.AsyncOpenAI, messages: list[Message], config: GenerateConfig,
                        tools: list[dict[str, Any]] | None = None) -> Generation:
        """One prompt, with retries; never raises (except cancellation)."""
        start = time.perf_counter()
        attempts = 0
        error = ""
        while True:
            attempts += 1
            retry_after: float | None = None
            response_format = self.response_format(config)
            try:
                response = await client.chat.completions.create(  # type: ignore[call-overload]
                    model=self.name,
                    messages=messages,  # type: ignore[arg-type]
                    max_tokens=config.max_new_tokens,
                    temperature=config.temperature,
                    top_p=config.top_p,
                    seed=config.seed,
                    **({"tools": tools} if tools else {}),
                    **({"response_format": response_format} if response_format else {}),
                )
                choice = response.choices[0] if response.choices else None
                text = (choice.message.content if choice is not None else None) or ""
                usage = response.usage
                extra: dict[str, Any] = {"finish_reason": choice.finish_reason} if choice is not None else {}
                calls = getattr(choice.message, "tool_calls", None) if choice is not None else None
                if calls:
                    extra["tool_calls"] = [{"name": c.function.name, "arguments": c.function.arguments}
                                           for c in calls if getattr(c, "function", None) is not None]
                return Generation(
                    text=text,
                    input_tokens=(usage.prompt_tokens or 0) if usage is not None else 0,
                    output_tokens=(usage.completion_tokens or 0) if usage is not None else 0,
                    attempts=attempts,
                    latency_s=time.perf_counter() - start,
                    extra=extra,
                )
            except openai.APIStatusError as exc:
                status = exc.status_code
                if response_format is not None and response_format["type"] == "json_schema" and (
                        status in (400, 422) or _mentions_response_format(exc)):
                    self._schema_form = "json_object"  # e.g. llama-cpp-python's server: ask again in its form
                    continue
                retryable = status in (408, 429) or status >= 500
                retry_after = _retry_after(exc) if retryable else None
                error = _one_line(f"HTTP {status} ({type(exc).__name__}): {exc.message}")
            except openai.APITimeoutError:
                retryable = True
                error = f"APITimeoutError: no reply within {self.options.timeout_s:g} s"
            except openai.APIConnectionError as exc:
                retryable = True
                cause = exc.__cause__
                detail = f" ({type(cause).__name__}: {cause})" if cause is not None else ""
                error = _one_line(f"APIConnectionError: {exc.message}{detail}")
            except Exception as exc:  # noqa: BLE001 - a bad reply must not raise
                retryable = False
                error = _one_line(f"{type(exc).__name__}: {exc}")
            if not retryable or attempts > self.options.max_retries:
                return Generation(
                    text="",
                    attempts=attempts,
                    latency_s=time.perf_counter() - start,
                    error=f"after {attempts} attempt(s): {error}",
                )
            await asyncio.sleep(self._backoff(attempts - 1, retry_after))


@register_model("openai", "openai:<model> (with --base-url; key from $OPENAI_API_KEY)")
def _create(spec: str, options: ModelOptions) -> OpenAIModel:
    return OpenAIModel(spec, options)
